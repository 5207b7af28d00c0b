"""Lesson 7, controllable generation: walks, truncation and directions in a trained generator's latent space.

Everything here moves ``z`` and leaves ``G`` alone: G is the shipped, unconditional ``fashion_dcgan`` (lesson 3),
its prior is ``z ~ N(0, I)`` in ``latent_dim = 100`` dimensions, and the course classifier
(:mod:`course_utils.measure.metrics`) says which class each sample is.

* :func:`interpolate`: a walk from ``z0`` to ``z1``, straight (``"linear"``) or on the sphere (``"slerp"``);
* :func:`truncate`, :func:`truncated_sample`: the truncation trick, ``z`` pulled towards the prior's centre
  *before* G;
* :func:`class_latents`, :func:`find_direction`, :func:`edit`: a direction in ``z`` from one class to another
  (the difference of the two classes' mean ``z``), and a step along it.
"""

from __future__ import annotations

import math

import torch

from ..kit.data import FASHION_CLASSES
from ..measure.metrics import classify


def _check_pair(z0: torch.Tensor, z1: torch.Tensor, steps: int) -> None:
    if not (torch.is_tensor(z0) and torch.is_tensor(z1)) or z0.shape != z1.shape or z0.dim() not in (1, 2):
        raise ValueError(f"z0 and z1 must be tensors of one shape, (latent_dim,) or (B, latent_dim); got "
                         f"{tuple(getattr(z0, 'shape', ()))} and {tuple(getattr(z1, 'shape', ()))}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 2:
        raise ValueError(f"steps must be an int >= 2 (the walk includes both ends), got {steps!r}")


def interpolate(z0: torch.Tensor, z1: torch.Tensor, steps: int, mode: str = "linear") -> torch.Tensor:
    """``steps`` points from ``z0`` to ``z1`` (both ends included): ``(steps, *z0.shape)`` (lesson 7).

    ``"linear"``: ``(1 - t) z0 + t z1``, the straight line, which cuts inside the sphere where Gaussian ``z``
    live. ``"slerp"``: the direction turns along the great circle from ``z0``'s to ``z1``'s at a constant
    rate while the norm goes linearly from ``|z0|`` to ``|z1|``, so every point keeps a typical norm.
    """
    _check_pair(z0, z1, steps)
    if mode not in ("linear", "slerp"):
        raise ValueError(f"mode must be 'linear' or 'slerp', got {mode!r}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device).view(-1, *[1] * z0.dim())  # (steps, 1[, 1])
    if mode == "linear":
        return (1 - t) * z0 + t * z1  # (steps, *z0.shape)
    n0, n1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)  # (..., 1)
    u0, u1 = z0 / n0, z1 / n1  # unit vectors
    omega = torch.arccos((u0 * u1).sum(-1, keepdim=True).clamp(-1.0, 1.0))  # (..., 1): the angle between them
    sin_omega = torch.sin(omega).clamp(min=1e-8)
    u = (torch.sin((1 - t) * omega) * u0 + torch.sin(t * omega) * u1) / sin_omega  # on the unit sphere
    u = torch.where(omega < 1e-6, (1 - t) * u0 + t * u1, u)  # (nearly) the same direction: a straight line
    return ((1 - t) * n0 + t * n1) * u  # (steps, *z0.shape): the norm interpolated linearly


def prior_shell(latent_dim: int = 100, n: int = 100_000, seed: int = 0) -> tuple[float, float]:
    """The 1st and 99th percentiles of ``|z|`` for ``z ~ N(0, I)``: the thin shell near ``sqrt(latent_dim)``
    where the prior's samples live (lesson 7)."""
    norms = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed)).norm(dim=1)  # (n,)
    lo, hi = torch.quantile(norms, torch.tensor([0.01, 0.99])).tolist()
    return lo, hi


def truncate(z: torch.Tensor, psi: float) -> torch.Tensor:
    """The truncation trick on ``z`` (lesson 7): ``psi * z``, pulled towards the prior's centre 0 (its mean).

    ``psi = 1`` leaves ``z`` alone; ``psi = 0`` sends every ``z`` to the centre, one image. Applied to ``z``
    *before* G (scaling G's image instead only dims it towards grey).
    """
    if not isinstance(psi, (int, float)) or isinstance(psi, bool) or not 0 <= psi <= 1:
        raise ValueError(f"psi must be a number in [0, 1] (1: no truncation, 0: the centre), got {psi!r}")
    return psi * z


def truncated_sample(G, z: torch.Tensor, psi: float) -> torch.Tensor:
    """``G(truncate(z, psi))``: images from latent vectors pulled towards the prior's centre (lesson 7)."""
    return G(truncate(z, psi))  # (B, 1, 28, 28)


@torch.no_grad()
def generate(G, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """``G(z)`` in eval mode, in batches, as a float CPU tensor ``(N, 1, 28, 28)`` clamped to [-1, 1] (plumbing)."""
    was_training = G.training
    G.eval()
    try:
        p = next(G.parameters())
        out = [G(chunk.to(p.device, p.dtype)).float().cpu() for chunk in z.split(batch_size)]
    finally:
        G.train(was_training)
    return torch.cat(out).clamp_(-1, 1)


def predict(images: torch.Tensor) -> torch.Tensor:
    """The course classifier's class ``(N,)`` for images in [-1, 1] (plumbing)."""
    return classify(images.float().clamp(-1, 1))[1].argmax(1)


def class_latents(G, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` latent vectors ``(n, latent_dim)`` and the class the course classifier sees in ``G(z)`` ``(n,)``."""
    z = torch.randn(n, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    return z, predict(generate(G, z))


def class_index(name_or_index) -> int:
    """A Fashion-MNIST class by name (``"Sneaker"``) or index (``7``) -> its index (plumbing)."""
    if isinstance(name_or_index, str):
        if name_or_index not in FASHION_CLASSES:
            raise ValueError(f"unknown class {name_or_index!r}; the classes are {', '.join(FASHION_CLASSES)}")
        return FASHION_CLASSES.index(name_or_index)
    index = int(name_or_index)
    if not 0 <= index < len(FASHION_CLASSES):
        raise ValueError(f"class index must be in 0..{len(FASHION_CLASSES) - 1}, got {index}")
    return index


def find_direction(z: torch.Tensor, classes: torch.Tensor, source: int, target: int) -> torch.Tensor:
    """A unit vector ``(latent_dim,)`` in ``z`` from class ``source`` towards class ``target`` (lesson 7): the mean
    ``z`` of the samples the classifier calls ``target`` minus the mean ``z`` of those it calls ``source``."""
    src, tgt = z[classes == source], z[classes == target]  # (n_s, d), (n_t, d)
    if len(src) == 0 or len(tgt) == 0:
        raise ValueError(f"no sample of class {source if len(src) == 0 else target} among the {len(z)} given: "
                         "draw more latent vectors")
    d = tgt.mean(0) - src.mean(0)  # (latent_dim,)
    return d / d.norm()


def edit(z: torch.Tensor, direction: torch.Tensor, alpha: float) -> torch.Tensor:
    """``z + alpha * direction / |direction|``: a step of length ``alpha`` along a direction (lesson 7)."""
    return z + alpha * direction / direction.norm()


def orthogonalize(direction: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``direction`` with its component along ``other`` removed, as a unit vector (lesson 7)."""
    o = other / other.norm()
    d = direction - (direction @ o) * o
    return d / d.norm()


def expected_norm(latent_dim: int) -> float:
    """E|z| for ``z ~ N(0, I_d)``: sqrt(2) Gamma((d + 1) / 2) / Gamma(d / 2), about sqrt(d - 1/2) (plumbing)."""
    return math.sqrt(2) * math.exp(math.lgamma((latent_dim + 1) / 2) - math.lgamma(latent_dim / 2))
