"""The claims command: re-check every statement the lessons make about their runs.

    python -m course_utils.claims              # every claim that fits on 2 CPU cores, at full settings
    python -m course_utils.claims --quick      # what fits in CI (the test suite runs this)
    python -m course_utils.claims --lesson 4   # one lesson (repeatable)

The README and the guides in ``docs/`` cite the claim behind each measured statement as ``(claim `name`)``;
the command also checks that every cited claim exists and, when its lesson was checked, passes.

Each lesson's claims live in its room (``course_utils.lessonN.claims``); :data:`PROVIDERS` maps a lesson to
the function that computes them. The toolkit (``claim``, ``Claim``, ``on_every_seed``) is
:mod:`course_utils.measure.claims`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import torch

from ..lesson1.claims import lesson1
from ..lesson2.claims import lesson2
from ..lesson3.claims import lesson3
from ..lesson4.claims import lesson4
from ..lesson5.claims import lesson5
from ..lesson6.claims import lesson6
from ..lesson7.claims import lesson7
from ..measure.claims import FAIL, Claim, print_table

PROVIDERS = {1: lesson1, 2: lesson2, 3: lesson3, 4: lesson4, 5: lesson5, 6: lesson6, 7: lesson7}
"""Lesson -> the function computing its claims (``quick=True``: what fits in CI)."""


PACKAGE = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/glossary.md", "docs/troubleshooting.md", "docs/performance.md")
"""The files whose measured statements must name the claim that backs them: ``(claim `name`)``."""
CITATION = re.compile(r"claim `([a-z0-9_]+)`")
STATEMENT = re.compile(r"""\bclaim\(\s*["']([a-z0-9_]+)["']""")


def stated_claims() -> set[str]:
    """Every claim name the lessons state (read from their rooms' source: ``claim("<name>", ...)``)."""
    return {name for path in PACKAGE.glob("lesson*/*.py")
            for name in STATEMENT.findall(path.read_text(encoding="utf-8"))}


def cited_claims(root: Path | None = None, files=DOCS) -> dict[str, list[str]]:
    """``{claim name: ["file:line", ...]}`` for every ``claim `name``` citation in the docs."""
    root = Path(root) if root is not None else PACKAGE.parent
    cited: dict[str, list[str]] = {}
    for rel in files:
        path = root / rel
        if not path.exists():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for name in CITATION.findall(line):
                cited.setdefault(name, []).append(f"{rel}:{number}")
    return cited


def citation_problems(found: list[Claim] | None = None, root: Path | None = None, quick: bool = False) -> list[str]:
    """What is wrong with the docs' citations: a name no lesson states, or (given this run's claims ``found``)
    a cited claim that FAILs or, at full settings (not ``quick``), that the run left unchecked although its
    lesson ran."""
    stated, problems = stated_claims(), []
    computed = {c.name: c for c in found or []}
    lessons_run = {c.lesson for c in found or []}
    for name, places in sorted(cited_claims(root).items()):
        where = ", ".join(places)
        if name not in stated:
            problems.append(f"{where}: cites claim `{name}`, which no lesson states")
        elif name in computed and computed[name].status == FAIL:
            problems.append(f"{where}: cites claim `{name}`, which FAILs on this run")
        elif found is not None and not quick and name not in computed and _lesson_of(name) in lessons_run:
            problems.append(f"{where}: cites claim `{name}`, which this run did not check")
    return problems


def _lesson_of(name: str) -> int | None:
    for path in PACKAGE.glob("lesson*/*.py"):
        if name in STATEMENT.findall(path.read_text(encoding="utf-8")):
            return int(path.parent.name[len("lesson"):])
    return None


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
    problems = citation_problems(found, quick=args.quick)
    cited = cited_claims()
    print(f"\nthe docs cite {len(cited)} claims ({', '.join(DOCS)}): "
          + ("every one stated" + (" and, where checked here, passing" if found else "") if not problems
             else f"{len(problems)} problem(s)"))
    for problem in problems:
        print("  " + problem)
    return 1 if problems or any(c.status == FAIL for c in found) else 0


if __name__ == "__main__":
    sys.exit(main())
