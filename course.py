"""Set up and run the GAN course with one command (Python 3.10+, no other prerequisites).

    python3 course.py start   # set up .venv, then open JupyterLab on the lessons
    python3 course.py test    # set up .venv, then run the whole test suite (notebooks in quick mode)

Setup creates ``.venv`` next to this file and installs ``requirements.txt`` and ``course_utils``
into it; it is skipped when nothing changed since the last successful setup, so both commands
can be repeated. Extra arguments after ``test`` go to pytest (e.g. ``-k checks``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("requirements.txt", "requirements-test.txt", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def setup() -> None:
    """Create the virtual environment and install what the course needs (once per change)."""
    if sys.version_info < (3, 10):  # noqa: UP036 - says so clearly on an old Python
        sys.exit(f"The course needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    if STAMP.exists() and STAMP.read_text() == _fingerprint() and PY.exists():
        return
    if not PY.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing requirements (the first time takes a few minutes: PyTorch is large) ...", flush=True)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["-r", str(ROOT / "requirements.txt"), "-r", str(ROOT / "requirements-test.txt")], check=True)
    subprocess.run(pip + ["--no-deps", "-e", str(ROOT)], check=True)
    STAMP.write_text(_fingerprint())


def start(args: list[str]) -> int:
    setup()
    root_flag = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return subprocess.call([str(PY), "-m", "jupyter", "lab", str(ROOT / "notebooks"), *root_flag, *args], cwd=ROOT)


def test(args: list[str]) -> int:
    setup()
    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND="Agg")
    cmd = [str(PY), "-m", "pytest", "--nbval-lax", "--durations=15", *(args or ["tests", "solutions"])]
    print("+ COURSE_QUICK=1 " + " ".join(cmd[1:]), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def main(argv: list[str]) -> int:
    commands = {"start": start, "test": test}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
