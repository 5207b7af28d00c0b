"""Self-checks of lesson 7's two optimisations, ``steer`` and ``invert``: ``z`` changes, G never does.

Both run the student's function on :class:`~course_utils.lesson7.checks.ProbeLatentG` (a BatchNorm layer inside,
so a forward pass in train mode changes its running statistics) and compare with the reference run. They name
the usual mistakes: G's weights optimised, G left in train mode, descent instead of ascent, the prior's sign or
weight, the probability instead of the log-probability, the last or the first restart kept instead of the best.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from ..kit.checking import CheckReport, call_student
from .checks import ProbeClassifier, ProbeLatentG, match_tensor, probe_z
from .optimize import invert, steer

STEPS, LR, TARGET, SEED = 15, 0.1, 3, 1


def _steer_variant(G, z, target, classifier, steps, lr, prior_weight, ascent=1.0, prior_sign=1.0, log=True):
    """The reference loop with one thing changed (what a known mistake computes)."""
    G.eval()
    z = z.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        p = F.log_softmax(classifier(G(z)), 1) if log else F.softmax(classifier(G(z)), 1)
        loss = -(ascent * p[:, target] - prior_sign * prior_weight * z.pow(2).sum(1) / 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return z.detach()


def _unchanged(r: CheckReport, before, after, who: str, what_fix: str) -> None:
    params = all(torch.equal(a, b) for a, b in zip(before.parameters(), after.parameters()))
    buffers = all(torch.equal(a, b) for a, b in zip(before.buffers(), after.buffers()))
    r.expect(params, f"{who}'s weights unchanged", f"{who}'s weights changed: {what_fix}")
    r.expect(buffers, f"{who}'s BatchNorm statistics unchanged",
             f"{who}'s BatchNorm running statistics changed: call {who}.eval() before the loop (in train mode every "
             "forward pass updates them, which changes G)")


def _returned_z(r: CheckReport, z, shape) -> bool:
    if not r.expect(torch.is_tensor(z) and tuple(z.shape) == shape, f"returns z of shape {shape}",
                    f"expected z of shape {shape}, got {tuple(getattr(z, 'shape', ())) or type(z).__name__}: return "
                    "the latent vectors, not images"):
        return False
    return r.expect(not z.requires_grad, "returns z detached", "z still carries the autograd graph: return z.detach()")


def check_steer(fn) -> CheckReport:
    """``fn(G, z, target, classifier, steps, lr, prior_weight)``: Adam on ``z`` only, raising
    ``log p(target | G(z)) - prior_weight * |z|^2 / 2`` (lesson 7)."""
    r = CheckReport("steer")
    G, C, z = ProbeLatentG(), ProbeClassifier(), probe_z(6)
    G.train()  # as a careless caller leaves it: steer must not change G's statistics
    G0, C0, z0 = copy.deepcopy(G), copy.deepcopy(C), z.clone()
    ok, got = call_student(r, f"steer(G, z, {TARGET}, classifier, {STEPS}, {LR}, 0.0)", fn, G, z, TARGET, C, STEPS, LR,
                           0.0)
    if not ok:
        return r
    _unchanged(r, G0, G, "G", "steer optimises z only: torch.optim.Adam([z], lr=lr), never G.parameters()")
    r.expect(all(torch.equal(a, b) for a, b in zip(C0.parameters(), C.parameters())), "the classifier unchanged",
             "the classifier's weights changed: optimise z only")
    r.expect(torch.equal(z, z0), "the caller's z is left as it was",
             "the z passed in was changed in place: start from z = z.detach().clone().requires_grad_(True)")
    if not _returned_z(r, got, tuple(z.shape)):
        return r
    ref_G = copy.deepcopy(G0)
    variants = {"correct": steer(ref_G, z0, TARGET, C0, STEPS, LR, 0.0),
                "descent: the target's log-probability falls; the loss to minimise is -log p(target | G(z))":
                    _steer_variant(copy.deepcopy(G0), z0, TARGET, C0, STEPS, LR, 0.0, ascent=-1.0),
                "the probability instead of the log-probability: use F.log_softmax(logits, dim=1)":
                    _steer_variant(copy.deepcopy(G0), z0, TARGET, C0, STEPS, LR, 0.0, log=False)}
    if not match_tensor(r, "z after steering", got, variants):
        return r
    targets = torch.arange(len(z0)) % 10  # (B,): one class per sample
    ok, got = call_student(r, "steer(G, z, targets, ...) with targets a LongTensor (B,)", fn, copy.deepcopy(G0), z0,
                           targets, C0, STEPS, LR, 0.0)
    if ok and _returned_z(r, got, tuple(z.shape)):
        match_tensor(r, "z steered towards one class per sample", got,
                     {"correct": steer(copy.deepcopy(G0), z0, targets, C0, STEPS, LR, 0.0)})
    ok, got = call_student(r, "steer(..., prior_weight=1.0)", fn, copy.deepcopy(G0), z0, TARGET, C0, STEPS, LR, 1.0)
    if ok and _returned_z(r, got, tuple(z.shape)):
        match_tensor(r, "z after steering with prior_weight=1.0", got, {
            "correct": steer(copy.deepcopy(G0), z0, TARGET, C0, STEPS, LR, 1.0),
            "prior_weight is ignored: subtract prior_weight * |z|^2 / 2 (per sample) from the objective":
                variants["correct"],
            "the prior has the wrong sign: it pushes z away from the centre; the objective is log p - prior_weight * "
            "|z|^2 / 2": _steer_variant(copy.deepcopy(G0), z0, TARGET, C0, STEPS, LR, 1.0, prior_sign=-1.0)})
    return r


def _invert_all(G, images, steps, restarts, lr):
    """Every restart's final ``z`` ``(R, B, d)`` and error ``(R, B)``, drawn as the reference draws them."""
    G.eval()
    B = len(images)
    z = torch.randn(restarts * B, G.latent_dim).requires_grad_(True)
    target = images.repeat(restarts, 1, 1, 1)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        loss = (G(z) - target).pow(2).flatten(1).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        error = (G(z) - target).pow(2).flatten(1).mean(1).view(restarts, B)
    return z.detach().view(restarts, B, -1), error


def check_invert(fn) -> CheckReport:
    """``fn(G, images, steps, restarts, lr)``: ``z`` ``(B, latent_dim)`` from the best of ``restarts`` Adam runs on
    ``z`` per image, G frozen (lesson 7)."""
    r = CheckReport("invert")
    G = ProbeLatentG()
    with torch.no_grad():
        images = G(probe_z(5, 9))  # (5, 1, 28, 28): images G can make
    G.train()  # as a careless caller leaves it: invert must not change G's statistics
    G0, steps, restarts = copy.deepcopy(G), 25, 4
    torch.manual_seed(SEED)  # a seed whose best restarts differ per image, the batch's best neither first nor last
    ok, got = call_student(r, f"invert(G, images, {steps}, {restarts}, {LR})", fn, G, images, steps, restarts, LR)
    if not ok:
        return r
    _unchanged(r, G0, G, "G", "invert optimises z only: torch.optim.Adam([z], lr=lr), never G.parameters() (an "
               "inversion that trains G fits any image and tells nothing about G)")
    if not _returned_z(r, got, (len(images), G.latent_dim)):
        return r
    torch.manual_seed(SEED)
    everything, error = _invert_all(copy.deepcopy(G0), images, steps, restarts, LR)
    by_mean = everything[error.mean(1).argmin()]
    variants = {"correct": everything[error.argmin(0), torch.arange(len(images))],
                "the last restart is kept: keep each image's restart with the lowest final error":
                    everything[-1],
                "only the first restart is used: draw restarts * B starts and keep each image's best":
                    everything[0],
                "one restart is kept for the whole batch: choose the best restart per image (argmin over restarts "
                "for each image)": by_mean}
    torch.manual_seed(SEED)
    reference = invert(copy.deepcopy(G0), images, steps, restarts, LR)
    if not torch.allclose(reference, variants["correct"], atol=1e-5):
        variants["correct"] = reference
    match_tensor(r, "the inverted z", got, variants, atol=1e-4)
    return r
