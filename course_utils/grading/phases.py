"""The two phases of grading one submission, each in its own sandbox (see :mod:`course_utils.grading.grade`).

:func:`run_phase` runs the notebook's cells (:mod:`course_utils.grading.runner`) for the report's notes;
:func:`check_phase` runs the checks (:mod:`course_utils.grading.worker`) and reads their verdicts from a pipe.
What each phase wrote inside its sandbox is read with a size cap and validated before the report uses it.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path

from . import sandbox as sandboxing
from .exercises import ROOT

RESULT_LIMIT = 1_000_000  # bytes read from the check phase's pipe
RUN_RECORD_LIMIT = 1_000_000  # bytes read from the run phase's record
KERNELS = ("ok", "dead", "stuck", "failed", "timeout")


def _data_source() -> str:
    """Where a submission copies its data from (read-only): the course's prepared data folder, else
    ``COURSE_DATA_DIR``. Inside the sandbox there is no network, so nothing is downloaded."""
    from ..kit.data import DATA_ENV, data_home

    home = data_home()
    if (home / "FashionMNIST" / "raw").is_dir():
        return str(home)
    return os.environ.get(DATA_ENV, "")


def _course_env(workdir_home: str) -> dict:
    from ..kit.data import DATA_ENV, HOME_ENV

    env = {"COURSE_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(ROOT), "COURSE_RUNS_DIR": f"{workdir_home}/runs",
           "MPLCONFIGDIR": "/tmp/matplotlib", "CUDA_VISIBLE_DEVICES": "", "COURSE_WIDGETS": "0",
           HOME_ENV: f"{workdir_home}/data"}  # a private, writable copy of what the notebook reads
    source = _data_source()
    if source:
        env[DATA_ENV] = source
    return env


def _data_dirs() -> list[str]:
    return [_data_source()]


def _valid_run(raw) -> dict | None:
    """The run phase's record, if it has the expected shape (it was written inside the sandbox)."""
    try:
        run = {"errors": [{"cell": int(e["cell"]), "error": str(e["error"])[:2000]} for e in raw["errors"]],
               "timeouts": [{"cell": int(t["cell"]), "limit_s": round(float(t["limit_s"])),
                             "total_limit": bool(t["total_limit"])} for t in raw["timeouts"]],
               "not_run": [int(i) for i in raw["not_run"]], "kernel": str(raw["kernel"])}
    except (KeyError, TypeError, ValueError):
        return None
    return run if run["kernel"] in KERNELS else None


def run_phase(path: Path, tmp: Path, cell_timeout: float, budget: float, use_sandbox: bool,
               limits: sandboxing.Limits) -> dict:
    work = tmp / "run"
    work.mkdir()
    shutil.copyfile(path, work / "submission.ipynb")
    argv = [sys.executable, "-m", "course_utils.grading.runner", "submission.ipynb", "run.json",
            "--cell-timeout", str(cell_timeout), "--timeout", str(max(1.0, budget - 30))]
    done = sandboxing.run(argv, work, env=_course_env(_home(work, use_sandbox)), log=tmp / "run.log",
                          limits=_with_timeout(limits, budget), sandbox=use_sandbox, data_dirs=_data_dirs())
    record = work / "run.json"
    raw = None
    if record.is_file() and record.stat().st_size <= RUN_RECORD_LIMIT:
        try:
            raw = json.loads(record.read_text())
        except (ValueError, UnicodeDecodeError):
            raw = None
    run = _valid_run(raw) if raw is not None else None
    if run is None:
        run = {"errors": [], "timeouts": [], "not_run": [], "kernel": "timeout" if done.timed_out else "failed"}
    run["log"] = done.log[-1500:]
    return run


def _home(work: Path, use_sandbox: bool) -> str:
    return sandboxing.HOME if use_sandbox else str(work)


def _with_timeout(limits: sandboxing.Limits, seconds: float) -> sandboxing.Limits:
    return sandboxing.Limits(timeout=max(1.0, seconds), memory_mb=limits.memory_mb, nproc=limits.nproc,
                             file_mb=limits.file_mb)


def valid_result(result) -> bool:
    """A check-phase result the report can read: the worker's shape, items as [bool, str] pairs."""
    if isinstance(result, dict) and set(result) == {"id", "timeout"}:
        return isinstance(result["timeout"], (int, float))
    def items_ok(part):
        return isinstance(part, dict) and isinstance(part.get("items", []), list) and all(
            isinstance(i, list) and len(i) == 2 and isinstance(i[0], bool) and isinstance(i[1], str)
            for i in part.get("items", []))

    return (isinstance(result, dict) and items_ok(result.get("check")) and isinstance(result.get("hidden"), list)
            and all(items_ok(h) for h in result["hidden"]) and isinstance(result.get("own_code"), list)
            and items_ok({"items": result["own_code"]}))


def _read_results(fd: int, into: dict, ids: set) -> None:
    """Read the check phase's pipe to its end (keeping at most RESULT_LIMIT bytes) and parse it into ``into``."""
    data = b""
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(65536):
            if len(data) < RESULT_LIMIT:
                data += chunk[:RESULT_LIMIT - len(data)]
    read_results_bytes(data, into, ids)


def read_results_bytes(data: bytes, into: dict, ids: set) -> None:
    """The check phase's JSON lines: the first well-formed result per exercise of the lesson is kept."""
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            result = json.loads(line)
        except ValueError:
            continue
        if valid_result(result) and result.get("id") in ids and result["id"] not in into:
            into[result["id"]] = result


def check_phase(path: Path, lesson: dict, tmp: Path, budget: float, use_sandbox: bool,
                 limits: sandboxing.Limits, exercise_timeout: float) -> tuple[dict, bool, str]:
    work = tmp / "check"
    work.mkdir()
    shutil.copyfile(path, work / "submission.ipynb")  # the original again: the run phase may have changed its copy
    (work / "lesson.json").write_text(json.dumps({**lesson, "exercise_timeout": exercise_timeout}))
    read_fd, write_fd = os.pipe()
    results, ids = {}, {e["id"] for e in lesson["exercises"]}
    reader = threading.Thread(target=_read_results, args=(read_fd, results, ids), daemon=True)
    reader.start()
    argv = [sys.executable, "-m", "course_utils.grading.worker", "lesson.json", "submission.ipynb",
            "--result-fd", str(write_fd)]
    try:
        done = sandboxing.run(argv, work, env=_course_env(_home(work, use_sandbox)), log=tmp / "check.log",
                              limits=_with_timeout(limits, budget), sandbox=use_sandbox, data_dirs=_data_dirs(),
                              pass_fds=(write_fd,), on_start=lambda: os.close(write_fd))
    finally:
        reader.join(timeout=30)
    return results, done.timed_out, done.log[-1500:]
