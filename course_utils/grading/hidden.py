"""Hidden grading checks, and the references that keep exercises apart (used by the grader only).

``HIDDEN`` maps an exercise id (the ``exercise.id`` in a solution notebook's cell metadata) to a
list of functions. Each takes the submission's namespace (a dict: the notebook's globals after it
ran) and returns a :class:`~course_utils.kit.checking.CheckReport`. They run inside the submission's
kernel, after the lesson's own self-check. An exercise with no entry here is graded by its
self-check plus the grader's generic "written in the notebook, not imported" check.

``REFERENCES`` maps each name an exercise defines (``generator_loss``, ``Generator``, ...) to the
``course_utils`` version of it. While the grader checks one exercise, the names that the lesson's
*other* exercises define are bound to these references in the notebook's namespace (and restored
afterwards), so ``g_step`` is checked with the reference ``generator_loss``: one mistake costs its own
points once.

A new lesson needs a ``REFERENCES`` entry for each name its exercises define (``tests/test_grade.py``
checks that there is one and that it passes the exercise's self-check). Add ``HIDDEN`` entries only to
test what the self-check cannot show students (other sizes, a seeded few-step run whose result must
land in a band, ...).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..kit.checking import CheckReport, call_student, probe_models
from ..lesson1 import reference as lesson1
from ..lesson1.checks import check_generator
from ..lesson2 import reference as lesson2
from ..lesson2.checks import check_discriminator
from ..lesson3 import trainer as training
from ..lesson4 import diagnostics, stability
from ..lesson5 import wgan
from ..lesson6 import conditional
from ..lesson6.checks import check_conditional_generator, check_projection_discriminator, probe_conditional  # noqa: F401 - the old flat module exposed them
from ..lesson7 import latent, optimize

REFERENCES = {
    # lesson 1
    "sample_latent": lesson1.sample_latent, "FCGenerator": lesson1.FCGenerator, "Generator": lesson1.Generator,
    "count_parameters": lesson1.count_parameters,
    # lesson 2
    "Discriminator": lesson2.Discriminator, "discriminator_loss": lesson2.discriminator_loss,
    # lesson 3
    "generator_loss": training.generator_loss, "d_step": training.d_step, "g_step": training.g_step,
    # lesson 4
    "count_modes": diagnostics.count_modes, "grad_norm": diagnostics.grad_norm,
    "smoothed_d_loss": stability.smoothed_d_loss, "instance_noise": stability.instance_noise,
    "diagnose": diagnostics.diagnose,
    # lesson 5
    "Critic": wgan.Critic, "gradient_penalty": wgan.gradient_penalty, "critic_loss": wgan.critic_loss,
    "wgan_generator_loss": wgan.wgan_generator_loss, "wgan_step": wgan.wgan_step,
    # lesson 6
    "ConditionalGenerator": conditional.ConditionalGenerator,
    "ProjectionDiscriminator": conditional.ProjectionDiscriminator,
    "conditional_d_step": conditional.conditional_d_step, "conditional_g_step": conditional.conditional_g_step,
    "class_loss_d_step": conditional.class_loss_d_step, "class_loss_g_step": conditional.class_loss_g_step,
    # lesson 7
    "interpolate": latent.interpolate, "truncated_sample": latent.truncated_sample,
    "find_direction": latent.find_direction, "steer": optimize.steer, "invert": optimize.invert,
}


# ----------------------------------------------------------------------------- lesson 1

def sample_latent_other_sizes(ns: dict) -> CheckReport:
    """``sample_latent(3, 7)`` has shape (3, 7): latent_dim is not hard-coded."""
    r = CheckReport("hidden: sample_latent with other sizes")
    ok, z = call_student(r, "sample_latent(3, 7)", ns["sample_latent"], 3, 7)
    if ok:
        shape = tuple(getattr(z, "shape", ()))
        r.expect(shape == (3, 7), "sample_latent(3, 7) has shape (3, 7)",
                 f"sample_latent(3, 7) has shape {shape}: use n and latent_dim, do not hard-code 100")
    return r


def fc_generator_other_latent_dim(ns: dict) -> CheckReport:
    """``FCGenerator(16)`` works on 16-dimensional z."""
    r = CheckReport("hidden: FCGenerator(latent_dim=16)")
    ok, G = call_student(r, "FCGenerator(16)", ns["FCGenerator"], 16)
    if ok:
        r.items += [(o, f"FCGenerator(16): {m}") for o, m in check_generator(G, latent_dim=16).items]
    return r


def conv_generator_other_sizes(ns: dict) -> CheckReport:
    """``Generator(16, width=32)`` works: latent_dim and width are used, not hard-coded."""
    r = CheckReport("hidden: Generator(latent_dim=16, width=32)")
    ok, G = call_student(r, "Generator(16, width=32)", lambda: ns["Generator"](16, width=32))
    if ok:
        r.items += [(o, f"Generator(16, width=32): {m}") for o, m in check_generator(G, latent_dim=16).items]
    return r


def count_parameters_frozen(ns: dict) -> CheckReport:
    """Frozen parameters (``requires_grad=False``) are not counted."""
    r = CheckReport("hidden: count_parameters with a frozen layer")
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))  # 16 + 10 parameters
    model[0].requires_grad_(False)
    ok, n = call_student(r, "count_parameters(partly frozen model)", ns["count_parameters"], model)
    if ok:
        r.expect(n == 10, "frozen parameters are not counted",
                 f"got {n!r} for a model with 10 trainable and 16 frozen parameters: count only "
                 "parameters with p.requires_grad")
    return r


# ----------------------------------------------------------------------------- lesson 2

def discriminator_other_sizes(ns: dict) -> CheckReport:
    """``Discriminator(width=16, dropout=0.3)`` works: width and dropout are used."""
    r = CheckReport("hidden: Discriminator(width=16, dropout=0.3)")
    ok, D = call_student(r, "Discriminator(width=16, dropout=0.3)",
                         lambda: ns["Discriminator"](width=16, dropout=0.3))
    if ok:
        r.items += [(o, f"Discriminator(width=16, dropout=0.3): {m}") for o, m in check_discriminator(D).items]
        r.expect(any(isinstance(m, nn.Dropout) and m.p == 0.3 for m in D.modules()), "dropout is used",
                 "no nn.Dropout(0.3) found in Discriminator(dropout=0.3): pass dropout to nn.Dropout")
    return r


def _differentiable(r: CheckReport, what: str, fn, *logits) -> None:
    logits = [x.clone().requires_grad_(True) for x in logits]
    ok, loss = call_student(r, what, fn, *logits)
    if not ok:
        return
    if not r.expect(torch.is_tensor(loss) and loss.requires_grad, "the loss keeps the autograd graph",
                    "the loss has no gradient: do not call .item(), float() or torch.tensor() on it"):
        return
    loss.backward()
    r.expect(all(x.grad is not None and x.grad.abs().sum().item() > 0 for x in logits),
             "backward() reaches the logits", "backward() does not reach the logits")


def discriminator_loss_differentiable(ns: dict) -> CheckReport:
    """The loss is a differentiable tensor, also for a batch of one."""
    r = CheckReport("hidden: discriminator_loss is differentiable")
    g = torch.Generator().manual_seed(5)
    _differentiable(r, "discriminator_loss(real_logits, fake_logits)", ns["discriminator_loss"],
                    torch.randn(1, 1, generator=g), torch.randn(1, 1, generator=g))
    return r


# ----------------------------------------------------------------------------- lesson 3

def generator_loss_differentiable(ns: dict) -> CheckReport:
    """The loss is a differentiable tensor (lesson 3)."""
    r = CheckReport("hidden: generator_loss is differentiable")
    _differentiable(r, "generator_loss(fake_logits)", ns["generator_loss"],
                    torch.randn(6, 1, generator=torch.Generator().manual_seed(6)))
    return r


STEPS = 5


def _step_losses(r: CheckReport, name: str, call, pick, what: str) -> list[float] | None:
    """``STEPS`` calls of ``call()``; ``float(pick(out))`` of each, or None once a call failed."""
    got = []
    for i in range(STEPS):
        ok, out = call_student(r, f"{name} call {i + 1}", call)
        if not ok:
            return None
        try:
            got.append(float(pick(out)))
        except Exception as exc:  # noqa: BLE001
            r.fail(f"{name}'s {what} is not a number ({type(exc).__name__}: {exc})")
            return None
    return got


def _reference_d_losses() -> list[float]:
    """The losses of ``STEPS`` calls of the reference ``d_step`` (lesson 3) on fresh probe models."""
    G, D, real = probe_models()
    opt = torch.optim.SGD(D.parameters(), lr=0.1)
    return [float(training.d_step(D, G, real, opt, G.latent_dim)[0]) for _ in range(STEPS)]


def d_step_seeded_run(ns: dict) -> CheckReport:
    """Five D steps on the probe models: every loss within 1e-3 of the reference run, and falling."""
    r = CheckReport(f"hidden: {STEPS} seeded d_step calls")
    G, D, real = probe_models()
    G0 = copy.deepcopy(G)
    opt = torch.optim.SGD(D.parameters(), lr=0.1)
    want = _reference_d_losses()
    got = _step_losses(r, "d_step", lambda: ns["d_step"](D, G, real, opt, G.latent_dim), lambda out: out[0],
                       "first return value")
    if got is None:
        return r
    band = (want[-1] - 1e-3, want[-1] + 1e-3)
    r.expect(all(abs(a - b) < 1e-3 for a, b in zip(got, want)),
             f"loss after {STEPS} steps {got[-1]:.4f}, in the band [{band[0]:.4f}, {band[1]:.4f}]",
             f"losses over {STEPS} steps {[round(x, 4) for x in got]}, expected "
             f"{[round(x, 4) for x in want]} (band +-0.001): each call must do exactly one D update")
    r.expect(got[-1] < got[0], "D's loss falls over the steps",
             f"D's loss did not fall ({got[0]:.4f} -> {got[-1]:.4f})")
    r.expect(torch.equal(G.pixels, G0.pixels), "G untouched by the D steps", "G's weights changed in the D step")
    return r


def _reference_g_losses() -> list[float]:
    """The losses of ``STEPS`` calls of the reference ``g_step`` (lesson 3) on fresh probe models."""
    G, D, _ = probe_models()
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    return [float(training.g_step(D, G, opt, 8, G.latent_dim, torch.device("cpu"))) for _ in range(STEPS)]


def g_step_seeded_run(ns: dict) -> CheckReport:
    """Five G steps on the probe models: every loss within 1e-3 of the reference run, and falling."""
    r = CheckReport(f"hidden: {STEPS} seeded g_step calls")
    G, D, _ = probe_models()
    opt = torch.optim.SGD(G.parameters(), lr=0.1)
    want = _reference_g_losses()
    got = _step_losses(r, "g_step", lambda: ns["g_step"](D, G, opt, 8, G.latent_dim, torch.device("cpu")),
                       lambda out: out, "return value")
    if got is None:
        return r
    r.expect(all(abs(a - b) < 1e-3 for a, b in zip(got, want)),
             f"loss after {STEPS} steps {got[-1]:.4f}, in the band {want[-1]:.4f} +- 0.001",
             f"losses over {STEPS} steps {[round(x, 4) for x in got]}, expected "
             f"{[round(x, 4) for x in want]} (band +-0.001): each call must do exactly one G update")
    r.expect(got[-1] < got[0], "G's loss falls over the steps",
             f"G's loss did not fall ({got[0]:.4f} -> {got[-1]:.4f})")
    return r


# ----------------------------------------------------------------------------- lesson 5

class _SquareSumCritic(nn.Module):
    """D(x) = (sum of x)^2 / 2 per image: its input gradient is sum(x) at every pixel."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, x):  # (B, C, H, W) -> (B, 1)
        return self.scale * x.flatten(1).sum(1, keepdim=True).pow(2) / 2


def gradient_penalty_per_image_epsilon(ns: dict) -> CheckReport:
    """One epsilon per image: on real = +1, fake = -1 the penalty's size tells the two apart.

    With x_hat = eps real + (1 - eps) fake, the probe critic's gradient norm is P^1.5 |2 eps - 1|
    (P pixels) for one eps per image, so E[GP] = P^3/3 - P^1.5 + 1; one eps per pixel averages the
    pixels out and gives about P^2/3, dozens of times smaller.
    """
    r = CheckReport("hidden: gradient_penalty draws one epsilon per image")
    real, fake = torch.ones(256, 3, 4, 4), -torch.ones(256, 3, 4, 4)
    n_pixels = real[0].numel()
    want = n_pixels ** 3 / 3 - n_pixels ** 1.5 + 1
    torch.manual_seed(0)
    ok, gp = call_student(r, "gradient_penalty(D, real, fake)", ns["gradient_penalty"], _SquareSumCritic(), real, fake)
    if not ok:
        return r
    value = float(gp.detach()) if torch.is_tensor(gp) else float(gp)
    lo, hi = 0.75 * want, 1.25 * want
    if value < 0.25 * want:
        r.fail(f"penalty {value:.0f} on the probe, expected about {want:.0f}: epsilon looks drawn per pixel; "
               "draw one per image, torch.rand(B, 1, 1, 1), and broadcast it")
    else:
        r.expect(lo <= value <= hi, f"penalty {value:.0f} in the band [{lo:.0f}, {hi:.0f}]",
                 f"penalty {value:.0f} outside the band [{lo:.0f}, {hi:.0f}] for one epsilon per image")
    return r


# ----------------------------------------------------------------------------- lesson 4

def diagnose_edge_cases(ns: dict) -> CheckReport:
    """Two runs the recorded ones do not cover: a smoothed D judged against its floor; samples that move."""
    from ..kit.checkpoints import load_history

    r = CheckReport("hidden: diagnose on two edge cases")
    healthy = load_history(diagnostics.RECORDED["healthy"])
    smoothed = copy.deepcopy(healthy)
    smoothed["settings"] = dict(smoothed.get("settings") or {}, label_smoothing=0.2)
    smoothed["d_loss"] = [0.3] * len(smoothed["d_loss"])  # below the floor H(0.8)/2 = 0.25 + 0.15
    moving = copy.deepcopy(healthy)
    for i, snap in enumerate(moving["samples"]):
        snap["images"] = snap["images"] + (0.5 if i % 2 else 0.0)  # every other epoch shifted: the samples move
    for want, history, hint in (("dominance", smoothed, "with label smoothing 0.2 a D loss of 0.3 is within "
                                 "D_DOMINANT_LOSS of the floor: compare d_loss - floor, not d_loss"),
                                ("oscillation", moving, "the samples move 0.5 every other epoch: use sample_motion")):
        ok, out = call_student(r, f"diagnose(<{want} edge case>)", ns["diagnose"], history)
        if ok:
            got = out[0] if isinstance(out, tuple) and out else out
            r.expect(got == want, f"{want} edge case: {got}", f"{want} edge case labelled {got!r}: {hint}")
    return r


HELD_OUT_BAR = 7  # of the 8 held-out runs: one borderline miss is judgment, two are thresholds without a margin


def diagnose_held_out(ns: dict) -> CheckReport:
    """Lesson 4's four settings on seeds 1 and 2, never shown in the lesson, each labelled by the course's
    ``diagnose``: thresholds the student chose with a margin from the seed-0 runs carry over; ones placed at
    the edge of one run's number, or a failure left unchecked, do not."""
    from ..kit.checkpoints import HISTORY_DIR, load_history

    r = CheckReport("hidden: diagnose on held-out runs (other seeds)")
    paths = sorted(HISTORY_DIR.glob(f"{diagnostics.HELD_OUT}_*.pt"))
    right, misses = 0, []
    for path in paths:
        history = load_history(path)
        want = history["diagnosis"]
        ok, out = call_student(r, f"diagnose(<held-out run {path.stem}>)", ns["diagnose"], history)
        got = out[0] if ok and isinstance(out, tuple) and out else None
        if got == want:
            right += 1
        elif ok:
            misses.append(f"{path.stem.removeprefix(diagnostics.HELD_OUT + '_')}: {got!r}, its numbers say {want!r}")
    r.expect(bool(paths) and right >= min(HELD_OUT_BAR, len(paths)),
             f"{right}/{len(paths)} held-out runs labelled as the course labels them",
             f"{right}/{len(paths)} held-out runs labelled as the course labels them (at least {HELD_OUT_BAR} "
             f"needed): {'; '.join(misses)}. Print diagnosis_evidence() and move each threshold away from the "
             "recorded runs' numbers")
    return r


# ----------------------------------------------------------------------------- lesson 6


from .hidden_conditional import (  # noqa: E402 - lesson 6's checks live beside this file
    conditional_d_step_num_classes,
    conditional_g_step_num_classes,
    conditional_generator_other_sizes,
    projection_discriminator_other_sizes,
)

HIDDEN = {
    "sample_latent": [sample_latent_other_sizes],
    "fc_generator": [fc_generator_other_latent_dim],
    "conv_generator": [conv_generator_other_sizes],
    "count_parameters": [count_parameters_frozen],
    "discriminator": [discriminator_other_sizes],
    "discriminator_loss": [discriminator_loss_differentiable],
    "generator_loss": [generator_loss_differentiable],
    "d_step": [d_step_seeded_run],
    "g_step": [g_step_seeded_run],
    "gradient_penalty": [gradient_penalty_per_image_epsilon],
    "diagnose": [diagnose_edge_cases, diagnose_held_out],
    "conditional_generator": [conditional_generator_other_sizes],
    "projection_discriminator": [projection_discriminator_other_sizes],
    "conditional_d_step": [conditional_d_step_num_classes],
    "conditional_g_step": [conditional_g_step_num_classes],
}
