"""Run a lesson notebook headless, without Jupyter: ``python -m course_utils.run NOTEBOOK [--quick]``.

Code cells run in order in one namespace, as in a kernel; the value of a cell's last expression is
printed, figures are saved next to the run (``runs/<notebook>/figure_NN.png``; ``COURSE_RUNS_DIR``
moves ``runs/``, as for the lessons' own runs), and so is each section's time (``sections.json``: the
seconds of the code cells under each ``#``/``##`` heading; ``--time-step`` adds this CPU's lesson-3 step,
timed right after, which :mod:`course_utils.tools.sections` scales the record by). Lines starting with
``%`` or ``!`` (IPython magics) are skipped. Used for full-length runs on machines without Jupyter.

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
import types
from pathlib import Path

from ..kit.env import cpu_name, runs_dir
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
    return [src for _, src in sectioned_sources(path)]


def sectioned_sources(path: Path) -> list[tuple[str, str]]:
    """Each code cell of the notebook at ``path`` as ``(section, source)``: the section is the last ``#``/``##``
    heading above the cell (``###`` subsections belong to their section); magics are dropped (plumbing)."""
    nb = read_notebook(path)
    out, section = [], ""
    for cell in nb["cells"]:
        src = cell_source(cell)
        if cell["cell_type"] == "markdown":
            for line in src.split("\n"):
                if line.startswith(("# ", "## ")):
                    section = line.lstrip("#").strip()
            continue
        if cell["cell_type"] == "code":
            out.append((section, "\n".join(line for line in src.split("\n")
                                           if not line.lstrip().startswith(("%", "!")))))
    return out


def section_times(sections: list[str], seconds: list[float]) -> list[list]:
    """``[[section, seconds], ...]`` in the notebook's order, the cells of each section summed (plumbing)."""
    out: list[list] = []
    for name, s in zip(sections, seconds):
        if out and out[-1][0] == name:
            out[-1][1] += s
        else:
            out.append([name, s])
    return [[name, round(s, 2)] for name, s in out]


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
    parser.add_argument("--time-step", action="store_true",
                        help="after the run, time lesson 3's CPU step and add it to sections.json")
    args = parser.parse_args(argv)
    try:
        sectioned = sectioned_sources(args.notebook)  # before anything is created
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
    main = types.ModuleType("__main__")  # as in a kernel: the notebook's names are __main__'s, so a function
    namespace = main.__dict__  # defined in a cell can be pickled to a forked child (course_utils.kit.parallel)
    before, sys.modules["__main__"] = sys.modules.get("__main__"), main
    start, n_fig, seconds = time.perf_counter(), 0, []
    try:
        for i, (_, src) in enumerate(sectioned):
            print(f"--- cell {i} ---", flush=True)
            t0 = time.perf_counter()
            run_cell(src, namespace, f"{args.notebook.name}[{i}]")
            seconds.append(time.perf_counter() - t0)
            for num in plt.get_fignums():
                n_fig += 1
                plt.figure(num).savefig(out_dir / f"figure_{n_fig:02d}.png", dpi=80)
            plt.close("all")
            sys.stdout.flush()
    finally:
        sys.modules["__main__"] = before
    total = time.perf_counter() - start
    record = {"notebook": args.notebook.name, "quick": bool(args.quick), "total_s": round(total, 1),
              "cpu": cpu_name(), "sections": section_times([name for name, _ in sectioned], seconds)}
    if args.time_step:  # this CPU's lesson-3 step right after the run: what scales the record to other machines
        from ..lesson3.timing import time_lesson3_step

        record["cpu_step_s"] = round(time_lesson3_step(25, "cpu", warmup=5), 5)
    (out_dir / "sections.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"--- done in {total:.1f} s; figures and section times (sections.json) in {out_dir} ---")
    return 0


if __name__ == "__main__":
    sys.exit(main())
