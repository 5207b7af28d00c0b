"""Independent CPU runs side by side: one process per core, one PyTorch thread each (the trainer kit).

Tiny networks (lesson 4's toy GANs) cannot use two threads well: their matrices are too small to split, so a
run on a 2-core CPU leaves a core idle. Many such runs (settings x seeds) can each take a core instead::

    results = run_in_processes(toy_run, [dict(settings=s, seed=0, epochs=50) for s in settings],
                               on_done=lambda i: bar.update())

Each job runs in a forked child with one thread, exactly as it would run alone in this process with one
thread, so its result is the same, bit for bit (tested). Children are forked (Linux: Colab, Kaggle, most
servers): they see the notebook's functions (a student's loss passed as a hook) without importing anything.
Where forking is not safe (macOS, Windows) or with one core or one job, the jobs run here, one after another.
``COURSE_WORKERS=1`` forces that; ``COURSE_WORKERS=N`` caps the processes at N.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable

import torch

from .env import available_cpus

__all__ = ["run_in_processes", "worker_count"]


def worker_count(jobs: int, workers: int | None = None) -> int:
    """Processes to use for ``jobs`` runs: ``workers`` (default: the usable cores, capped by ``COURSE_WORKERS``),
    never more than the jobs, and 1 where children cannot be forked safely."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if workers is None:
        workers = available_cpus()
        cap = os.environ.get("COURSE_WORKERS", "").strip()
        if cap:
            try:
                workers = min(workers, int(cap))
            except ValueError:
                raise ValueError(f"COURSE_WORKERS must be a whole number of processes, got {cap!r}") from None
    return max(1, min(int(workers), jobs))


def _one_thread() -> None:
    torch.set_num_threads(1)


def _call(task: tuple):
    fn, i, kwargs = task
    return i, fn(**kwargs)


def _picklable(fn: Callable, jobs: list[dict]) -> bool:
    try:
        pickle.dumps((fn, jobs))
        return True
    except Exception:  # a lambda or a closure among the hooks: it cannot travel to a child
        return False


def run_in_processes(fn: Callable, jobs: list[dict], workers: int | None = None,
                     on_done: Callable[[int], None] | None = None) -> list:
    """``[fn(**job) for job in jobs]``, the jobs spread over ``workers`` processes with one thread each.

    ``on_done(i)`` is called here as job ``i`` finishes (a progress bar). An exception in a job is raised here
    with its message; an interrupt (Ctrl-C, the notebook's stop button) ends every child at once. Jobs that
    cannot be sent to a child (a lambda among their arguments) run here, one after another.
    """
    jobs = list(jobs)
    n = worker_count(len(jobs), workers)
    if n <= 1 or not _picklable(fn, jobs):
        return _one_after_another(fn, jobs, on_done)
    results: list = [None] * len(jobs)
    pool = multiprocessing.get_context("fork").Pool(n, initializer=_one_thread)
    try:
        for i, result in pool.imap_unordered(_call, [(fn, i, job) for i, job in enumerate(jobs)]):
            results[i] = result
            if on_done:
                on_done(i)
        pool.close()
    finally:
        pool.terminate()
        pool.join()
    return results


def _one_after_another(fn: Callable, jobs: list[dict], on_done: Callable[[int], None] | None) -> list:
    before = torch.get_num_threads()
    _one_thread()
    try:
        out = []
        for i, job in enumerate(jobs):
            out.append(fn(**job))
            if on_done:
                on_done(i)
        return out
    finally:
        torch.set_num_threads(before)
