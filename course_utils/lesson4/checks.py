"""Self-checks for the exercises of lesson 4. Each returns a :class:`~course_utils.kit.checking.CheckReport`.

Each check compares the student's function with the reference and, when it differs, with the
typical mistakes (smoothing the fake targets too, noise on real images only, a norm per parameter
summed instead of one norm over all, the same noise tensor on real and fake, ...) and names the one
it recognises.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ..kit.checking import CheckReport, bce, call_student, expect_scalar, match_variant
from ..lesson2.ring import mode_counts, ring_centers
from ..measure.metrics import coverage as modes_covered
from .diagnostics import DIAGNOSES, RECORDED, grad_norm


def check_smoothed_d_loss(fn) -> CheckReport:
    """``fn(real_logits, fake_logits, label_smoothing)``: averaged BCE, real -> 1 - s, fake -> 0 (lesson 4)."""
    r = CheckReport("smoothed_d_loss")
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 1, generator=g) + 1, torch.randn(32, 1, generator=g) - 1
    ok, got = call_student(r, "smoothed_d_loss(real_logits, fake_logits, 0.1)", fn, real, fake, 0.1)
    if not ok:
        return r
    if not expect_scalar(r, got):
        return r
    match_variant(r, float(got), {
        "correct": (bce(real, 0.9) + bce(fake, 0)) / 2,
        "the fake targets were smoothed too (0.1): smoothing must be one-sided, fakes keep target 0; "
        "smoothing them rewards D for calling fakes a little real": (bce(real, 0.9) + bce(fake, 0.1)) / 2,
        "real targets are 0.1 instead of 0.9: the target is 1 - label_smoothing":
            (bce(real, 0.1) + bce(fake, 0)) / 2,
        "no smoothing was applied: real targets must be 1 - label_smoothing = 0.9":
            (bce(real, 1) + bce(fake, 0)) / 2,
        "the two BCE terms are summed; the course averages them": bce(real, 0.9) + bce(fake, 0),
    }, "real targets 0.9, fake targets 0 (one-sided)")
    ok, zero = call_student(r, "smoothed_d_loss(..., 0.0)", fn, real, fake, 0.0)
    if ok:
        want = float((bce(real, 1) + bce(fake, 0)) / 2)
        r.expect(abs(float(zero) - want) < 1e-4, "label_smoothing=0 gives the plain lesson-2 loss",
                 f"with label_smoothing=0 got {float(zero):.4f}, expected the plain loss {want:.4f}")
    return r


def check_instance_noise(fn, std: float = 0.3) -> CheckReport:
    """``fn(real, fake, std)`` returns ``(real + noise, fake + other noise)``, fresh N(0, std^2) each (lesson 4)."""
    r = CheckReport("instance_noise")
    real, fake = torch.zeros(256, 1, 28, 28), torch.ones(256, 1, 28, 28)  # (B, C, H, W)
    ok, out = call_student(r, f"instance_noise(real, fake, {std})", fn, real, fake, std)
    if not ok or not r.expect(_is_pair(out), "returns (noisy_real, noisy_fake)",
                              f"expected a tuple of two tensors, got {type(out).__name__}"):
        return r
    noisy_real, noisy_fake = out
    if not r.expect(noisy_real.shape == real.shape and noisy_fake.shape == fake.shape, "shapes unchanged",
                    f"shapes changed: {tuple(noisy_real.shape)}, {tuple(noisy_fake.shape)}; noise has the shape of x"):
        return r
    has_real, has_fake = _noise_statistics(r, noisy_real - real, noisy_fake - fake, std)  # the noise each got
    if has_real and has_fake:
        _independent_draws(r, fn, std)
    if not has_real:
        return r
    ok, again = call_student(r, "a second call", fn, real, fake, std)
    if ok and _is_pair(again):
        r.expect(not torch.equal(again[0], noisy_real), "fresh noise on every call",
                 "two calls gave the same noise: do not reseed, draw new noise each step")
    return r


def _is_pair(out) -> bool:
    return isinstance(out, tuple) and len(out) == 2 and all(torch.is_tensor(x) for x in out)


def _noise_statistics(r: CheckReport, d_real, d_fake, std: float) -> tuple[bool, bool]:
    """Both batches got N(0, std^2) noise; returns whether real and fake got any noise at all."""
    has_real = r.expect(d_real.abs().sum() > 0, "real images get noise", "real images are unchanged: add noise to them")
    has_fake = r.expect(d_fake.abs().sum() > 0, "fake images get noise", "fake images are unchanged: noise on real "
                        "images only lets D tell them apart by the noise itself; add it to both")
    for name, d, has in (("real", d_real, has_real), ("fake", d_fake, has_fake)):
        if has:
            s, m = d.std().item(), d.mean().item()
            r.expect(abs(s - std) < 0.02 * std + 0.005 and abs(m) < 0.01,
                     f"{name} noise: mean {m:.3f}, std {s:.3f} (wanted {std})",
                     f"{name} noise has mean {m:.3f}, std {s:.3f}, expected 0 and {std}: std * "
                     "torch.randn_like(x)" + (" (std squared? that is the variance)" if abs(s - std**2) < 0.01
                                              else ""))
    return has_real, has_fake


def _independent_draws(r: CheckReport, fn, std: float) -> None:
    """Fed the same images as real and fake, the two outputs must differ: two noise draws, not one."""
    x = torch.zeros(64, 1, 28, 28)  # (B, C, H, W)
    ok, out = call_student(r, f"instance_noise(x, x, {std})", fn, x, x.clone(), std)
    if ok and _is_pair(out) and out[0].shape == out[1].shape:
        r.expect(not torch.allclose(out[0], out[1]), "independent noise for real and fake",
                 "the same noise tensor was added to real and fake (given real == fake, the two outputs "
                 "are identical): draw it twice, std * torch.randn_like(real) and std * torch.randn_like(fake)")


def check_grad_norm(fn) -> CheckReport:
    """``fn(model)``: one L2 norm over the gradients of all parameters, as a float (lesson 4)."""
    r = CheckReport("grad_norm")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1), nn.Linear(1, 1))
    model[0](torch.randn(5, 3)).sum().backward()  # gradients on layer 0 only; others have .grad None
    model[2].weight.grad = torch.full_like(model[2].weight, 0.5)
    want = grad_norm(model)
    ok, got = call_student(r, "grad_norm(model)", fn, model)
    if not ok:
        return r
    r.expect(isinstance(got, float), "returns a Python float",
             f"returned {type(got).__name__}: use .item() so the history stores plain numbers")
    got = float(got)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    mistakes = {
        "you summed one norm per parameter tensor; take one norm over all of them: "
        "sqrt(sum of every squared gradient)": sum(g.norm().item() for g in grads),
        "this is the squared norm: take the square root": sum(g.pow(2).sum().item() for g in grads),
        "this is the norm of the weights, not of their gradients: use p.grad":
            torch.cat([p.detach().flatten() for p in model.parameters()]).norm().item(),
    }
    if abs(got - want) < 1e-5:
        r.ok(f"value {got:.4f} matches the reference")
    else:
        hint = next((m for m, v in mistakes.items() if abs(got - v) < 1e-5), "")
        r.fail(f"value {got:.4f} instead of {want:.4f}" + (f": {hint}" if hint else ""))
    fresh = nn.Linear(2, 2)
    ok, zero = call_student(r, "grad_norm(a model without gradients)", fn, fresh)
    if ok:
        r.expect(float(zero) == 0.0, "a model with no gradients gives 0.0",
                 f"got {zero!r} for a model whose .grad are all None: skip them and return 0.0")
    return r


def check_count_modes(fn) -> CheckReport:
    """``fn(points, centers, max_dist)``: modes with >= 20% of a fair share of *all* points nearby (lesson 4).

    ``fn`` is the lesson's ``count_modes``.
    """
    r = CheckReport("count_modes")
    c = ring_centers()
    g = torch.Generator().manual_seed(0)
    pts = torch.cat([c[0] + 0.02 * torch.randn(300, 2, generator=g),  # a well-covered mode
                     c[1] + 0.02 * torch.randn(5, 2, generator=g),    # a stray handful: not covered
                     c[2] + 0.02 * torch.randn(60, 2, generator=g),   # 60 >= 0.2 * 1000 / 8 = 25
                     torch.zeros(635, 2) + 0.02 * torch.randn(635, 2, generator=g)])  # off the ring
    want = modes_covered(mode_counts(pts, c, 0.15), total=len(pts))
    ok, got = call_student(r, "count_modes(points, centers, 0.15)", fn, pts, c, 0.15)
    if not ok:
        return r
    mistakes = {
        "you counted every mode with at least one sample: a stray sample does not cover a mode; "
        "require 20% of a fair share (0.2 * N / n_modes)": 3,
        "points far from every centre were assigned to their nearest mode: drop those farther than "
        "max_dist": 8,
    }
    if got == want:
        r.ok(f"{got} modes covered, as expected (modes 0 and 2; the 5 stray points near mode 1 do not count)")
    else:
        hint = next((m for m, v in mistakes.items() if got == v), "")
        r.fail(f"got {got!r}, expected {want}" + (f": {hint}" if hint else ""))
    ok, one = call_student(r, "count_modes(one mode)", fn, c[5].repeat(100, 1), c, 0.15)
    if ok:
        r.expect(one == 1, "a single repeated point covers exactly 1 mode",
                 f"one repeated point gave {one!r}")
    return r


def check_modes_covered(fn) -> CheckReport:
    """Deprecated: the old name of :func:`check_count_modes`, which checks ``count_modes`` (lesson 4)."""
    warnings.warn("check_modes_covered is now check_count_modes: it checks count_modes", DeprecationWarning,
                  stacklevel=2)
    return check_count_modes(fn)


HINTS = {  # (expected, got) -> what the mistake usually is
    ("dominance", "mode collapse"): "a dominant D also leaves G on few modes: check the balance (D(G(z)), D loss "
                                    "against DOMINANT_D_FAKE, D_DOMINANT_LOSS) before the modes",
    ("dominance", "oscillation"): "check the balance first: D(G(z)) below DOMINANT_D_FAKE is dominance",
    ("oscillation", "mode collapse"): "an oscillating G also misses modes: check sample_motion against MAX_MOTION "
                                      "before counting modes",
    ("oscillation", "healthy"): "the fixed-noise samples keep moving: compare sample_motion(history) with MAX_MOTION",
    ("mode collapse", "healthy"): "count the modes: fewer than all of them (or a low entropy) is mode collapse, "
                                  "whatever the losses say",
    ("healthy", "mode collapse"): "every mode is covered and the entropy is high: nothing collapsed",
    ("healthy", "dominance"): "D(G(z)) and the D loss are in the healthy range here: compare with the thresholds",
}


def check_diagnose(fn, histories: dict | None = None) -> CheckReport:
    """``fn(history) -> (label, evidence)`` on lesson 4's recorded runs (or ``histories``: label -> history)."""
    from ..kit.checkpoints import load_history

    r = CheckReport("diagnose")
    histories = histories or {label: load_history(name) for label, name in RECORDED.items()}
    for want, history in histories.items():
        ok, out = call_student(r, f"diagnose(<recorded {want} run>)", fn, history)
        if not ok:
            continue
        if not (isinstance(out, tuple) and len(out) == 2 and all(isinstance(x, str) for x in out)):
            r.fail(f"the {want} run: return a pair of strings (label, evidence), got {type(out).__name__}")
            continue
        got, evidence = out
        if got not in DIAGNOSES:
            r.fail(f"the {want} run: label {got!r} is not one of {DIAGNOSES}")
        elif not any(ch.isdigit() for ch in evidence):
            r.expect(got == want, "", f"the {want} run: labelled {got!r}")
            r.fail(f"the {want} run: the evidence {evidence!r} has no number: say what you measured")
        else:
            r.expect(got == want, f"the {want} run: {got} ({evidence})",
                     f"the {want} run was labelled {got!r}: " + HINTS.get((want, got), f"expected {want!r}"))
    return r
