"""Generate the student lessons in ``notebooks/`` from the solution notebooks in ``solutions/``.

Solutions are the single source. In a solution's code cell, the lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are what students write; in the lesson they become
a stub that raises ``NotImplementedError``. Markdown between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->`` is dropped, and so are cells tagged ``solution-only``. Outputs and
execution counts are cleared in both.

Each lesson records the sha256 of its generated content (``metadata["course"]["generated_sha256"]``,
computed with that field left out). A lesson edited since it was generated is not overwritten: the
generator says so and exits 1, unless ``--force``. Every file is written atomically (a temporary file
renamed into place), so an interrupted run never leaves half a notebook.

Every lesson starts with the setup cell of :mod:`course_utils.tools.hosted` (it installs ``course_utils`` on
Colab and Kaggle, and does nothing locally). Lessons carry what JupyterLab adds to a notebook it
opens (cell ids, ``kernelspec``, the kernel's full ``language_info``), so that opening one does not
mark it modified (see :data:`LANGUAGE_INFO`).

    python -m course_utils.lessons           # regenerate notebooks/ (and strip solutions/)
    python -m course_utils.lessons --check   # exit 1 if anything is out of date
    python -m course_utils.lessons --force   # also overwrite lessons edited by hand
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from pathlib import Path

from ..kit.env import REPO_ROOT
from ..kit.files import write_text_atomic
from .hosted import setup_cell

ROOT = REPO_ROOT
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->\n?", re.S)
STUB = 'raise NotImplementedError("Exercise: write your code here")'

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3", "version": "3.11.7"}
"""What ipykernel reports as ``language_info``. JupyterLab writes the kernel's ``language_info`` into a
notebook when its kernel starts and marks the notebook modified unless the file already holds exactly
that (checked in a browser: ``{"name": "python"}`` alone opened modified, this dict did not). The
version is the Python of the course's machines (3.11.7); with another Python, the one change
JupyterLab then makes is that version number."""


CONFLICT = re.compile(r"^(<{7}|={7}|>{7})(\s|$)", re.M)


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


class SourceError(ValueError):
    """A solution notebook cannot be read (not JSON, a merge conflict): the message says where and what to do."""


def read_solution(path: Path) -> dict:
    """A solution notebook as a dict; :class:`SourceError` naming the file, the line and the fix otherwise."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        conflict = CONFLICT.search(text)
        if conflict:
            line = text.count("\n", 0, conflict.start()) + 1
            raise SourceError(f"{path}: line {line} has a git merge-conflict marker ({conflict.group(1)}): resolve "
                              "the conflict first (keep the right side, delete the <<<<<<< / ======= / >>>>>>> "
                              "lines), then run python -m course_utils.lessons again") from exc
        raise SourceError(f"{path} is not valid notebook JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}. "
                          "Fix that line (or restore the file from git) and run again") from exc


def cell_source(cell: dict) -> str:
    """A cell's source as one string (notebook files store a string or a list of lines)."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _lines(source) -> list[str]:
    return cell_source({"source": source}).split("\n")


def strip_solution_code(source, where: str = "") -> str:
    """Replace every BEGIN/END SOLUTION block by an indented ``raise NotImplementedError``."""
    out, inside = [], False
    for line in _lines(source):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{where}: nested {BEGIN}")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif stripped == END:
            if not inside:
                raise MarkerError(f"{where}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {BEGIN} without {END}")
    return "\n".join(out)


def clean_cell(cell: dict) -> dict:
    cell = dict(cell)
    if cell["cell_type"] == "code":
        cell["outputs"], cell["execution_count"] = [], None
    cell["source"] = cell_source(cell)
    return cell


def make_lesson(solution: dict, name: str = "", setup: dict | None = None) -> dict:
    """The student version of a solution notebook (a new dict; the input is not modified).

    ``setup``: a cell to put first (:func:`plan` passes the hosted setup cell).
    """
    lesson = dict(solution, nbformat=4, nbformat_minor=max(5, solution.get("nbformat_minor", 5)))
    lesson["metadata"] = {**copy.deepcopy(solution.get("metadata", {})), "kernelspec": KERNELSPEC,
                          "language_info": LANGUAGE_INFO}
    cells = [copy.deepcopy(setup)] if setup is not None else []
    for i, cell in enumerate(solution["cells"]):
        if "solution-only" in cell.get("metadata", {}).get("tags", []):
            continue
        cell = clean_cell(cell)
        if cell["cell_type"] == "code":
            cell["source"] = strip_solution_code(cell["source"], f"{name} cell {i}")
        elif cell["cell_type"] == "markdown":
            cell["source"] = MD_BLOCK.sub("", cell["source"])
        cells.append(cell)
    lesson["cells"] = with_cell_ids(cells)
    return with_hash(lesson)


def with_cell_ids(cells: list[dict]) -> list[dict]:
    """Give every cell without an ``id`` a unique, stable one (nbformat 4.5 requires them; JupyterLab
    adds them on open, and the notebook then counts as modified)."""
    taken = {c["id"] for c in cells if c.get("id")}
    out = []
    for i, cell in enumerate(cells):
        if not cell.get("id"):
            new_id, k = f"lesson-{i:02d}", 1
            while new_id in taken:
                new_id, k = f"lesson-{i:02d}-{k}", k + 1
            cell = dict(cell, id=new_id)
            taken.add(new_id)
        out.append(cell)
    return out


def _without_hash(nb: dict) -> dict:
    nb = dict(nb, metadata=copy.deepcopy(nb.get("metadata", {})))
    course = nb["metadata"].get("course", {})
    course.pop("generated_sha256", None)
    if not course:
        nb["metadata"].pop("course", None)
    return nb


def content_hash(nb: dict) -> str:
    """sha256 of the notebook as generated, the ``generated_sha256`` field left out."""
    return hashlib.sha256(dumps(_without_hash(nb)).encode()).hexdigest()


def with_hash(nb: dict) -> dict:
    nb = _without_hash(nb)
    nb["metadata"].setdefault("course", {})["generated_sha256"] = content_hash(nb)
    return nb


def hand_edited(path: Path) -> str | None:
    """Why the lesson at ``path`` looks edited since it was generated (None: it is as generated)."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        recorded = nb["metadata"]["course"]["generated_sha256"]
    except (ValueError, KeyError, TypeError):
        return "it has no record of being generated (metadata course.generated_sha256)"
    return None if content_hash(nb) == recorded else "its content changed since it was generated"


def strip_outputs(nb: dict) -> dict:
    nb = dict(nb)
    nb["cells"] = [clean_cell(c) for c in nb["cells"]]
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def plan(root: Path = ROOT) -> dict[Path, str]:
    """Every file this script owns, mapped to the text it should hold."""
    files = {}
    for sol in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        nb = read_solution(sol)
        files[sol] = dumps(strip_outputs(nb))
        files[root / "notebooks" / sol.name] = dumps(make_lesson(nb, sol.name, setup=setup_cell()))
    return files


def _refusal(path: Path, why: str, root: Path) -> str:
    return (f"not overwritten: {path.relative_to(root)}: {why}. Lessons are generated from solutions/: make "
            f"the edits in solutions/{path.name} and run python -m course_utils.lessons again "
            "(--force overwrites the lesson; its edits are lost)")


def _check(files: dict[Path, str], root: Path) -> int:
    stale = [p for p, text in files.items() if not p.exists() or p.read_text() != text]
    extra = [p for p in (root / "notebooks").glob("*.ipynb") if not (root / "solutions" / p.name).exists()]
    for p in stale:
        edited = hand_edited(p) if p.exists() and p.parent == root / "notebooks" else None
        print(f"out of date: {p.relative_to(root)} (run: python -m course_utils.lessons)"
              + (f"; edited by hand: {edited}" if edited else ""))
    for p in extra:
        print(f"lesson without a solution: {p.relative_to(root)}")
    return 1 if stale or extra else 0


def _write(files: dict[Path, str], root: Path, force: bool) -> int:
    refused = 0
    for p, text in files.items():
        if p.exists() and p.read_text() == text:
            continue
        why = hand_edited(p) if p.exists() and p.parent == root / "notebooks" and not force else None
        if why:
            print(_refusal(p, why, root), file=sys.stderr)
            refused += 1
            continue
        write_text_atomic(p, text)  # a temporary file renamed into place: never half a notebook
        print(f"wrote {p.relative_to(root)}")
    return 1 if refused else 0


def main(argv=None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    parser.add_argument("--force", action="store_true", help="also overwrite lessons edited by hand")
    args = parser.parse_args(argv)
    root = Path(root)
    try:
        files = plan(root)
    except (SourceError, MarkerError) as exc:
        print(f"course_utils.tools.lessons: {exc}", file=sys.stderr)
        return 1
    return _check(files, root) if args.check else _write(files, root, args.force)


if __name__ == "__main__":
    sys.exit(main())
