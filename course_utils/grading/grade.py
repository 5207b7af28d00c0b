"""Grade student notebooks: run each in a fresh kernel, then run every exercise's checks.

    python -m course_utils.grade SUBMISSION.ipynb              # one notebook
    python -m course_utils.grade submissions/ --out grades/     # every .ipynb in a folder

Each submission is copied into its own temporary folder and run there in quick mode
(``COURSE_QUICK=1``) in a fresh kernel, with a per-cell and a total time limit; a cell that raises
does not stop the run. The grader then runs, in the same kernel, for every exercise of the lesson:
the lesson's self-check (the ``check`` expression in the solution's cell metadata), the hidden
checks of :mod:`course_utils.grading.hidden`, and a check that the exercise's functions and classes
were written in the notebook rather than imported from ``course_utils``, with the lesson's other
exercises replaced by their ``course_utils`` references (so one mistake costs its own points once).
An exercise scores its points only if all of them pass. Points, ids and checks come from ``solutions/`` (cell metadata
``"exercise": {"id", "points", "check"}``), never from the submission.

Writes ``<student>.json`` and ``<student>.txt`` per submission and ``gradebook.csv`` (student =
file stem) into ``--out``; an earlier, different ``gradebook.csv`` there is moved aside to
``gradebook.<its time>.csv`` first. Exit status 1 when some submission could not be graded at all,
and before grading anything when no notebook is found or ``--out`` is a file.

This module runs the submissions; :mod:`course_utils.grading.exercises` reads lessons and submissions,
:mod:`course_utils.grading.kernel` is the part that runs inside the kernel, and
:mod:`course_utils.grading.report` scores and writes the reports and the gradebook.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..tools.lessons import cell_source
from .exercises import (
    ROOT,
    SOLUTIONS,
    GradingError,
    defined_names,
    identify_lesson,
    load_lesson,
    load_lessons,
    pick_lesson,
    read_submission,
)
from .files import GRADEBOOK, check_out_folder, submissions
from .kernel import kernel_cell, read_result
from .report import RULE, STATUS, format_report, score_exercise, write_gradebook

__all__ = ["CELL_TIMEOUT", "TOTAL_TIMEOUT", "RULE", "STATUS", "GradingError", "format_report", "grade_all",
           "grade_notebook", "identify_lesson", "load_lesson", "load_lessons", "main", "read_submission",
           "score_exercise", "write_gradebook"]

CELL_TIMEOUT, TOTAL_TIMEOUT = 120, 900


# ----------------------------------------------------------------------------- running a submission

def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


TIMED_OUT = "GraderCellTimeout"


async def _execute(client, cell, index: int, timeout: float) -> str:
    """Run one cell: 'ok', 'timeout' (interrupted, and the kernel answers again), 'stuck' or 'dead'."""
    from nbclient.exceptions import DeadKernelError
    from nbformat.v4 import new_code_cell

    replies = []
    client.on_cell_executed = lambda **kw: replies.append(kw.get("execute_reply") or {})

    async def run(cell, index, timeout):
        replies.clear()
        client.timeout = max(1, int(timeout))
        await client.async_execute_cell(cell, index)
        return bool(replies) and replies[-1].get("content", {}).get("ename") == TIMED_OUT

    try:
        if not await run(cell, index, timeout):
            return "ok"
        client.nb.cells.append(new_code_cell("pass"))  # nbclient stores a cell back at its index
        stuck = await run(client.nb.cells[-1], len(client.nb.cells) - 1, 20)
        return "stuck" if stuck else "timeout"
    except DeadKernelError:
        return "dead"


async def _run_async(nb, lesson: dict, workdir: Path, cell_timeout: float, total_timeout: float) -> dict:
    """Run the notebook's cells in a fresh kernel, then each exercise's grading cell; what happened, as a dict."""
    from nbclient import NotebookClient

    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1", COURSE_RUNS_DIR=str(workdir / "runs"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    on_timeout = {"ename": TIMED_OUT, "evalue": "", "traceback": []}
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, error_on_timeout=on_timeout,
                            record_timing=False, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    run = {"errors": [], "timeouts": [], "not_run": [], "kernel": "ok", "results": {}, "grading_output": {}}
    n_cells = len(nb.cells)
    # the kernel's own log lines (not the notebook's output) would clutter the grader's terminal
    async with client.async_setup_kernel(env=env, cwd=str(workdir), stderr=subprocess.DEVNULL):
        await _run_cells(client, nb, run, cell_timeout, total_timeout)
        await _grade_exercises(client, nb, lesson, run, cell_timeout)
    del nb.cells[n_cells:]  # the grader's own cells
    return run


async def _run_cells(client, nb, run: dict, cell_timeout: float, total_timeout: float) -> None:
    """The submission's code cells in order; errors, timeouts and cells not run go into ``run``."""
    start = time.monotonic()
    for index, cell in enumerate(list(nb.cells)):
        if cell.cell_type != "code" or not cell_source(cell).strip():
            continue
        left = total_timeout - (time.monotonic() - start)
        if left < 1 or run["kernel"] != "ok":
            run["not_run"].append(index)
            continue
        limit = min(cell_timeout, left)
        status = await _execute(client, cell, index, limit)
        if status == "ok":
            if _cell_error(cell):
                run["errors"].append({"cell": index, "error": _cell_error(cell)})
            continue
        run["timeouts"].append({"cell": index, "limit_s": round(limit), "total_limit": limit < cell_timeout})
        if status != "timeout":
            run["kernel"] = status


async def _grade_exercises(client, nb, lesson: dict, run: dict, cell_timeout: float) -> None:
    """One grading cell per exercise (see :mod:`course_utils.grading.kernel`); its result into ``run``."""
    from nbformat.v4 import new_code_cell

    for ex in lesson["exercises"]:
        if run["kernel"] != "ok":
            break
        nonce = secrets.token_hex(8)
        nb.cells.append(new_code_cell(kernel_cell(lesson, ex, nonce)))
        cell = nb.cells[-1]
        status = await _execute(client, cell, len(nb.cells) - 1, cell_timeout)
        if status == "ok":
            result = read_result(_stdout(cell), nonce)
            run["results"][ex["id"]] = result
            if result is None:
                run["grading_output"][ex["id"]] = (_cell_error(cell) or _stdout(cell))[-500:]
        else:
            run["results"][ex["id"]] = {"timeout": cell_timeout}
            if status != "timeout":
                run["kernel"] = status


def _exercise_cells(nb, lesson: dict) -> dict[str, int]:
    """Which cell of the submission holds each exercise: by metadata id, else by its def/class names."""
    where = {}
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("exercise")
        if isinstance(meta, dict) and meta.get("id"):
            where.setdefault(meta["id"], i)
    for ex in lesson["exercises"]:
        if ex["id"] not in where:
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and set(ex["names"]) & set(defined_names(cell_source(cell))):
                    where[ex["id"]] = i
                    break
    return where


def grade_notebook(path: Path, lessons: dict | None = None, cell_timeout: float = CELL_TIMEOUT,
                   total_timeout: float = TOTAL_TIMEOUT, lesson: str | None = None, student: str | None = None) -> dict:
    """Grade one submission; returns the report dict (never raises for a bad submission)."""
    import asyncio

    path = Path(path)
    lessons = load_lessons() if lessons is None else lessons
    report = {"student": student or path.stem, "file": str(path), "lesson": None, "score": 0, "max": None,
              "runtime_s": 0.0, "error": None, "exercises": [], "cells": {}}
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
    workdir = Path(tempfile.mkdtemp(prefix=f"grade_{re.sub(r'[^A-Za-z0-9_-]', '_', path.stem)}_"))
    try:
        shutil.copyfile(path, workdir / "submission.ipynb")
        try:
            run = asyncio.run(_run_async(nb, found, workdir, cell_timeout, total_timeout))
        except Exception as exc:  # noqa: BLE001 - kernel failed to start, ...
            report["error"] = f"could not run the notebook: {type(exc).__name__}: {exc}"
            run = {"errors": [], "timeouts": [], "not_run": [], "kernel": "failed", "results": {},
                   "grading_output": {}}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _score(report, nb, found, run)
    report["cell_timeout_s"], report["total_timeout_s"] = cell_timeout, total_timeout
    report["runtime_s"] = round(time.monotonic() - start, 1)
    return report


def _score(report: dict, nb, lesson: dict, run: dict) -> None:
    """Fill ``report`` with each exercise's score, the total and what happened to the cells."""
    cells = _exercise_cells(nb, lesson)
    report["exercises"] = [score_exercise(ex, run["results"].get(ex["id"]), cells.get(ex["id"]), run)
                           for ex in lesson["exercises"]]
    report["score"] = sum(e["points"] for e in report["exercises"])
    report["cells"] = {k: run[k] for k in ("errors", "timeouts", "not_run", "kernel")}
    if run["kernel"] in ("dead", "stuck") and not report["error"]:
        report["error"] = ("the kernel died" if run["kernel"] == "dead"
                           else "the kernel did not respond after a timeout") + "; later exercises not graded"


def grade_all(paths: list[str], out: Path, cell_timeout: float = CELL_TIMEOUT, total_timeout: float = TOTAL_TIMEOUT,
              lesson: str | None = None, solutions: Path = SOLUTIONS, echo=None) -> list[dict]:
    """Grade every submission, write ``<student>.json``/``.txt`` and ``gradebook.csv`` into ``out``."""
    lessons = load_lessons(solutions)
    wanted = pick_lesson(lessons, lesson) if lesson else None
    todo, out = submissions(paths), check_out_folder(out)  # SystemExit before anything is written
    out.mkdir(parents=True, exist_ok=True)
    reports, names = [], set()
    for path in todo:
        student, k = path.stem, 1
        while student in names:
            k += 1
            student = f"{path.stem}_{k}"
        names.add(student)
        report = grade_notebook(path, lessons, cell_timeout, total_timeout, wanted, student)
        reports.append(report)
        (out / f"{student}.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
        (out / f"{student}.txt").write_text(format_report(report))
        if echo:
            echo(f"{path}: {report['score']}/{report['max'] if report['max'] is not None else '-'} "
                 f"({report['runtime_s']} s){'  ' + report['error'] if report['error'] else ''}")
    write_gradebook(reports, lessons, out / GRADEBOOK, echo or print)
    return reports


def main(argv=None) -> int:
    """``python -m course_utils.grade``: grade the paths given, print the report(s); 1 if some could not be graded."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", metavar="PATH", help="a submission .ipynb, or a folder of them")
    parser.add_argument("--out", default="grades", help="folder for the reports and gradebook.csv (default: grades)")
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT, metavar="S",
                        help=f"seconds one cell may run (default {CELL_TIMEOUT})")
    parser.add_argument("--timeout", type=float, default=TOTAL_TIMEOUT, metavar="S",
                        help=f"seconds the whole notebook may run (default {TOTAL_TIMEOUT})")
    parser.add_argument("--lesson", help="only accept this lesson (name or number, e.g. 03)")
    args = parser.parse_args(argv)
    reports = grade_all(args.paths, Path(args.out), args.cell_timeout, args.timeout, args.lesson,
                        echo=lambda line: print(line, flush=True))
    if len(reports) == 1:
        print(format_report(reports[0]), end="")
    print(f"gradebook: {Path(args.out) / GRADEBOOK}")
    return 1 if any(r["lesson"] is None or r["error"] for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
