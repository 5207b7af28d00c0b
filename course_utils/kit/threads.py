"""PyTorch's CPU thread count, chosen by measurement on the running machine (the trainer kit; lessons 3-6).

On an idle machine every core helps; on a busy one PyTorch's threads wait for each other and for the other
programs, and one thread can be several times faster (measured: lesson 3's step 1,294 ms with 2 threads
against 174 ms with 1, beside one other CPU-bound program). Which wins depends on the load, so the trainers
measure it: before training on a CPU, :func:`choose_threads` times a few probe passes (G and D forward and
backward, on copies) with 1 thread and with every usable core, in interleaved rounds (load that comes and goes
cancels out of the per-round ratios), and keeps the faster. It says so in one line::

    threads: 1 (2 threads 3.10x slower here: the machine is busy, load 2.9 on 2 cores); measured here

During training, :func:`recheck` (called after every epoch) measures again when the machine's load has moved by
``LOAD_STEP`` or more since the last choice. Quick mode and ``COURSE_SPEED=fixed`` keep the count set
(``use_threads``), unmeasured.
"""

from __future__ import annotations

import copy
import os
import statistics
import time
from dataclasses import dataclass, field

import torch

from .env import available_cpus, is_quick

LOAD_STEP = 1.0  # the 1-minute load average moved this much since the choice: measure again at the epoch's end
ROUNDS = 3  # interleaved timing rounds per choice (after one warm-up pass per candidate)
DEFAULT_TIMER = time.perf_counter


def machine_load() -> float:
    """The 1-minute load average: runnable processes (0 where the OS does not say)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


@dataclass
class ThreadChoice:
    """The thread count a run uses and how it was decided: ``ms`` per probe pass for each count timed."""

    threads: int
    source: str  # "measured", "single core", "quick", "fixed" or "not a CPU"
    ms: dict = field(default_factory=dict)  # threads -> ms per probe pass (median ratio to the first, scaled)
    load: float = 0.0  # the load average when it was chosen

    def as_record(self) -> dict:
        return {"threads": self.threads, "source": self.source, "ms_per_pass": {str(k): round(v, 2)
                for k, v in self.ms.items()}, "load": round(self.load, 2)}

    def line(self) -> str:
        """One line for the student: the choice and how the other count fared."""
        if self.source != "measured":
            return f"threads: {self.threads} ({self.source}, not measured)"
        others = [f"{n} thread{'s' * (n > 1)} {ms / self.ms[self.threads]:.2f}x slower here"
                  for n, ms in sorted(self.ms.items()) if n != self.threads]
        busy = (f": the machine is busy, load {self.load:.1f} on {available_cpus()} cores"
                if self.threads < max(self.ms) else "")
        return f"threads: {self.threads} ({'; '.join(others)}{busy}); measured here"


def candidates() -> list[int]:
    """The thread counts worth timing: every usable core, and 1."""
    cores = available_cpus()
    return [cores, 1] if cores > 1 else [1]


def time_threads(probe, counts, rounds: int = ROUNDS, timer=None) -> dict[int, float]:
    """ms per ``probe()`` call under each thread count in ``counts``, in interleaved rounds after a warm-up each:
    the first count's fastest pass times the median of each count's per-round ratio to it (plumbing)."""
    timer = timer or DEFAULT_TIMER
    before, times = torch.get_num_threads(), {n: [] for n in counts}
    try:
        for n in counts:  # warm-up: the first pass with a new thread count pays for starting the threads
            torch.set_num_threads(n)
            probe()
        for r in range(rounds):
            for n in counts if r % 2 == 0 else list(reversed(counts)):
                torch.set_num_threads(n)
                t0 = timer()
                probe()
                times[n].append(1000 * (timer() - t0))
    finally:
        torch.set_num_threads(before)
    ref = times[counts[0]]
    return {n: min(ref) * statistics.median(t / r for t, r in zip(passes, ref, strict=True))
            for n, passes in times.items()}


def choose_threads(probe, device, timer=None) -> ThreadChoice:
    """Time ``probe()`` (one training-like pass) under each candidate thread count, set the fastest with
    ``torch.set_num_threads`` and return the choice (on a GPU, in quick mode or with ``COURSE_SPEED=fixed``:
    the count already set, capped at the usable cores, not measured)."""
    device, cores = torch.device(device), available_cpus()
    fixed = os.environ.get("COURSE_SPEED", "").strip().lower() == "fixed"
    reason = ("not a CPU" if device.type != "cpu" else "single core" if cores < 2 else "quick" if is_quick()
              else "fixed" if fixed else None)
    if reason is not None:
        torch.set_num_threads(max(1, min(torch.get_num_threads(), cores)))
        return ThreadChoice(torch.get_num_threads(), reason)
    load = machine_load()
    ms = time_threads(probe, candidates(), timer=timer)
    best = min(ms, key=ms.get)
    torch.set_num_threads(best)
    return ThreadChoice(best, "measured", ms, load)


MIN_STEPS = 2000  # runs shorter than this (and not on a time budget) keep the thread count they were given


def for_run(G, D, device, amp: bool, channels_last: bool, batch_size: int, total_steps: int, budgeted: bool,
            verbose: bool = True) -> ThreadChoice | None:
    """Before a long training run (``total_steps`` >= ``MIN_STEPS``, or on a time budget) on a CPU: choose the
    thread count with probe passes of copies of ``G`` and ``D`` at the run's settings, print the line, and watch
    the load during the run. Returns the choice, or None for a short run (left as it is: lesson 4's toys)."""
    if torch.device(device).type != "cpu" or (total_steps < MIN_STEPS and not budgeted):
        return None
    from .speed import probe_inputs, probe_pass

    g, d = copy.deepcopy(G).train(), copy.deepcopy(D).train()
    if channels_last:
        g.to(memory_format=torch.channels_last)
        d.to(memory_format=torch.channels_last)
    z, labels = probe_inputs(G, batch_size, device)
    before = torch.get_num_threads()

    def probe():
        probe_pass(g, d, z, labels, amp, torch.device(device))

    choice = choose_threads(probe, device)
    watch(probe, device, choice, before)
    if verbose:
        print(choice.line(), flush=True)
    return choice


_WATCHED: dict = {}  # the running trainer's probe, device and choice, for recheck()


def watch(probe, device, choice: ThreadChoice, before: int) -> None:
    """Remember what :func:`recheck` re-times during this training run, and the thread count to restore after it
    (``before``) (the trainer's set-up calls it; :func:`forget` ends it)."""
    _WATCHED.clear()
    _WATCHED.update(before=before)
    if choice.source == "measured":
        _WATCHED.update(probe=probe, device=device, choice=choice)


def forget() -> None:
    """The training run is over: restore the thread count it started with and stop re-checking."""
    if "before" in _WATCHED:
        torch.set_num_threads(_WATCHED["before"])
    _WATCHED.clear()


def recheck(verbose: bool = True, timer=None) -> ThreadChoice | None:
    """At an epoch's end: when the load moved by ``LOAD_STEP`` or more since the choice, choose again (a line
    says so when the count changes). Returns the new choice, or None when nothing was measured."""
    if "choice" not in _WATCHED or abs(machine_load() - _WATCHED["choice"].load) < LOAD_STEP:
        return None
    old = _WATCHED["choice"].threads
    new = choose_threads(_WATCHED["probe"], _WATCHED["device"], timer=timer)
    _WATCHED["choice"] = new
    if verbose and new.threads != old:
        print(f"\nthe machine's load changed: {new.line()}", flush=True)
    return new
