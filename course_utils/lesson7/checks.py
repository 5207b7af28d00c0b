"""Self-checks of lesson 7 (controllable generation). Each returns a :class:`~course_utils.kit.checking.CheckReport`.

They run the student's function on small probes (8-dimensional ``z``, a probe G with a BatchNorm layer, a linear
probe classifier) and name the usual mistakes: a slerp that leaves the sphere or does not interpolate the norm,
truncation applied to the image after G, a direction pointing the wrong way or not of unit length; the checks
of the two optimisations (``steer``, ``invert``) are in :mod:`course_utils.lesson7.opt_checks`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kit.checking import CheckReport, call_student
from .latent import find_direction, interpolate

PROBE_DIM = 8


class ProbeLatentG(nn.Module):
    """A small fixed generator ``(B, 8) -> (B, 1, 28, 28)`` with a BatchNorm layer; records every ``z`` it is given."""

    latent_dim = PROBE_DIM

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(PROBE_DIM, 28 * 28)
        self.norm = nn.BatchNorm1d(28 * 28)
        with torch.no_grad():
            g = torch.Generator().manual_seed(7)
            self.linear.weight.copy_(torch.randn(28 * 28, PROBE_DIM, generator=g) * 0.4)
            self.linear.bias.copy_(torch.randn(28 * 28, generator=g) * 0.1)
        self.calls = []
        self.eval()

    def forward(self, z):
        self.calls.append(z.detach().clone())
        return torch.tanh(self.norm(self.linear(z))).view(-1, 1, 28, 28)


class ProbeClassifier(nn.Module):
    """A fixed linear classifier of 28x28 images into 10 classes."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(28 * 28, 10)
        with torch.no_grad():
            g = torch.Generator().manual_seed(8)
            self.linear.weight.copy_(torch.randn(10, 28 * 28, generator=g) * 0.05)
            self.linear.bias.zero_()

    def forward(self, x):
        return self.linear(x.flatten(1))  # (B, 10) logits


def probe_z(n: int = 6, seed: int = 0) -> torch.Tensor:
    """``(n, 8)`` seeded latent vectors for the probes."""
    return torch.randn(n, PROBE_DIM, generator=torch.Generator().manual_seed(seed))


def match_tensor(r: CheckReport, what: str, got, variants: dict, atol: float = 1e-4) -> bool:
    """``got`` against ``variants["correct"]``; on a miss, name the known mistake whose value it equals."""
    want = variants["correct"]
    if not torch.is_tensor(got):
        r.fail(f"{what} returned a {type(got).__name__}, expected a tensor of shape {tuple(want.shape)}")
        return False
    got = got.detach().float().cpu()
    if got.shape != want.shape:
        r.fail(f"{what} has shape {tuple(got.shape)}, expected {tuple(want.shape)}")
        return False
    if torch.allclose(got, want, atol=atol, equal_nan=False):
        r.ok(f"{what} matches the reference")
        return True
    for message, value in variants.items():
        if message != "correct" and value.shape == got.shape and torch.allclose(got, value, atol=atol):
            r.fail(f"{what}: {message}")
            return False
    gap = (got - want).abs().nan_to_num(float("inf")).max().item()
    r.fail(f"{what} differs from the reference (max |difference| {gap:.3g})")
    return False


# ----------------------------------------------------------------------------- walks

def _classic_slerp(z0, z1, steps):
    """The textbook formula on the raw vectors: the angle is right, but the norm is not interpolated."""
    t = torch.linspace(0, 1, steps).view(-1, *[1] * z0.dim())
    cos = (z0 * z1).sum(-1, keepdim=True) / (z0.norm(dim=-1, keepdim=True) * z1.norm(dim=-1, keepdim=True))
    omega = torch.arccos(cos.clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def _walk_variants(z0, z1, steps, mode):
    t = torch.linspace(0, 1, steps).view(-1, *[1] * z0.dim())
    linear = (1 - t) * z0 + t * z1
    unit = interpolate(z0 / z0.norm(dim=-1, keepdim=True), z1 / z1.norm(dim=-1, keepdim=True), steps, "slerp")
    norms = (1 - t) * z0.norm(dim=-1, keepdim=True) + t * z1.norm(dim=-1, keepdim=True)
    variants = {"correct": interpolate(z0, z1, steps, mode),
                "the walk runs backwards: it must start at z0 (t = 0) and end at z1 (t = 1)":
                    interpolate(z1, z0, steps, mode),
                "the last point is not z1: use torch.linspace(0, 1, steps), which includes both ends":
                    interpolate(z0, z1, steps + 1, mode)[:-1]}
    if mode == "slerp":
        variants.update({
            "this is the straight line: slerp turns the direction along the sphere (sin((1 - t) omega) u0 + "
            "sin(t omega) u1) / sin(omega)": linear,
            "the norm is not interpolated: the classic formula on the raw vectors leaves the line between |z0| and "
            "|z1|; turn the unit vectors, then multiply by (1 - t) |z0| + t |z1|": _classic_slerp(z0, z1, steps),
            "the points stay on the unit sphere: multiply the turned unit vector by the interpolated norm "
            "(1 - t) |z0| + t |z1|, or the walk leaves the prior's shell near sqrt(latent_dim)": unit,
            "the line is rescaled to the interpolated norm (nlerp): it stays on the shell but does not turn at a "
            "constant rate; use the angle omega between u0 and u1": norms * linear / linear.norm(dim=-1, keepdim=True),
        })
    return variants


def check_interpolate(fn) -> CheckReport:
    """``fn(z0, z1, steps, mode)``: ``"linear"`` and ``"slerp"`` walks ``(steps, *z0.shape)`` (lesson 7)."""
    r = CheckReport("interpolate")
    g = torch.Generator().manual_seed(3)
    z0, z1 = torch.randn(PROBE_DIM, generator=g) * 0.5, torch.randn(PROBE_DIM, generator=g) * 1.5  # unequal norms
    for mode in ("linear", "slerp"):
        ok, path = call_student(r, f"interpolate(z0, z1, 5, {mode!r})", fn, z0, z1, 5, mode)
        if ok and not match_tensor(r, f"the {mode} walk", path, _walk_variants(z0, z1, 5, mode)):
            return r
    ok, path = call_student(r, "interpolate on a batch: z0, z1 of shape (4, 8)", fn, probe_z(4, 1), probe_z(4, 2), 3,
                            "slerp")
    if ok:
        match_tensor(r, "the slerp walk of a batch (3, 4, 8)", path,
                     {"correct": interpolate(probe_z(4, 1), probe_z(4, 2), 3, "slerp")})
    a = probe_z(1, 4)[0]
    b = a.norm() * probe_z(1, 5)[0] / probe_z(1, 5)[0].norm()  # the same norm
    ok, path = call_student(r, "interpolate(z0, z1, 7, 'slerp') with |z0| = |z1|", fn, a, b, 7, "slerp")
    if ok and torch.is_tensor(path):
        spread = float((path.detach().norm(dim=-1) - a.norm()).abs().max())
        r.expect(spread < 1e-4, f"with |z0| = |z1| every slerp point keeps that norm (off by {spread:.1e} at most)",
                 f"with |z0| = |z1| the slerp points' norms move by up to {spread:.3f}: slerp must stay on the sphere")
    return r


# ----------------------------------------------------------------------------- truncation

def check_truncated_sample(fn) -> CheckReport:
    """``fn(G, z, psi)``: ``G(psi * z)``, truncation applied to ``z`` before G (lesson 7)."""
    r = CheckReport("truncated_sample")
    G, z, psi = ProbeLatentG(), probe_z(6), 0.3  # not 0.5, where (1 - psi) * z would equal psi * z
    with torch.no_grad():
        want = G(psi * z)
        variants = {"correct": want,
                    "truncation is applied after G: psi * G(z) only dims the image towards grey; scale z, then "
                    "run G(psi * z)": psi * G(z),
                    "psi divides z: z / psi pushes z outwards; multiply, psi * z": G(z / psi),
                    "(1 - psi) * z: psi is the share of z that is kept (psi = 1: no truncation)": G((1 - psi) * z),
                    "z is clipped to [-psi, psi]: that is another trick; the lesson's truncation scales z, psi * z":
                        G(z.clamp(-psi, psi)),
                    "G(z) unchanged: psi is not used": G(z)}
    G.calls.clear()
    ok, x = call_student(r, f"truncated_sample(G, z, {psi})", fn, G, z, psi)
    if ok and match_tensor(r, f"truncated_sample(G, z, {psi})", x, variants):
        seen = G.calls[-1] if G.calls else None
        r.expect(seen is not None and torch.allclose(seen, psi * z, atol=1e-5), "G was given psi * z",
                 "G was not given psi * z: truncate z before G")
    ok, x = call_student(r, "truncated_sample(G, z, 0.0)", fn, G, z, 0.0)
    if ok and torch.is_tensor(x):
        same = float((x.detach() - x.detach()[:1]).abs().max())
        r.expect(same < 1e-5, "psi = 0 gives one image, G(0), for every z",
                 f"psi = 0 should send every z to the centre (one image), but the images differ by {same:.3f}")
    return r


# ----------------------------------------------------------------------------- directions

def _direction_probe():
    g = torch.Generator().manual_seed(11)
    z = torch.randn(60, PROBE_DIM, generator=g)
    classes = torch.arange(60) % 3  # (60,) classes 0, 1, 2
    z[classes == 2] += torch.linspace(1, 2, PROBE_DIM)  # class 2 sits off the centre
    return z, classes


def check_find_direction(fn) -> CheckReport:
    """``fn(z, classes, source, target)``: the unit vector from ``source``'s mean ``z`` to ``target``'s (lesson 7)."""
    r = CheckReport("find_direction")
    z, classes = _direction_probe()
    d = z[classes == 2].mean(0) - z[classes == 0].mean(0)
    towards_all = z[classes == 2].mean(0) - z.mean(0)
    variants = {"correct": find_direction(z, classes, 0, 2),
                "the direction points from target to source: target's mean minus source's": -d / d.norm(),
                "the direction is not of unit length: divide it by its norm, so alpha in edit is a length in z": d,
                "it starts from the mean of all samples: subtract the SOURCE class's mean z":
                    towards_all / towards_all.norm(),
                "only the target's mean: subtract the source class's mean z": z[classes == 2].mean(0)
                / z[classes == 2].mean(0).norm()}
    ok, got = call_student(r, "find_direction(z, classes, source=0, target=2)", fn, z, classes, 0, 2)
    if ok and match_tensor(r, "the direction from class 0 to class 2", got, variants):
        ok, back = call_student(r, "find_direction(z, classes, source=2, target=0)", fn, z, classes, 2, 0)
        if ok and torch.is_tensor(back):
            r.expect(torch.allclose(back.detach(), -variants["correct"], atol=1e-5),
                     "swapping source and target reverses the direction",
                     "swapping source and target should give the opposite direction")
    return r
