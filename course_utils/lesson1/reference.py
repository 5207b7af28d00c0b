"""Lesson 1's reference: latent vectors and the generators for 28x28 images (what the student writes).

Later lessons import these tested versions instead of the ones students wrote.
"""

from __future__ import annotations

import torch
from torch import nn


def sample_latent(n: int, latent_dim: int = 100, device=None, generator=None) -> torch.Tensor:
    """Latent vectors z ~ N(0, I), shape ``(n, latent_dim)`` (lesson 1)."""
    return torch.randn(n, latent_dim, device=device, generator=generator)


class FCGenerator(nn.Module):
    """A fully connected generator: z -> 784 pixels -> ``(B, 1, 28, 28)`` in [-1, 1] (lesson 1)."""

    def __init__(self, latent_dim: int = 100, hidden: int = 256):
        super().__init__()
        self.latent_dim, self.hidden = latent_dim, hidden
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * hidden), nn.ReLU(),
            nn.Linear(2 * hidden, 28 * 28), nn.Tanh(),  # tanh: pixels in [-1, 1] like the data
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 28, 28)  # (B, 784) -> (B, 1, 28, 28)


class Generator(nn.Module):
    """The DCGAN-style generator for 28x28 images (lesson 1).

    z (B, latent_dim) -> Linear -> (B, 2w, 7, 7) -> ConvT -> (B, w, 14, 14) -> ConvT -> (B, 1, 28, 28).
    """

    def __init__(self, latent_dim: int = 100, width: int = 64, channels: int = 1):
        super().__init__()
        self.latent_dim, self.width, self.channels = latent_dim, width, channels
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU(),
        )
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),  # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(-1, 2 * self.width, 7, 7)  # (B, 2w, 7, 7)
        return self.upsample(x)  # (B, C, 28, 28) in [-1, 1]


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights ~ N(0, 0.02), BatchNorm weights ~ N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        weight = getattr(module, "parametrizations", None)
        w = weight.weight.original if weight is not None else module.weight
        nn.init.normal_(w, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)) and module.affine:  # affine=False: no weights
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
