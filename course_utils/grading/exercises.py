"""The grader's view of the lessons: exercises read from ``solutions/``, submissions read and matched.

Points, ids and checks always come from the solution notebooks (cell metadata
``"exercise": {"id", "points", "check"}``), never from the submission. A submission is matched to its
lesson by exercise ids in its cell metadata, else by the names its cells define.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path

from ..kit.env import REPO_ROOT
from ..tools.lessons import cell_source  # noqa: F401 - re-exported

ROOT = REPO_ROOT
SOLUTIONS = ROOT / "solutions"
SOLUTION_MARKER = "### BEGIN SOLUTION"


class GradingError(Exception):
    """The submission cannot be graded at all (not a notebook, not a lesson, ...): the message says why."""


def defined_names(source: str) -> list[str]:
    """Top-level ``def`` and ``class`` names of a cell (regex fallback when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return re.findall(r"^(?:def|class)\s+(\w+)", source, re.M)
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def code_trees(cells):
    """``(index, syntax tree)`` of each code cell that parses (reading a cell runs none of it)."""
    for i, cell in enumerate(cells):
        if cell.get("cell_type") != "code":
            continue
        try:
            yield i, ast.parse(cell_source(cell))
        except SyntaxError:
            continue


def _course_imports(cells) -> dict[str, str]:
    """Names the notebook imports from ``course_utils`` modules: {name: module}."""
    out = {}
    for _, tree in code_trees(cells):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "course_utils":
                for alias in node.names:
                    out[alias.asname or alias.name] = node.module
    return out


def _literal_settings(cells) -> dict:
    """The solution's settings its checks may name (``latent_dim = 100``; ``quick(full, reduced)`` gives the
    reduced value: grading runs in quick mode). Only literals: reading them runs no code."""
    out = {}
    for _, tree in code_trees(cells):
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            value = node.value
            if (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "quick"
                    and len(value.args) == 2):
                value = value.args[1]
            try:
                out[node.targets[0].id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
    return out


def load_lesson(path: Path) -> dict:
    """A solution notebook's exercises: id, points, check, the cell's defined names, trusted imports."""
    nb = json.loads(Path(path).read_text())
    imports = _course_imports(nb["cells"])
    settings = _literal_settings(nb["cells"])
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
                          "names": defined_names(cell_source(cell)), "cell": index,
                          "trusted": {n: imports[n] for n in sorted(names) if n in imports},
                          "settings": {n: settings[n] for n in sorted(names) if n in settings and n not in imports}})
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
            out[path.stem] = {n for c in cells if c.get("cell_type") == "code" and SOLUTION_MARKER in cell_source(c)
                              for n in defined_names(cell_source(c))}
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
    defined = {n for c in nb["cells"] if c.get("cell_type") == "code" for n in defined_names(cell_source(c))}
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


def pick_lesson(lessons: dict, wanted: str) -> str:
    """The lesson ``--lesson`` names (its name, number or name without the number); SystemExit otherwise."""
    hits = [n for n in lessons
            if n == wanted or (wanted.isdigit() and n[:2] == wanted.zfill(2)) or n.split("_", 1)[-1] == wanted]
    if len(hits) != 1:
        raise SystemExit(f"--lesson {wanted!r}: expected one of {', '.join(lessons)} (or its number)")
    return hits[0]
