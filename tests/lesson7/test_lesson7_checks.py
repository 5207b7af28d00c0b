"""Lesson 7's self-checks: the reference passes; each usual mistake fails with its name."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.lesson7 import checks, opt_checks
from course_utils.lesson7.latent import find_direction, interpolate, truncated_sample
from course_utils.lesson7.optimize import invert, steer


def _failures(report) -> str:
    assert not report.passed, report
    return " | ".join(report.failures)


@pytest.mark.parametrize("check, fn", [(checks.check_interpolate, interpolate),
                                       (checks.check_truncated_sample, truncated_sample),
                                       (checks.check_find_direction, find_direction),
                                       (opt_checks.check_steer, steer), (opt_checks.check_invert, invert)])
def test_the_reference_passes(check, fn):
    report = check(fn)
    assert report.passed, report


def _slerp_only(bad):
    return lambda z0, z1, steps, mode="linear": interpolate(z0, z1, steps, "linear") if mode == "linear" else bad(
        z0, z1, steps)


def _unit_slerp(z0, z1, steps):
    return interpolate(z0 / z0.norm(dim=-1, keepdim=True), z1 / z1.norm(dim=-1, keepdim=True), steps, "slerp")


def _nlerp(z0, z1, steps):
    t = torch.linspace(0, 1, steps).view(-1, *[1] * z0.dim())
    line = (1 - t) * z0 + t * z1
    return ((1 - t) * z0.norm(dim=-1, keepdim=True) + t * z1.norm(dim=-1, keepdim=True)) * line / line.norm(
        dim=-1, keepdim=True)


INTERPOLATE_MISTAKES = {
    "this is the straight line": _slerp_only(lambda a, b, s: interpolate(a, b, s, "linear")),
    "the norm is not interpolated": _slerp_only(checks._classic_slerp),
    "the points stay on the unit sphere": _slerp_only(_unit_slerp),
    "nlerp": _slerp_only(_nlerp),
    "the walk runs backwards": lambda z0, z1, steps, mode="linear": interpolate(z1, z0, steps, mode),
    "the last point is not z1": lambda z0, z1, steps, mode="linear": interpolate(z0, z1, steps + 1, mode)[:-1],
}


@pytest.mark.parametrize("name", list(INTERPOLATE_MISTAKES))
def test_interpolate_mistakes_are_named(name):
    assert name in _failures(checks.check_interpolate(INTERPOLATE_MISTAKES[name]))


def test_a_slerp_that_ignores_the_batch_dimension_fails():
    def flat(z0, z1, steps, mode="linear"):
        if z0.dim() == 2:  # norms over the whole batch, not per row
            n0, n1 = z0.norm(), z1.norm()
            return interpolate(z0 / n0, z1 / n1, steps, mode) * n0
        return interpolate(z0, z1, steps, mode)

    assert "batch" in _failures(checks.check_interpolate(flat))


TRUNCATION_MISTAKES = {
    "truncation is applied after G": lambda G, z, psi: psi * G(z),
    "psi divides z": lambda G, z, psi: G(z / psi) if psi else G(z * 0),
    "(1 - psi) * z": lambda G, z, psi: G((1 - psi) * z),
    "z is clipped": lambda G, z, psi: G(z.clamp(-psi, psi)),
    "psi is not used": lambda G, z, psi: G(z),
}


@pytest.mark.parametrize("name", list(TRUNCATION_MISTAKES))
def test_truncation_mistakes_are_named(name):
    assert name in _failures(checks.check_truncated_sample(TRUNCATION_MISTAKES[name]))


def _raw(z, classes, source, target):
    return z[classes == target].mean(0) - z[classes == source].mean(0)


DIRECTION_MISTAKES = {
    "points from target to source": lambda z, c, s, t: find_direction(z, c, t, s),
    "not of unit length": _raw,
    "mean of all samples": lambda z, c, s, t: (z[c == t].mean(0) - z.mean(0)) / (z[c == t].mean(0) - z.mean(0)).norm(),
    "only the target's mean": lambda z, c, s, t: z[c == t].mean(0) / z[c == t].mean(0).norm(),
}


@pytest.mark.parametrize("name", list(DIRECTION_MISTAKES))
def test_direction_mistakes_are_named(name):
    assert name in _failures(checks.check_find_direction(DIRECTION_MISTAKES[name]))


def _steer_loop(G, z, target, classifier, steps, lr, prior_weight, params=None, train=False, sign=1.0,
                prior_sign=1.0, use_prob=False):
    G.train(train)
    z = z.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z, *(params(G) if params else [])], lr=lr)
    target = torch.as_tensor(target).expand(len(z))
    for _ in range(steps):
        p = (F.softmax if use_prob else F.log_softmax)(classifier(G(z)), 1).gather(1, target.view(-1, 1)).squeeze(1)
        loss = -(sign * p - prior_sign * prior_weight * z.pow(2).sum(1) / 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return z.detach()


STEER_MISTAKES = {
    "G's weights changed": lambda *a: _steer_loop(*a, params=lambda G: list(G.parameters())),
    "BatchNorm running statistics changed": lambda *a: _steer_loop(*a, train=True),
    "descent": lambda *a: _steer_loop(*a, sign=-1.0),
    "the probability instead of the log-probability": lambda *a: _steer_loop(*a, use_prob=True),
    "the prior has the wrong sign": lambda *a: _steer_loop(*a, prior_sign=-1.0),
    "prior_weight is ignored": lambda G, z, t, c, s, lr, w: _steer_loop(G, z, t, c, s, lr, 0.0),
    "still carries the autograd graph": lambda *a: _steer_loop(*a).requires_grad_(True) * 1.0,
}


@pytest.mark.parametrize("name", list(STEER_MISTAKES))
def test_steer_mistakes_are_named(name):
    assert name in _failures(opt_checks.check_steer(STEER_MISTAKES[name]))


def test_a_steer_that_changes_the_callers_z_in_place_is_named():
    def in_place(G, z, target, classifier, steps, lr, prior_weight):
        out = steer(G, z, target, classifier, steps, lr, prior_weight)
        z.copy_(out)
        return out

    assert "changed in place" in _failures(opt_checks.check_steer(in_place))


def _invert_loop(G, images, steps, restarts, lr, keep="best", params=False, train=False):
    G.train(train)
    B = len(images)
    z = torch.randn(restarts * B, G.latent_dim).requires_grad_(True)
    target = images.repeat(restarts, 1, 1, 1)
    opt = torch.optim.Adam([z, *(G.parameters() if params else [])], lr=lr)
    for _ in range(steps):
        loss = (G(z) - target).pow(2).flatten(1).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    G.eval()
    with torch.no_grad():
        error = (G(z) - target).pow(2).flatten(1).mean(1).view(restarts, B)
    z = z.detach().view(restarts, B, -1)
    if keep == "last":
        return z[-1]
    if keep == "first":
        return z[0]
    if keep == "batch":
        return z[error.mean(1).argmin()]
    return z[error.argmin(0), torch.arange(B)]


INVERT_MISTAKES = {
    "G's weights changed": lambda *a: _invert_loop(*a, params=True),
    "BatchNorm running statistics changed": lambda *a: _invert_loop(*a, train=True),
    "the last restart is kept": lambda *a: _invert_loop(*a, keep="last"),
    "only the first restart is used": lambda *a: _invert_loop(*a, keep="first"),
    "one restart is kept for the whole batch": lambda *a: _invert_loop(*a, keep="batch"),
    "return the latent vectors, not images": lambda G, images, *a: G(invert(G, images, *a)),
}


@pytest.mark.parametrize("name", list(INVERT_MISTAKES))
def test_invert_mistakes_are_named(name):
    assert name in _failures(opt_checks.check_invert(INVERT_MISTAKES[name]))


@pytest.mark.parametrize("check", [checks.check_interpolate, checks.check_truncated_sample,
                                   checks.check_find_direction, opt_checks.check_steer, opt_checks.check_invert])
def test_an_unwritten_exercise_is_reported_not_raised(check):
    def stub(*args):
        raise NotImplementedError("Exercise: write your code here")

    assert "not implemented yet" in _failures(check(stub))
