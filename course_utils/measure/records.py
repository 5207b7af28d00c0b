"""The course's measured records (lessons 3-5): runtimes per machine, read from ``pretrained/runtimes.json``.

Lessons print their runtimes from here (each row names its machine), so prose never carries a
hand-typed time that another machine would contradict.
"""

from __future__ import annotations

import json

from ..kit.checkpoints import PRETRAINED_DIR


def runtimes(key: str) -> list[dict]:
    """The rows recorded under ``key`` (e.g. ``"lesson05_epoch"``)."""
    data = json.loads((PRETRAINED_DIR / "runtimes.json").read_text())
    if key not in data:
        raise KeyError(f"no runtimes recorded under {key!r}; recorded: {sorted(k for k in data if k != 'note')}")
    return data[key]


def minutes(seconds: float) -> str:
    """``"11.5 s"``, ``"2.5 min"`` or ``"1.2 h"``: a duration at a readable scale."""
    if seconds < 90:
        return f"{seconds:.3g} s"
    return f"{seconds / 60:.2g} min" if seconds < 5400 else f"{seconds / 3600:.2g} h"


def print_runtimes(key: str, columns: dict) -> None:
    """Print the rows under ``key`` as a table; ``columns`` maps a row key to its heading.

    Returns nothing, so a notebook cell ending with it shows the table only (``runtimes(key)`` gives the rows).
    """
    rows = runtimes(key)
    fmt = lambda k, v: minutes(v) if k.endswith("_s") or "_s_" in k else str(v)  # noqa: E731
    cells = [[fmt(k, r[k]) if k in r else "" for k in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(columns.values())]
    print("  ".join(h.ljust(w) for h, w in zip(columns.values(), widths)))
    for c in cells:
        print("  ".join(x.ljust(w) for x, w in zip(c, widths)))


def load_record(name: str) -> dict:
    """A shipped record, ``pretrained/<name>.json`` (e.g. ``"fashion_dcgan_levers"``)."""
    from ..kit.checkpoints import PRETRAINED_DIR

    return json.loads((PRETRAINED_DIR / f"{name}.json").read_text())


def load_levers() -> dict:
    """The lever sweep behind lesson 6's class term (``pretrained/fashion_cgan_levers.json``)."""
    return load_record("fashion_cgan_levers")
