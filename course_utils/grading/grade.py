"""Grade student notebooks: run each in a sandbox, then check its exercises in a second, fresh sandbox.

    python -m course_utils.grade SUBMISSION.ipynb                        # one notebook
    python -m course_utils.grade submissions/ --out grades/ --jobs 2      # every .ipynb in a folder, two at once

For each submission, in a sandbox of its own (:mod:`course_utils.grading.sandbox`: no network, the course and
data read-only, an allow-listed environment, memory/process/file-size limits, every process ends with it):

1. **run**: its cells run in quick mode (``COURSE_QUICK=1``) in a fresh kernel, with a per-cell limit; a cell
   that raises does not stop the run (:mod:`course_utils.grading.runner`). This only feeds the report's notes.
2. **check**: a fresh process loads every check and reference first, then takes from the submission only its
   imports and its exercise cells' ``def``/``class`` statements, and runs each exercise's self-check, the hidden
   checks of :mod:`course_utils.grading.hidden` and the "written in the notebook" check, with the lesson's other
   exercises replaced by the course's references (so one mistake costs its own points once). Its verdicts come
   back over a pipe (:mod:`course_utils.grading.worker`).

An exercise scores its points only if all its checks pass. Points, ids and checks come from ``solutions/``
(cell metadata ``"exercise": {"id", "points", "check"}``), never from the submission. ``--timeout`` bounds the
whole submission, both phases together.

Writes ``<student>.json`` and ``<student>.txt`` per submission and ``gradebook.csv`` (student = file stem) into
``--out``, each as soon as its submission is graded (a crash loses nothing finished); a rerun keeps the reports
of submissions that did not change since (same file, same grader). An earlier, different ``gradebook.csv`` is
moved aside to ``gradebook.<its time>.csv`` first. Without bubblewrap the grader refuses to run unless given
``--no-sandbox``. Exit status 1 when some submission could not be graded at all, and before grading anything
when no notebook is found or ``--out`` is a file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..kit.files import write_text_atomic
from . import sandbox as sandboxing
from .exercises import (  # noqa: F401 - the old module had them
    ROOT,
    SOLUTIONS,
    GradingError,
    cell_source,
    defined_names,
    identify_lesson,
    load_lesson,
    load_lessons,
    pick_lesson,
    read_submission,
)
from .files import GRADEBOOK, check_out_folder, submissions
from .phases import check_phase, run_phase
from .report import RULE, STATUS, Gradebook, format_report, score_exercise, write_gradebook
from .runner import TIMED_OUT  # noqa: F401 - the old module had it
from .worker import exercise_cells

__all__ = ["CELL_TIMEOUT", "TOTAL_TIMEOUT", "RULE", "STATUS", "GradingError", "format_report", "grade_all",
           "grade_notebook", "identify_lesson", "load_lesson", "load_lessons", "main", "read_submission",
           "score_exercise", "write_gradebook"]

CELL_TIMEOUT, TOTAL_TIMEOUT = 120, 900
CHECK_RESERVE = 120  # seconds of --timeout kept for the check phase (at most a third of it)


class SandboxUnavailable(RuntimeError):
    """No sandbox here: the message says why and that ``--no-sandbox`` grades without one."""


# ----------------------------------------------------------------------------- one submission


def grade_notebook(path: Path, lessons: dict | None = None, cell_timeout: float = CELL_TIMEOUT,
                   total_timeout: float = TOTAL_TIMEOUT, lesson: str | None = None, student: str | None = None,
                   *, sandbox: bool = True, limits: sandboxing.Limits | None = None) -> dict:
    """Grade one submission; returns the report dict (never raises for a bad submission)."""
    path = Path(path)
    lessons = load_lessons() if lessons is None else lessons
    limits = limits or sandboxing.Limits()
    report = {"student": student or path.stem, "file": str(path), "lesson": None, "score": 0, "max": None,
              "runtime_s": 0.0, "error": None, "exercises": [], "cells": {}, "sandbox": bool(sandbox)}
    start = time.monotonic()
    try:
        nb = read_submission(path)
        found = identify_lesson(nb, lessons, path.stem)
        if lesson and found["name"] != lesson:
            raise GradingError(f"this notebook is for lesson {found['name']}, not {lesson}")
    except GradingError as exc:
        report["error"] = str(exc)
        return report
    report["lesson"], report["max"] = found["name"], sum(e["points"] for e in found["exercises"])
    reserve = min(CHECK_RESERVE, total_timeout / 3)
    tmp = Path(tempfile.mkdtemp(prefix=f"grade_{re.sub(r'[^A-Za-z0-9_-]', '_', path.stem)[:40]}_"))
    try:
        os.chmod(tmp, 0o755)
        run = run_phase(path, tmp, cell_timeout, total_timeout - reserve, sandbox, limits)
        left = total_timeout - (time.monotonic() - start)
        results, timed_out, log = check_phase(path, found, tmp, max(reserve, left), sandbox, limits, cell_timeout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    run["grading_output"] = {e["id"]: log for e in found["exercises"] if e["id"] not in results}
    if timed_out:
        results = {**{e["id"]: {"timeout": round(max(reserve, left))} for e in found["exercises"]}, **results}
    _score(report, nb, found, run, results)
    report["cell_timeout_s"], report["total_timeout_s"] = cell_timeout, total_timeout
    report["runtime_s"] = round(time.monotonic() - start, 1)
    return report


def _score(report: dict, nb, lesson: dict, run: dict, results: dict) -> None:
    """Fill ``report`` with each exercise's score, the total and what happened to the cells."""
    cells = exercise_cells(nb["cells"], lesson)
    report["exercises"] = [score_exercise(ex, results.get(ex["id"]), cells.get(ex["id"]), run)
                           for ex in lesson["exercises"]]
    report["score"] = sum(e["points"] for e in report["exercises"])
    report["cells"] = {k: run[k] for k in ("errors", "timeouts", "not_run", "kernel")}
    if run["kernel"] in ("dead", "stuck", "failed", "timeout") and not report["error"]:
        report["error"] = {"dead": "the kernel died", "stuck": "the kernel did not respond after a timeout",
                           "failed": "the notebook could not be run", "timeout": "the run hit the total time limit"
                           }[run["kernel"]] + "; the exercises were still checked from its definitions"


# ----------------------------------------------------------------------------- a class

def grader_fingerprint(solutions: Path = SOLUTIONS) -> str:
    """What the grade depends on besides the submission: the solutions and the course's code."""
    h = hashlib.sha256()
    for p in sorted([*Path(solutions).glob("[0-9][0-9]_*.ipynb"), *(ROOT / "course_utils").rglob("*.py")]):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _fingerprint(path: Path, grader: str, settings: dict) -> str:
    return hashlib.sha256(path.read_bytes() + grader.encode() + json.dumps(settings, sort_keys=True).encode()
                          ).hexdigest()


def _earlier(out: Path, student: str, fingerprint: str) -> dict | None:
    try:
        report = json.loads((out / f"{student}.json").read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("fingerprint") == fingerprint else None


def prepare_data(lessons_needed: set) -> None:
    """Stage the data the lessons read, outside the sandbox (inside, the data folder is read-only)."""
    from ..kit.data import DataNotFoundError, fashion_mnist_tensors

    try:
        fashion_mnist_tensors(train=False)
        if any(name.startswith("05") for name in lessons_needed):
            from ..kit.flowers import flowers_tensors

            flowers_tensors(image_size=32, limit=8)
    except (DataNotFoundError, TypeError, OSError, RuntimeError):
        pass  # the lessons' own cells then report it in each submission


def grade_all(paths: list[str], out: Path, cell_timeout: float = CELL_TIMEOUT, total_timeout: float = TOTAL_TIMEOUT,
              lesson: str | None = None, solutions: Path = SOLUTIONS, echo=None, *, jobs: int = 1,
              sandbox: bool = True, limits: sandboxing.Limits | None = None) -> list[dict]:
    """Grade every submission (``jobs`` at once); write each one's reports and the gradebook as it finishes."""
    if sandbox and (why := sandboxing.why_unavailable()):
        raise SandboxUnavailable(f"no sandbox for the submissions: {why}. Grading runs students' code: install "
                                 "bubblewrap, or pass --no-sandbox to grade without one (the machine's files and "
                                 "network are then not protected).")
    lessons = load_lessons(solutions)
    wanted = pick_lesson(lessons, lesson) if lesson else None
    todo, out = submissions(paths), check_out_folder(out)  # SystemExit before anything is written
    out.mkdir(parents=True, exist_ok=True)
    students, names = [], set()
    for path in todo:
        student, k = path.stem, 1
        while student in names:
            k += 1
            student = f"{path.stem}_{k}"
        names.add(student)
        students.append(student)
    grader = grader_fingerprint(solutions)
    settings = {"cell_timeout": cell_timeout, "total_timeout": total_timeout, "lesson": wanted,
                "sandbox": bool(sandbox)}
    prints = [_fingerprint(p, grader, settings) for p in todo]
    reports: list[dict | None] = [_earlier(out, s, f) for s, f in zip(students, prints)]
    book = Gradebook(out / GRADEBOOK, lessons, echo or print)
    if any(r is not None for r in reports):
        book.write(reports)
    kept = sum(r is not None for r in reports)
    if kept and echo:
        echo(f"{kept} submission(s) unchanged since their last grading: their reports are kept")
    prepare_data({wanted} if wanted else set(lessons))

    def one(i: int) -> dict:
        report = grade_notebook(todo[i], lessons, cell_timeout, total_timeout, wanted, students[i],
                                sandbox=sandbox, limits=limits)
        report["fingerprint"] = prints[i]
        write_text_atomic(out / f"{students[i]}.json", json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        write_text_atomic(out / f"{students[i]}.txt", format_report(report))
        return report

    pending = [i for i, r in enumerate(reports) if r is None]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, i): i for i in pending}
        for future in as_completed(futures):
            i = futures[future]
            reports[i] = future.result()
            book.write(reports)
            if echo:
                r = reports[i]
                echo(f"{todo[i]}: {r['score']}/{r['max'] if r['max'] is not None else '-'} "
                     f"({r['runtime_s']} s){'  ' + r['error'] if r['error'] else ''}")
    book.write(reports)
    return reports


def main(argv=None) -> int:
    """``python -m course_utils.grade``: grade the paths given, print the report(s); 1 if some could not be graded."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a submission .ipynb, or a folder of them")
    parser.add_argument("--out", default="grades", help="folder for the reports and gradebook.csv (default: grades)")
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT, metavar="S",
                        help=f"seconds one cell may run (default {CELL_TIMEOUT})")
    parser.add_argument("--timeout", type=float, default=TOTAL_TIMEOUT, metavar="S",
                        help=f"seconds one submission may take, running and checks together (default {TOTAL_TIMEOUT})")
    parser.add_argument("--lesson", help="only accept this lesson (name or number, e.g. 03)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="grade N submissions at once (default 1)")
    parser.add_argument("--memory-mb", type=int, default=sandboxing.Limits.memory_mb, metavar="MB",
                        help="address space per process of a submission (default %(default)s)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without bubblewrap (only where it is unavailable: files and network unprotected)")
    args = parser.parse_args(argv)
    try:
        reports = grade_all(args.paths, Path(args.out), args.cell_timeout, args.timeout, args.lesson,
                            echo=lambda line: print(line, flush=True), jobs=args.jobs, sandbox=not args.no_sandbox,
                            limits=sandboxing.Limits(memory_mb=args.memory_mb))
    except SandboxUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if len(reports) == 1:
        print(format_report(reports[0]), end="")
    print(f"gradebook: {Path(args.out) / GRADEBOOK}")
    return 1 if any(r["lesson"] is None or r["error"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
