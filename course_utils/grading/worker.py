"""The check phase: grade a submission's exercises in a fresh process that loads every check first.

    python -m course_utils.grading.worker LESSON.json SUBMISSION.ipynb --result-fd N

The grader starts this process (in its own sandbox, apart from the run phase) and reads the verdicts from
file descriptor ``N``, one JSON line per exercise. In order, it

1. imports the lesson's self-checks, the hidden checks and the references (:mod:`course_utils.grading.hidden`)
   **before any code of the submission exists in the process**, so nothing the submission defines can
   replace them;
2. takes from the submission only what the exercises need: the ``import`` statements of its code cells and the
   ``def``/``class`` statements of its exercise cells, each run on its own in a fresh namespace; anything else
   at the top level of an exercise cell is reported and not run (:func:`definitions`);
3. for each exercise, binds the names the lesson's *other* exercises define to the course's references (one
   mistake costs its own points once), runs the self-check, then (if it passed) the hidden checks, then the
   "written in the notebook" check, which also fails a definition that only forwards to a course reference
   (:func:`forwards_to_course`);
4. flags for the instructor's review any exercise code that names the process's machinery (``os``, ``sys``,
   ``gc``, frames, ``open``...): :data:`REVIEW_NAMES`.

What this cannot prevent, and the report therefore flags: a function the checks call runs in this process,
so code written to tamper with the checker from inside such a call could fake that one submission's
result. The sandbox keeps it from touching anything else.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import importlib
import json
import os
import signal
import sys
import traceback
from contextlib import contextmanager

from .exercises import cell_source, code_trees

SUBMISSION_MODULE = "__submission__"
REVIEW_NAMES = {"os", "sys", "subprocess", "ctypes", "builtins", "__builtins__", "__import__", "importlib", "gc",
                "inspect", "_getframe", "f_back", "f_globals", "f_locals", "open", "exec", "eval", "compile",
                "globals", "signal", "socket", "multiprocessing", "threading", "fork", "_exit", "write",
                "__subclasses__", "__globals__", "__code__", "pickle", "marshal", "shutil", "pathlib"}


def load_trusted(lesson: dict):
    """``(check functions by name, hidden checks by exercise id, references)``: imported before student code."""
    trusted = {}
    for ex in lesson["exercises"]:
        for name, module in ex["trusted"].items():
            trusted[name] = getattr(importlib.import_module(module), name)
    hidden = importlib.import_module("course_utils.grading.hidden")
    importlib.import_module("course_utils.kit.checking")
    return trusted, hidden.HIDDEN, hidden.REFERENCES


def exercise_cells(cells: list, lesson: dict) -> dict[str, int]:
    """Which cell holds each exercise: by the cell's ``exercise`` metadata id, else by its def/class names."""
    where = {}
    for i, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("exercise")
        if cell.get("cell_type") == "code" and isinstance(meta, dict) and meta.get("id"):
            where.setdefault(meta["id"], i)
    for ex in lesson["exercises"]:
        if ex["id"] in where:
            continue
        for i, tree in code_trees(cells):
            names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            if set(ex["names"]) & names:
                where[ex["id"]] = i
                break
    return where


def definitions(cells: list, lesson: dict) -> tuple[list, dict]:
    """``(statements to run, {cell: [what was not run]})``: every cell's imports, the exercise cells' defs."""
    exercise_at = set(exercise_cells(cells, lesson).values())
    keep, skipped = [], {}
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell_source(cell))
        except SyntaxError as exc:
            if i in exercise_at:
                skipped.setdefault(i, []).append(f"the cell does not parse: {exc.msg} (line {exc.lineno})")
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                keep.append((i, node))
            elif i in exercise_at and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                keep.append((i, node))
            elif i in exercise_at and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
                skipped.setdefault(i, []).append(f"line {node.lineno}: {ast.unparse(node).splitlines()[0][:80]}")
    return keep, skipped


def build_namespace(statements: list) -> tuple[dict, dict]:
    """Run each kept statement on its own; ``(namespace, {name: why its definition failed})``."""
    ns = {"__name__": SUBMISSION_MODULE, "__builtins__": builtins}
    failed = {}
    for cell, node in statements:
        code = compile(ast.Module(body=[node], type_ignores=[]), f"<cell {cell}>", "exec")
        try:
            exec(code, ns)  # noqa: S102 - the submission's definitions, in the sandbox
        except BaseException as exc:  # noqa: BLE001 - a failing import or def is the submission's problem
            if isinstance(exc, (KeyboardInterrupt, SystemExit)) and not isinstance(node, ast.ClassDef):
                raise
            names = [node.name] if hasattr(node, "name") else [a.asname or a.name for a in node.names]
            for name in names:
                failed[name.split(".")[0]] = f"cell {cell}, line {node.lineno}: {type(exc).__name__}: {exc}"
    return ns, failed


@contextmanager
def bound(ns: dict, values: dict):
    """Set ``ns[name] = value`` for each item while the block runs; restore (or remove) them afterwards."""
    missing = object()
    saved = {name: ns.get(name, missing) for name in values}
    ns.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is missing:
                ns.pop(name, None)
            else:
                ns[name] = old


def run_check(title: str, fn, failed: dict | None = None) -> dict:
    """``fn()`` returns a CheckReport; its items as JSON-ready lists, or one failed item saying what went wrong."""
    from course_utils.kit.checking import describe_error

    try:
        r = fn()
    except NameError as exc:
        name = getattr(exc, "name", None)
        why = (failed or {}).get(name)
        return {"title": title, "name_error": True,
                "items": [[False, f"{exc}: " + (f"its definition failed ({why})" if why else
                                                "the exercise cell does not define it")]]}
    except Exception as exc:  # noqa: BLE001 - any student error becomes a message
        return {"title": title, "items": [[False, describe_error(f"the exercise code run by {title}", exc)]]}
    items = getattr(r, "items", None)
    if not isinstance(items, list):
        return {"title": title, "items": [[False, f"{title} returned {type(r).__name__}, not a check report"]]}
    return {"title": str(getattr(r, "title", title)), "items": [[bool(ok), str(m)] for ok, m in items]}


def _course_object(value) -> bool:
    module = getattr(value, "__module__", None) or getattr(value, "__name__", "")
    return isinstance(module, str) and module.split(".")[0] == "course_utils"


def forwards_to_course(node, ns: dict) -> str | None:
    """What a definition only forwards to (a course_utils object), or None when it does its own work."""
    body = [s for s in getattr(node, "body", []) if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if isinstance(node, ast.ClassDef):
        bases = [ast.unparse(b) for b in node.bases]
        trivial = all(isinstance(s, ast.Pass) for s in body)
        course_bases = [b for b in bases if _course_object(_lookup(b, ns))]
        return course_bases[0] if course_bases and trivial else None
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    value = body[0].value
    target = value.func if isinstance(value, ast.Call) else value
    if not isinstance(target, (ast.Name, ast.Attribute)):
        return None
    name = ast.unparse(target)
    return name if _course_object(_lookup(name, ns)) else None


def _lookup(dotted: str, ns: dict):
    head, *rest = dotted.split(".")
    obj = ns.get(head)
    for part in rest:
        obj = getattr(obj, part, None)
    return obj


def own_code(ns: dict, names: list[str], nodes: dict) -> list[list]:
    """``[ok, message]`` per name the exercise defines: written in the notebook, doing its own work."""
    items = []
    for name in names:
        if name not in ns:
            continue
        where = getattr(ns[name], "__module__", SUBMISSION_MODULE)
        if where != SUBMISSION_MODULE:
            items.append([False, f"{name} is {where}.{getattr(ns[name], '__qualname__', name)}, imported rather "
                                 "than written in the notebook: write your own in the exercise cell"])
            continue
        target = forwards_to_course(nodes[name], ns) if name in nodes else None
        items.append([target is None, f"{name} is written in the notebook" if target is None else
                      f"{name} only forwards to the course's {target}: write the computation yourself"])
    return items


def review_notes(nodes: list) -> list[str]:
    """Names in an exercise cell's definitions that reach the process's machinery: shown to the instructor,
    not scored (a definition named like one, ``def __import__``, counts too)."""
    notes = []
    for node in nodes:
        name = node.name
        seen = {name} if name in REVIEW_NAMES or (name.startswith("__") and name.endswith("__")) else set()
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in REVIEW_NAMES:
                seen.add(n.id)
            elif isinstance(n, ast.Attribute) and n.attr in REVIEW_NAMES:
                seen.add(n.attr)
        if seen:
            notes.append(f"{name} uses {', '.join(sorted(seen))}: review it by hand")
    return notes


def grade_exercise(ex: dict, lesson: dict, ns: dict, failed: dict, nodes: dict, trusted: dict, hidden: dict,
                   references: dict, cell_nodes: list | None = None) -> dict:
    """One exercise's verdicts, as the report reads them (``check``, ``hidden``, ``own_code``, ``review``).
    ``cell_nodes``: every definition of the exercise's cell (default: the exercise's own)."""
    mine = cell_nodes if cell_nodes is not None else [nodes[n] for n in ex["names"] if n in nodes]
    out = {"id": ex["id"], "check": None, "hidden": [], "own_code": [], "review": review_notes(mine)}
    others = {n for e in lesson["exercises"] if e["id"] != ex["id"] for n in e["names"]} - set(ex["names"])
    with bound(ns, {n: references[n] for n in sorted(others) if n in references}):
        env = {**ns, **ex.get("settings", {}), **trusted}  # the solution's settings, never the submission's
        out["check"] = run_check(ex["check"], lambda: eval(ex["check"], env), failed)  # noqa: S307 - ours
        if out["check"]["items"] and all(ok for ok, _ in out["check"]["items"]):
            out["hidden"] = [run_check(f"hidden check {fn.__name__}", lambda fn=fn: fn(env), failed)
                             for fn in hidden.get(ex["id"], [])]
    out["own_code"] = own_code(ns, ex["names"], nodes)
    return out


class ExerciseTimeout(BaseException):
    """An exercise's checks ran past their time (a BaseException: ``except Exception`` in student code misses it)."""


@contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`ExerciseTimeout` in this (main) thread after ``seconds`` (None: no limit)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise ExerciseTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def grade_submission(nb: dict, lesson: dict, emit) -> None:
    """Grade every exercise of ``nb`` (a notebook dict), calling ``emit(result)`` as each one finishes.

    Each exercise's checks get ``lesson["exercise_timeout"]`` seconds (the grader's ``--cell-timeout``).
    """
    trusted, hidden, references = load_trusted(lesson)  # before any of the submission's code
    statements, skipped = definitions(nb["cells"], lesson)
    nodes = {n.name: n for _, n in statements if hasattr(n, "name")}
    ns, failed = build_namespace(statements)
    cells = exercise_cells(nb["cells"], lesson)
    by_cell = {}
    for cell, node in statements:
        if hasattr(node, "name"):
            by_cell.setdefault(cell, []).append(node)
    for ex in lesson["exercises"]:
        try:
            with time_limit(lesson.get("exercise_timeout")):
                result = grade_exercise(ex, lesson, ns, failed, nodes, trusted, hidden, references,
                                        by_cell.get(cells.get(ex["id"]), []))
        except ExerciseTimeout:
            result = {"id": ex["id"], "timeout": lesson.get("exercise_timeout")}
        except BaseException:  # noqa: BLE001 - a SystemExit from student code ends nothing but this exercise
            result = {"id": ex["id"], "check": {"error": "the checks raised:\n" + traceback.format_exc(limit=3)},
                      "hidden": [], "own_code": [], "review": []}
        if "timeout" not in result:
            result["not_run"] = skipped.get(cells.get(ex["id"]), [])
        emit(result)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lesson")
    parser.add_argument("submission")
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args(argv)
    lesson = json.loads(open(args.lesson).read())
    nb = json.loads(open(args.submission, encoding="utf-8").read())
    channel = os.fdopen(args.result_fd, "w", buffering=1)

    def emit(result):
        channel.write(json.dumps(result) + "\n")
        channel.flush()

    grade_submission(nb, lesson, emit)
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
