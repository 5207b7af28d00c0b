"""A 2-D toy GAN problem (lesson 4): a ring of 8 Gaussians, small MLPs for G and D, a loader.

On the ring, every sample can be assigned to its nearest mode, so diversity is *counted*, not
guessed: a generator that covers 3 of the 8 modes has collapsed, whatever its losses say.
A run of a few thousand steps takes seconds on a laptop CPU.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..measure.metrics import coverage, histogram_entropy


def ring_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """The ``(n_modes, 2)`` centres, evenly spaced on a circle of ``radius``."""
    angles = torch.arange(n_modes, dtype=torch.float32) * (2 * math.pi / n_modes)
    return torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], dim=1)


def ring_data(n: int = 8192, n_modes: int = 8, radius: float = 2.0, std: float = 0.05,
              seed: int = 0):
    """``n`` points from the ring of Gaussians and the index of the mode each came from.

    Returns ``(points (n, 2) float32, modes (n,) int64)``; every mode gets the same share.
    """
    g = torch.Generator().manual_seed(seed)
    modes = torch.arange(n) % n_modes  # (n,) balanced
    modes = modes[torch.randperm(n, generator=g)]
    points = ring_centers(n_modes, radius)[modes] + std * torch.randn(n, 2, generator=g)  # (n, 2)
    return points, modes


class PointLoader:
    """Shuffled batches of a tensor of points, like :class:`~course_utils.kit.data.TensorLoader`.

    Yields ``(points (B, 2), modes (B,))``. ``generator`` holds the shuffling state, so a checkpoint
    can store it and a resumed run sees the same batches as an uninterrupted one.
    """

    def __init__(self, points: torch.Tensor, labels: torch.Tensor | None = None,
                 batch_size: int = 256, seed: int = 0, device=None):
        if points.dim() != 2:
            raise ValueError(f"points must be (N, D), got shape {tuple(points.shape)}")
        if not 1 <= batch_size <= len(points):
            raise ValueError(f"batch_size must be between 1 and {len(points)}, got {batch_size}")
        device = torch.device(device) if device is not None else points.device
        self.points = points.float().to(device)
        labels = labels if labels is not None else torch.zeros(len(points), dtype=torch.long)
        self.labels = labels.to(device)
        self.batch_size = batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.dataset = self.points

    def __len__(self) -> int:
        return len(self.points) // self.batch_size  # drop_last

    def __iter__(self):
        order = torch.randperm(len(self.points), generator=self.generator).to(self.points.device)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.points[idx], self.labels[idx]


def ring_loader(n: int = 8192, batch_size: int = 256, seed: int = 0, device=None, **ring) -> PointLoader:
    """A :class:`PointLoader` over :func:`ring_data` (lesson 4)."""
    points, modes = ring_data(n, seed=seed, **ring)
    return PointLoader(points, modes, batch_size=batch_size, seed=seed, device=device)


class ToyGenerator(nn.Module):
    """z ``(B, latent_dim)`` -> MLP -> a point ``(B, 2)`` (lesson 4). No tanh: the ring is not in [-1, 1]."""

    def __init__(self, latent_dim: int = 8, hidden: int = 128):
        super().__init__()
        self.latent_dim, self.hidden = latent_dim, hidden
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)  # (B, 2)


class ToyDiscriminator(nn.Module):
    """A point ``(B, 2)`` -> MLP -> one logit ``(B, 1)`` (lesson 4); ``dropout``, ``spectral_norm`` as in
    :class:`~course_utils.lesson2.reference.Discriminator`."""

    def __init__(self, hidden: int = 128, dropout: float = 0.0, spectral_norm: bool = False):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        self.hidden, self.dropout, self.spectral_norm = hidden, dropout, spectral_norm
        self.net = nn.Sequential(
            sn(nn.Linear(2, hidden)), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            sn(nn.Linear(hidden, hidden)), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            sn(nn.Linear(hidden, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, 1) logits


def toy_models(seed: int = 0, latent_dim: int = 8, hidden: int = 128, **d_options):
    """A fresh ``(G, D)`` pair with the same initial weights for the same ``seed``."""
    torch.manual_seed(seed)
    G = ToyGenerator(latent_dim, hidden)
    D = ToyDiscriminator(hidden, **d_options)
    return G, D


# ----------------------------------------------------------------------------- measuring samples on the ring

def assign_modes(points: torch.Tensor, centers: torch.Tensor, max_dist: float) -> torch.Tensor:
    """Index of the nearest centre for each point ``(N, 2)``, or -1 when farther than ``max_dist``."""
    dist = torch.cdist(points.float(), centers.float())  # (N, n_modes)
    nearest_dist, nearest = dist.min(dim=1)
    return torch.where(nearest_dist <= max_dist, nearest, torch.full_like(nearest, -1))


def mode_counts(points: torch.Tensor, centers: torch.Tensor, max_dist: float) -> torch.Tensor:
    """How many points fall near each centre: ``(n_modes,)`` counts (points far from all are dropped)."""
    idx = assign_modes(points, centers, max_dist)
    return torch.bincount(idx[idx >= 0], minlength=len(centers))


@torch.no_grad()
def ring_diversity(points: torch.Tensor, centers: torch.Tensor, std: float = 0.05) -> dict:
    """Diversity of 2-D samples on the ring: modes covered, entropy, share of good samples.

    A sample is "good" when it lies within 3 std of a centre.
    """
    counts = mode_counts(points, centers, max_dist=3 * std)
    ent = histogram_entropy(counts)
    return {"modes": coverage(counts, total=len(points)), "entropy": ent["entropy"],
            "norm_entropy": ent["normalized"], "good": counts.sum().item() / max(1, len(points)),
            "counts": counts.tolist()}


def ring_eval_fn(centers: torch.Tensor, std: float = 0.05, n: int = 2000, seed: int = 99):
    """An ``eval_fn(G) -> dict`` for the trainers: diversity of ``n`` samples from fixed noise."""
    def eval_fn(G):
        p = next(G.parameters())
        z = torch.randn(n, G.latent_dim, generator=torch.Generator().manual_seed(seed)).to(p.device)
        return ring_diversity(G(z).float().cpu(), centers, std)
    return eval_fn


def plot_ring_samples(runs: dict, centers: torch.Tensor, n: int = 1000):
    """The last stored fixed-noise samples of each run, over the true mode centres (red)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(2.8 * len(runs), 3), squeeze=False)
    for ax, (name, h) in zip(axes[0], runs.items()):
        pts = h["samples"][-1]["images"][:n]
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.4)
        ax.scatter(centers[:, 0], centers[:, 1], s=30, c="red", marker="x")
        modes = h["metrics"][-1].get("modes", "?") if h["metrics"] else "?"
        ax.set(title=f"{name}\n{modes}/8 modes", xlim=(-3, 3), ylim=(-3, 3), aspect="equal")
        ax.title.set_fontsize(8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig
