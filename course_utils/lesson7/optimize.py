"""Lesson 7: control by optimisation. ``z`` is the only thing that changes; G (and the classifier) stay frozen.

* :func:`steer`: gradient ascent on ``z`` towards a class of a classifier (classifier guidance), with a prior
  penalty ``prior_weight * |z|^2 / 2`` (minus the log-density of ``N(0, I)``, up to a constant);
* :func:`invert`: find ``z`` whose ``G(z)`` is closest to given images (pixel MSE), from several random starts,
  keeping the best start per image.

Both put G (and the classifier) in eval mode for the optimisation: in train mode every forward pass would
update BatchNorm's running statistics, which changes G.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _eval_mode(*models):
    modes = [m.training for m in models]
    for m in models:
        m.eval()
    return modes


def _restore(models, modes) -> None:
    for m, mode in zip(models, modes):
        m.train(mode)


def steer(G, z: torch.Tensor, target, classifier, steps: int = 50, lr: float = 0.05,
          prior_weight: float = 0.0) -> torch.Tensor:
    """``z`` moved by ``steps`` Adam steps to raise ``log p(target | G(z))`` under ``classifier``, minus
    ``prior_weight * |z|^2 / 2`` (lesson 7). Returns the new ``z`` ``(B, latent_dim)``, detached; G and the
    classifier are not changed. ``target``: a class index, or a LongTensor ``(B,)``."""
    modes = _eval_mode(G, classifier)
    try:
        z = z.detach().clone().requires_grad_(True)  # (B, latent_dim): the only thing optimised
        opt = torch.optim.Adam([z], lr=lr)
        target = torch.as_tensor(target, device=z.device).expand(len(z))  # (B,)
        for _ in range(steps):
            log_p = F.log_softmax(classifier(G(z)), dim=1).gather(1, target.view(-1, 1)).squeeze(1)  # (B,)
            loss = -(log_p - prior_weight * z.pow(2).sum(1) / 2).mean()  # ascent on log p + log prior
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        _restore((G, classifier), modes)
    return z.detach()


def invert(G, images: torch.Tensor, steps: int = 200, restarts: int = 3, lr: float = 0.05) -> torch.Tensor:
    """``z`` ``(B, latent_dim)`` whose ``G(z)`` matches ``images`` ``(B, 1, 28, 28)`` in pixel MSE (lesson 7).

    Each image gets ``restarts`` random starts ``z ~ N(0, I)`` (drawn with ``torch.randn``), optimised together
    with Adam for ``steps`` steps; the start with the lowest final error is kept. G is not changed.
    """
    modes = _eval_mode(G)
    try:
        B = len(images)
        z = torch.randn(restarts * B, G.latent_dim, device=images.device).requires_grad_(True)  # (R * B, d)
        target = images.repeat(restarts, 1, 1, 1)  # (R * B, 1, 28, 28): start r of image i is row r * B + i
        opt = torch.optim.Adam([z], lr=lr)
        for _ in range(steps):
            loss = (G(z) - target).pow(2).flatten(1).mean(1).sum()  # a sum: each image's error its own
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            error = (G(z) - target).pow(2).flatten(1).mean(1).view(restarts, B)  # (R, B)
            best = error.argmin(0)  # (B,): the best start of each image
            z = z.view(restarts, B, -1)[best, torch.arange(B)]  # (B, d)
    finally:
        _restore((G,), modes)
    return z.detach()


@torch.no_grad()
def reconstruction_error(G, z: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Pixel MSE per image ``(B,)`` between ``G(z)`` (eval mode) and ``images`` in [-1, 1] (lesson 7)."""
    modes = _eval_mode(G)
    try:
        return (G(z) - images).pow(2).flatten(1).mean(1)
    finally:
        _restore((G,), modes)
