import sys

import matplotlib.figure
import pytest
import torch

from course_utils import Generator, widgets
from course_utils.widgets import latent_directions, latent_point, plot_latent_walk, render_png, slerp


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
    from course_utils.widgets import latent_explorer

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
