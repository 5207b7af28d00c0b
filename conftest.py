"""Feed nbval the expected output of ``# NBVAL_CHECK_OUTPUT`` cells.

Notebooks are committed without outputs, and nbval skips output checks for cells that never ran.
The expected text of each deterministic cell lives in its metadata (``expected_output``); here it
becomes the cell's reference output, so ``pytest --nbval-lax`` compares it for real.
"""

import nbformat


def pytest_collection_modifyitems(items):
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or "NBVAL_CHECK_OUTPUT" not in cell.get("source", ""):
            continue
        expected = cell.get("metadata", {}).get("expected_output")
        if expected is None:
            raise ValueError(f"{item.nodeid}: a # NBVAL_CHECK_OUTPUT cell needs metadata "
                             "'expected_output' (the text it must print)")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=expected)]
        cell.execution_count = 1
