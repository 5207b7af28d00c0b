"""Lesson 4's Fashion-MNIST collapse experiment: G chasing a frozen D collapses, G facing a learning D
does not, and the class histogram is what shows it."""

from __future__ import annotations

import pytest
import torch

from course_utils import load_generator
from course_utils.kit.data import DataNotFoundError, fashion_mnist_loader
from course_utils.lesson4.collapse import chase, collapse_table, plot_class_histograms, warm_up_discriminator


@pytest.fixture(scope="module")
def start():
    try:
        loader = fashion_mnist_loader(batch_size=64, seed=0)
    except DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not available: {exc}")
    G = load_generator("fashion_dcgan")
    return G, warm_up_discriminator(G, loader, 100, seed=0), loader


def test_warm_up_trains_a_discriminator_that_tells_real_from_fake(start):
    G, D, loader = start
    real, _ = next(iter(loader))
    untrained = warm_up_discriminator(G, loader, 0, seed=0)
    with torch.no_grad():
        fake = G(torch.randn(64, G.latent_dim, generator=torch.Generator().manual_seed(0)))

        def gap(D):  # D(x) - D(G(z)): how much more real D finds the real batch
            return (torch.sigmoid(D(real)).mean() - torch.sigmoid(D(fake)).mean()).item()

        assert gap(D) > 0.05 and gap(D) > abs(gap(untrained)) + 0.03, (gap(D), gap(untrained))


def test_frozen_d_collapses_g_and_learning_d_does_not(start, capsys):
    G, D, loader = start
    before = [p.clone() for p in [*G.parameters(), *D.parameters()]]
    frozen = chase(G, D, loader, 60, d_learns=False, eval_every=60)
    learning = chase(G, D, loader, 60, d_learns=True, eval_every=60)
    assert [r["step"] for r in frozen] == [0, 60]
    assert frozen[0]["coverage"] == 10 and frozen[0]["kl_uniform"] < 0.05  # lesson 3's G: balanced
    assert frozen[-1]["kl_uniform"] > frozen[0]["kl_uniform"] + 0.15  # piling onto few classes
    assert frozen[-1]["kl_uniform"] > 3 * learning[-1]["kl_uniform"]
    assert learning[-1]["coverage"] == 10 and learning[-1]["kl_uniform"] < 0.1
    assert frozen[-1]["g_loss"] < learning[-1]["g_loss"]  # the frozen D likes the collapsed samples more
    after = [*G.parameters(), *D.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))  # chase trains copies
    runs = {"frozen": frozen, "learning": learning}
    collapse_table(runs)
    assert "classes, KL to uniform" in capsys.readouterr().out
    assert len(plot_class_histograms(runs).axes) == 2
