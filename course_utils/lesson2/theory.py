"""The theory behind the losses, shown numerically (lesson 2): the **optimal discriminator**.

``D*(x) = p_data(x) / (p_data(x) + p_g(x))``. On the ring of 8 Gaussians both densities are known, so a trained
D can be compared with D* point by point, and the averaged BCE of D* is ``log 2 - JS(p_data, p_g)``: log 2
exactly when ``p_g = p_data`` (D* = 0.5).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..kit.smoothing import LOG2
from .ring import ring_centers

# ----------------------------------------------------------------------------- lesson 2: D* on the ring

def ring_density(x: torch.Tensor, weights: torch.Tensor, std: float = 0.05, radius: float = 2.0) -> torch.Tensor:
    """Density at points ``x`` ``(N, 2)`` of a mixture of Gaussians on the ring with mode ``weights`` (8,)."""
    centers = ring_centers(len(weights), radius)  # (8, 2)
    sq = torch.cdist(x.double(), centers.double()).pow(2)  # (N, 8)
    normal = torch.exp(-sq / (2 * std**2)) / (2 * math.pi * std**2)
    return normal @ weights.double()  # (N,)


def sample_ring(n: int, weights: torch.Tensor, std: float = 0.05, radius: float = 2.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points ``(n, 2)`` from the ring mixture with mode ``weights``."""
    modes = torch.multinomial(weights.float(), n, replacement=True, generator=generator)
    noise = torch.randn(n, 2, generator=generator)
    return ring_centers(len(weights), radius)[modes] + std * noise


def optimal_d(x: torch.Tensor, w_data: torch.Tensor, w_g: torch.Tensor, std: float = 0.05) -> torch.Tensor:
    """``D*(x) = p_data / (p_data + p_g)`` at points ``x`` ``(N, 2)`` (lesson 2)."""
    p, q = ring_density(x, w_data, std), ring_density(x, w_g, std)
    return p / (p + q).clamp_min(1e-300)


def js_divergence_modes(w_p: torch.Tensor, w_q: torch.Tensor) -> float:
    """JS between two mixtures on the *same* well-separated modes: the JS of their mode weights (nats)."""
    p, q = w_p.double(), w_q.double()
    m = (p + q) / 2
    kl = lambda a: float((a[a > 0] * (a[a > 0] / m[a > 0]).log()).sum())  # noqa: E731
    return (kl(p) + kl(q)) / 2


def train_d_against(w_g: torch.Tensor, steps: int = 1500, seed: int = 0, std: float = 0.05,
                     batch_size: int = 256, lr: float = 1e-3) -> dict:
    """Train lesson 4's toy D (averaged BCE) on the 8-mode ring (real) vs a fixed ring mixture ``w_g`` (fake).

    Returns D, and on fresh samples: D at the mode centres, D* there, and D's loss vs D*'s loss.
    """
    from .ring import ToyDiscriminator

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    w_data = torch.full((len(w_g),), 1.0 / len(w_g))
    D = ToyDiscriminator()
    opt = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    for _ in range(steps):
        real = sample_ring(batch_size, w_data, std, generator=gen)  # (B, 2)
        fake = sample_ring(batch_size, w_g, std, generator=gen)  # (B, 2)
        loss = (F.binary_cross_entropy_with_logits(D(real), torch.ones(batch_size, 1))
                + F.binary_cross_entropy_with_logits(D(fake), torch.zeros(batch_size, 1))) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        real, fake = sample_ring(20_000, w_data, std, generator=gen), sample_ring(20_000, w_g, std, generator=gen)
        d_loss = float((F.binary_cross_entropy_with_logits(D(real), torch.ones(len(real), 1))
                        + F.binary_cross_entropy_with_logits(D(fake), torch.zeros(len(fake), 1))) / 2)
        centers = ring_centers(len(w_g))
        d_at = torch.sigmoid(D(centers)).squeeze(1)  # (8,)
    return {"D": D, "d_at_centers": d_at, "d_star_at_centers": optimal_d(centers, w_data, w_g, std).float(),
            "d_loss": d_loss, "d_star_loss": LOG2 - js_divergence_modes(w_data, w_g)}
