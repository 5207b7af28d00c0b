"""Self-checks for the exercises of lesson 3 (lessons 1 and 2 have their own ``checks``).

Each returns a :class:`~course_utils.kit.checking.CheckReport`.

A report lists every check with a tick or a cross and, for a cross, what is wrong and how to fix
it. In a notebook, put the call last in a cell to see it; in code, use ``report.passed``.
The grader and the tests call the same functions. The toolkit they are built with lives in
:mod:`course_utils.kit.checking`; ``CheckReport``, ``expect_scalar`` and ``uses_layer`` are also importable
from here.
"""

from __future__ import annotations

import copy

import torch

from ..kit.checking import (
    CheckReport,
    bce,
    call_student,
    expect_scalar,
    match_variant,
    probe_models,
)

# ----------------------------------------------------------------------------- lesson 3

def check_generator_loss(fn) -> CheckReport:
    """``fn(fake_logits)`` must be the non-saturating loss BCE(D(G(z)), 1) (lesson 3)."""
    r = CheckReport("generator_loss")
    fake = torch.randn(32, 1, generator=torch.Generator().manual_seed(1)) - 1
    ok, got = call_student(r, "generator_loss(fake_logits)", fn, fake)
    if not ok:
        return r
    if not expect_scalar(r, got):
        return r
    match_variant(r, float(got.detach()), {
        "correct": bce(fake, 1),
        "fakes are labelled 0 in the G step: G wants D to say 'real', so the target is 1": bce(fake, 0),
        "this is the saturating loss log(1 - D(G(z))): its gradient vanishes when D rejects fakes; "
        "use BCE(D(G(z)), 1)": -bce(fake, 0),
        "the input went through a sigmoid first: pass the raw logits": bce(torch.sigmoid(fake), 1),
    })
    return r


def check_d_step(fn) -> CheckReport:
    """``fn(D, G, real, opt_d, latent_dim)``: one D update with detached fakes, real -> 1, fake -> 0 (lesson 3)."""
    r = CheckReport("d_step")
    G, D, real = probe_models()
    D0 = copy.deepcopy(D)
    real_logits, fake_logits = D0(real), D0(G(torch.zeros(8, 4)).detach())
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    ok, out = call_student(r, "d_step(D, G, real, opt_d, latent_dim)", fn, D, G, real, opt_d, G.latent_dim)
    if not ok:
        return r
    if not r.expect(isinstance(out, tuple) and len(out) == 3, "returns (d_loss, D(x) mean, D(G(z)) mean)",
                    f"expected a tuple of 3 values, got {type(out).__name__}"):
        return r
    loss, d_real, d_fake = (float(v.detach()) if torch.is_tensor(v) else float(v) for v in out)
    match_variant(r, loss, {
        "correct": (bce(real_logits, 1) + bce(fake_logits, 0)) / 2,
        "fakes are labelled as real (target 1) in the D step; they get target 0":
            (bce(real_logits, 1) + bce(fake_logits, 1)) / 2,
        "labels are swapped: real -> 1, fake -> 0": (bce(real_logits, 0) + bce(fake_logits, 1)) / 2,
        "the two BCE terms are summed; average them": bce(real_logits, 1) + bce(fake_logits, 0),
    })
    r.expect(abs(d_real - torch.sigmoid(real_logits).mean().item()) < 1e-4 and
             abs(d_fake - torch.sigmoid(fake_logits).mean().item()) < 1e-4,
             "D(x) and D(G(z)) means are sigmoid(logits).mean()",
             f"D(x) mean {d_real:.4f} / D(G(z)) mean {d_fake:.4f} differ from sigmoid(logits).mean()")
    g_grad = G.pixels.grad
    r.expect(g_grad is None or g_grad.abs().sum().item() == 0, "no gradient reaches G (fakes detached)",
             "gradients flowed into G during the D step: use fake = G(z).detach() so D's loss "
             "does not backpropagate into the generator")
    changed = not torch.equal(D[1].weight, D0[1].weight)
    r.expect(changed, "D's weights were updated", "D's weights did not change: call loss.backward() "
             "and opt_d.step()")
    return r


def check_g_step(fn) -> CheckReport:
    """``fn(D, G, opt_g, batch_size, latent_dim, device)``: one G update with target 'real' (lesson 3)."""
    r = CheckReport("g_step")
    G, D, _ = probe_models()
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    fake_logits = D0(G0(torch.zeros(8, 4)))
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    ok, loss = call_student(r, "g_step(D, G, opt_g, batch_size, latent_dim, device)", fn,
                              D, G, opt_g, 8, G.latent_dim, torch.device("cpu"))
    if not ok:
        return r
    match_variant(r, float(loss.detach()) if torch.is_tensor(loss) else float(loss), {
        "correct": bce(fake_logits, 1),
        "fakes are labelled 0 in the G step: G's target is 1 ('real')": bce(fake_logits, 0),
        "this is the saturating loss log(1 - D(G(z))); use BCE(D(G(z)), 1)": -bce(fake_logits, 0),
    })
    r.expect(not torch.equal(G.pixels, G0.pixels), "G's weights were updated",
             "G's weights did not change: call loss.backward() and opt_g.step()")
    r.expect(torch.equal(D[1].weight, D0[1].weight), "D's weights untouched by the G step",
             "D's weights changed in the G step: only opt_g.step() belongs here")
    return r
