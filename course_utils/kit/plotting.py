"""Pictures: loss curves, D outputs, sample grids and the checkpoint progression (lessons 1-3)."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from torchvision.utils import make_grid

from .smoothing import LOG2, smooth


def to_image(images: torch.Tensor, nrow: int | None = None):
    """``(N, C, H, W)`` in [-1, 1] -> an ``(H', W', C)`` numpy grid in [0, 1] for ``imshow``."""
    if images.dim() != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(images.shape)}")
    images = images.detach().float().cpu()
    nrow = nrow or max(1, int(math.sqrt(len(images))))
    grid = make_grid(images, nrow=nrow, padding=2, normalize=True, value_range=(-1, 1), pad_value=1.0)
    return grid.permute(1, 2, 0).numpy()


def show_grid(images: torch.Tensor, title: str = "", nrow: int | None = None, ax=None, size: float = 5):
    """Show a grid of images in [-1, 1]; returns the matplotlib axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size))
    grid = to_image(images, nrow)
    ax.imshow(grid.squeeze(-1) if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return ax


def plot_losses(history: dict, smooth_width: int = 100):
    """Raw and smoothed D/G losses with the log 2 line, and the D(x), D(G(z)) traces."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4))
    steps = history.get("steps_per_epoch") or 1
    for key, color in (("d_loss", "tab:blue"), ("g_loss", "tab:orange")):
        x = [i / steps for i in range(len(history[key]))]
        ax1.plot(x, history[key], color=color, alpha=0.2, lw=0.5)
        ax1.plot(x, smooth(history[key], smooth_width), color=color, label=f"{key} (smoothed)")
    ax1.axhline(LOG2, color="k", ls="--", lw=1, label="log 2 (chance)")
    ax1.set(xlabel="epoch", ylabel="loss", title="Losses (averaged BCE)")
    ax1.legend()
    for key, label, color in (("d_real", "D(x)", "tab:green"), ("d_fake", "D(G(z))", "tab:red")):
        x = [i / steps for i in range(len(history[key]))]
        ax2.plot(x, smooth(history[key], smooth_width), color=color, label=label)
    ax2.axhline(0.5, color="k", ls="--", lw=1, label="0.5 (equilibrium)")
    ax2.set(xlabel="epoch", ylabel="mean D output", ylim=(0, 1), title="What D says")
    ax2.legend()
    fig.tight_layout()
    return fig


def plot_checkpoints(history: dict, n: int = 16, nrow: int | None = None):
    """The first ``n`` fixed-noise samples at every stored checkpoint, one panel per epoch (``nrow`` per row)."""
    snaps = history["samples"]
    if not snaps:
        raise ValueError("history has no samples: train for at least checkpoint_every epochs")
    cols = min(5, len(snaps))
    rows = math.ceil(len(snaps) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, snap in zip(axes.flat, snaps):
        show_grid(snap["images"][:n], title=f"epoch {snap['epoch']}", ax=ax, nrow=nrow)
    fig.tight_layout()
    return fig


def plot_metric(history: dict, key: str, ax=None, label: str | None = None):
    """A metric stored at each checkpoint (``history["metrics"]``) against the epoch."""
    rows = [m for m in history["metrics"] if key in m]
    if not rows:
        raise ValueError(f"history has no metric {key!r}: pass eval_fn to the trainer")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([m["epoch"] for m in rows], [m[key] for m in rows], "o-", label=label or key)
    ax.set(xlabel="epoch", ylabel=key)
    return ax


def plot_game(ax=None):
    """The two-player game as a diagram: noise z -> G -> fake; real x and the fake -> D -> a probability of
    "real"; the D step (targets real 1, fake 0, the fake detached) and the G step (target 1, through D into G).
    Returns the axes; the boxes and arrows are drawn by code, so the picture and the lessons use one vocabulary."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.6))
    boxes = {"z": (0.06, 0.7, "noise z\n(B, 100)"), "G": (0.3, 0.7, "G"),
             "fake": (0.54, 0.7, "fake G(z)\n(B, 1, 28, 28)"), "real": (0.54, 0.22, "real x\n(B, 1, 28, 28)"),
             "D": (0.78, 0.46, "D"), "out": (0.95, 0.46, "D's logit,\nsigmoid: P(real)")}
    for key, (x, y, text) in boxes.items():
        player = key in ("G", "D")
        ax.text(x, y, text, ha="center", va="center", fontsize=13 if player else 9,
                fontweight="bold" if player else "normal",
                bbox={"boxstyle": "round,pad=0.5", "fc": "#cfe3ff" if key == "G" else "#ffd9c9" if key == "D" else
                      "#f2f2f2", "ec": "k"})
    arrow = {"arrowstyle": "->", "lw": 1.5, "color": "k"}
    for a, b in (("z", "G"), ("G", "fake"), ("fake", "D"), ("real", "D"), ("D", "out")):
        (xa, ya, _), (xb, yb, _) = boxes[a], boxes[b]
        ax.annotate("", xy=(xb - 0.06 * (xb > xa), yb), xytext=(xa + 0.06 * (xb > xa), ya), arrowprops=arrow)
    ax.text(0.5, 0.02, "D step: real -> target 1, fake (detached) -> target 0; update D only", ha="center",
            color="#b34700", fontsize=10)
    ax.text(0.5, 0.97, "G step: fresh fake -> target 1 ('real'); the gradient flows back through D into G; "
            "update G only", ha="center", color="#1f4e99", fontsize=10)
    ax.set(xlim=(0, 1.02), ylim=(0, 1))
    ax.axis("off")
    return ax
