"""The run phase: execute a submission's cells in a fresh kernel (inside the sandbox) and say what happened.

    python -m course_utils.grading.runner SUBMISSION.ipynb RUN.json --cell-timeout S --timeout S

Each code cell runs with a per-cell and a total time limit; a cell that raises does not stop the run. The
outputs kept are capped (:data:`OUTPUT_LIMIT` bytes in all; a print flood is cut, not held in memory).
``RUN.json`` says which cells raised, timed out or were not run, and whether the kernel survived. It only
feeds the report's messages: points come from the checks, run in a separate process
(:mod:`course_utils.grading.worker`) that never sees this one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from ..tools.lessons import cell_source

OUTPUT_LIMIT = 2_000_000  # bytes of cell output kept in all
TIMED_OUT = "GraderCellTimeout"


def _cell_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:2000]
    return None


def _client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """A client that keeps at most ``OUTPUT_LIMIT`` bytes of output (errors are always kept)."""

        kept = 0
        dropped = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            if msg.get("msg_type") != "error" and self.kept + size > OUTPUT_LIMIT:
                self.dropped += size
                return None
            self.kept += size
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


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


async def run_cells(nb, cell_timeout: float, total_timeout: float) -> dict:
    """Run the notebook's code cells in order in a fresh kernel; what happened, as a dict."""
    client_class = _client_class()
    on_timeout = {"ename": TIMED_OUT, "evalue": "", "traceback": []}
    client = client_class(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                          interrupt_on_timeout=True, error_on_timeout=on_timeout, record_timing=False,
                          startup_timeout=120)
    run = {"errors": [], "timeouts": [], "not_run": [], "kernel": "ok", "output_dropped_bytes": 0}
    start = time.monotonic()
    async with client.async_setup_kernel():
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
    run["output_dropped_bytes"] = client.dropped
    return run


def main(argv=None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook")
    parser.add_argument("out")
    parser.add_argument("--cell-timeout", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    nb = nbformat.read(args.notebook, as_version=4)
    try:
        run = asyncio.run(run_cells(nb, args.cell_timeout, args.timeout))
    except Exception as exc:  # noqa: BLE001 - the kernel could not start: said in the report
        run = {"errors": [], "timeouts": [], "not_run": [], "kernel": "failed",
               "failure": f"{type(exc).__name__}: {exc}"[:1000]}
    Path(args.out).write_text(json.dumps(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
