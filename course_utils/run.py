"""Run a lesson notebook headless, without Jupyter: ``python -m course_utils.run NOTEBOOK [--quick]``.

Code cells run in order in one namespace, as in a kernel; the value of a cell's last expression is
printed, figures are saved next to the run (``runs/<notebook>/figure_NN.png``). Lines starting with
``%`` or ``!`` (IPython magics) are skipped. Used for full-length runs on machines without Jupyter.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from pathlib import Path


def cell_sources(path: Path) -> list[str]:
    nb = json.loads(Path(path).read_text())
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
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
    if args.quick:
        os.environ["COURSE_QUICK"] = "1"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(__file__).resolve().parent.parent / "runs" / args.notebook.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    namespace = {"__name__": "__main__"}
    start, n_fig = time.perf_counter(), 0
    for i, src in enumerate(cell_sources(args.notebook)):
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
