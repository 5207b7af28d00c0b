"""Lesson 2's reference: the discriminator for 28x28 images and its averaged BCE loss (what the student writes).

Loss convention used everywhere in the course: the **averaged** discriminator loss
``L_D = (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2``; a discriminator that guesses (D = 0.5 everywhere) scores
``log 2 ~ 0.693``. Later lessons import these tested versions instead of the ones students wrote.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Discriminator(nn.Module):
    """The convolutional discriminator for 28x28 images; returns one logit per image (lesson 2).

    (B, 1, 28, 28) -> conv -> (B, w, 14, 14) -> conv -> (B, 2w, 7, 7) -> linear -> (B, 1) logits.
    No sigmoid: the loss is ``BCEWithLogitsLoss``, which is numerically safer.
    """

    def __init__(self, width: int = 64, channels: int = 1, dropout: float = 0.0,
                 spectral_norm: bool = False):
        super().__init__()
        self.width, self.channels = width, channels
        sn = nn.utils.parametrizations.spectral_norm if spectral_norm else (lambda m: m)
        self.features = nn.Sequential(
            sn(nn.Conv2d(channels, width, 4, stride=2, padding=1)),  # 28 -> 14
            nn.LeakyReLU(0.2), nn.Dropout(dropout),
            sn(nn.Conv2d(width, 2 * width, 4, stride=2, padding=1)),  # 14 -> 7
            nn.Identity() if spectral_norm else nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2), nn.Dropout(dropout),
        )
        self.classify = sn(nn.Linear(2 * width * 7 * 7, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).flatten(1)  # (B, 2w * 7 * 7)
        return self.classify(h)  # (B, 1) logits


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Averaged BCE: real images are labelled 1, fakes 0 (lesson 2)."""
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return (real_loss + fake_loss) / 2
