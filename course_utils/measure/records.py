"""The one reader of the course's measured records: ``course_utils/pretrained/records/<name>.json``.

Weights live in ``pretrained/`` (generators), ``pretrained/histories/`` and ``pretrained/classifiers/``; every
measurement the course ships (each generator's run, the lever sweeps, runtimes per machine, the tutorial's
curve, GPU epochs) lives beside them in ``pretrained/records/`` and is read here. Lessons print runtimes from
here (each row names its machine), so prose never carries a hand-typed time another machine would contradict.
"""

from __future__ import annotations

import json

from ..kit.checkpoints import PRETRAINED_DIR

RECORDS_DIR = PRETRAINED_DIR / "records"


def record_path(name: str):
    """Where the shipped record ``name`` lives (e.g. ``"fashion_dcgan"``: ``pretrained/records/fashion_dcgan.json``)."""
    return RECORDS_DIR / f"{name}.json"


def load_record(name: str) -> dict:
    """A shipped record, ``pretrained/records/<name>.json`` (e.g. ``"fashion_dcgan_levers"``)."""
    path = record_path(name)
    if not path.exists():
        known = sorted(p.stem for p in RECORDS_DIR.glob("*.json"))
        raise FileNotFoundError(f"no shipped record {name!r} ({path}); the records are {known}. "
                                "A fresh clone has them all: git restore course_utils/pretrained")
    return json.loads(path.read_text())


def runtimes(key: str) -> list[dict]:
    """The rows recorded under ``key`` (e.g. ``"lesson05_epoch"``)."""
    data = load_record("runtimes")
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


def load_levers() -> dict:
    """The lever sweep behind lesson 6's class term (``pretrained/records/fashion_cgan_levers.json``)."""
    return load_record("fashion_cgan_levers")


def describe_shipped(name: str, meta: dict | None = None) -> str:
    """One line about a shipped generator for a lesson: its epochs and seed, and where its record is (the
    machine, the command and the wall time are in the record, not in the lesson)."""
    if meta is None:
        from ..kit.checkpoints import load_generator

        meta = load_generator(name).meta
    size = f"{meta['image_size']}x{meta['image_size']}, " if "image_size" in meta else ""
    return (f"{name}: {size}{meta.get('epochs', '?')} epochs, seed {meta.get('seed', '?')}; how it was made: "
            f"course_utils/pretrained/records/{name}.json")
