"""Self-checks of lesson 6's class term: the student's conditional steps, extended with D's class head.

``class_loss_d_step`` adds ``class_weight`` x the cross-entropy of D's class head on the REAL images to the
conditional D loss; ``class_loss_g_step`` adds ``class_weight`` x the cross-entropy of the head on the fakes,
against the labels G drew them for, to G's loss. The checks run the student's step on probe models (those of
:mod:`course_utils.lesson6.checks`, the D with a linear class head) and name the usual mistakes: the head
taught on fakes too (AC-GAN's original, which rewards G's blurry coats as coats), the weight left out, the
class term subtracted, the wrong labels for the fakes, fakes not detached.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from ..kit.checking import CheckReport, bce, call_student, match_variant
from .checks import PROBE_BATCH, ProbeConditionalD, check_uniform_labels, d_inputs, is_probe_fake, probe_conditional

PROBE_CLASS_WEIGHT = 0.5  # not 1, so a step that ignores class_weight is told apart from a correct one


class ProbeClassHeadD(ProbeConditionalD):
    """The probe conditional D plus a linear class head, ``D(x, y, with_class_logits=True)`` like
    :class:`~course_utils.lesson6.conditional.ClassHeadDiscriminator`; records every call."""

    def __init__(self):
        super().__init__()
        self.classify = nn.Linear(28 * 28, 10)
        with torch.no_grad():
            self.classify.weight.copy_(torch.linspace(-0.01, 0.01, 10 * 28 * 28).view(10, -1))
            self.classify.bias.copy_(torch.linspace(-0.2, 0.2, 10))

    def forward(self, x, y, with_class_logits=False):
        logits = super().forward(x, y)  # (B, 1), recorded
        return (logits, self.classify(x.flatten(1))) if with_class_logits else logits


def _probe():
    G, _, real, labels = probe_conditional()
    torch.manual_seed(0)
    return G, ProbeClassHeadD(), real, labels


def _value(x) -> float:
    return float(x.detach()) if torch.is_tensor(x) else float(x)


def check_class_loss_d_step(fn) -> CheckReport:
    """``fn(D, G, real, labels, opt_d, latent_dim, num_classes, class_weight)``: the conditional D step plus the
    class term on the real images (lesson 6, exercise 5)."""
    r = CheckReport("class_loss_d_step")
    G, D, real, labels = _probe()
    D0 = copy.deepcopy(D)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    ok, out = call_student(r, "class_loss_d_step(D, G, real, labels, opt_d, latent_dim, num_classes, class_weight)",
                           fn, D, G, real, labels, opt_d, G.latent_dim, 10, PROBE_CLASS_WEIGHT)
    if not ok:
        return r
    if not r.expect(isinstance(out, tuple) and len(out) == 3, "returns (d_loss, D(x, y) mean, D(G(z, y'), y') mean)",
                    f"expected a tuple of 3 values, got {type(out).__name__}"):
        return r
    check_uniform_labels(r, G.labels_seen(), "D step")
    x, y = d_inputs(D)
    if x is None:
        r.fail("D was never called")
        return r
    is_real = ~is_probe_fake(G, x)  # (N,)
    fake_y = G.labels_seen()
    with torch.no_grad():
        logits, class_logits = D0.logits(x, y), D0.classify(x.flatten(1))  # before the update
    real_logits, fake_logits = logits[is_real], logits[~is_real]
    game = (bce(real_logits, 1) + bce(fake_logits, 0)) / 2
    w = PROBE_CLASS_WEIGHT
    on_real = F.cross_entropy(class_logits[is_real], labels[: int(is_real.sum())])
    on_fake = F.cross_entropy(class_logits[~is_real], fake_y) if fake_y is not None and (~is_real).any() else game
    match_variant(r, _value(out[0]), {
        "correct": game + w * on_real,
        "the class term is missing: add class_weight * F.cross_entropy(real_class_logits, labels)": game,
        "class_weight is not applied: multiply the cross-entropy by class_weight": game + on_real,
        "the head also learns the fakes' labels (AC-GAN's original); here it learns from real images only, "
        "a head taught G's blurry coats as coats would reward them": game + w * (on_real + on_fake),
        "the class term is subtracted: D's head should get better at naming real classes, add it": game - w * on_real,
    })
    grad = G.pixels.grad
    r.expect(grad is None or grad.abs().sum().item() == 0, "no gradient reaches G (fakes detached)",
             "gradients flowed into G during the D step: use fake = G(z, fake_labels).detach()")
    r.expect(not torch.equal(D.classify.weight, D0.classify.weight), "D's class head was updated",
             "D's class head did not change: its cross-entropy must join the loss before loss.backward()")
    return r


def check_class_loss_g_step(fn) -> CheckReport:
    """``fn(D, G, opt_g, batch_size, latent_dim, num_classes, device, class_weight)``: the conditional G step plus
    the class term on the fakes (lesson 6, exercise 6)."""
    r = CheckReport("class_loss_g_step")
    G, D, _, _ = _probe()
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    ok, loss = call_student(r, "class_loss_g_step(D, G, opt_g, batch_size, latent_dim, num_classes, device, "
                               "class_weight)", fn, D, G, opt_g, PROBE_BATCH, G.latent_dim, 10, torch.device("cpu"),
                            PROBE_CLASS_WEIGHT)
    if not ok:
        return r
    check_uniform_labels(r, G.labels_seen(), "G step")
    x, y = d_inputs(D)
    if x is None:
        r.fail("D was never called: the G step needs D(fake, labels, with_class_logits=True)")
        return r
    with torch.no_grad():
        logits, class_logits = D0.logits(x, y), D0.classify(x.flatten(1))  # (B, 1), (B, K)
    w, game = PROBE_CLASS_WEIGHT, bce(logits, 1)
    shifted = (y + 1) % 10  # labels that are not the ones G drew the fakes for
    match_variant(r, _value(loss), {
        "correct": game + w * F.cross_entropy(class_logits, y),
        "the class term is missing: add class_weight * F.cross_entropy(class_logits, labels)": game,
        "class_weight is not applied: multiply the cross-entropy by class_weight":
            game + F.cross_entropy(class_logits, y),
        "the class term is subtracted: G is rewarded when the head names the requested class, so ADD the "
        "cross-entropy (a lower cross-entropy is a lower loss)": game - w * F.cross_entropy(class_logits, y),
        "the cross-entropy uses other labels than G drew the fakes for: use the same labels":
            game + w * F.cross_entropy(class_logits, shifted),
    })
    r.expect(not torch.equal(G.pixels, G0.pixels), "G's weights were updated",
             "G's weights did not change: call loss.backward() and opt_g.step()")
    r.expect(torch.equal(D.classify.weight, D0.classify.weight) and torch.equal(D.linear.weight, D0.linear.weight),
             "D's weights untouched by the G step", "D's weights changed in the G step: only opt_g.step() belongs here")
    return r
