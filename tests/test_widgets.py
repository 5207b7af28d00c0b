import pytest
import torch

from course_utils import Generator
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


def test_explorer_updates_image_on_slider_change():
    pytest.importorskip("ipywidgets")
    from course_utils.widgets import latent_explorer

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
