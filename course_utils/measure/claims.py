"""Claims as code: the toolkit (every statement a lesson makes about a run is computed and checked).

A lesson states a claim with :func:`claim`: the sentence, whether it holds, and the numbers it rests on, all
computed from the run the notebook just made (or a shipped record). The cell prints ``PASS`` or ``FAIL`` next to
the sentence, so prose never carries a hand-typed number that a new machine or seed could contradict. Each
lesson's claims live in its room (``course_utils.lessonN.claims``); the command that re-checks them all is
:mod:`course_utils.tools.claims` (``python -m course_utils.claims``). A claim that needs a full run says
``needs full run`` in quick mode, never faked.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from ..kit.env import quick as _quick_value

PASS, FAIL, NEEDS_FULL = "PASS", "FAIL", "needs full run"
_SHOWN: dict = {}  # (name, statement) -> the last Claim printed in this process (a notebook's kernel: one lesson)


@dataclass
class Claim:
    """One statement a lesson makes, whether it holds (``None``: needs a full run) and its evidence."""

    name: str
    statement: str
    holds: bool | None
    evidence: str = ""
    lesson: int | None = None
    values: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        return NEEDS_FULL if self.holds is None else PASS if self.holds else FAIL

    def __str__(self) -> str:
        return f"{self.status:>5}  {self.statement}" + (f"  [{self.evidence}]" if self.evidence else "")


def claim(name: str, statement: str, holds, evidence: str = "", *, lesson: int | None = None,
          show: bool = True, **values) -> Claim:
    """State a claim: print ``PASS``/``FAIL`` and the sentence (lessons call this where they make it)."""
    c = Claim(name, statement, None if holds is None else bool(holds), evidence, lesson, values)
    if show:
        print(c, flush=True)
        _SHOWN[name, statement] = c
    return c


def shown_claims() -> list[Claim]:
    """The claims this kernel printed, each once (a cell run twice counts once, with its last result)."""
    return list(_SHOWN.values())


def statements_checked() -> None:
    """A lesson's closing line: ``12 statements in this lesson checked on this run: 12 PASS, 0 FAIL, ...``."""
    claims = shown_claims()
    print(f"{len(claims)} statements in this lesson checked on this run: {summary(claims)}")


def needs_full_run(name: str, statement: str, *, lesson: int | None = None, show: bool = True) -> Claim:
    """A claim that only a full run can check (quick mode lists it; it never counts as PASS)."""
    return claim(name, statement, None, "quick mode: not checked", lesson=lesson, show=show)


def spread(values) -> str:
    """``median [min-max]`` of per-seed values, e.g. ``0.13 [0.11-0.14]``."""
    values = [float(v) for v in values]
    fmt = (lambda v: f"{v:.0f}") if all(abs(v) >= 100 or v == int(v) for v in values) else (lambda v: f"{v:.3g}")
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}-{fmt(max(values))}]"


def on_every_seed(flags) -> tuple[bool, str]:
    """``(all hold, "k/n seeds")`` for one boolean per seed."""
    flags = [bool(f) for f in flags]
    return all(flags) and bool(flags), f"{sum(flags)}/{len(flags)} seeds"


def summary(claims: list[Claim]) -> str:
    counts = {s: sum(c.status == s for c in claims) for s in (PASS, FAIL, NEEDS_FULL)}
    return f"{counts[PASS]} PASS, {counts[FAIL]} FAIL, {counts[NEEDS_FULL]} need a full run"


def print_table(claims: list[Claim]) -> None:
    """One row per claim: lesson, name, status (FAILs first is not needed: the order is the lesson's)."""
    width = max((len(c.name) for c in claims), default=4)
    print(f"{'lesson':>6}  {'claim':{width}}  status")
    for c in claims:
        print(f"{c.lesson or '-':>6}  {c.name:{width}}  {c.status}")
    print(summary(claims))


def quick_or(full, reduced):
    """``quick(full, reduced)`` (re-exported for the notebooks' claim cells)."""
    return _quick_value(full, reduced)
