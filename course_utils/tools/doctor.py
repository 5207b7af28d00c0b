"""``python -m course_utils.doctor``: is this machine ready for the course, and how long will each lesson take?

One line per check (Python, torch and torchvision, the device, the lessons' speed settings, the data, writable
``data/`` and ``runs/``, widgets, quick mode), then a few timed training steps of the lessons' own code path
(:mod:`course_utils.tools.forecast`) and each lesson's predicted full run here. A problem is one line naming its
fix: ``WARN`` (a lesson runs, worse or slower) or ``FAIL`` (it cannot run: exit status 1).

    python -m course_utils.doctor            # everything
    python -m course_utils.doctor --short    # only the problems and the predictions
    python -m course_utils.doctor --steps 5  # time fewer steps (faster, noisier)

From a notebook: ``report(short=True)``; lesson 1 runs :func:`machine_check` (the checks, no timing).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace
from importlib import metadata
from typing import NamedTuple

import torch

from ..kit import threads
from ..kit.checkpoints import MIN_TORCH, SAFE_LOAD_TORCH
from ..kit.data import DATA_ENV, FASHION_FILES, HOME_ENV, DataNotFoundError, data_home, prefetched_dir
from ..kit.env import (
    REPO_ROOT,
    RUNS_ENV,
    available_cpus,
    cpu_name,
    get_device,
    is_quick,
    probe_writable,
    quick,
    runs_dir,
    version_tuple,
)
from . import forecast
from .forecast import Timings, predict_lesson_seconds  # noqa: F401 - re-exported

MIN_PYTHON = (3, 10)
MIN_VERSIONS = {"torch": MIN_TORCH, "torchvision": "0.21"}
"""What requirements.txt asks for (``tests/tools/test_doctor.py`` keeps the two equal); FAIL below."""
SAFE_VERSIONS = {"torch": SAFE_LOAD_TORCH, "torchvision": "0.25"}
"""WARN below: only shipped checkpoints are read there (``course_utils.kit.checkpoints.check_loadable``)."""
FLOWERS_IMAGES = 8189
SETUP_FIX = "python3 course.py setup (Windows: py course.py setup)"
LONG_TRAINING_S = 20 * 60
SHIPPED_TIP = {n: "; to skip training: use_shipped_run = True in its settings cell" for n in (3, 6)}


class Line(NamedTuple):
    """One line of the report: ``level`` is ok, info, time (a prediction), WARN or FAIL (plumbing)."""

    level: str
    text: str


def _ok(text: str) -> Line:
    return Line("ok", text)


def _warn(text: str, fix: str) -> Line:
    return Line("WARN", f"{text}. Fix: {fix}")


def _fail(text: str, fix: str) -> Line:
    return Line("FAIL", f"{text}. Fix: {fix}")


def check_python(version=None) -> Line:
    """The Python version against the course's minimum (plumbing)."""
    version = tuple(version or sys.version_info[:3])
    text = f"Python {'.'.join(map(str, version))}"
    if version[:2] < MIN_PYTHON:
        return _fail(f"{text}: the course needs {'.'.join(map(str, MIN_PYTHON))} or newer",
                    "install a newer Python (python.org) and run python3 course.py setup with it")
    return _ok(text)


def check_packages(found: dict | None = None) -> Line:
    """torch and torchvision against ``MIN_VERSIONS`` and ``SAFE_VERSIONS``; ``found``: versions to judge (plumbing)."""
    if found is None:
        try:
            import torchvision
        except ImportError:
            return _fail("torchvision is not installed", SETUP_FIX)
        found = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    text = f"torch {found['torch']}, torchvision {found['torchvision']}"
    old = [f"{name} {found[name]} (needs >= {need})" for name, need in MIN_VERSIONS.items()
           if version_tuple(found[name]) < version_tuple(need)]
    if old:
        specs = " ".join(f'"{name}>={need}"' for name, need in MIN_VERSIONS.items())
        why = (f"; before torch {MIN_TORCH}, weights_only=True loading could execute code from a crafted file "
               "(CVE-2025-32434)" if version_tuple(found["torch"]) < version_tuple(MIN_TORCH) else "")
        return _fail(f"{text}: too old: {', '.join(old)}{why}", f"pip install -U {specs} (in the course's .venv)")
    if version_tuple(found["torch"]) < version_tuple(SAFE_LOAD_TORCH):
        specs = " ".join(f'"{name}>={need}"' for name, need in SAFE_VERSIONS.items())
        return _warn(f"{text}: torch before {SAFE_LOAD_TORCH} has a memory-corruption bug in its weights_only loader "
                     "(CVE-2026-24747), so the course reads only the checkpoints it ships and refuses every other file "
                     "(your own runs' too: resuming a run fails)", f"pip install -U {specs} (in the course's .venv)")
    return _ok(f"{text} (the course needs torch >= {MIN_VERSIONS['torch']}, "
              f"torchvision >= {MIN_VERSIONS['torchvision']}; >= {SAFE_LOAD_TORCH} reads any checkpoint safely)")


def check_device() -> tuple[Line, torch.device | None]:
    """The device ``get_device()`` picks, named (plumbing)."""
    try:
        device = get_device()
    except (RuntimeError, ValueError) as exc:
        return _fail(f"COURSE_DEVICE={os.environ.get('COURSE_DEVICE')!r} cannot be used ({exc})",
                    "unset COURSE_DEVICE (the course then picks CUDA, MPS or CPU)"), None
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    elif device.type == "mps":
        name = "Apple GPU (MPS)"
    else:
        name = f"{cpu_name()}, {available_cpus()} cores usable; no CUDA GPU or Apple MPS found"
    return _ok(f"device: {device.type} ({name})"), device


def check_speed(device: torch.device, choices: dict | None = None) -> list[Line]:
    """The speed settings the lessons will use on ``device`` (bf16 and channels_last measured per lesson by
    ``forecast.speed_choices``, cached; ``choices`` replaces that in tests), and anything slowing them."""
    from ..kit.loop import make_adam

    adam = make_adam([torch.zeros(1, device=device, requires_grad=True)], 1e-3, (0.5, 0.999))
    threads, cores = torch.get_num_threads(), available_cpus()
    parts = [f"{threads} PyTorch threads ({cores} cores usable)",
             "fused Adam" if adam.defaults.get("fused") else "foreach Adam (no fused kernel here)",
             "the other network frozen in each D/G step"]
    choices = forecast.speed_choices(device) if choices is None else choices
    how = {c.source for c in choices.values()}
    said = ("measured here" if how <= {"measured", "cached"} else "not measured: COURSE_SPEED=fixed"
            if "fixed" in how else "not measured in quick mode" if "quick" in how else "as set")
    lines = [_ok("speed: " + ", ".join(parts)),
             _ok(f"speed settings ({said}): " + "; ".join(f"lesson {k} {c.short()}" for k, c in choices.items()))]
    load = machine_load()
    if load > cores - 0.5:
        lines.append(_warn(f"the machine is busy (load {load:.1f} on {cores} cores): other programs slow "
                          "training and make the timings below pessimistic",
                          "close them, then run the doctor again"))
    if threads > cores:
        lines.append(_warn(f"{threads} threads on {cores} cores",
                           "course_utils.kit.env.use_threads() (every usable core)"))
    return lines


machine_load = threads.machine_load  # the 1-minute load average (0 where the OS does not say); tests replace it


def busy_cpu_line(t: Timings, steps: int, load: float) -> Line | None:
    """On a busy CPU (``load``: read before the doctor's own timing), time lesson 3 with one thread, since
    PyTorch's threads then wait for each other; a WARN line when one thread is faster, else ``None``."""
    threads, cores = torch.get_num_threads(), available_cpus()
    if t.device != "cpu" or threads < 2 or load <= cores - 0.5:
        return None
    try:
        torch.set_num_threads(1)
        with forecast.preserved_rng():
            single = forecast.time_lesson3_step(min(steps, 10), torch.device("cpu"))
    finally:
        torch.set_num_threads(threads)
    if single >= t.lesson3_step:
        return None
    total = forecast.duration(forecast.predict_from(replace(t, lesson3_step=single, cpu_step=single), 3))
    return _warn(f"with the machine busy, 1 thread ran lesson 3's step in {single * 1000:.0f} ms against "
                 f"{t.lesson3_step * 1000:.0f} ms with {threads} (lesson 3 with 1 thread: ~{total}); the lessons' "
                 "training measures this itself and uses the faster (its `threads:` line)",
                 "close the other programs for the predictions above")


def check_writable() -> list[Line]:
    """``data/`` and ``runs/`` (or where the environment moves them) accept files (plumbing)."""
    lines = []
    for name, folder, env, who in (("data", data_home(), HOME_ENV, "lessons 1-5 download and extract data there"),
                                   ("runs", runs_dir(), RUNS_ENV, "lessons 3-5 save models there")):
        try:
            probe_writable(folder)
            lines.append(_ok(f"{name} folder writable: {folder}"))
        except OSError as exc:
            lines.append(_fail(f"cannot write into the {name} folder {folder} ({type(exc).__name__}); {who}",
                              f"set {env} to a writable folder (e.g. {env}=$HOME/gan-course-{name}) "
                              f"or make {folder} writable"))
    return lines


def check_fashion(src, writable: bool) -> Line:
    """Where Fashion-MNIST will come from, and which files are missing (plumbing)."""
    if src is not None:
        raw = src / "FashionMNIST" / "raw"
        missing = [f for f in FASHION_FILES if not (raw / f).is_file()]
        if missing:
            return _fail(f"Fashion-MNIST: {DATA_ENV} is set but {raw} lacks {', '.join(missing)}",
                        f"copy those files there, or unset {DATA_ENV} to download them (internet needed)")
        return _ok(f"Fashion-MNIST: the 4 archives in {raw} ({DATA_ENV})")
    raw = data_home() / "FashionMNIST" / "raw"
    have = [f for f in FASHION_FILES if (raw / f).is_file() or (raw / f.removesuffix(".gz")).is_file()]
    if len(have) == len(FASHION_FILES):
        return _ok(f"Fashion-MNIST: downloaded, in {raw}")
    missing = ", ".join(f for f in FASHION_FILES if f not in have)
    if not writable:
        return _fail(f"Fashion-MNIST: not found ({missing} missing in {raw}) and that folder is not writable, so it "
                    "cannot be downloaded", f"set {DATA_ENV} to a folder holding FashionMNIST/raw/*.gz, and "
                    f"{HOME_ENV} to a writable folder")
    return _warn(f"Fashion-MNIST: not downloaded yet ({missing} missing in {raw}); the lessons download it "
                "(about 30 MB, internet needed)", f"offline: set {DATA_ENV} to a folder holding FashionMNIST/raw/*.gz")


def check_flowers(src, writable: bool) -> Line:
    """Where Oxford 102 Flowers will come from (lesson 5), and which files are missing (plumbing)."""
    caches = [s for s in (32, 64) if (data_home() / f"flowers102_{s}.pt").is_file()]
    cached = f"; decoded: {', '.join(f'{s}x{s}' for s in caches)}" if caches else ""
    base = (src if src is not None else data_home()) / "flowers-102"
    jpg = base / "jpg"
    images = sum(1 for e in os.scandir(jpg) if e.name.endswith(".jpg")) if jpg.is_dir() else 0
    missing = [f for f in ("imagelabels.mat", "setid.mat") if not (base / f).is_file()]
    missing += [f"jpg/ ({images:,} of {FLOWERS_IMAGES:,} images)"] if images < FLOWERS_IMAGES else []
    where = f"{base} ({DATA_ENV})" if src is not None else str(base)
    if not missing or len(caches) == 2:
        return _ok(f"Oxford 102 Flowers: {where}{cached}")
    if src is not None:
        return _fail(f"Oxford 102 Flowers: {DATA_ENV} is set but {base} lacks {', '.join(missing)}",
                    f"copy the complete flowers-102 folder there, or unset {DATA_ENV} to download it")
    if not writable:
        return _fail(f"Oxford 102 Flowers: not found in {base} and the data folder is not writable",
                    f"set {DATA_ENV} to a folder holding flowers-102/, and {HOME_ENV} to a writable folder")
    return _warn(f"Oxford 102 Flowers: not downloaded yet (lesson 5 downloads about 330 MB, internet needed){cached}",
                f"offline: set {DATA_ENV} to a folder holding flowers-102/ (imagelabels.mat, setid.mat, jpg/)")


def check_data(writable: bool) -> list[Line]:
    """Fashion-MNIST and Oxford 102 Flowers under the course's data policy (plumbing)."""
    try:
        src = prefetched_dir()
    except DataNotFoundError as exc:
        return [_fail(str(exc).split(". ")[0], f"point {DATA_ENV} at an existing folder, or unset it")]
    return [check_fashion(src, writable), check_flowers(src, writable)]


def check_widgets() -> Line:
    """The widget packages for Jupyter (the latent explorer, the live dashboard) (plumbing)."""
    found = {}
    for name in ("ipywidgets", "jupyterlab_widgets", "widgetsnbextension"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    missing = [n for n, v in found.items() if v is None]
    if found["ipywidgets"] is None or (found["jupyterlab_widgets"] is None and found["widgetsnbextension"] is None):
        return _warn(f"widgets: {', '.join(missing)} not installed: the latent explorer and the live dashboard fall "
                    "back to static figures", f"pip install {' '.join(missing)} (or {SETUP_FIX})")
    forced = os.environ.get("COURSE_WIDGETS")
    note = f"; COURSE_WIDGETS={forced}" if forced is not None else ""
    return _ok("widgets: " + ", ".join(f"{n} {v}" for n, v in found.items() if v) + note)


def check_quick() -> Line:
    """Quick mode on or off (plumbing)."""
    if is_quick():
        return Line("info", "quick mode: ON (COURSE_QUICK is set): lessons run reduced; the times below are "
                            "for full runs")
    return _ok("quick mode: off (lessons run at full settings)")


def checks() -> tuple[list[Line], torch.device | None]:
    """Every check but the timing, in report order; and the device (None when it cannot be used) (plumbing)."""
    device_line, device = check_device()
    data_folder, runs_folder = check_writable()
    lines = [check_python(), check_packages(), device_line, *(check_speed(device) if device else []),
             *check_data(writable=data_folder.level != "FAIL"), data_folder, runs_folder, check_widgets(),
             check_quick()]
    return lines, device


def timing_lines(steps: int, timer=None, load: float = 0.0) -> list[Line]:
    """The measured step times and one predicted full-run time per lesson (plumbing)."""
    try:
        t: Timings = timer(steps) if timer is not None else forecast.measure(steps)
    except Exception as exc:  # noqa: BLE001 - a failed timing is reported, the other checks still count
        return [_fail(f"timing the lessons failed ({type(exc).__name__}: {exc})", "fix the problems above, "
                     "then run python -m course_utils.doctor again")]
    n3 = forecast.gpu_steps(steps) if t.device == "cuda" else steps
    ms3 = f"{t.lesson3_step * 1000:.0f}" if t.lesson3_step >= 0.01 else f"{t.lesson3_step * 1000:.2f}"
    lines = [Line("info", f"timed on {t.device}: lesson 3 {ms3} ms per step ({n3} steps), "
                          f"lesson 5 {t.lesson5_iter:.2f} s per generator iteration ({max(1, steps // 5)}), "
                          f"lesson 6 {t.lesson6_step * 1000:.0f} ms per step ({steps}), each after a warm-up")]
    lines += [line for line in (busy_cpu_line(t, steps, load),) if line is not None]
    for lesson in forecast.LESSONS:
        split = forecast.parts(t, lesson)
        detail = " + ".join(f"{name} {forecast.duration(s)}" for name, s in split.items()) if len(split) > 1 else ""
        tip = SHIPPED_TIP.get(lesson, "") if split.get("training", 0) > LONG_TRAINING_S else ""
        lines.append(Line("time", f"lesson {lesson}: predicted full run here ~{forecast.duration(sum(split.values()))}"
                                  + (f" ({detail})" if detail else "") + tip))
    return lines


def report(short: bool = False, steps: int | None = None, timer=None) -> int:
    """Print the checks and predictions (``short``: only problems and predictions); return the exit status.

    Plumbing: used by ``main`` and by lesson 1 (``course_utils.tools.doctor.report(short=True)``). ``steps``:
    lesson-3 steps timed (default 25; 5 in quick mode). ``timer``: see :func:`forecast.predict_lesson_seconds`.
    """
    steps = steps if steps is not None else quick(25, 5)
    load = machine_load()  # before the timing below adds its own
    lines, device = checks()
    lines += timing_lines(steps, timer, load) if device is not None else []
    problems = [line for line in lines if line.level in ("WARN", "FAIL")]
    if short and not problems:
        print("doctor: no problems found", flush=True)
    for line in lines:
        if not short or line.level in ("WARN", "FAIL", "time"):
            print(f"{line.level:<4}  {line.text}", flush=True)
    return 1 if any(line.level == "FAIL" for line in problems) else 0


def machine_check() -> int:
    """Lesson 1's check: the doctor's checks, no timing; one line when all is well, else each problem."""
    lines, device = checks()
    problems = [line for line in lines if line.level in ("WARN", "FAIL")]
    for line in problems:
        print(f"{line.level:<4}  {line.text}", flush=True)
    if not problems:
        print(f"machine check: everything the lessons need is here (device {device}); "
              "`python3 course.py doctor` also predicts each lesson's time on this machine", flush=True)
    return 1 if any(line.level == "FAIL" for line in problems) else 0


def main(argv=None) -> int:
    """``python -m course_utils.doctor [--short] [--steps N]`` (plumbing)."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.doctor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="print only the problems and the predictions")
    parser.add_argument("--steps", type=int, default=None, help="lesson-3 steps to time (default 25)")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    start = time.perf_counter()
    print(f"GAN course doctor ({platform.system()} {platform.machine()}, {REPO_ROOT})", flush=True)
    status = report(short=args.short, steps=args.steps)
    print(f"doctor took {time.perf_counter() - start:.0f} s; exit status {status}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
