"""Run one command of a submission in a sandbox: bubblewrap on Linux, limits everywhere.

What the sandbox gives the command (:func:`run`):

* **no network** (a network namespace with only loopback, so a kernel can still talk to its client);
* the course, its Python environment and the data **read-only**; a private writable home (the submission's
  work folder, ``/home/student``) and a private ``/tmp``; nothing else of the machine's files (no ``--out``
  folder, no other submission, no instructor's home);
* an **allow-listed environment** (:data:`ALLOWED_ENV` plus the course's own settings): no tokens, no
  ``PYTHONPATH`` of the instructor's, nothing else;
* **limits**: memory per process (``memory_mb``, heap and anonymous mappings), processes (``nproc``, enforced
  by running as the unprivileged user ``nobody`` when the grader is root), the size of any file it writes
  (``file_mb``: a print flood into the log ends the command), and a **wall-clock** ``timeout``;
* **every process it started ends with it**: a PID namespace whose first process is bubblewrap, which dies
  with the grader (``--die-with-parent``); a child started with ``setsid`` is in the namespace and ends too.

Without bubblewrap (not Linux, or not installed: ``apt-get install bubblewrap``) :func:`why_unavailable` says
so; the grader then refuses to run unless given ``--no-sandbox``, and even then runs each command with the
same environment allow-list, resource limits, its own session and the wall-clock limit (the files of the
machine are then not protected).
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..kit.env import REPO_ROOT

HOME = "/home/student"
NOBODY = 65534
ALLOWED_ENV = ("LANG", "LC_ALL", "TZ")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc")


@dataclass(frozen=True)
class Limits:
    """The resources one sandboxed command may use."""

    timeout: float = 600.0  # seconds of wall clock for the command
    memory_mb: int = 4096  # heap and anonymous memory per process (RLIMIT_DATA; shared libraries do not count)
    nproc: int = 64  # processes and threads of the unprivileged user at once
    file_mb: int = 64  # largest file it may write (logs, outputs)


@dataclass
class Finished:
    """What a sandboxed command did: exit status (negative: killed by that signal), timed out, wall time."""

    returncode: int
    timed_out: bool
    seconds: float
    log: str  # the last bytes of its stdout and stderr


@functools.lru_cache(maxsize=1)
def why_unavailable() -> str | None:
    """None when bubblewrap works here; otherwise why not, and how to fix it."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux and bubblewrap; this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-net", "--ro-bind", "/", "/", "--proc",
             "/proc", "--dev", "/dev", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        return f"bubblewrap could not create its namespaces here: {done.stderr.strip()[-300:]}"
    return None


def _ancestors(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if str(p) != "/"]


def _read_only_binds(data_dirs) -> list[tuple[Path, Path]]:
    """``(source, where)`` pairs the command may read besides the system: the course, its Python (venv and
    base) and the data, each at its real path and at the (symlinked) path this process knows it by."""
    pairs = set()
    for p in [REPO_ROOT, Path(sys.prefix), Path(sys.base_prefix), *[Path(d) for d in data_dirs if d]]:
        p = Path(os.path.abspath(p))
        if p.exists():
            pairs |= {(p.resolve(), p.resolve()), (p.resolve(), p)}
    out = []
    for src, dst in sorted(pairs, key=lambda pair: len(pair[1].parts)):
        covered = any(dst == d or d in dst.parents for _, d in out)
        if not covered and not str(dst).startswith(SYSTEM_DIRS):
            out.append((src, dst))
    return out


def bwrap_command(argv: list[str], workdir: Path, env: dict, limits: Limits, data_dirs=()) -> list[str]:
    """The bubblewrap command line that runs ``argv`` in the sandbox (``workdir`` becomes the home)."""
    cmd = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session", "--unshare-pid",
           "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    for d in SYSTEM_DIRS:
        cmd += ["--ro-bind-try", d, d]
    cmd += ["--perms", "1777", "--tmpfs", "/tmp"]  # first: a course that lives under /tmp is bound over it
    made = set()
    for src, dst in _read_only_binds(data_dirs):
        for parent in _ancestors(dst):
            if parent not in made and not str(parent).startswith(SYSTEM_DIRS) and str(parent) != "/tmp":
                cmd += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        cmd += ["--ro-bind", str(src), str(dst)]
    cmd += ["--perms", "0755", "--dir", "/home", "--bind", str(workdir), HOME,
            "--proc", "/proc", "--dev", "/dev", "--chdir", HOME, "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    if os.geteuid() == 0:  # as root the process limit does not apply: drop to nobody inside
        cmd += [shutil.which("setpriv") or "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return cmd + _prlimit(limits) + argv


def _prlimit(limits: Limits) -> list[str]:
    mb = 1024 * 1024
    return [shutil.which("prlimit") or "prlimit", f"--data={limits.memory_mb * mb}", f"--nproc={limits.nproc}",
            f"--fsize={limits.file_mb * mb}", "--core=0"]


def sandbox_env(extra: dict) -> dict:
    """The command's whole environment: the allow-list from ours, then the course's settings."""
    env = {k: os.environ[k] for k in ALLOWED_ENV if k in os.environ}
    env.update(PATH="/usr/local/bin:/usr/bin:/bin", HOME=HOME, LC_ALL=env.get("LC_ALL", "C.UTF-8"))
    env.update(extra)
    return env


def _limit_self(limits: Limits) -> None:  # pragma: no cover - runs in the child before exec
    import resource

    mb = 1024 * 1024
    for which, value in ((resource.RLIMIT_DATA, limits.memory_mb * mb), (resource.RLIMIT_FSIZE, limits.file_mb * mb),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


def run(argv: list[str], workdir: Path, *, env: dict, limits: Limits, log: Path, sandbox: bool = True,
        data_dirs=(), pass_fds=(), on_start=None) -> Finished:
    """Run ``argv`` in ``workdir`` (sandboxed unless ``sandbox`` is False); stdout and stderr go to ``log``.

    The wall clock is enforced here: past ``limits.timeout`` the whole process group is killed. ``pass_fds``
    stay open in the command; ``on_start()`` runs once it has started (e.g. to close our copy of a pipe's end).
    """
    workdir = Path(workdir)
    full_env = sandbox_env(env)
    if sandbox:
        if os.geteuid() == 0:
            os.chown(workdir, NOBODY, NOBODY)
        cmd, run_env, cwd, pre = bwrap_command(argv, workdir, full_env, limits, data_dirs), {}, workdir, None
    else:
        full_env["HOME"] = str(workdir)
        cmd, run_env, cwd, pre = argv, full_env, workdir, functools.partial(_limit_self, limits)
    start = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=run_env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=pre,
                                pass_fds=pass_fds)
        if on_start is not None:
            on_start()
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(proc)
    return Finished(proc.returncode, timed_out, time.monotonic() - start, tail(log))


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and everything in its session
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def tail(path: Path, limit: int = 4000) -> str:
    """The last ``limit`` bytes of ``path`` as text (the file may be huge: only its end is read)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""
