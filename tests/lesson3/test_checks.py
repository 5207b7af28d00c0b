"""Each self-check passes the reference and names the mistake in a deliberately broken version."""

import torch
import torch.nn.functional as F
from torch import nn

from course_utils import (
    Discriminator,
    FCGenerator,
    Generator,
    checks,
    d_step,
    discriminator_loss,
    g_step,
    generator_loss,
)


def failures(report):
    assert not report.passed, f"expected a failure, got:\n{report}"
    return " | ".join(report.failures)


def test_reference_implementations_pass():
    assert checks.check_sample_latent(lambda n, d: torch.randn(n, d)).passed
    assert checks.check_generator(Generator()).passed
    assert checks.check_generator(FCGenerator()).passed
    assert checks.check_discriminator(Discriminator()).passed
    assert checks.check_parameter_count(lambda m: sum(p.numel() for p in m.parameters()), Generator()).passed
    assert checks.check_discriminator_loss(discriminator_loss).passed
    assert checks.check_generator_loss(generator_loss).passed
    assert checks.check_d_step(d_step).passed
    assert checks.check_g_step(g_step).passed


def test_report_lists_each_check():
    text = repr(checks.check_generator(Generator()))
    assert text.startswith("generator Generator: all 6/6 checks passed") and text.count("✓") == 6


def test_sample_latent_mistakes():
    assert "torch.rand" in failures(checks.check_sample_latent(lambda n, d: torch.rand(n, d)))
    assert "expected shape (4096, 100)" in failures(checks.check_sample_latent(lambda n, d: torch.randn(d, n)))
    fixed = lambda n, d: torch.randn(n, d, generator=torch.Generator().manual_seed(0))  # noqa: E731
    assert "same noise" in failures(checks.check_sample_latent(fixed))

    def untouched(n, d):
        raise NotImplementedError

    assert "not implemented" in failures(checks.check_sample_latent(untouched))


class Flat(nn.Module):
    def __init__(self, last=None, shape=(1, 28, 28)):
        super().__init__()
        self.latent_dim, self.shape = 100, shape
        self.net = nn.Sequential(nn.Linear(100, 784), *( [last] if last else []))

    def forward(self, z):
        return self.net(z).view(-1, *self.shape)


def test_generator_mistakes():
    assert "nn.Tanh()" in failures(checks.check_generator(Flat()))
    assert "sigmoid" in failures(checks.check_generator(Flat(nn.Sigmoid())))
    assert "(16, 784)" in failures(checks.check_generator(Flat(nn.Tanh(), shape=(784,))))
    no_attr = Flat(nn.Tanh())
    del no_attr.latent_dim
    assert "self.latent_dim" in failures(checks.check_generator(no_attr))


class SigmoidD(Discriminator):
    def forward(self, x):
        return torch.sigmoid(super().forward(x))


class ReluD(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x):
        return self.net(x)


def test_discriminator_mistakes():
    assert "probabilities" in failures(checks.check_discriminator(SigmoidD()))
    assert "LeakyReLU" in failures(checks.check_discriminator(ReluD()))
    wrong_shape = nn.Sequential(nn.Flatten(), nn.Linear(784, 2), nn.LeakyReLU(0.2))
    assert "expected shape (16, 1)" in failures(checks.check_discriminator(wrong_shape))


def bce(x, t):
    return F.binary_cross_entropy_with_logits(x, torch.full_like(x, t))


def test_discriminator_loss_mistakes():
    assert "summed" in failures(checks.check_discriminator_loss(lambda r, f: bce(r, 1) + bce(f, 0)))
    assert "fakes are labelled as real" in failures(
        checks.check_discriminator_loss(lambda r, f: (bce(r, 1) + bce(f, 1)) / 2))
    assert "swapped" in failures(checks.check_discriminator_loss(lambda r, f: (bce(r, 0) + bce(f, 1)) / 2))
    assert "sigmoid" in failures(checks.check_discriminator_loss(
        lambda r, f: (bce(torch.sigmoid(r), 1) + bce(torch.sigmoid(f), 0)) / 2))


def test_generator_loss_mistakes():
    assert "target is 1" in failures(checks.check_generator_loss(lambda f: bce(f, 0)))
    assert "saturating" in failures(checks.check_generator_loss(lambda f: -bce(f, 0)))


def d_step_without_detach(D, G, real, opt_d, latent_dim):
    z = torch.randn(real.size(0), latent_dim)
    real_logits, fake_logits = D(real), D(G(z))  # no detach
    loss = discriminator_loss(real_logits, fake_logits)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()


def d_step_fake_as_real(D, G, real, opt_d, latent_dim):
    fake = G(torch.randn(real.size(0), latent_dim)).detach()
    real_logits, fake_logits = D(real), D(fake)
    loss = (bce(real_logits, 1) + bce(fake_logits, 1)) / 2
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()


def d_step_no_optimizer_step(D, G, real, opt_d, latent_dim):
    fake = G(torch.randn(real.size(0), latent_dim)).detach()
    real_logits, fake_logits = D(real), D(fake)
    loss = discriminator_loss(real_logits, fake_logits)
    return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()


def test_d_step_mistakes():
    assert "detach" in failures(checks.check_d_step(d_step_without_detach))
    assert "fakes are labelled as real" in failures(checks.check_d_step(d_step_fake_as_real))
    assert "opt_d.step()" in failures(checks.check_d_step(d_step_no_optimizer_step))
    assert "tuple of 3" in failures(checks.check_d_step(lambda *a: d_step(*a)[0]))


def g_step_fake_target(D, G, opt_g, batch_size, latent_dim, device):
    loss = bce(D(G(torch.randn(batch_size, latent_dim))), 0)
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.detach()


def g_step_steps_both(D, G, opt_g, batch_size, latent_dim, device):
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    loss = generator_loss(D(G(torch.randn(batch_size, latent_dim))))
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    opt_d.step()
    return loss.detach()


def test_g_step_mistakes():
    assert "target is 1" in failures(checks.check_g_step(g_step_fake_target))
    assert "only opt_g.step()" in failures(checks.check_g_step(g_step_steps_both))


def test_a_generator_without_the_named_parts_is_told_their_names():
    parts = ("project", "upsample")
    assert checks.check_generator(Generator(), parts=parts).passed
    message = failures(checks.check_generator(Flat(nn.Tanh()), parts=parts))  # works, but names no parts
    assert "self.project" in message and "self.upsample" in message
