"""Lesson 5: WGAN-GP pieces, their self-checks against broken versions, and train_wgan_gp."""

import pytest
import torch
from torch import nn

from course_utils import load_generator, sample, shipped_generators
from course_utils.kit.data import TensorLoader
from course_utils.lesson5.checks import (
    _LinearCritic,
    _probe_batch,
    check_critic,
    check_critic_loss,
    check_gradient_penalty,
    check_wgan_generator_loss,
    check_wgan_step,
)
from course_utils.lesson5.wgan import (
    Critic,
    FlowerGenerator,
    critic_loss,
    gradient_penalty,
    train_wgan_gp,
    wgan_generator_loss,
    wgan_step,
)


def _gp(D, real, fake, eps_shape=None, dist="rand", dims="all", create_graph=True):
    """The gradient penalty with one classic bug switched on."""
    shape = eps_shape or (real.size(0), 1, 1, 1)
    eps = torch.rand(shape) if dist == "rand" else torch.randn(shape)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(D(x).sum(), x, create_graph=create_graph)
    norms = g.flatten(1).norm(2, dim=1) if dims == "all" else g.norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


# ----------------------------------------------------------------------------- gradient penalty

def test_gradient_penalty_hand_cases():
    real, fake = _probe_batch(16)
    zero = _LinearCritic(torch.zeros(3, 8, 8))
    assert gradient_penalty(zero, real, fake).item() == pytest.approx(1.0)  # ||grad|| = 0 -> (0 - 1)^2
    assert critic_loss(torch.zeros(4, 1), torch.zeros(4, 1), gradient_penalty(zero, real, fake),
                       10.0).item() == pytest.approx(10.0)  # lambda * 1
    unit = _LinearCritic(torch.ones(3, 8, 8) / 192 ** 0.5)
    assert gradient_penalty(unit, real, fake).item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_penalty_is_differentiable_and_per_sample():
    D = Critic(width=8, image_size=32)
    real, fake = torch.rand(8, 3, 32, 32) * 2 - 1, torch.rand(8, 3, 32, 32) * 2 - 1
    gp = gradient_penalty(D, real, fake)
    assert gp.dim() == 0 and gp.requires_grad
    gp.backward()
    weights = [m.weight for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)  # GP trains D


def test_check_gradient_penalty_passes_reference():
    report = check_gradient_penalty(gradient_penalty)
    assert report.passed, report


@pytest.mark.parametrize("kwargs, phrase", [
    (dict(eps_shape="pixel"), "per-pixel"),
    (dict(dist="randn"), "normal instead of uniform"),
    (dict(dims="channel"), "dim"),
    (dict(create_graph=False), "create_graph"),
    (dict(eps_shape=(1, 1, 1, 1)), "same epsilon"),
])
def test_check_gradient_penalty_catches_classic_bugs(kwargs, phrase):
    def broken(D, real, fake):
        kw = dict(kwargs)
        if kw.get("eps_shape") == "pixel":
            kw["eps_shape"] = real.shape
        return _gp(D, real, fake, **kw)

    report = check_gradient_penalty(broken)
    assert not report.passed
    assert any(phrase in m for m in report.failures), report


def test_check_gradient_penalty_reports_not_implemented():
    def stub(D, real, fake):
        raise NotImplementedError

    report = check_gradient_penalty(stub)
    assert not report.passed and "not implemented" in report.failures[0]


# ----------------------------------------------------------------------------- losses

def test_loss_signs():
    real, fake = torch.full((4, 1), 3.0), torch.full((4, 1), -1.0)
    assert critic_loss(real, fake, torch.tensor(0.0)).item() == pytest.approx(-4.0)  # critic wants real > fake
    assert wgan_generator_loss(fake).item() == pytest.approx(1.0)  # G wants D(fake) high
    assert check_critic_loss(critic_loss).passed
    assert check_wgan_generator_loss(wgan_generator_loss).passed


@pytest.mark.parametrize("broken, phrase", [
    (lambda r, f, gp, lam: r.mean() - f.mean() + lam * gp, "signs are swapped"),
    (lambda r, f, gp, lam: -r.mean() + f.mean() - lam * gp, "subtracted"),
    (lambda r, f, gp, lam: -r.mean() + f.mean() + gp, "lambda is missing"),
    (lambda r, f, gp, lam: (-r.mean() + f.mean() + lam * gp).abs(), "abs()"),
])
def test_check_critic_loss_catches(broken, phrase):
    report = check_critic_loss(broken)
    assert any(phrase in m for m in report.failures), report


def test_check_generator_loss_catches_sign():
    report = check_wgan_generator_loss(lambda f: f.mean())
    assert any("sign" in m for m in report.failures), report


def test_one_line_and_pieces_give_identical_gradients():
    torch.manual_seed(0)
    D = Critic(width=8, image_size=32)
    real, fake = torch.rand(8, 3, 32, 32) * 2 - 1, torch.rand(8, 3, 32, 32) * 2 - 1

    def grads(pieces):
        D.zero_grad()
        torch.manual_seed(1)
        gp = gradient_penalty(D, real, fake)
        if pieces:
            d_loss_real = -D(real).mean()
            d_loss_fake = D(fake).mean()
            loss = d_loss_real + d_loss_fake + 10 * gp
        else:
            loss = -D(real).mean() + D(fake).mean() + 10 * gp
        loss.backward()
        return [p.grad.clone() for p in D.parameters()]

    assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(grads(True), grads(False), strict=True))


# ----------------------------------------------------------------------------- models

def test_critic_has_no_batchnorm_and_check_catches_it():
    for size in (32, 64):
        D = Critic(width=8, image_size=size)
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())
        assert check_critic(D, image_size=size).passed
    bad = Critic(width=8, image_size=32)
    bad.net[3] = nn.BatchNorm2d(16)
    report = check_critic(bad, image_size=32)
    assert any("BatchNorm" in m for m in report.failures), report


def test_critic_norm_options_and_bad_input():
    for norm in ("layer", "instance", "none"):
        assert check_critic(Critic(width=8, image_size=32, norm=norm), image_size=32).passed
    with pytest.raises(ValueError, match="norm must be"):
        Critic(norm="batch")
    with pytest.raises(ValueError, match="32 or 64"):
        FlowerGenerator(image_size=48)


@pytest.mark.parametrize("size", [32, 64])
def test_generator_shapes_and_range(size):
    G = FlowerGenerator(latent_dim=16, width=8, image_size=size)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 3, size, size) and x.min() >= -1 and x.max() <= 1


# ----------------------------------------------------------------------------- training

def test_wgan_step_check():
    assert check_wgan_step(wgan_step).passed

    def one_batch_for_all(D, G, real, opt_d, opt_g, n_critic, lambda_gp, latent_dim):
        return wgan_step(D, G, real[: real.size(0) // n_critic].repeat(n_critic, 1, 1, 1), opt_d, opt_g,
                         n_critic, lambda_gp, latent_dim)

    assert not check_wgan_step(one_batch_for_all).passed


def test_train_wgan_gp_history(tmp_path):
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    loader = TensorLoader(images, batch_size=8)
    G, D = FlowerGenerator(latent_dim=8, width=4, image_size=32), Critic(width=4, image_size=32)
    ckpt = tmp_path / "wgan.pt"
    history = train_wgan_gp(G, D, loader, 2, "cpu", checkpoint_every=1, verbose=False,
                            checkpoint_path=ckpt, n_samples=4, beta1=0.0, beta2=0.9)
    steps = 2 * (8 // 5)  # 8 batches per epoch -> 1 generator iteration of 5 critic updates
    for key in ("d_real", "d_fake", "gp", "wasserstein", "d_loss", "g_loss"):
        assert len(history[key]) == steps, key
    for w, r, f in zip(history["wasserstein"], history["d_real"], history["d_fake"], strict=True):
        assert w == pytest.approx(r - f, abs=1e-5)
    assert history["epochs"] == 2 and [s["epoch"] for s in history["samples"]] == [1, 2]
    assert history["settings"]["n_critic"] == 5 and history["settings"]["lambda_gp"] == 10.0
    assert ckpt.is_file()
    resumed = train_wgan_gp(G, D, loader, 1, "cpu", checkpoint_every=1, verbose=False, resume_from=ckpt)
    assert resumed["epochs"] == 3


def test_train_wgan_gp_needs_enough_batches():
    loader = TensorLoader(torch.zeros(16, 3, 32, 32, dtype=torch.uint8), batch_size=8)
    with pytest.raises(ValueError, match="n_critic"):
        train_wgan_gp(FlowerGenerator(latent_dim=8, width=4, image_size=32), Critic(width=4, image_size=32),
                      loader, 1, "cpu", verbose=False)


@pytest.mark.parametrize("name, size", [("flowers_wgan_gp", 64), ("flowers_wgan_gp_32", 32)])
def test_shipped_generators_load(name, size):
    assert name in shipped_generators()
    G = load_generator(name)
    assert isinstance(G, FlowerGenerator) and G.image_size == size
    x = sample(G, 4, seed=0)
    assert x.shape == (4, 3, size, size)
    assert {"epochs", "hardware", "wall_time_s", "swd", "swd_floor", "command"} <= set(G.meta)


def test_check_critic_catches_sigmoid():
    class SigmoidCritic(Critic):
        def forward(self, x):
            return torch.sigmoid(super().forward(x))

    report = check_critic(SigmoidCritic(width=8, image_size=32), image_size=32)
    assert any("sigmoid" in m for m in report.failures), report


def test_check_critic_builds_a_class_and_reports_a_stub():
    assert check_critic(Critic, image_size=32).passed

    class Stub(nn.Module):
        def __init__(self, width=64, image_size=64):
            super().__init__()
            raise NotImplementedError("Exercise: write your code here")

    report = check_critic(Stub, image_size=32)
    assert not report.passed and "not implemented" in report.failures[0]
