"""Set up and run the GAN course with one command (Python 3.10+, no other prerequisites).

    python3 course.py start    # set up .venv, then open JupyterLab on the lessons
    python3 course.py test     # set up .venv, then run the whole test suite (notebooks in quick mode)
    python3 course.py doctor   # set up .venv, then check this machine and predict each lesson's run time
    python3 course.py setup    # only set up .venv

(Windows: ``py course.py start`` and so on.)

Setup creates ``.venv`` next to this file and installs ``requirements.txt`` and ``course_utils``
into it; it is skipped when nothing changed since the last successful setup, so every command can
be repeated. Extra arguments after ``start`` go to JupyterLab, after ``test`` to pytest (e.g.
``-k checks``), after ``doctor`` to the doctor (``--short``, ``--steps N``). The first ``start``
runs the doctor once (short form: only problems and predicted lesson times).

CPU-only install: add ``--cpu`` to any command the first time (``python3 course.py setup --cpu``).
PyTorch and torchvision then come from PyTorch's CPU index (https://download.pytorch.org/whl/cpu)
before the rest, and the install is recorded as a CPU install, so later runs keep the CPU build
(``--cpu`` itself is never passed on to JupyterLab or pytest). It matters on Linux, where pip's
default PyTorch bundles the CUDA libraries: a course .venv measured 6.1 GB, 5.4 GB of it torch
(1.2 GB), the nvidia-* CUDA libraries (3.3 GB) and triton (0.9 GB); the CPU build of torch unpacks
to 0.7 GB (torch 2.13), so the CPU .venv comes to about 1.6 GB (an estimate from those parts). On
Windows and macOS pip's default PyTorch has no CUDA libraries anyway. To switch an existing .venv
between the two builds, delete ``.venv`` and run setup again. A fresh install warns when the disk has
less free than it needs (``NEEDS_GB``), and a failed pip says whether the disk was full.

JupyterLab's "Would you like to get notified about official Jupyter news?" prompt is answered
"no" for the course's JupyterLab (a settings override in ``.venv/share/jupyter/lab/settings``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".course-installed"
DOCTOR_STAMP = VENV / ".course-doctor-ran"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_FLAG = "--cpu"
# Disk a fresh .venv needs, with room for pip to unpack: the default build measured 6.1 GB, the CPU one ~1.6 GB.
NEEDS_GB = {"default": 7.0, "cpu": 2.5}
NO_NEWS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def _fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("requirements.txt", "requirements-test.txt", "pyproject.toml"):
        h.update((ROOT / name).read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()


def read_stamp() -> dict:
    """What the last successful setup recorded: ``{"fingerprint", "torch": "cpu" | "default"}`` ({} if none)."""
    try:
        text = STAMP.read_text()
    except OSError:
        return {}
    try:
        return json.loads(text)
    except ValueError:  # written by an older course.py: the fingerprint alone, a default install
        return {"fingerprint": text.strip(), "torch": "default"}


def split_cpu(args: list[str]) -> tuple[bool, list[str]]:
    """``(--cpu given, the other arguments)``: ``--cpu`` is course.py's, never JupyterLab's or pytest's."""
    return CPU_FLAG in args, [a for a in args if a != CPU_FLAG]


def torch_requirements() -> list[str]:
    """The torch and torchvision lines of requirements.txt, e.g. ``["torch>=2.6", "torchvision>=0.21"]``."""
    specs = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower() in ("torch", "torchvision"):
            specs.append(spec.replace(" ", ""))
    return specs


def setup(cpu: bool = False) -> None:
    """Create the virtual environment and install what the course needs (once per change)."""
    if sys.version_info < (3, 10):  # noqa: UP036 - says so clearly on an old Python
        sys.exit(f"The course needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    stamp = read_stamp()
    if cpu and stamp.get("torch") == "default" and PY.exists():
        sys.exit(f"{VENV} holds the default PyTorch build (with CUDA libraries). To switch to the CPU-only build, "
                 f"delete {VENV} and run: python3 course.py setup --cpu")
    build = "cpu" if cpu or stamp.get("torch") == "cpu" else "default"
    if stamp.get("fingerprint") == _fingerprint() and stamp.get("torch") == build and PY.exists():
        return
    if not PY.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    free = free_gb()
    if not stamp and free < NEEDS_GB[build]:
        hint = "" if build == "cpu" else f" (about {NEEDS_GB['cpu']:g} GB with --cpu)"
        print(f"WARNING: {free:.1f} GB free on the disk holding {ROOT}; a new .venv needs about "
              f"{NEEDS_GB[build]:g} GB{hint}.", flush=True)
    if build == "cpu":
        print(f"Installing the CPU-only PyTorch from {CPU_INDEX} ...", flush=True)
        pip_install(pip + ["--index-url", CPU_INDEX, *torch_requirements()], build)
    print("Installing requirements (the first time takes a few minutes: PyTorch is large) ...", flush=True)
    pip_install(pip + ["-r", str(ROOT / "requirements.txt"), "-r", str(ROOT / "requirements-test.txt")], build)
    pip_install(pip + ["--no-deps", "-e", str(ROOT)], build)
    STAMP.write_text(json.dumps({"fingerprint": _fingerprint(), "torch": build}))


def free_gb() -> float:
    """Free space, in GB, on the disk that holds the course (and its .venv)."""
    return shutil.disk_usage(ROOT).free / 1e9


def pip_install(cmd: list[str], build: str) -> None:
    """Run one pip install; if it fails, exit with what went wrong and how to fix it (pip's own message is above)."""
    try:
        subprocess.run(cmd, check=True)
    except subprocess.CalledProcessError as exc:
        free = free_gb()
        if free < NEEDS_GB[build]:
            hint = "" if build == "cpu" else f", or install the CPU-only build (--cpu, about {NEEDS_GB['cpu']:g} GB)"
            sys.exit(f"pip failed (exit {exc.returncode}) and the disk holding {ROOT} has only {free:.1f} GB free; "
                     f"the course's .venv needs about {NEEDS_GB[build]:g} GB. Free some space (old virtual "
                     "environments or copies of the course, `pip cache purge`)"
                     f"{hint}, "
                     "then run the same command again.")
        sys.exit(f"pip failed (exit {exc.returncode}) running: {' '.join(cmd[3:])}. Its message is above "
                 "(often: no network, a proxy, or a package index that cannot be reached). Fix that and run the "
                 "same command again; nothing is recorded as installed until every step succeeds.")


def quiet_jupyterlab() -> Path:
    """Answer JupyterLab's news prompt with "no" for this .venv's JupyterLab (other overrides are kept)."""
    path = VENV / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        current = json.loads(path.read_text())
    except (OSError, ValueError):
        current = {}
    merged = {**current, **{plugin: {**current.get(plugin, {}), **values} for plugin, values in NO_NEWS.items()}}
    if merged != current:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2) + "\n")
    return path


def run_setup(args: list[str]) -> int:
    cpu, rest = split_cpu(args)
    if rest:
        print(f"setup takes only {CPU_FLAG}; got {' '.join(rest)}", file=sys.stderr)
        return 2
    setup(cpu)
    print(f"The course's environment is ready in {VENV}.")
    return 0


def start(args: list[str]) -> int:
    cpu, args = split_cpu(args)
    setup(cpu)
    quiet_jupyterlab()
    root_flag = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    lab = subprocess.Popen([str(PY), "-m", "jupyter", "lab", str(ROOT / "notebooks"), *root_flag, *args], cwd=ROOT)
    if not DOCTOR_STAMP.exists():  # JupyterLab opens first; the check runs beside it, once
        print("First start: checking this machine while JupyterLab opens (python3 course.py doctor shows every "
              "check) ...", flush=True)
        subprocess.call([str(PY), "-m", "course_utils.doctor", "--short"], cwd=ROOT)
        DOCTOR_STAMP.write_text("the doctor ran after the first setup\n")
    while True:
        try:
            return lab.wait()
        except KeyboardInterrupt:  # Ctrl-C reaches JupyterLab too: it asks to confirm, then stops
            continue


def test_workers(args: list[str], cores: int | None = None) -> list[str]:
    """pytest-xdist's options: one worker per core (at most 4), each test file whole on one worker (a module's
    shared fixtures, e.g. a graded batch, are built once; a notebook's cells run in order in one kernel).
    Nothing when the arguments already say (``-n``, ``-p no:xdist``) or with one core; ``COURSE_TEST_WORKERS``
    sets the count (1: no workers)."""
    if any(a == "-n" or a.startswith(("-n", "--numprocesses")) or "xdist" in a for a in args):
        return []
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    n = int(os.environ.get("COURSE_TEST_WORKERS") or min(cores, 4))
    return ["-n", str(n), "--dist", "loadfile"] if n > 1 else []


def test(args: list[str]) -> int:
    cpu, args = split_cpu(args)
    setup(cpu)
    env = dict(os.environ, COURSE_QUICK="1", MPLBACKEND="Agg")
    cmd = [str(PY), "-m", "pytest", "--nbval-lax", "--durations=15", *test_workers(args),
           *(args or ["tests", "solutions"])]
    print("+ COURSE_QUICK=1 " + " ".join(cmd[1:]), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def doctor(args: list[str]) -> int:
    cpu, args = split_cpu(args)
    setup(cpu)
    return subprocess.call([str(PY), "-m", "course_utils.doctor", *args], cwd=ROOT)


def main(argv: list[str]) -> int:
    commands = {"start": start, "test": test, "doctor": doctor, "setup": run_setup}
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
