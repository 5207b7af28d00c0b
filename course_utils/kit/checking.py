"""The checking toolkit every lesson's self-checks and the grader use (built with lessons 1-3).

* :class:`CheckReport`: what matched and what did not, one line per check;
* :func:`call_student`: call a student's function, turning an exception (or an unimplemented stub)
  into a failed check with a message instead of a traceback;
* :func:`expect_scalar`, :func:`uses_layer`: small facts checks share;
* :func:`match_variant`: compare a value with the reference and with the values of known mistakes,
  so a failure names the mistake;
* :func:`bce`, :func:`probe_models`: the fixed probes the lesson-3 checks (and the grader) use.
"""

from __future__ import annotations

import inspect
import math

import torch
import torch.nn.functional as F
from torch import nn


class CheckReport:
    """What matched and what did not, one line per check."""

    def __init__(self, title: str):
        self.title, self.items = title, []

    def ok(self, message: str) -> None:
        self.items.append((True, message))

    def fail(self, message: str) -> None:
        self.items.append((False, message))

    def expect(self, condition: bool, ok_message: str, fail_message: str) -> bool:
        (self.ok if condition else self.fail)(ok_message if condition else fail_message)
        return bool(condition)

    @property
    def passed(self) -> bool:
        return bool(self.items) and all(ok for ok, _ in self.items)

    @property
    def failures(self) -> list[str]:
        return [m for ok, m in self.items if not ok]

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        n_ok = sum(ok for ok, _ in self.items)
        head = f"{self.title}: {'all ' if self.passed else ''}{n_ok}/{len(self.items)} checks passed"
        return "\n".join([head] + [f"  {'✓' if ok else '✗'} {m}" for ok, m in self.items])

    __str__ = __repr__


NOT_IMPLEMENTED = "is not implemented yet (it raises NotImplementedError)"


def describe_error(what: str, exc: BaseException) -> str:
    """One line for an exception raised by student code: the friendly line for an unimplemented stub."""
    if isinstance(exc, NotImplementedError):
        return f"{what} {NOT_IMPLEMENTED}"
    return f"{what} raised {type(exc).__name__}: {exc}"


def call_student(report: CheckReport, what: str, fn, *args):
    """Call a student's function; turn an exception into a failed check with its message.

    Returns ``(True, value)`` or ``(False, None)``.
    """
    try:
        return True, fn(*args)
    except Exception as exc:  # noqa: BLE001 - any student error becomes a message
        report.fail(describe_error(what, exc))
    return False, None


def build_model(report: CheckReport, model, *args, **kwargs):
    """``model`` itself, or, when it is a class, ``model(*args, **kwargs)`` built safely.

    Self-checks take the student's class so that an unfinished ``__init__`` (an exercise stub) is
    reported as "not implemented yet" instead of a traceback in the check cell. Returns
    ``(True, instance)`` or ``(False, None)``.
    """
    if not isinstance(model, type):
        return True, model
    shown = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    return call_student(report, f"{model.__name__}({shown})", lambda: model(*args, **kwargs))


def expect_scalar(r: CheckReport, value, hint: str = "average over the batch") -> bool:
    """A loss must be a 0-dim tensor; record the check and return whether it held."""
    return r.expect(isinstance(value, torch.Tensor) and value.dim() == 0, "returns a scalar tensor",
                    f"expected a 0-dim tensor, got {getattr(value, 'shape', type(value).__name__)}: {hint}")


def uses_layer(model: nn.Module, layer: type, name: str) -> bool:
    """True if ``model`` contains a ``layer`` module or calls ``name`` (e.g. "tanh") in ``forward``."""
    if any(isinstance(m, layer) for m in model.modules()):
        return True
    try:
        return name in inspect.getsource(type(model).forward)
    except (OSError, TypeError):
        return False


def bce(logits, target):
    """BCE with logits against a constant target (0 or 1, or a smoothed value)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(target)))


def match_variant(r: CheckReport, got: float, variants: dict, ok_extra: str = "") -> None:
    """Compare ``got`` with ``variants["correct"]``; on a miss, name the known mistake it equals."""
    want = float(variants["correct"].detach())
    if math.isfinite(got) and abs(got - want) < 1e-4:
        r.ok(f"value {got:.4f} matches the reference" + (f"; {ok_extra}" if ok_extra else ""))
        return
    for message, value in variants.items():
        if message != "correct" and abs(got - float(value.detach())) < 1e-4:
            r.fail(f"value {got:.4f} instead of {want:.4f}: {message}")
            return
    r.fail(f"value {got:.4f} instead of {want:.4f}")


class ProbeG(nn.Module):
    """A tiny generator whose images do not depend on z, so losses are known whatever noise is drawn."""

    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.pixels = nn.Parameter(torch.linspace(-1.0, 1.0, 28 * 28).view(1, 1, 28, 28))

    def forward(self, z):
        return torch.tanh(self.pixels).expand(z.size(0), 1, 28, 28) + 0.0 * z.sum(1).view(-1, 1, 1, 1)


def probe_models():
    """``(G, D, real)``: the probe generator, a linear D with fixed weights, 8 fixed real images."""
    torch.manual_seed(0)
    D = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 1))
    with torch.no_grad():
        D[1].weight.copy_(torch.linspace(-0.004, 0.006, 28 * 28).view(1, -1))
        D[1].bias.fill_(0.3)
    real = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(2)).mul(2).sub(1)
    return ProbeG(), D, real
