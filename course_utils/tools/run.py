"""Run a lesson notebook headless, without Jupyter: ``python -m course_utils.run NOTEBOOK [--quick]``.

Code cells run in order in one namespace, as in a kernel; the value of a cell's last expression is
printed, figures are saved next to the run (``runs/<notebook>/figure_NN.png``; ``COURSE_RUNS_DIR``
moves ``runs/``, as for the lessons' own runs). Lines starting with ``%`` or ``!`` (IPython magics)
are skipped. Used for full-length runs on machines without Jupyter.

The notebook is checked first (a file, notebook JSON with a ``cells`` list): a bad path is answered
with what is wrong, and nothing is created.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path

from ..kit.env import runs_dir
from .lessons import cell_source

EXAMPLE = "notebooks/01_generator.ipynb"


class NotebookError(ValueError):
    """The path is not a notebook that can be run: the message says what is wrong and what to give."""


def _parse(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{path} is not a notebook: it is not UTF-8 text ({exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = f"; to run a Python script use: python {path}" if path.suffix == ".py" else ""
        raise NotebookError(f"{path} is not a notebook: invalid JSON at line {exc.lineno}, column {exc.colno} "
                            f"({exc.msg}). Give a .ipynb file saved by Jupyter, e.g. {EXAMPLE}{hint}") from exc


def read_notebook(path: Path) -> dict:
    """The notebook at ``path`` as a dict; :class:`NotebookError` saying what is wrong otherwise."""
    path = Path(path)
    if not path.exists():
        raise NotebookError(f"{path}: no such file. Give the path of a notebook, e.g. {EXAMPLE}")
    if not path.is_file():
        found = sorted(q.name for q in path.glob("*.ipynb"))[:3]
        raise NotebookError(f"{path} is a folder, not a notebook: give one .ipynb file"
                            + (f", e.g. {path / found[0]}" if found else f", e.g. {EXAMPLE}"))
    nb = _parse(path)
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{path} is JSON but not a Jupyter notebook (no 'cells' list): "
                            f"give a .ipynb file saved by Jupyter, e.g. {EXAMPLE}")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or "cell_type" not in cell or "source" not in cell:
            raise NotebookError(f"{path}: cell {i} is not a notebook cell (it needs 'cell_type' and 'source'); "
                                "was the file edited by hand? Open and save it in Jupyter")
    return nb


def cell_sources(path: Path) -> list[str]:
    nb = read_notebook(path)
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = cell_source(cell)
        out.append("\n".join(line for line in src.split("\n") if not line.lstrip().startswith(("%", "!"))))
    return out


def run_cell(source: str, namespace: dict, name: str) -> None:
    tree = ast.parse(source, filename=name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
        if value is not None:
            print(repr(value))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--quick", action="store_true", help="set COURSE_QUICK=1 for this run")
    args = parser.parse_args(argv)
    try:
        sources = cell_sources(args.notebook)  # before anything is created
    except NotebookError as exc:
        print(f"course_utils.tools.run: {exc}", file=sys.stderr)
        return 2
    if args.quick:
        os.environ["COURSE_QUICK"] = "1"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = runs_dir() / args.notebook.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    namespace = {"__name__": "__main__"}
    start, n_fig = time.perf_counter(), 0
    for i, src in enumerate(sources):
        print(f"--- cell {i} ---", flush=True)
        run_cell(src, namespace, f"{args.notebook.name}[{i}]")
        for num in plt.get_fignums():
            n_fig += 1
            plt.figure(num).savefig(out_dir / f"figure_{n_fig:02d}.png", dpi=80)
        plt.close("all")
        sys.stdout.flush()
    print(f"--- done in {time.perf_counter() - start:.1f} s; figures in {out_dir} ---")
    return 0


if __name__ == "__main__":
    sys.exit(main())
