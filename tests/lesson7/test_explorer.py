"""Lesson 7's explorer: sliders along found directions redraw G(z); without a frontend, one line and the walks."""

import pytest
import torch

from course_utils.lesson1.reference import Generator
from course_utils.lesson7.explorer import direction_explorer, plot_directions


def _g():
    torch.manual_seed(0)
    return Generator(latent_dim=16, width=8).eval()


def _directions():
    g = torch.Generator().manual_seed(1)
    return {"one": torch.randn(16, generator=g), "two": 5 * torch.randn(16, generator=g)}


def test_sliders_move_z_along_each_direction_and_redraw(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv("COURSE_WIDGETS", "1")  # no frontend under pytest: force the widgets
    box = direction_explorer(_g(), _directions(), seed=3)
    image, (seed_box, *sliders) = box.children[0], box.children[1].children
    assert [s.description for s in sliders] == ["one", "two"] and "direction-explorer-image" in image._dom_classes
    before = image.value
    sliders[1].value = 3.0
    assert image.value != before
    sliders[1].value = 0.0
    assert image.value == before  # back at the start: the same z, the same image
    seed_box.value = 4
    assert image.value != before


def test_without_a_frontend_it_says_so_and_returns_the_walks(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_WIDGETS", "0")
    fig = direction_explorer(_g(), _directions(), z=torch.zeros(16))
    assert "direction explorer: COURSE_WIDGETS=0" in capsys.readouterr().out
    assert len(fig.axes) == 2 * 7


def test_bad_directions_say_what_was_expected():
    with pytest.raises(TypeError, match="directions must be a dict"):
        plot_directions(_g(), [torch.randn(16)])
