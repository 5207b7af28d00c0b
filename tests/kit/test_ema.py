"""course_utils.kit.ema: the EMA update and the BatchNorm statistics an EMA generator is scored with (lessons 3, 5)."""

import pytest
import torch
from torch import nn

from course_utils import Generator
from course_utils.kit.ema import ema_copy, ema_update, recompute_bn
from course_utils.lesson5.wgan import FlowerGenerator


def test_recompute_bn_sets_the_exact_average_of_fresh_batches_and_keeps_the_mode():
    torch.manual_seed(0)
    G = Generator(100).eval()
    bn = next(m for m in G.modules() if isinstance(m, nn.BatchNorm1d))
    bn.running_mean.fill_(5.0)  # stale statistics, as an EMA with copied buffers would have
    recompute_bn(G, batches=3, batch_size=32, seed=7)
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


@pytest.mark.parametrize("decay", [0.9, torch.tensor(0.9)])
def test_ema_update_moves_each_weight_a_tenth_of_the_way_and_leaves_G_alone(decay):
    torch.manual_seed(0)
    G = FlowerGenerator(latent_dim=8, width=4, image_size=32)
    G_ema = ema_copy(G)
    before = [p.detach().clone() for p in G_ema.parameters()]
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    ema_update(G_ema, G, decay)
    for e, b, p in zip(G_ema.parameters(), before, G.parameters(), strict=True):
        assert torch.allclose(e, 0.9 * b + 0.1 * p, atol=1e-6)
        assert not e.requires_grad
    assert all(torch.equal(p, b + 1.0) for p, b in zip(G.parameters(), before, strict=True))


def test_ema_update_names_the_fix_when_the_models_differ():
    with pytest.raises(ValueError, match="ema_copy"):
        ema_update(ema_copy(Generator(100)), FlowerGenerator(latent_dim=8, width=4, image_size=32), 0.99)
