"""Self-checks for the exercises of lesson 2. Each returns a :class:`~course_utils.kit.checking.CheckReport`.

A report lists every check with a tick or a cross and, for a cross, what is wrong and how to fix
it. In a notebook, put the call last in a cell to see it; in code, use ``report.passed``.
The grader and the tests call the same functions; the toolkit lives in :mod:`course_utils.kit.checking`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kit.checking import (
    CheckReport,
    bce,
    build_model,
    call_student,
    expect_scalar,
    match_variant,
)

# ----------------------------------------------------------------------------- lesson 2

def check_discriminator(D: nn.Module, image_shape=(1, 28, 28)) -> CheckReport:
    """A discriminator maps ``(B, *image_shape)`` to one **logit** per image, ``(B, 1)`` (lesson 2).

    ``D`` is a model, or a class that is then built as ``D()``.
    """
    r = CheckReport(f"discriminator {D.__name__ if isinstance(D, type) else type(D).__name__}")
    ok, D = build_model(r, D)
    if not ok:
        return r
    was_training = D.training
    D.train()
    try:
        device = next(D.parameters()).device
        x = torch.rand(16, *image_shape, generator=torch.Generator().manual_seed(0)).mul(2).sub(1).to(device)
        x.requires_grad_(True)
        ok, out = call_student(r, "D(x) with x of shape (16, 1, 28, 28)", D, x)
        if not ok:
            return r
        if not r.expect(tuple(out.shape) in ((16, 1), (16,)), f"output shape {tuple(out.shape)}: one per image",
                        f"expected shape (16, 1), got {tuple(out.shape)}: end with a Linear(..., 1)"):
            return r
        ends_sigmoid = isinstance(list(D.modules())[-1], nn.Sigmoid)
        inside = bool(((out > 0) & (out < 1)).all())
        ok, big = call_student(r, "D(5 * x)", D, 5 * x.detach())
        inside = inside and ok and bool(((big > 0) & (big < 1)).all())
        r.expect(not (ends_sigmoid or inside), "returns logits (any real number)",
                 "outputs look like probabilities (all in (0, 1)): remove the final sigmoid; "
                 "BCEWithLogitsLoss applies it in a numerically stable way")
        r.expect(any(isinstance(m, nn.LeakyReLU) for m in D.modules()), "uses LeakyReLU",
                 "no nn.LeakyReLU found: D should use LeakyReLU(0.2) so gradients flow for negative inputs")
        out.sum().backward()
        r.expect(x.grad is not None and x.grad.abs().sum().item() > 0, "gradient reaches the input image",
                 "no gradient reaches the input: is something detached inside D? G learns through it")
    finally:
        D.zero_grad(set_to_none=True)
        D.train(was_training)
    return r


def check_discriminator_loss(fn) -> CheckReport:
    """``fn(real_logits, fake_logits)`` must be the averaged BCE with real -> 1 and fake -> 0 (lesson 2)."""
    r = CheckReport("discriminator_loss")
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 1, generator=g) + 1, torch.randn(32, 1, generator=g) - 1
    ok, zero = call_student(r, "discriminator_loss(zeros, zeros)", fn, torch.zeros(8, 1), torch.zeros(8, 1))
    if not ok:
        return r
    if not expect_scalar(r, zero):
        return r
    ok, got = call_student(r, "discriminator_loss(real_logits, fake_logits)", fn, real, fake)
    if not ok:
        return r
    got = float(got.detach()) if torch.is_tensor(got) else float(got)
    variants = {
        "correct": (bce(real, 1) + bce(fake, 0)) / 2,
        "you summed the two terms; the course averages them: (real_loss + fake_loss) / 2":
            bce(real, 1) + bce(fake, 0),
        "fakes are labelled as real (target 1): fake images get target 0 in the D step":
            (bce(real, 1) + bce(fake, 1)) / 2,
        "the labels are swapped: real images get target 1, fakes target 0":
            (bce(real, 0) + bce(fake, 1)) / 2,
        "real images are labelled 0: they get target 1": (bce(real, 0) + bce(fake, 0)) / 2,
        "the inputs were passed through a sigmoid first: pass the raw logits to BCE-with-logits":
            (bce(torch.sigmoid(real), 1) + bce(torch.sigmoid(fake), 0)) / 2,
    }
    match_variant(r, got, variants, f"chance level: loss(0, 0) = {float(zero):.4f} = log 2")
    return r
