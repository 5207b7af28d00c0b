"""Claims as code (lessons 1-6): every statement a lesson makes about a run is computed and checked.

A lesson states a claim with :func:`claim`: the sentence, whether it holds, and the numbers it rests
on, all computed from the run the notebook just made (or a shipped record). The cell prints ``PASS``
or ``FAIL`` next to the sentence, so prose never carries a hand-typed number that a new machine or
seed could contradict. The functions that compute each lesson's claims live with the lesson's idea
(:mod:`course_utils.lesson_claims`); this module is the toolkit and the command that re-checks them:

    python -m course_utils.claims              # every claim that fits on 2 CPU cores, at full settings
    python -m course_utils.claims --quick      # what fits in CI (the test suite runs this)
    python -m course_utils.claims --lesson 4   # one lesson (repeatable)

It prints one line per claim and a table per lesson, and exits 1 if any claim FAILs. A claim that
needs a full training run (lesson 3's 50 epochs) is checked from the shipped record, or listed as
``needs full run`` in quick mode, never faked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field

import torch

PASS, FAIL, NEEDS_FULL = "PASS", "FAIL", "needs full run"


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
    return c


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


def check_lessons(lessons, quick: bool) -> list[Claim]:
    """Every claim of the given lessons (see :data:`course_utils.lesson_claims.PROVIDERS`)."""
    from .lesson_claims import PROVIDERS

    found = []
    for lesson in lessons:
        if lesson not in PROVIDERS:
            raise ValueError(f"no claims registered for lesson {lesson}; lessons with claims: {sorted(PROVIDERS)}")
        start = time.perf_counter()
        print(f"== lesson {lesson} ({'quick' if quick else 'full'} settings)", flush=True)
        for c in PROVIDERS[lesson](quick=quick):
            c.lesson = lesson
            found.append(c)
        print(f"   lesson {lesson}: {time.perf_counter() - start:.0f} s", flush=True)
    return found


def main(argv=None) -> int:
    from .env import cpu_name
    from .lesson_claims import PROVIDERS

    parser = argparse.ArgumentParser(description="Re-check every claim the lessons make about their runs.")
    parser.add_argument("--quick", action="store_true", help="quick settings (what fits in CI)")
    parser.add_argument("--lesson", type=int, action="append", help="only this lesson (repeatable)")
    args = parser.parse_args(argv)
    print(f"claims on {cpu_name()}", flush=True)
    threads = torch.get_num_threads()
    try:
        found = check_lessons(args.lesson or sorted(PROVIDERS), args.quick)
    except ValueError as exc:
        print(f"course_utils.claims: {exc}", file=sys.stderr)
        return 2
    torch.set_num_threads(threads)
    print()
    print_table(found)
    return 1 if any(c.status == FAIL for c in found) else 0


if __name__ == "__main__":
    sys.exit(main())
