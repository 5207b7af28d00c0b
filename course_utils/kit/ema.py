"""An exponential moving average (EMA) of a generator's weights, done right for BatchNorm (lessons 3 and 5).

After every G step, ``ema_update(G_ema, G, decay)`` moves each EMA weight a ``1 - decay`` step toward G's
(decay 0.999 averages about the last 1,000 steps). With BatchNorm in G, the EMA's weights are not the
weights that produced G's running statistics: ``recompute_bn(G_ema, batches)`` gives the EMA its own,
averaged over a few batches of fresh ``z`` (copying G's statistics measured *worse* than the raw G).
Measured for lesson 3 by ``scripts/bench/ema_bn.py``, for lesson 5's CPU setting by ``scripts/train/train_flowers.py``.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_copy(G: nn.Module) -> nn.Module:
    """A frozen copy of ``G`` to average into (lesson 3's optional section)."""
    return copy.deepcopy(G).requires_grad_(False)


@torch.no_grad()
def ema_update(G_ema: nn.Module, G: nn.Module, decay) -> None:
    """``w_ema = decay * w_ema + (1 - decay) * w`` for every parameter; ``decay`` a float or a 0-dim tensor."""
    ema, params = list(G_ema.parameters()), [p.detach() for p in G.parameters()]
    if len(ema) != len(params):
        raise ValueError(f"G_ema has {len(ema)} parameter tensors and G {len(params)}: make G_ema with ema_copy(G)")
    if isinstance(decay, torch.Tensor):
        for e, p in zip(ema, params, strict=True):
            e.lerp_(p, 1 - decay)
    else:
        torch._foreach_lerp_(ema, params, 1 - decay)


@torch.no_grad()
def recompute_bn(G: nn.Module, batches: int = 20, batch_size: int = 256, seed: int = 123) -> nn.Module:
    """G's BatchNorm running statistics as the exact average over ``batches`` batches of fresh z (G in train mode).

    Changes ``G`` in place and returns it; without BatchNorm layers it only costs the forward passes.
    """
    norms = [m for m in G.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    was = G.training
    G.train()
    gen = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    try:
        for _ in range(batches):
            G(torch.randn(batch_size, G.latent_dim, generator=gen).to(device))
    finally:
        for m, mom in zip(norms, saved, strict=True):
            m.momentum = mom
        G.train(was)
    return G
