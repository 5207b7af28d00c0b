"""The claims command: re-check every statement the lessons make about their runs.

    python -m course_utils.claims              # every claim that fits on 2 CPU cores, at full settings
    python -m course_utils.claims --quick      # what fits in CI (the test suite runs this)
    python -m course_utils.claims --lesson 4   # one lesson (repeatable)

Each lesson's claims live in its room (``course_utils.lessonN.claims``); :data:`PROVIDERS` maps a lesson to
the function that computes them. The toolkit (``claim``, ``Claim``, ``on_every_seed``) is
:mod:`course_utils.measure.claims`.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from ..lesson1.claims import lesson1
from ..lesson2.claims import lesson2
from ..lesson3.claims import lesson3
from ..lesson4.claims import lesson4
from ..lesson5.claims import lesson5
from ..lesson6.claims import lesson6
from ..measure.claims import FAIL, Claim, print_table

PROVIDERS = {1: lesson1, 2: lesson2, 3: lesson3, 4: lesson4, 5: lesson5, 6: lesson6}
"""Lesson -> the function computing its claims (``quick=True``: what fits in CI)."""


def check_lessons(lessons, quick: bool) -> list[Claim]:
    """Every claim of the given lessons (see :data:`PROVIDERS`)."""

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
    from ..kit.env import cpu_name


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
