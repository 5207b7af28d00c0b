"""The grader's files: which submissions to grade, the ``--out`` folder, and the gradebook kept safe.

Every check here runs before anything is graded or written. An earlier ``gradebook.csv`` is never
overwritten: it is moved aside to ``gradebook.<its time>.csv`` (never over an older backup) unless
the new one is identical.
"""

from __future__ import annotations

import time
from pathlib import Path

from ..kit.files import write_text_atomic

GRADEBOOK = "gradebook.csv"


def _empty_folder_message(folder: Path) -> str:
    nested = sorted(q for q in folder.rglob("*.ipynb") if q.is_file() and ".ipynb_checkpoints" not in q.parts)
    hint = (f" {len(nested)} notebook(s) are in its subfolders (e.g. {nested[0]}): pass those folders instead."
            if nested else "")
    return (f"{folder}: no notebook to grade. The grader looks for *.ipynb files directly in this folder "
            f"(not in its subfolders).{hint} Give submission .ipynb files or a folder that holds them; "
            "nothing was graded or written.")


def submissions(paths: list[str]) -> list[Path]:
    """The notebooks to grade: each file, and every ``*.ipynb`` directly in each folder.

    ``SystemExit`` with a clear message for a path that does not exist or a folder without notebooks.
    """
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.glob("*.ipynb") if q.is_file())
            if not found:
                raise SystemExit(_empty_folder_message(p))
            out += found
        elif p.exists():
            out.append(p)
        else:
            raise SystemExit(f"{p}: no such file or folder")
    return out


def check_out_folder(out: Path) -> Path:
    """``--out`` is a folder or can become one: ``SystemExit`` before grading anything otherwise."""
    out = Path(out)
    for folder in [out, *out.parents]:
        if folder.exists():
            if not folder.is_dir():
                which = "--out" if folder == out else f"--out {out}: its parent"
                raise SystemExit(f"{which} {folder} is a file, not a folder. --out names the folder that "
                                 f"receives the reports and {GRADEBOOK} (created if missing): pass another "
                                 "path, e.g. --out grades/")
            break
    return out


def backup_name(path: Path) -> Path:
    """A free name ``gradebook.<mtime>.csv`` (then ``-2``, ``-3``, ...) next to ``path``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
    candidate, k = path.with_name(f"{path.stem}.{stamp}{path.suffix}"), 1
    while candidate.exists():
        k += 1
        candidate = path.with_name(f"{path.stem}.{stamp}-{k}{path.suffix}")
    return candidate


def replace_gradebook(path: Path, text: str, echo=print) -> Path | None:
    """Write ``text`` to ``path``; an earlier, different gradebook is first moved aside (returned)."""
    path = Path(path)
    backup = None
    if path.exists() and _read(path) != text:
        backup = backup_name(path)
        path.rename(backup)
        echo(f"the earlier {path.name} was moved to {backup}")
    write_text_atomic(path, text)
    return backup


def _read(path: Path) -> str:
    with open(path, newline="") as f:
        return f.read()
