"""scripts/ema_bn.py: the BatchNorm statistics an EMA generator is scored with are recomputed exactly."""

import importlib.util
from pathlib import Path

import torch
from torch import nn

from course_utils import Generator

_spec = importlib.util.spec_from_file_location("ema_bn", Path(__file__).parents[1] / "scripts" / "ema_bn.py")
ema_bn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ema_bn)


def test_recompute_bn_sets_the_exact_average_of_fresh_batches_and_keeps_the_mode():
    torch.manual_seed(0)
    G = Generator(100).eval()
    bn = next(m for m in G.modules() if isinstance(m, nn.BatchNorm1d))
    bn.running_mean.fill_(5.0)  # stale statistics, as an EMA with copied buffers would have
    ema_bn.recompute_bn(G, batches=3, batch_size=32, seed=7)
    assert not G.training and bn.momentum == 0.1  # mode and momentum restored
    got = bn.running_mean.clone()
    gen = torch.Generator().manual_seed(7)
    feats = []
    hook = bn.register_forward_hook(lambda m, inp, out: feats.append(inp[0].detach()))
    G.train()
    with torch.no_grad():
        for _ in range(3):
            G(torch.randn(32, 100, generator=gen))
    hook.remove()
    expected = torch.stack([f.mean(0) for f in feats]).mean(0)  # cumulative average of the batch means
    assert torch.allclose(got, expected, atol=1e-5)
    assert got.abs().max() < 1.0  # the stale 5.0 is gone
