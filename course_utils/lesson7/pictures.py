"""Lesson 7's pictures: one figure for each measured effect (walks, truncation, edits, steering, inversion).

Each function returns the matplotlib figure; images are ``(N, 1, 28, 28)`` in [-1, 1].
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from ..kit.data import FASHION_CLASSES


def _row(axes, images: torch.Tensor, title: str = "", captions=None) -> None:
    for i, (ax, img) in enumerate(zip(axes, images)):
        ax.imshow(((img[0] + 1) / 2).clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if captions is not None:
            ax.set_xlabel(captions[i], fontsize=7)
    if title:
        axes[0].set_ylabel(title, fontsize=8, rotation=0, ha="right", va="center")


def plot_walks(paths: dict, images: dict, shell: tuple[float, float]):
    """Top: one strip per walk (``images[mode]``, ``(steps, 1, 28, 28)``); bottom: ``|z|`` along every walk in
    ``paths[mode]`` (``(steps, B, latent_dim)``) against the prior's shell ``(low, high)``."""
    steps = len(next(iter(images.values())))
    fig = plt.figure(figsize=(max(8.0, steps * 1.0), 1.1 * len(images) + 3.0))
    grid = fig.add_gridspec(len(images) + 1, steps, height_ratios=[1] * len(images) + [2.6])
    for r, (mode, strip) in enumerate(images.items()):
        _row([fig.add_subplot(grid[r, c]) for c in range(steps)], strip, mode)
    ax = fig.add_subplot(grid[-1, :])
    t = torch.linspace(0, 1, steps)
    for mode, path in paths.items():
        norms = path.norm(dim=-1)  # (steps, B)
        ax.plot(t, norms.median(1).values, "o-", label=f"{mode}: median of {norms.shape[1]} walks")
        ax.fill_between(t, norms.min(1).values, norms.max(1).values, alpha=0.2)
    ax.axhspan(*shell, color="grey", alpha=0.15, label="the prior's shell (98% of |z|)")
    ax.set(xlabel="t (0: z0, 1: z1)", ylabel="|z|", title="the norm along the walks")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_truncation(strips: dict, sweeps: list[dict]):
    """Left: the same ``z`` at each ``psi`` (``strips[psi]``); right: precision, recall and FID over ``psi``, one line
    per seed."""
    n = len(next(iter(strips.values())))
    fig = plt.figure(figsize=(n * 0.8 + 8, 0.9 * len(strips) + 0.6))
    grid = fig.add_gridspec(len(strips), n + 9)
    for r, (psi, images) in enumerate(strips.items()):
        _row([fig.add_subplot(grid[r, c]) for c in range(n)], images, f"psi {psi:g}")
    ax1, ax2 = fig.add_subplot(grid[:, n + 1:n + 5]), fig.add_subplot(grid[:, n + 6:])
    for s in sweeps:
        psis = [row["psi"] for row in s["rows"]]
        ax1.plot(psis, [row["precision"] for row in s["rows"]], "o-", color="tab:blue", alpha=0.7)
        ax1.plot(psis, [row["recall"] for row in s["rows"]], "s-", color="tab:orange", alpha=0.7)
        ax2.plot(psis, [row["fid"] for row in s["rows"]], "o-", color="tab:green", alpha=0.7)
    ax1.plot([], [], "o-", color="tab:blue", label="precision")
    ax1.plot([], [], "s-", color="tab:orange", label="recall")
    ax1.set(xlabel="psi", ylim=(0, 1), title="quality vs diversity")
    ax1.invert_xaxis()
    ax1.legend(fontsize=7)
    ax2.set(xlabel="psi", ylabel="FID", title="FID (lower is better)", yscale="log")
    ax2.invert_xaxis()
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
    return fig


def plot_edits(rows: dict, alphas):
    """One row per name in ``rows`` (``(len(alphas) * k, 1, 28, 28)``: k samples, each edited by every ``alpha``)."""
    k = len(next(iter(rows.values()))) // len(alphas)
    fig, axes = plt.subplots(k * len(rows), len(alphas), figsize=(len(alphas) * 0.9 + 1.2, 0.95 * k * len(rows)),
                             squeeze=False)
    for i, (name, images) in enumerate(rows.items()):
        for j in range(k):
            _row(axes[i * k + j], images[j * len(alphas):(j + 1) * len(alphas)], name if j == 0 else "",
                 [f"{a:g}" for a in alphas] if i * k + j == k * len(rows) - 1 else None)
    fig.supxlabel("alpha (step along the direction)", fontsize=8)
    fig.tight_layout()
    return fig


def plot_shares(rows: list[dict], edits=("found", "random")):
    """Where the edited source samples land, class by class, for each edit named in ``edits`` (keys of the
    measurement: ``found``, ``random``, ``orthogonal``), seed 0."""
    r = rows[0]
    fig, ax = plt.subplots(figsize=(8, 2.8))
    x, width = torch.arange(len(FASHION_CLASSES)).float(), 0.8 / len(edits)
    labels = {"found": "found direction", "random": "random direction",
              "orthogonal": f"found, orthogonal to {FASHION_CLASSES[r.get('avoid', 0)]}'s"}
    for i, name in enumerate(edits):
        ax.bar(x + (i - (len(edits) - 1) / 2) * width, r[name]["shares"], width, label=labels[name])
    ax.set_xticks(x.tolist(), FASHION_CLASSES, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="share", ylim=(0, 1), title=f"{FASHION_CLASSES[r['source']]} samples after a step of "
           f"{r['alpha']:g}: the classifier's verdict")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_steering(before: torch.Tensor, after: dict, targets, verdicts: dict):
    """Row 0: the starting images; then one row per setting in ``after``, captioned with the classifier's and the
    judge's class (``verdicts[name] = (by_classifier, by_judge)``)."""
    fig, axes = plt.subplots(1 + len(after), len(before), figsize=(len(before) * 1.0 + 1.5, 1.35 * (1 + len(after))),
                             squeeze=False)
    _row(axes[0], before, "start", [f"→ {FASHION_CLASSES[int(t)][:7]}" for t in targets])
    for i, (name, images) in enumerate(after.items(), start=1):
        c, j = verdicts[name]
        _row(axes[i], images, name, [f"C:{FASHION_CLASSES[int(a)][:5]}\nJ:{FASHION_CLASSES[int(b)][:5]}"
                                     for a, b in zip(c, j)])
    fig.tight_layout()
    return fig


def plot_inversion(rows: dict):
    """One row per name: e.g. the real images, their reconstructions ``G(z)``, and edits of those."""
    n = len(next(iter(rows.values())))
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.9 + 1.5, 1.0 * len(rows)), squeeze=False)
    for axs, (name, images) in zip(axes, rows.items()):
        _row(axs, images, name)
    fig.tight_layout()
    return fig
