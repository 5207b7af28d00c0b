import contextlib
import math

import pytest
import torch

from course_utils import (
    LOG2,
    Discriminator,
    Generator,
    d_step,
    discriminator_loss,
    g_step,
    generator_loss,
    seed_everything,
    train_gan,
)
from course_utils.kit.loop import frozen


def test_losses_at_known_values():
    zeros = torch.zeros(4, 1)
    assert discriminator_loss(zeros, zeros).item() == pytest.approx(math.log(2))
    assert LOG2 == pytest.approx(0.693147, abs=1e-6)
    big = torch.full((4, 1), 30.0)
    assert discriminator_loss(big, -big).item() < 1e-9  # D perfectly right
    assert discriminator_loss(-big, big).item() == pytest.approx(30.0, rel=1e-4)  # perfectly wrong
    assert generator_loss(big).item() < 1e-9  # D fooled: G's loss is 0
    assert generator_loss(zeros).item() == pytest.approx(math.log(2))


def test_d_step_does_not_touch_g_and_updates_d():
    torch.manual_seed(0)
    G, D = Generator(), Discriminator()
    opt_d = torch.optim.Adam(D.parameters(), 1e-3)
    before = [p.clone() for p in D.parameters()]
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    loss, d_real, d_fake = d_step(D, G, real, opt_d, 100)
    assert all(p.grad is None for p in G.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, D.parameters()))
    assert 0 < d_real.item() < 1 and 0 < d_fake.item() < 1 and loss.requires_grad is False


def test_g_step_updates_only_g():
    torch.manual_seed(0)
    G, D = Generator(), Discriminator()
    opt_g = torch.optim.Adam(G.parameters(), 1e-3)
    d_before = [p.clone() for p in D.parameters()]
    g_before = [p.clone() for p in G.parameters()]
    g_step(D, G, opt_g, 8, 100, "cpu")
    assert all(torch.equal(a, b) for a, b in zip(d_before, D.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, G.parameters()))


def test_frozen_skips_the_other_networks_gradients_and_restores_flags():
    torch.manual_seed(0)
    G, D = Generator(latent_dim=16, width=8), Discriminator(width=8)
    D.features[0].bias.requires_grad_(False)  # a flag that was already off must stay off
    opt_g = torch.optim.Adam(G.parameters(), 1e-3)
    with frozen(D):
        assert not any(p.requires_grad for p in D.parameters())
        g_step(D, G, opt_g, 8, 16, "cpu")
    assert all(p.grad is None for p in D.parameters())  # D's weight gradients were never computed
    assert all(p.grad is not None for p in G.parameters())  # G still learned through D
    assert [p.requires_grad for p in D.parameters()].count(False) == 1
    with pytest.raises(ValueError), frozen(G):
        raise ValueError("an error inside the block")
    assert all(p.requires_grad for p in G.parameters())  # restored after an exception too


def test_freezing_gives_the_same_updates():
    """train_gan freezes G in D's step and D in G's step: the parameters end up identical."""
    def run(freeze):
        seed_everything(0)
        G, D = Generator(latent_dim=16, width=8), Discriminator(width=8)
        opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
        real = torch.rand(3, 8, 1, 28, 28) * 2 - 1
        for batch in real:
            with frozen(G) if freeze else contextlib.nullcontext():
                d_step(D, G, batch, opt_d, 16)
            with frozen(D) if freeze else contextlib.nullcontext():
                g_step(D, G, opt_g, 8, 16, "cpu")
        return G.state_dict(), D.state_dict()

    (g0, d0), (g1, d1) = run(False), run(True)
    torch.testing.assert_close(g1, g0, rtol=0, atol=0)
    torch.testing.assert_close(d1, d0, rtol=0, atol=0)


def test_history_contents(tiny_loader):
    G, D = Generator(width=8), Discriminator(width=8)
    calls = []
    history = train_gan(G, D, tiny_loader, 2, "cpu", checkpoint_every=1, verbose=False, amp=False,
                        eval_fn=lambda g: calls.append(1) or {"score": float(len(calls))}, n_samples=16)
    steps = 2 * len(tiny_loader)
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert len(history[key]) == steps and all(isinstance(v, float) for v in history[key])
    assert all(0 <= v <= 1 for v in history["d_real"] + history["d_fake"])
    assert history["epochs"] == 2 and history["steps_per_epoch"] == len(tiny_loader)
    assert [s["epoch"] for s in history["samples"]] == [1, 2]
    assert history["samples"][0]["images"].shape == (16, 1, 28, 28)
    assert history["samples"][0]["images"].device.type == "cpu"
    assert [m["score"] for m in history["metrics"]] == [1.0, 2.0]
    assert not history["interrupted"] and history["wall_time_s"] > 0
    assert G.training and D.training


def test_same_seed_same_losses(tiny_loader):
    runs = []
    for _ in range(2):
        tiny_loader.generator.manual_seed(0)
        seed_everything(7)  # the models' initial weights
        h = train_gan(Generator(width=8), Discriminator(width=8), tiny_loader, 1, "cpu", verbose=False,
                      amp=False, seed=7)
        runs.append(h["d_loss"])
    assert runs[0] == runs[1]


def test_interrupt_keeps_history(tiny_loader):
    calls = {"n": 0}

    def flaky_d_step(D, G, real, opt_d, latent_dim):
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt
        return d_step(D, G, real, opt_d, latent_dim)

    history = train_gan(Generator(width=8), Discriminator(width=8), tiny_loader, 3, "cpu", verbose=False,
                        amp=False, d_step_fn=flaky_d_step, checkpoint_every=1)
    assert history["interrupted"] is True
    assert len(history["d_loss"]) == 11  # every finished step is kept
    assert history["epochs"] == 1  # 8 steps per epoch: epoch 2 was cut short
    assert len(history["samples"]) == 1


def test_resume_continues_history(tiny_loader, tmp_path):
    G, D = Generator(width=8), Discriminator(width=8)
    ckpt = tmp_path / "run.pt"
    train_gan(G, D, tiny_loader, 2, "cpu", verbose=False, amp=False, checkpoint_every=1, checkpoint_path=ckpt)
    h = train_gan(G, D, tiny_loader, 1, "cpu", verbose=False, amp=False, checkpoint_every=1, resume_from=ckpt)
    assert h["epochs"] == 3 and len(h["d_loss"]) == 3 * len(tiny_loader)


def test_model_on_wrong_device_or_missing_latent_dim(tiny_loader):
    class NoLatent(torch.nn.Module):
        def forward(self, z):
            return z

    with pytest.raises(AttributeError, match="latent_dim"):
        train_gan(NoLatent(), Discriminator(), tiny_loader, 1, "cpu", verbose=False)


def test_bf16_autocast_path_runs(tiny_loader):
    h = train_gan(Generator(width=8), Discriminator(width=8), tiny_loader, 1, "cpu", verbose=False, amp=True,
                  channels_last=True)
    assert all(math.isfinite(v) for v in h["d_loss"] + h["g_loss"])


def test_live_dashboard_redraws_in_place(tiny_loader, monkeypatch):
    """With the dashboard forced on, one output widget is redrawn (throttled) and the run is unchanged."""
    pytest.importorskip("ipywidgets")
    from course_utils.kit import widgets

    monkeypatch.setenv("COURSE_DASHBOARD", "1")
    monkeypatch.setenv("COURSE_WIDGETS", "1")  # pytest has no widget frontend: force the live (widget) version
    draws = []
    monkeypatch.setattr(widgets.LiveDashboard, "figure", lambda self, h: draws.append(len(h["d_loss"])) or
                        __import__("matplotlib.pyplot").pyplot.figure())
    h = train_gan(Generator(width=8), Discriminator(width=8), tiny_loader, 2, "cpu", amp=False, log_every=4)
    assert len(h["d_loss"]) == 16
    assert draws[0] == 4 and draws[-1] == 16  # first log, then forced at the end; throttled in between
    assert len(draws) < 16 // 4 + 1


def test_dashboard_off_outside_jupyter_and_in_quick_mode(monkeypatch):
    from course_utils.kit.widgets import dashboard_enabled

    monkeypatch.delenv("COURSE_DASHBOARD", raising=False)
    assert dashboard_enabled("auto") is False  # pytest is no Jupyter kernel
    monkeypatch.setenv("COURSE_DASHBOARD", "0")
    assert dashboard_enabled(True) is False
