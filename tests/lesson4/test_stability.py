"""Lesson 4: each fix flag does what it says, resume is exact, the failure demos fail (also in quick mode).

The demo settings below are those of ``solutions/04_failure_modes_and_stability.ipynb``; keep them in sync.
"""

import pytest
import torch
import torch.nn.functional as F

from course_utils.kit.checkpoints import CheckpointError, load_checkpoint
from course_utils.kit.env import quick
from course_utils.lesson2.ring import ToyDiscriminator, ring_centers, ring_eval_fn, ring_loader, toy_models
from course_utils.lesson4.checks import check_count_modes, check_grad_norm, check_instance_noise, check_smoothed_d_loss
from course_utils.lesson4.diagnostics import health_report, summarize
from course_utils.lesson4.experiments import FAILURES
from course_utils.lesson4.stability import (
    add_instance_noise,
    instance_noise,
    instance_noise_std,
    smoothed_d_loss,
    smoothed_real_targets,
    stable_d_step,
    stable_g_loss,
    train_stable_gan,
)
from course_utils.measure.verdicts import MAX_MOTION, sample_motion

torch.set_num_threads(1)  # tiny MLPs: threads only add overhead, and the CI machine is shared

DOMINANCE = FAILURES["dominance"]  # lesson 4's settings, one source
COLLAPSE = FAILURES["collapse"]
OSCILLATION = FAILURES["oscillation"]


def _train(epochs, seed=0, d_options=None, n=2048, **kw):
    G, D = toy_models(seed=seed, **(d_options or {}))
    loader = ring_loader(n=n, batch_size=256, seed=seed)
    h = train_stable_gan(G, D, loader, epochs, "cpu", seed=seed, verbose=False,
                         eval_fn=ring_eval_fn(ring_centers()), **kw)
    return h, G, D


# ----------------------------------------------------------------------------- the flags

def test_one_sided_smoothing_targets_and_loss():
    logits = torch.randn(8, 1)
    assert torch.equal(smoothed_real_targets(logits, 0.1), torch.full((8, 1), 0.9))
    fake = torch.randn(8, 1)
    want = (F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 0.9))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))) / 2
    assert torch.allclose(smoothed_d_loss(logits, fake, 0.1), want)  # fakes keep target 0
    with pytest.raises(ValueError, match="label_smoothing"):
        smoothed_real_targets(logits, 0.7)


def test_instance_noise_std_and_schedule():
    x = torch.zeros(100_000)
    assert add_instance_noise(x, 0.2).std().item() == pytest.approx(0.2, rel=0.02)
    assert add_instance_noise(x, 0.0) is x
    assert [instance_noise_std(0.2, e, 4) for e in (1, 2, 3, 4, 5, 9)] == pytest.approx(
        [0.2, 0.15, 0.1, 0.05, 0.0, 0.0])
    assert instance_noise_std(0.2, 50, None) == 0.2
    h, _, _ = _train(3, n=512, instance_noise=0.3, instance_noise_decay=2)
    assert h["noise_std"] == pytest.approx([0.3] * 2 + [0.15] * 2 + [0.0] * 2)  # 2 steps per epoch


def test_spectral_norm_bounds_the_largest_singular_value():
    torch.manual_seed(0)
    D = ToyDiscriminator(spectral_norm=True)
    with torch.no_grad():
        for _ in range(30):  # power iteration runs in train mode, one step per forward
            D(torch.randn(64, 2))
    D.eval()
    for layer in (m for m in D.modules() if isinstance(m, torch.nn.Linear)):
        assert torch.linalg.matrix_norm(layer.weight, ord=2).item() <= 1.01
    plain = ToyDiscriminator()
    assert max(torch.linalg.matrix_norm(m.weight, ord=2).item()
               for m in plain.modules() if isinstance(m, torch.nn.Linear)) > 1.01


def test_dropout_flag_makes_d_stochastic_in_training():
    D = ToyDiscriminator(dropout=0.5).train()
    x = torch.randn(16, 2)
    assert not torch.equal(D(x), D(x))
    assert torch.equal(D.eval()(x), D(x))


def test_saturating_loss_gradient_vanishes_when_d_rejects_fakes():
    logits = torch.full((64, 1), -6.0, requires_grad=True)  # D(G(z)) = 0.0025: D is sure they are fake
    grads = {}
    for kind in ("saturating", "non_saturating"):
        (g,) = torch.autograd.grad(stable_g_loss(logits, kind), logits)
        grads[kind] = g.abs().sum().item()
    assert grads["saturating"] == pytest.approx(torch.sigmoid(torch.tensor(-6.0)).item(), rel=1e-4)
    assert grads["non_saturating"] > 300 * grads["saturating"]
    with pytest.raises(ValueError, match="g_loss"):
        stable_g_loss(logits, "wasserstein")


def test_d_step_measures_without_updating():
    G, D = toy_models()
    real = torch.randn(32, 2)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    before = [p.clone() for p in D.parameters()]
    stats = stable_d_step(D, G, real, opt_d, G.latent_dim, update=False)
    assert torch.isnan(stats["d_grad"]) and all(torch.equal(a, b) for a, b in zip(before, D.parameters()))


def _d_updates(path):
    state = load_checkpoint(path)
    return int(state["opt_d"]["state"][0]["step"]), int(state["opt_g"]["state"][0]["step"])


def test_d_every_and_d_steps_change_the_number_of_d_updates(tmp_path):
    for kw, want_d in ((dict(d_every=2), 4), (dict(d_steps=3), 24), ({}, 8)):
        path = tmp_path / "c.pt"
        h, _, _ = _train(1, n=2048, checkpoint_every=1, checkpoint_path=path, **kw)
        assert _d_updates(path) == (want_d, 8), kw  # 8 batches, 8 G updates
    assert sum(torch.isnan(torch.tensor(h["d_grad"])).tolist()) == 0


# ----------------------------------------------------------------------------- checkpoints

def test_resume_equals_uninterrupted_run(tmp_path):
    path = tmp_path / "run.pt"
    full, G_full, _ = _train(4, checkpoint_every=2, checkpoint_path=tmp_path / "full.pt")
    _train(2, checkpoint_every=2, checkpoint_path=path)
    G, D = toy_models(seed=123)  # different weights: the checkpoint must overwrite them
    loader = ring_loader(n=2048, batch_size=256, seed=0)
    loader.generator.manual_seed(5)  # a different shuffling state: the checkpoint restores it
    resumed = train_stable_gan(G, D, loader, 2, "cpu", resume_from=path, seed=0, verbose=False,
                               eval_fn=ring_eval_fn(ring_centers()))
    assert resumed["epochs"] == 4 and len(resumed["d_loss"]) == len(full["d_loss"]) == 32
    assert resumed["d_loss"] == full["d_loss"] and resumed["g_loss"] == full["g_loss"]
    assert all(torch.equal(a, b) for a, b in zip(G.parameters(), G_full.parameters()))
    assert [m["modes"] for m in resumed["metrics"]] == [m["modes"] for m in full["metrics"]]


def test_resume_with_new_settings_keeps_optimizer_state(tmp_path):
    path = tmp_path / "run.pt"
    _train(2, checkpoint_every=2, checkpoint_path=path, lr_d=1e-3)
    G, D = toy_models()
    loader = ring_loader(n=2048, batch_size=256)
    h = train_stable_gan(G, D, loader, 1, "cpu", resume_from=path, lr_d=1e-4, verbose=False,
                         checkpoint_every=1, checkpoint_path=path)
    state = load_checkpoint(path)
    assert state["opt_d"]["param_groups"][0]["lr"] == 1e-4  # the new setting
    assert _d_updates(path) == (24, 24)  # Adam's step count continued: 16 + 8
    assert h["epochs"] == 3 and h["resumed"][0]["epoch"] == 2 and h["resumed"][0]["lr_d"] == 1e-4


def test_corrupted_and_mismatched_checkpoints_fail_clearly(tmp_path):
    path = tmp_path / "run.pt"
    _train(1, n=512, checkpoint_every=1, checkpoint_path=path)
    loader = ring_loader(n=512, batch_size=256)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupted or truncated"):
        train_stable_gan(*toy_models(), loader, 1, "cpu", resume_from=bad, verbose=False)
    with pytest.raises(CheckpointError, match="does not fit"):
        train_stable_gan(*toy_models(hidden=64), loader, 1, "cpu", resume_from=path, verbose=False)
    with pytest.raises(CheckpointError, match="batches per epoch"):
        train_stable_gan(*toy_models(), ring_loader(n=1024, batch_size=256), 1, "cpu",
                         resume_from=path, verbose=False)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train_stable_gan(*toy_models(), loader, 1, "cpu", resume_from=tmp_path / "nope.pt", verbose=False)


def test_bad_arguments_are_explained():
    loader = ring_loader(n=512, batch_size=256)
    with pytest.raises(ValueError, match="checkpoint_path"):
        train_stable_gan(*toy_models(), loader, 1, "cpu", checkpoint_every=1, verbose=False)
    with pytest.raises(ValueError, match="d_every"):
        train_stable_gan(*toy_models(), loader, 1, "cpu", d_every=0, verbose=False)


# ----------------------------------------------------------------------------- the demos fail for real

def test_dominance_demo_fails_and_weakening_d_helps():
    epochs = quick(50, 30)
    failed, _, _ = _train(epochs, n=8192, **DOMINANCE)
    fixed, _, _ = _train(epochs, n=8192, **{**DOMINANCE, "lr_d": 2e-4})
    assert "discriminator dominance" in health_report(failed).failures
    f, g = summarize(failed), summarize(fixed)
    assert f["d_fake"] < 0.15 and g["d_fake"] > f["d_fake"]  # a weaker D lets more fakes through


def test_collapse_demo_looks_healthy_by_its_losses():
    """Lesson 4's claim about the plain GAN: its losses pass every balance check (collapse or not)."""
    failed, _, _ = _train(50, n=8192, **COLLAPSE)
    balance_labels = {"discriminator dominance", "discriminator too weak", "vanishing gradient", "oscillation"}
    assert not balance_labels & set(health_report(failed).failures)
    assert 1 <= summarize(failed)["modes"] <= 8 and summarize(failed)["good"] > 0.3  # on the data


def test_oscillation_demo_swings_and_lower_momentum_settles():
    epochs = 50  # lesson 4's full length, where its claims are made
    failed, _, _ = _train(epochs, n=8192, **OSCILLATION)
    fixed, _, _ = _train(epochs, n=8192, **{**OSCILLATION, "beta1": 0.5})
    assert "samples keep moving" in health_report(failed).failures
    assert sample_motion(failed) > MAX_MOTION > sample_motion(fixed)  # the fix's samples settle
    assert summarize(fixed)["good"] > summarize(failed)["good"] + 0.3


# ----------------------------------------------------------------------------- self-checks

def test_self_checks_pass_the_solutions_and_name_the_mistakes():
    assert check_smoothed_d_loss(smoothed_d_loss).passed
    two_sided = lambda r, f, s: (F.binary_cross_entropy_with_logits(r, torch.full_like(r, 1 - s))  # noqa: E731
                                 + F.binary_cross_entropy_with_logits(f, torch.full_like(f, s))) / 2
    report = check_smoothed_d_loss(two_sided)
    assert not report.passed and "one-sided" in str(report)

    assert check_instance_noise(instance_noise).passed
    report = check_instance_noise(lambda r, f, s: (add_instance_noise(r, s), f))
    assert not report.passed and "fake images are unchanged" in str(report)

    from course_utils.lesson2.ring import mode_counts
    from course_utils.lesson4.diagnostics import count_modes, grad_norm
    assert check_grad_norm(grad_norm).passed
    per_param = lambda m: sum(p.grad.norm().item() for p in m.parameters() if p.grad is not None)  # noqa: E731
    assert "one norm over all" in str(check_grad_norm(per_param))

    assert check_count_modes(count_modes).passed
    any_sample = lambda p, c, d: int((mode_counts(p, c, d) > 0).sum())  # noqa: E731
    assert "stray sample" in str(check_count_modes(any_sample))
    assert "not implemented" in str(check_grad_norm(lambda m: (_ for _ in ()).throw(NotImplementedError)))
