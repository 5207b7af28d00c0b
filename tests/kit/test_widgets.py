import sys

import matplotlib.figure
import pytest
import torch
from torch import nn

from course_utils import FASHION_CLASSES, Generator
from course_utils.kit import widgets
from course_utils.kit.widgets import latent_directions, latent_point, plot_latent_walk, render_png, slerp
from course_utils.lesson6.conditional import ConditionalGenerator


def test_directions_are_orthonormal():
    d = latent_directions(100, 4, seed=1)
    assert d.shape == (4, 100)
    assert torch.allclose(d @ d.T, torch.eye(4), atol=1e-5)


def test_slerp_endpoints_and_norm():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(100, generator=g), torch.randn(100, generator=g)
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)
    mid = slerp(a, b, 0.5)
    assert abs(mid.norm() - (a.norm() + b.norm()) / 2) < 0.1 * a.norm()  # a straight line would shrink it
    assert ((a + b) / 2).norm() < 0.8 * mid.norm()


def test_latent_point_moves_with_sliders():
    d = latent_directions(100, 2)
    z0 = latent_point(100, 0, 1, 0.0, [0.0, 0.0], d)
    z1 = latent_point(100, 0, 1, 0.0, [2.0, 0.0], d)
    assert z0.shape == (1, 100) and torch.allclose(z1 - z0, 2 * d[:1], atol=1e-5)


def test_explorer_updates_image_on_slider_change(monkeypatch):
    pytest.importorskip("ipywidgets")
    from course_utils.kit.widgets import latent_explorer

    monkeypatch.setenv("COURSE_WIDGETS", "1")  # no frontend under pytest: force the widgets
    G = Generator(width=8)
    box = latent_explorer(G, n_directions=2)
    image, controls = box.children
    before = image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    controls.children[3].value = 2.0  # direction 1
    assert image.value != before


def test_static_walk_and_png():
    G = Generator(width=8)
    fig = plot_latent_walk(G, steps=4)
    assert len(fig.axes) == 3 * 4
    png = render_png(torch.zeros(4, 1, 28, 28), size=112)
    assert png[:4] == b"\x89PNG"


FRONTEND_ENV = ("COURSE_WIDGETS", "JPY_SESSION_NAME", "KAGGLE_KERNEL_RUN_TYPE", "PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING")


@pytest.fixture
def no_frontend(monkeypatch):
    """An environment with no sign of a widget frontend (whatever launched this test run)."""
    import os

    for key in [*FRONTEND_ENV, *(k for k in os.environ if k.startswith("VSCODE_"))]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return monkeypatch


def test_headless_explorer_prints_one_line_and_returns_the_static_walk(no_frontend, capsys):
    fig = widgets.latent_explorer(Generator(width=8), n_directions=3)
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == (1 + 3) * 10  # plot_latent_walk's grid
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "not a Jupyter notebook" in lines[0] and "static latent walk" in lines[0]
    assert "course.py start" in lines[0]  # how to get the interactive version


def test_missing_ipywidgets_is_named_with_the_fix(no_frontend, capsys):
    no_frontend.setitem(sys.modules, "ipywidgets", None)
    assert isinstance(widgets.latent_explorer(Generator(width=8), n_directions=2), matplotlib.figure.Figure)
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "pip install ipywidgets" in line


@pytest.mark.parametrize("env, expected", [
    ({}, "no widget frontend detected"),
    ({"JPY_SESSION_NAME": "/lessons/03_training_a_gan.ipynb"}, None),  # started by JupyterLab / Notebook
    ({"VSCODE_PID": "123"}, None),
    ({"KAGGLE_KERNEL_RUN_TYPE": "Interactive"}, None),
    ({"KAGGLE_KERNEL_RUN_TYPE": "Batch"}, "Kaggle batch run"),
    ({"JPY_SESSION_NAME": "x", "COURSE_WIDGETS": "0"}, "COURSE_WIDGETS=0"),
    ({"COURSE_WIDGETS": "1"}, None),
])
def test_frontend_guess_in_a_kernel(no_frontend, env, expected):
    pytest.importorskip("ipywidgets")
    no_frontend.setattr(widgets, "in_kernel", lambda: True)
    for key, value in env.items():
        no_frontend.setenv(key, value)
    problem = widgets.widget_problem()
    assert problem is None if expected is None else expected in problem


def test_colab_without_the_widget_manager_points_at_the_setup_cell(no_frontend):
    pytest.importorskip("ipywidgets")
    no_frontend.setattr(widgets, "in_kernel", lambda: True)
    no_frontend.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    assert "setup cell" in widgets.widget_problem()
    no_frontend.setenv("COURSE_WIDGETS", "1")  # what the setup cell sets after enabling the manager
    assert widgets.widget_problem() is None


def test_dashboard_without_widgets_says_so_once_and_draws_once_at_the_end(no_frontend, capsys):
    no_frontend.setenv("COURSE_WIDGETS", "0")
    draws = []
    no_frontend.setattr(widgets.LiveDashboard, "figure",
                        lambda self, h: draws.append(h["epochs"]) or __import__("matplotlib.pyplot").pyplot.figure())
    live = widgets.LiveDashboard(Generator(width=8), torch.zeros(4, 100))
    first = capsys.readouterr().out.strip().splitlines()
    assert len(first) == 1 and first[0].startswith("live dashboard: COURSE_WIDGETS=0")
    live({"epochs": 0}, force=False)
    live({"epochs": 1}, force=False)
    assert draws == []  # nothing redrawn during training
    live({"epochs": 2}, force=True)
    assert draws == [2]


# ---- lesson 6: a class-conditional G(z, y) ----


def conditional_g():
    torch.manual_seed(0)
    return ConditionalGenerator(latent_dim=8, width=8).eval()


class RecordingConditionalG(nn.Module):
    """A stand-in conditional G whose image depends on z only (it ignores y); it records every (z, y) it gets."""

    def __init__(self, latent_dim=8, num_classes=10):
        super().__init__()
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.scale = nn.Parameter(torch.ones(()))
        self.calls = []

    def forward(self, z, y):
        self.calls.append((z.clone(), y.clone()))
        return torch.tanh(self.scale * z.mean(1)).view(-1, 1, 1, 1).expand(-1, 1, 28, 28)


def test_conditional_explorer_has_a_class_picker_above_the_sliders(monkeypatch):
    w = pytest.importorskip("ipywidgets")
    monkeypatch.setenv("COURSE_WIDGETS", "1")
    image, controls = widgets.latent_explorer(conditional_g(), n_directions=2, label=3).children
    picker = controls.children[0]
    assert isinstance(picker, w.Dropdown) and picker.value == 3
    assert list(picker.options) == list(zip(FASHION_CLASSES, range(10)))
    assert [type(c) for c in controls.children[1:]] == [w.IntText, w.IntText, *[w.FloatSlider] * 3]
    before = image.value
    picker.value = 7  # Sneaker
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n" and image.value != before


def test_the_picked_class_reaches_G(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv("COURSE_WIDGETS", "1")
    G = RecordingConditionalG()
    image, controls = widgets.latent_explorer(G, n_directions=2).children
    before = image.value
    controls.children[0].value = 8  # Bag
    assert image.value == before  # this G ignores y: only the label it receives changed
    (z0, y0), (z1, y1) = G.calls
    assert torch.equal(y0, torch.tensor([0])) and torch.equal(y1, torch.tensor([8])) and y1.dtype == torch.long
    assert torch.equal(z0, z1)  # the same z, another class


def test_unconditional_explorer_has_no_class_picker(monkeypatch):
    w = pytest.importorskip("ipywidgets")
    monkeypatch.setenv("COURSE_WIDGETS", "1")
    _, controls = widgets.latent_explorer(Generator(latent_dim=8, width=8), n_directions=2, label=5).children
    assert not any(isinstance(c, w.Dropdown) for c in controls.children)


def test_headless_conditional_explorer_shows_the_walk_for_the_class_and_the_class_grid(no_frontend, capsys):
    no_frontend.setenv("COURSE_WIDGETS", "0")
    walk, grid = widgets.latent_explorer(conditional_g(), n_directions=2, label=7)
    assert isinstance(walk, matplotlib.figure.Figure) and len(walk.axes) == 3 * 10
    assert "Sneaker" in walk.get_suptitle()
    assert isinstance(grid, matplotlib.figure.Figure) and len(grid.axes) == 10 * 8
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "COURSE_WIDGETS=0" in lines[0]
    assert "static latent walk (class Sneaker) and the class grid" in lines[0]


def test_headless_conditional_explorer_draws_every_image_as_the_picked_class(no_frontend):
    no_frontend.setenv("COURSE_WIDGETS", "0")
    G = RecordingConditionalG()
    widgets.latent_explorer(G, n_directions=2, label=4)
    *walk_calls, (_, grid_y) = G.calls
    assert len(walk_calls) == 3 and all(torch.equal(y, torch.full((10,), 4)) for _, y in walk_calls)
    assert torch.equal(grid_y, torch.arange(10).repeat_interleave(8))


def test_headless_conditional_explorer_in_a_notebook_displays_both_figures(no_frontend):
    no_frontend.setenv("COURSE_WIDGETS", "0")
    no_frontend.setattr(widgets, "in_kernel", lambda: True)
    shown = []
    no_frontend.setattr("IPython.display.display", shown.append)
    assert widgets.latent_explorer(conditional_g(), n_directions=2) is None
    assert [len(fig.axes) for fig in shown] == [3 * 10, 10 * 8]


@pytest.mark.parametrize("label, error, phrase", [(10, ValueError, "0..9"), (-1, ValueError, "0..9"),
                                                  ("Bag", TypeError, "class id"), (2.0, TypeError, "class id")])
def test_a_bad_label_is_refused(no_frontend, label, error, phrase):
    no_frontend.setenv("COURSE_WIDGETS", "0")
    with pytest.raises(error, match=phrase):
        widgets.latent_explorer(conditional_g(), n_directions=2, label=label)


def test_static_walk_of_a_conditional_G_passes_the_label():
    G = RecordingConditionalG()
    fig = plot_latent_walk(G, steps=4, label=2)
    assert len(fig.axes) == 3 * 4 and "Pullover" in fig.get_suptitle()
    assert all(torch.equal(y, torch.full((4,), 2)) for _, y in G.calls)


def test_class_grid_has_one_row_per_class_and_the_same_z_in_every_row():
    G = RecordingConditionalG(latent_dim=8)
    fig = widgets.plot_class_grid(G, per_class=5, seed=3)
    assert len(fig.axes) == 10 * 5
    assert [fig.axes[k * 5].get_title(loc="left") for k in range(10)] == FASHION_CLASSES
    (z, y), = G.calls
    assert torch.equal(y, torch.arange(10).repeat_interleave(5))  # row k is class k
    rows = z.view(10, 5, 8)
    assert torch.equal(rows, rows[:1].expand_as(rows))  # the same z in every row
    assert torch.equal(rows[0], torch.randn(5, 8, generator=torch.Generator().manual_seed(3)))


def test_class_grid_names_other_class_counts_and_refuses_an_unconditional_G():
    fig = widgets.plot_class_grid(RecordingConditionalG(num_classes=3), per_class=2)
    assert [fig.axes[k * 2].get_title(loc="left") for k in range(3)] == ["class 0", "class 1", "class 2"]
    assert len(widgets.plot_class_grid(conditional_g(), per_class=1).axes) == 10
    with pytest.raises(TypeError, match="conditional"):
        widgets.plot_class_grid(Generator(latent_dim=8, width=8))


def test_dashboard_of_a_conditional_g_draws_every_fixed_sample_one_row_per_class(no_frontend):
    no_frontend.setenv("COURSE_WIDGETS", "0")
    G = conditional_g()
    z, labels = torch.randn(3, 8).repeat(10, 1), torch.arange(10).repeat_interleave(3)  # (30, 8), (30,)
    live = widgets.LiveDashboard(G, z, labels=labels)
    assert live.nrow == 3 and len(live.fixed_z) == 30
    history = {"epochs": 0, "d_loss": [0.5] * 60, "g_loss": [1.0] * 60, "d_real": [0.6] * 60, "d_fake": [0.4] * 60}
    fig = live.figure(history)
    grid = fig.axes[2].images[0].get_array()  # 10 rows x 3 columns of 28x28 images with 2-pixel padding
    assert grid.shape[:2] == (10 * 30 + 2, 3 * 30 + 2)
    assert "one row per class" in fig.axes[2].get_title()
