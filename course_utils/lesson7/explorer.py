"""Lesson 7's latent explorer: one slider per direction found in ``z`` (e.g. by ``find_direction``).

Where widgets show (:func:`course_utils.kit.widgets.widget_problem`), :func:`direction_explorer` returns sliders
that move ``z`` along each named direction and redraw ``G(z)`` live. Elsewhere it prints one line saying why and
shows the static version instead: one row per direction, the same ``z`` moved from ``-limit`` to ``+limit``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ..kit.widgets import render_png, show_static, widget_problem
from .latent import generate


def _unit_directions(directions: dict) -> tuple[list[str], torch.Tensor]:
    if not isinstance(directions, dict) or not directions:
        raise TypeError("directions must be a dict {name: vector (latent_dim,)}, e.g. "
                        "{'Sneaker → Ankle boot': find_direction(z, classes, 7, 9)}")
    vectors = [torch.as_tensor(d, dtype=torch.float32).flatten() for d in directions.values()]
    return list(directions), torch.stack([v / v.norm() for v in vectors])  # (k, latent_dim)


def _start(G, z, seed: int) -> torch.Tensor:
    if z is None:
        return torch.randn(1, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    return torch.as_tensor(z, dtype=torch.float32).reshape(1, G.latent_dim)


def plot_directions(G, directions: dict, z=None, seed: int = 0, limit: float = 6.0, steps: int = 7):
    """The static explorer: row i moves one ``z`` along direction i by ``-limit`` ... ``+limit`` (lesson 7)."""
    names, units = _unit_directions(directions)
    start = _start(G, z, seed)
    alphas = torch.linspace(-limit, limit, steps)
    fig, axes = plt.subplots(len(names), steps, figsize=(steps * 1.0 + 1.8, 1.1 * len(names)), squeeze=False)
    for row, (name, d) in zip(axes, zip(names, units)):
        images = generate(G, start + alphas.view(-1, 1) * d)  # (steps, 1, 28, 28)
        for ax, img, a in zip(row, images, alphas.tolist()):
            ax.imshow(((img[0] + 1) / 2).clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"{a:+.0f}", fontsize=7)
        row[0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    fig.tight_layout()
    return fig


def direction_explorer(G, directions: dict, z=None, seed: int = 0, limit: float = 6.0, size: int = 224):
    """Sliders along named directions in ``z`` (lesson 7): ``G(z + sum_i a_i d_i / |d_i|)``, redrawn live.

    ``directions``: ``{name: vector (latent_dim,)}``; ``z``: the starting latent vector (default: drawn from
    ``seed``, which a text box then changes). Returns the ipywidgets box; without a widget frontend, prints one line
    saying why and shows :func:`plot_directions` instead (returned as a closed figure outside a notebook).
    """
    names, units = _unit_directions(directions)
    problem = widget_problem()
    if problem:
        print(f"direction explorer: {problem}. Showing the static walks along the directions instead.", flush=True)
        return show_static(plot_directions(G, directions, z, seed, limit))
    import ipywidgets as w

    sliders = [w.FloatSlider(value=0.0, min=-limit, max=limit, step=0.5, description=name[:24],
                             style={"description_width": "initial"}) for name in names]
    seed_box = w.IntText(value=seed, description="seed", disabled=z is not None)
    image = w.Image(format="png", width=size, height=size)
    image.add_class("direction-explorer-image")

    def update(_change=None):
        start = _start(G, z, seed_box.value)
        offset = torch.tensor([s.value for s in sliders]) @ units  # (latent_dim,)
        image.value = render_png(generate(G, start + offset), size)

    for control in (*sliders, seed_box):
        control.observe(update, names="value")
    update()
    return w.HBox([image, w.VBox([seed_box, *sliders])])
