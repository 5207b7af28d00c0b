"""Generate the student lessons in ``notebooks/`` from the solution notebooks in ``solutions/``.

Solutions are the single source. In a solution's code cell, the lines between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` are what students write; in the lesson they become
a stub that raises ``NotImplementedError``. Markdown between ``<!-- BEGIN SOLUTION -->`` and
``<!-- END SOLUTION -->`` is dropped, and so are cells tagged ``solution-only``. Outputs and
execution counts are cleared in both.

    python -m course_utils.lessons           # regenerate notebooks/ (and strip solutions/)
    python -m course_utils.lessons --check   # exit 1 if anything is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MD_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->\n?", re.S)
STUB = 'raise NotImplementedError("Exercise: write your code here")'


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def _lines(source) -> list[str]:
    text = "".join(source) if isinstance(source, list) else source
    return text.split("\n")


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
    cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return cell


def make_lesson(solution: dict, name: str = "") -> dict:
    """The student version of a solution notebook (a new dict; the input is not modified)."""
    lesson = dict(solution)
    cells = []
    for i, cell in enumerate(solution["cells"]):
        if "solution-only" in cell.get("metadata", {}).get("tags", []):
            continue
        cell = clean_cell(cell)
        if cell["cell_type"] == "code":
            cell["source"] = strip_solution_code(cell["source"], f"{name} cell {i}")
        elif cell["cell_type"] == "markdown":
            cell["source"] = MD_BLOCK.sub("", cell["source"])
        cells.append(cell)
    lesson["cells"] = cells
    return lesson


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
        nb = json.loads(sol.read_text())
        files[sol] = dumps(strip_outputs(nb))
        files[root / "notebooks" / sol.name] = dumps(make_lesson(nb, sol.name))
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    args = parser.parse_args(argv)
    stale = [p for p, text in plan().items() if not p.exists() or p.read_text() != text]
    extra = [p for p in (ROOT / "notebooks").glob("*.ipynb") if not (ROOT / "solutions" / p.name).exists()]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)} (run: python -m course_utils.lessons)")
        for p in extra:
            print(f"lesson without a solution: {p.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    for p, text in plan().items():
        if not p.exists() or p.read_text() != text:
            p.write_text(text)
            print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
