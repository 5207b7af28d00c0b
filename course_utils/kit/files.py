"""Files written safely (the kit; the speed cache, the lesson builder): atomically, and under a lock.

``write_text_atomic`` writes under a private temporary name in the same folder and renames it into
place (``os.replace``), so a reader sees the old file or the new one, never half of one, and an
interrupted write leaves the old file as it was. ``locked`` holds an exclusive lock on a lock file
(``fcntl.flock``) around a read-modify-write, so two processes (or threads) updating the same file do
not lose each other's changes; where ``fcntl`` does not exist (Windows) it does not lock.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; updates are still atomic, only not serialised
    fcntl = None


def write_text_atomic(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, flushed, then renamed).

    On any failure the temporary file is removed and ``path`` keeps its old content; the error is raised.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777  # a replaced file keeps its permissions
    except OSError:
        mode = 0o666  # a new file gets the usual ones (the umask applies), not mkstemp's private 0o600
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on ``path`` (a lock file, created if needed) for the ``with`` block.

    Blocks until the lock is free. Without ``fcntl`` (Windows) it yields without locking.
    """
    if fcntl is None:
        yield
        return
    path = Path(path)
    with open(path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
