"""Device choice, seeding and quick mode: the switches every lesson starts with (lesson 1)."""

from __future__ import annotations

import numbers
import os
import random
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository (or the folder holding the installed ``course_utils``): the one place it is computed."""

RUNS_ENV = "COURSE_RUNS_DIR"
"""Set ``COURSE_RUNS_DIR`` to move ``runs/`` (trained models, figures); the grader uses a temp dir."""


def runs_dir() -> Path:
    """Where runs go: ``COURSE_RUNS_DIR`` when set, else the repository's ``runs/`` (lesson 1)."""
    return Path(os.environ.get(RUNS_ENV) or REPO_ROOT / "runs")


QUICK_ENV = "COURSE_QUICK"
"""Set ``COURSE_QUICK=1`` to shrink epochs and data (CI, grading, a first look)."""


def is_quick() -> bool:
    """True when quick mode is on (``COURSE_QUICK`` set to anything but ``""``/``0``/``false``)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")


def quick(full, reduced):
    """Return ``reduced`` in quick mode, else ``full``.

    Lessons write ``num_epochs = quick(50, 1)`` so the code reads the same in both modes.
    """
    return reduced if is_quick() else full


def quick_banner() -> None:
    """Print a visible banner when quick mode is on, so nobody mistakes a quick run for a full one."""
    if is_quick():
        print("=" * 72)
        print(f"QUICK MODE ({QUICK_ENV} is set): epochs and data are reduced; numbers are not")
        print("representative. Unset it for the real lesson.")
        print("=" * 72)


def get_device(prefer: str | None = None) -> torch.device:
    """Pick CUDA, then Apple MPS, then CPU (lesson 1).

    ``prefer`` (or the ``COURSE_DEVICE`` environment variable) forces a device, e.g. ``"cpu"``.
    """
    prefer = prefer or os.environ.get("COURSE_DEVICE")
    if prefer:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("COURSE_DEVICE asks for CUDA but torch.cuda.is_available() is False; "
                               "unset it or use 'cpu'.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices) and return a CPU ``torch.Generator`` (lesson 1)."""
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def bf16_native(device: torch.device) -> bool:
    """True where the hardware computes in bf16 natively: CUDA with bf16, or a CPU with AVX512-BF16/AMX.

    A fact about the hardware, not a speed choice: whether bf16 autocast is *faster* depends on the CPU
    and the model, so the trainers time it (``amp="auto"``, ``course_utils.kit.speed``).
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and (_cpu_has_flag("avx512_bf16") or _cpu_has_flag("amx_bf16"))


def is_whole_number(value) -> bool:
    """An int (Python or NumPy), not a bool: what counts, limits and epochs must be."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def probe_writable(folder) -> Path:
    """Create ``folder`` if needed and write (then delete) a small file in it; ``OSError`` if that fails.

    Callers turn the error into their own message (the data folder, a checkpoint folder).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
    os.close(fd)
    os.unlink(probe)
    return folder


def available_cpus() -> int:
    """CPU cores this process may run on (its affinity where the OS tells, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def use_threads(n: int | None = None) -> int:
    """Set PyTorch's CPU threads, in one place for every lesson (lesson 1); returns the number set.

    ``n=None``: every core this process may use. A larger ``n`` is capped there: more threads than
    cores only slow a busy machine down. Tiny models (lesson 4's toys) run fastest with ``n=1``.
    """
    cap = available_cpus()
    n = cap if n is None else max(1, min(int(n), cap))
    torch.set_num_threads(n)
    return n


def cpu_name() -> str:
    """The CPU's model name (for recording where a run was measured)."""
    import platform

    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def _cpu_has_flag(flag: str) -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return any(flag in line.split() for line in f if line.startswith("flags"))
    except OSError:
        return False


def version_tuple(version: str) -> tuple[int, ...]:
    """``"2.14.1+cu130"`` -> ``(2, 14, 1)`` (plumbing: the doctor, the checkpoint loader, the setup cell)."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", str(version))
    if not match:
        raise ValueError(f"not a version number: {version!r}")
    return tuple(int(g) for g in match.groups(default="0"))
