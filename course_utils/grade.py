"""Grade student notebooks: run each in a fresh kernel, then run every exercise's checks.

    python -m course_utils.grade SUBMISSION.ipynb              # one notebook
    python -m course_utils.grade submissions/ --out grades/     # every .ipynb in a folder

Each submission is copied into its own temporary folder and run there in quick mode
(``COURSE_QUICK=1``) in a fresh kernel, with a per-cell and a total time limit; a cell that raises
does not stop the run. The grader then runs, in the same kernel, for every exercise of the lesson:
the lesson's self-check (the ``check`` expression in the solution's cell metadata), the hidden
checks of :mod:`course_utils.grading_hidden`, and a check that the exercise's functions and classes
were written in the notebook rather than imported from ``course_utils``. An exercise scores its
points only if all of them pass. Points, ids and checks come from ``solutions/`` (cell metadata
``"exercise": {"id", "points", "check"}``), never from the submission.

Writes ``<student>.json`` and ``<student>.txt`` per submission and ``gradebook.csv`` (student =
file stem) into ``--out``; an earlier, different ``gradebook.csv`` there is moved aside to
``gradebook.<its time>.csv`` first. Exit status 1 when some submission could not be graded at all,
and before grading anything when no notebook is found or ``--out`` is a file.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from .grade_files import GRADEBOOK, check_out_folder, replace_gradebook, submissions

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
SOLUTION_MARKER = "### BEGIN SOLUTION"
CELL_TIMEOUT, TOTAL_TIMEOUT = 120, 900
RULE = ("An exercise scores its points only if the lesson's self-check, the grader's hidden checks "
        "and the 'written in the notebook' check all pass.")


class GradingError(Exception):
    """The submission cannot be graded at all (not a notebook, not a lesson, ...): the message says why."""


# ----------------------------------------------------------------------------- lessons

def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _defined_names(source: str) -> list[str]:
    """Top-level ``def`` and ``class`` names of a cell (regex fallback when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return re.findall(r"^(?:def|class)\s+(\w+)", source, re.M)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _course_imports(cells) -> dict[str, str]:
    """Names the notebook imports from ``course_utils`` modules: {name: module}."""
    out = {}
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "course_utils":
                for alias in node.names:
                    out[alias.asname or alias.name] = node.module
    return out


def load_lesson(path: Path) -> dict:
    """A solution notebook's exercises: id, points, check, the cell's defined names, trusted imports."""
    nb = json.loads(Path(path).read_text())
    imports = _course_imports(nb["cells"])
    exercises = []
    for index, cell in enumerate(nb["cells"]):
        meta = cell.get("metadata", {}).get("exercise")
        if cell.get("cell_type") != "code" or not meta:
            continue
        try:
            names = {n.id for n in ast.walk(ast.parse(meta["check"], mode="eval")) if isinstance(n, ast.Name)}
        except SyntaxError as exc:
            raise ValueError(f"{Path(path).name} cell {index}: check {meta['check']!r} is not an expression") from exc
        exercises.append({"id": meta["id"], "points": meta["points"], "check": meta["check"],
                          "names": _defined_names(_source(cell)), "cell": index,
                          "trusted": {n: imports[n] for n in sorted(names) if n in imports}})
    return {"name": Path(path).stem, "path": str(path), "exercises": exercises}


def load_lessons(solutions: Path = SOLUTIONS) -> dict[str, dict]:
    """Every lesson in ``solutions/`` that declares exercises in its cell metadata."""
    lessons = {}
    for path in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb")):
        lesson = load_lesson(path)
        if lesson["exercises"]:
            lessons[lesson["name"]] = lesson
    return lessons


def _lessons_without_metadata(solutions: Path = SOLUTIONS) -> dict[str, set]:
    """Solutions with exercise cells but no ``exercise`` metadata: {name: the names those cells define}."""
    out = {}
    for path in sorted(Path(solutions).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        if not any(c.get("metadata", {}).get("exercise") for c in cells):
            out[path.stem] = {n for c in cells if c.get("cell_type") == "code" and SOLUTION_MARKER in _source(c)
                              for n in _defined_names(_source(c))}
    return out


def read_submission(path: Path) -> dict:
    """The notebook as a dict (nbformat 4); a clear :class:`GradingError` when it is not one."""
    import nbformat

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GradingError(f"{path.name} is not a notebook: it is not UTF-8 text ({exc.reason})") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GradingError(f"{path.name} is not a valid notebook: invalid JSON at line {exc.lineno}, "
                           f"column {exc.colno} ({exc.msg}). Was it saved from Jupyter?") from exc
    if not isinstance(raw, dict) or not ("cells" in raw or "worksheets" in raw):
        raise GradingError(f"{path.name} is JSON but not a Jupyter notebook (no 'cells' list)")
    try:
        with warnings.catch_warnings():  # cells without ids (older nbformat) are fine
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any nbformat failure is the submission's problem
        raise GradingError(f"{path.name} is not a valid notebook: {type(exc).__name__}: {exc}") from exc
    for cell in nb.cells:
        cell.setdefault("metadata", {})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def identify_lesson(nb, lessons: dict, stem: str = "") -> dict:
    """The lesson whose exercise ids (cell metadata) or exercise names (def/class) the notebook has."""
    ids = {c["metadata"].get("exercise", {}).get("id") for c in nb["cells"]
           if isinstance(c.get("metadata", {}).get("exercise"), dict)} - {None}
    defined = {n for c in nb["cells"] if c.get("cell_type") == "code" for n in _defined_names(_source(c))}
    scores = {}
    for name, lesson in lessons.items():
        lesson_ids = {e["id"] for e in lesson["exercises"]}
        lesson_names = {n for e in lesson["exercises"] for n in e["names"]}
        scores[name] = (len(ids & lesson_ids), len(defined & lesson_names) / max(1, len(lesson_names)))
    best = max(scores.values(), default=(0, 0))
    for name, names in _lessons_without_metadata().items() if best == (0, 0) else ():
        if names and len(defined & names) >= len(names) / 2:
            raise GradingError(f"this looks like lesson {name}, whose solution declares no exercises yet "
                               "(cell metadata 'exercise': id, points, check), so it cannot be graded")
    if best == (0, 0):
        what = f"exercise ids {sorted(ids)}" if ids else "no exercise metadata and no exercise function or class"
        raise GradingError(f"matches no lesson: the notebook has {what}; the lessons are "
                           f"{', '.join(lessons) or '(none)'}. Is this a notebook of this course?")
    tied = [name for name, s in scores.items() if s == best]
    if len(tied) > 1:
        by_number = [name for name in tied if re.search(rf"(?<!\d){name[:2]}(?!\d)", stem)]
        if len(by_number) != 1:
            raise GradingError(f"matches several lessons equally ({', '.join(tied)}); name the file after "
                               "its lesson number (e.g. alice_03.ipynb) or pass --lesson")
        tied = by_number
    return lessons[tied[0]]


def _pick_lesson(lessons: dict, wanted: str) -> str:
    hits = [n for n in lessons
            if n == wanted or (wanted.isdigit() and n[:2] == wanted.zfill(2)) or n.split("_", 1)[-1] == wanted]
    if len(hits) != 1:
        raise SystemExit(f"--lesson {wanted!r}: expected one of {', '.join(lessons)} (or its number)")
    return hits[0]


# ----------------------------------------------------------------------------- in the kernel

def _kernel_grade(ns: dict, spec_json: str, nonce: str) -> None:
    """Run one exercise's checks in the submission's kernel; print the result as JSON between markers.

    The self-check functions are re-imported (``importlib.reload``) so a notebook that redefines or
    patches them cannot change the verdict.
    """
    import importlib
    import traceback

    spec = json.loads(spec_json)
    out = {"id": spec["id"], "check": None, "hidden": [], "own_code": []}
    fresh, reloaded = {}, {}

    def module(name):
        if name not in reloaded:
            reloaded[name] = importlib.reload(importlib.import_module(name))
        return reloaded[name]

    try:
        for name, mod in spec["trusted"].items():
            obj = getattr(module(mod), name)
            real = getattr(obj, "__module__", "") or ""
            if real != mod and real.split(".")[0] == "course_utils":
                obj = getattr(module(real), getattr(obj, "__name__", name))
            fresh[name] = obj
        hidden = module("course_utils.grading_hidden").HIDDEN.get(spec["id"], [])
    except Exception:  # noqa: BLE001
        out["check"] = {"error": "the grader could not import its checks:\n" + traceback.format_exc(limit=3)}
        print(f"<<{nonce}>>{json.dumps(out)}<<{nonce}>>")
        return
    env = {**ns, **fresh}

    def report(title, fn):
        try:
            r = fn()
        except NotImplementedError:
            return {"title": title, "items": [[False, f"not implemented yet: {title} raised NotImplementedError"]]}
        except NameError as exc:
            return {"title": title, "items": [[False, f"{exc}: the exercise cell did not run to the end"]],
                    "name_error": True}
        except KeyError as exc:
            return {"title": title, "items": [[False, f"{exc.args[0]} is not defined: the exercise cell did not "
                                                      "run to the end"]], "name_error": True}
        except Exception as exc:  # noqa: BLE001 - any student error becomes a message
            return {"title": title, "items": [[False, f"{title} raised {type(exc).__name__}: {exc}"]]}
        items = getattr(r, "items", None)
        if not isinstance(items, list):
            return {"title": title, "items": [[False, f"{title} returned {type(r).__name__}, not a check report"]]}
        return {"title": str(getattr(r, "title", title)), "items": [[bool(ok), str(m)] for ok, m in items]}

    out["check"] = report(spec["check"], lambda: eval(spec["check"], env))  # noqa: S307 - our own expression
    if out["check"]["items"] and all(ok for ok, _ in out["check"]["items"]):
        for fn in hidden:
            out["hidden"].append(report(f"hidden check {fn.__name__}", lambda fn=fn: fn(env)))
    for name in spec["names"]:
        if name in ns:
            where = getattr(ns[name], "__module__", "__main__")
            ok = where == "__main__"
            out["own_code"].append([ok, f"{name} is written in the notebook" if ok else
                                    f"{name} is {where}.{getattr(ns[name], '__qualname__', name)}, imported "
                                    "rather than written in the notebook: write your own in the exercise cell"])
    print(f"<<{nonce}>>{json.dumps(out)}<<{nonce}>>")


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
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell

    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1", COURSE_RUNS_DIR=str(workdir / "runs"),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    on_timeout = {"ename": TIMED_OUT, "evalue": "", "traceback": []}
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, error_on_timeout=on_timeout,
                            record_timing=False, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    run = {"errors": [], "timeouts": [], "not_run": [], "kernel": "ok", "results": {}, "grading_output": {}}
    start, n_cells = time.monotonic(), len(nb.cells)
    # the kernel's own log lines (not the notebook's output) would clutter the grader's terminal
    async with client.async_setup_kernel(env=env, cwd=str(workdir), stderr=subprocess.DEVNULL):
        for index, cell in enumerate(nb.cells[:n_cells]):
            if cell.cell_type != "code" or not _source(cell).strip():
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
            run["timeouts"].append({"cell": index, "limit_s": round(limit),
                                    "total_limit": limit < cell_timeout})
            if status != "timeout":
                run["kernel"] = status
        for ex in lesson["exercises"]:
            if run["kernel"] != "ok":
                break
            nonce = secrets.token_hex(8)
            spec = json.dumps({k: ex[k] for k in ("id", "check", "names", "trusted")})
            code = ("__import__('importlib').reload(__import__('importlib').import_module('course_utils.grade'))"
                    f"._kernel_grade(globals(), {spec!r}, {nonce!r})")
            nb.cells.append(new_code_cell(code))
            cell = nb.cells[-1]
            status = await _execute(client, cell, len(nb.cells) - 1, cell_timeout)
            if status == "ok":
                m = re.search(rf"<<{nonce}>>(.*?)<<{nonce}>>", _stdout(cell), re.S)
                run["results"][ex["id"]] = json.loads(m.group(1)) if m else None
                if not m:
                    run["grading_output"][ex["id"]] = (_cell_error(cell) or _stdout(cell))[-500:]
            else:
                run["results"][ex["id"]] = {"timeout": cell_timeout}
                if status != "timeout":
                    run["kernel"] = status
    del nb.cells[n_cells:]  # the grader's own cells
    return run


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
                if cell.cell_type == "code" and set(ex["names"]) & set(_defined_names(_source(cell))):
                    where[ex["id"]] = i
                    break
    return where


def _score_exercise(ex: dict, result, cell: int | None, run: dict) -> dict:
    row = {"id": ex["id"], "max_points": ex["points"], "points": 0, "cell": cell, "messages": [], "checks": []}
    cell_timeout = next((t for t in run["timeouts"] if t["cell"] == cell), None)
    cell_error = next((e["error"] for e in run["errors"] if e["cell"] == cell), None)
    row["cell_error"] = (f"timed out after {cell_timeout['limit_s']} s" if cell_timeout else cell_error)
    if result is None:
        if run["kernel"] != "ok":
            row["status"] = "not_graded"
            row["messages"] = [f"not graded: the kernel {'died' if run['kernel'] == 'dead' else 'hung'} "
                               "before the grader could check this exercise"]
        else:
            row["status"] = "error"
            detail = run["grading_output"].get(ex["id"], "")
            row["messages"] = ["the grading check produced no result" + (f": {detail}" if detail else "")]
        return row
    if "timeout" in result:
        row["status"] = "timeout"
        row["messages"] = [f"the checks did not finish within {result['timeout']:g} s: an infinite loop or a "
                           "very slow function in this exercise?"]
        return row
    parts = [result["check"]] + result["hidden"] + ([{"title": "own code", "items": result["own_code"]}]
                                                     if result["own_code"] else [])
    row["checks"] = [{"title": p.get("title", ""), "items": p.get("items", []), "error": p.get("error")}
                     for p in parts]
    if result["check"].get("error"):
        row["status"], row["messages"] = "error", [result["check"]["error"]]
        return row
    failures = [m for p in parts for ok, m in p["items"] if not ok]
    passed = bool(result["check"]["items"]) and not failures
    if not passed and result["check"].get("name_error") and row["cell_error"]:
        failures = [f"{failures[0]} (its cell {cell} {'timed out' if cell_timeout else 'raised ' + cell_error})"
                    ] + failures[1:]
    row["messages"] = failures
    row["points"] = ex["points"] if passed else 0
    if passed:
        row["status"] = "passed"
    elif any("NotImplementedError" in m for m in failures):
        row["status"] = "not_implemented"
    else:
        row["status"] = "failed"
    return row


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
    cells = _exercise_cells(nb, found)
    report["exercises"] = [_score_exercise(ex, run["results"].get(ex["id"]), cells.get(ex["id"]), run)
                           for ex in found["exercises"]]
    report["score"] = sum(e["points"] for e in report["exercises"])
    report["cells"] = {k: run[k] for k in ("errors", "timeouts", "not_run", "kernel")}
    report["cell_timeout_s"], report["total_timeout_s"] = cell_timeout, total_timeout
    if run["kernel"] in ("dead", "stuck") and not report["error"]:
        report["error"] = ("the kernel died" if run["kernel"] == "dead"
                           else "the kernel did not respond after a timeout") + "; later exercises not graded"
    report["runtime_s"] = round(time.monotonic() - start, 1)
    return report


# ----------------------------------------------------------------------------- reports

STATUS = {"passed": "PASS", "failed": "FAIL", "not_implemented": "TODO", "error": "ERROR", "timeout": "TIME",
          "not_graded": "SKIP"}


def format_report(report: dict) -> str:
    lines = [f"Grade report: {report['student']} ({Path(report['file']).name})"]
    if report["lesson"] is None:
        return "\n".join(lines + [f"NOT GRADED: {report['error']}"]) + "\n"
    lines.append(f"Lesson {report['lesson']}: {report['score']} / {report['max']} points, "
                 f"graded in {report['runtime_s']} s (quick mode, cell limit {report['cell_timeout_s']:g} s, "
                 f"total limit {report['total_timeout_s']:g} s)")
    if report["error"]:
        lines.append(f"Problem: {report['error']}")
    cells = report["cells"]
    for t in cells.get("timeouts", []):
        which = "total" if t["total_limit"] else "per-cell"
        lines.append(f"Cell {t['cell']} hit the {which} time limit ({t['limit_s']} s) and was interrupted.")
    for e in cells.get("errors", []):
        lines.append(f"Cell {e['cell']} raised {e['error']}")
    if cells.get("not_run"):
        lines.append(f"Cells not run (time limit or kernel failure): {cells['not_run']}")
    lines += ["", RULE, ""]
    width = max(len(e["id"]) for e in report["exercises"]) if report["exercises"] else 10
    for e in report["exercises"]:
        lines.append(f"[{STATUS[e['status']]:>5}] {e['id']:<{width}}  {e['points']}/{e['max_points']}")
        lines += [f"          - {m}" for m in e["messages"]]
    return "\n".join(lines) + "\n"


def _columns(reports: list[dict], lessons: dict) -> list[tuple[str, str, str]]:
    """(column name, lesson, exercise id) for every exercise of the lessons seen, in lesson order."""
    seen = sorted({r["lesson"] for r in reports if r["lesson"]})
    pairs = [(name, e["id"]) for name in seen for e in lessons[name]["exercises"]]
    ids = [i for _, i in pairs]
    return [(i if ids.count(i) == 1 else f"{name[:2]}:{i}", name, i) for name, i in pairs]


def write_gradebook(reports: list[dict], lessons: dict, path: Path, echo=print) -> None:
    """Write the gradebook; an earlier, different one at ``path`` is moved aside first (and ``echo`` says so)."""
    cols = _columns(reports, lessons)
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["student", "lesson"] + [c for c, _, _ in cols] + ["total", "max", "runtime_s", "error"])
    for r in reports:
        pts = {(r["lesson"], e["id"]): e["points"] for e in r["exercises"]}
        w.writerow([r["student"], r["lesson"] or ""] + [pts.get((lesson, i), "") for _, lesson, i in cols]
                   + [r["score"], "" if r["max"] is None else r["max"], r["runtime_s"], r["error"] or ""])
    replace_gradebook(path, buf.getvalue(), echo)


def grade_all(paths: list[str], out: Path, cell_timeout: float = CELL_TIMEOUT, total_timeout: float = TOTAL_TIMEOUT,
              lesson: str | None = None, solutions: Path = SOLUTIONS, echo=None) -> list[dict]:
    """Grade every submission, write ``<student>.json``/``.txt`` and ``gradebook.csv`` into ``out``."""
    lessons = load_lessons(solutions)
    wanted = _pick_lesson(lessons, lesson) if lesson else None
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
