"""The grader's verdicts and what it writes: one exercise's score, the readable report, the gradebook.

:func:`score_exercise` turns the kernel's check results into points and a status (``passed``,
``failed``, ``not_implemented``, ``error``, ``timeout``, ``not_graded``); :func:`format_report`
writes the ``STUDENT.txt`` report; :func:`write_gradebook` the ``gradebook.csv`` (an earlier, different
one is moved aside first, see :mod:`course_utils.grading.files`).
"""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

from ..kit.files import write_text_atomic
from .files import replace_gradebook

RULE = ("An exercise scores its points only if the lesson's self-check, the grader's hidden checks "
        "and the 'written in the notebook' check all pass.")


def score_exercise(ex: dict, result, cell: int | None, run: dict) -> dict:
    """One exercise's row of the report: points, status, messages, every check; from the kernel's ``result``."""
    row = {"id": ex["id"], "max_points": ex["points"], "points": 0, "cell": cell, "messages": [], "checks": []}
    cell_timeout = next((t for t in run["timeouts"] if t["cell"] == cell), None)
    cell_error = next((e["error"] for e in run["errors"] if e["cell"] == cell), None)
    row["cell_error"] = (f"timed out after {cell_timeout['limit_s']} s" if cell_timeout else cell_error)
    if result is None or "timeout" in result:
        return {**row, **_no_result(ex, result, run)}
    row["not_run"] = [str(x) for x in result.get("not_run", [])][:20]
    row["review"] = [str(x) for x in result.get("review", [])][:20]
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


def _no_result(ex: dict, result, run: dict) -> dict:
    """Status and message when the checks gave no verdict: they timed out, the kernel died, or no output."""
    if result is not None:
        return {"status": "timeout", "messages": [f"the checks did not finish within {result['timeout']:g} s: "
                                                  "an infinite loop or a very slow function in this exercise?"]}
    if run["kernel"] != "ok":
        how = "died" if run["kernel"] == "dead" else "hung"
        return {"status": "not_graded",
                "messages": [f"not graded: the kernel {how} before the grader could check this exercise"]}
    detail = run["grading_output"].get(ex["id"], "")
    return {"status": "error",
            "messages": ["the grading check produced no result" + (f": {detail}" if detail else "")]}


STATUS = {"passed": "PASS", "failed": "FAIL", "not_implemented": "TODO", "error": "ERROR", "timeout": "TIME",
          "not_graded": "SKIP"}


def format_report(report: dict) -> str:
    """The readable ``STUDENT.txt`` report: the score, cell problems, one line per exercise and its failures."""
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
        lines += [f"          - not run (only imports, def and class are graded): {m}" for m in e.get("not_run", [])]
        lines += [f"          - REVIEW: {m}" for m in e.get("review", [])]
    return "\n".join(lines) + "\n"


def _columns(reports: list[dict], lessons: dict) -> list[tuple[str, str, str]]:
    """(column name, lesson, exercise id) for every exercise of the lessons seen, in lesson order."""
    seen = sorted({r["lesson"] for r in reports if r["lesson"]})
    pairs = [(name, e["id"]) for name in seen for e in lessons[name]["exercises"]]
    ids = [i for _, i in pairs]
    return [(i if ids.count(i) == 1 else f"{name[:2]}:{i}", name, i) for name, i in pairs]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """A gradebook cell a spreadsheet shows as text: a string starting like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_gradebook(reports: list[dict], lessons: dict, path: Path, echo=print) -> None:
    """Write the gradebook; an earlier, different one at ``path`` is moved aside first (and ``echo`` says so)."""
    replace_gradebook(path, gradebook_text(reports, lessons), echo)


def gradebook_text(reports: list[dict], lessons: dict) -> str:
    """The gradebook as CSV text: one row per submission, spreadsheet-safe cells (:func:`cell`)."""
    cols = _columns(reports, lessons)
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(["student", "lesson"] + [c for c, _, _ in cols] + ["total", "max", "runtime_s", "error", "review"])
    for r in reports:
        pts = {(r["lesson"], e["id"]): e["points"] for e in r["exercises"]}
        review = sum(len(e.get("review", [])) for e in r["exercises"])
        w.writerow([cell(x) for x in [r["student"], r["lesson"] or ""]
                    + [pts.get((lesson, i), "") for _, lesson, i in cols]
                    + [r["score"], "" if r["max"] is None else r["max"], r["runtime_s"], r["error"] or "",
                       review or ""]])
    return buf.getvalue()


class Gradebook:
    """The gradebook of one grading run, rewritten (atomically) each time a submission finishes.

    The first write of the run moves an earlier, different gradebook aside; later writes replace this run's own.
    """

    def __init__(self, path: Path, lessons: dict, echo=print):
        self.path, self.lessons, self.echo = Path(path), lessons, echo
        self.lock, self.started = threading.Lock(), False

    def write(self, reports: list) -> None:
        with self.lock:
            text = gradebook_text([r for r in reports if r is not None], self.lessons)
            if self.started:
                write_text_atomic(self.path, text)
            else:
                replace_gradebook(self.path, text, self.echo)
                self.started = True
