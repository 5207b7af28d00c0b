"""Speed settings picked by measurement on the running machine (the trainer kit; lessons 3-6).

Every trainer's ``amp="auto"`` and ``channels_last="auto"`` end here. Before training,
:func:`choose_speed` times a few forward and backward passes of G and D (on copies, at the run's
batch size) under each candidate setting, keeps the fastest one whose numerics pass, caches the
choice for this machine and model shape (``runs/speed_choices.json``) and says it in one line::

    speed: bf16 autocast off (17.1x slower here), channels_last on (1.08x faster here); measured here

Why measure instead of reading CPU flags: bf16 autocast made lesson 3's step 2.1x faster on one
2-core AMD EPYC, 17x slower on another (no bf16 instructions: emulated) and slower on a 2-core
Intel Xeon with AVX512-BF16; which setting wins depends on the CPU and on the model's shape.

* Candidates: bf16 autocast off/on (CPU, and CUDA GPUs with bf16) x channels_last off/on. A forced
  setting (``amp=True``/``False``, ``channels_last=True``/``False``) is not measured.
* Numerics: a candidate passes if D's logits under it match fp32's on the same inputs within
  ``ATOL + RTOL * max|fp32 logits|`` and every gradient is finite; bf16 keeps ~3 significant digits.
* Cost: ``steps`` timed passes per candidate after one warm-up; a candidate whose warm-up is more
  than ``ABANDON`` times the best time so far is dropped after that one pass. After each candidate's
  first timed pass the others run in interleaved rounds, and a candidate is judged by the median of
  its per-round ratios to the reference, so load that comes and goes mid-measurement cancels out.
* Cache: a choice is reused for ``MAX_AGE_DAYS`` days, only if its measurement was steady (no
  candidate's passes differed by more than ``NOISY`` times: a busy machine) and only if it was written
  by this way of measuring (``CACHE_VERSION``) and well formed; otherwise the next run measures again.
  Writes add one entry under a lock and replace the file atomically (runs may finish at once). Delete
  ``runs/speed_choices.json`` to measure everything again now.
* ``COURSE_SPEED=fixed`` skips measuring: fp32, channels_last on CPU only (the old static rule). Quick
  mode (``COURSE_QUICK=1``) does the same: its runs last seconds, less than the timing would cost.
* Measuring leaves the caller's random state alone (its noise comes from its own generator), so a
  seeded run trains identically whether the choice was measured or read from the cache.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import time
from dataclasses import dataclass, field

import torch

from .env import cpu_name, is_quick, runs_dir
from .files import locked, write_text_atomic

SPEED_ENV = "COURSE_SPEED"
CACHE_NAME = "speed_choices.json"
RTOL, ATOL = 0.05, 0.05  # bf16 vs fp32 logits: within 5% of the logits' scale, plus 0.05
ABANDON = 4.0  # a warm-up this many times slower than the best timed pass so far: not worth timing
NOISY = 1.5  # one candidate's passes differing more than this: the machine was busy, the choice is not cached
MAX_AGE_DAYS = 30  # a cached choice older than this is measured again (new drivers, a changed machine)
CACHE_VERSION = 2  # entries written by an older way of measuring (no interleaved rounds) are measured again
DEFAULT_TIMER = time.perf_counter  # the clock choose_speed reads unless given one (tests use a fake)


@dataclass
class SpeedChoice:
    """What a trainer uses: ``amp`` (bf16 autocast) and ``channels_last``, and how that was decided."""

    amp: bool
    channels_last: bool
    source: str  # "measured", "cached", "forced", "fixed" (COURSE_SPEED=fixed) or "quick" (quick mode)
    ms: dict = field(default_factory=dict)  # candidate name -> ms per probe pass (None: abandoned or failed)
    machine: str = ""
    notes: dict = field(default_factory=dict)  # candidate name -> why it was not timed
    first_pass: dict = field(default_factory=dict)  # abandoned candidate -> ms of its one (warm-up) pass
    spread: float = 1.0  # slowest / fastest timed pass of one candidate (> NOISY: a busy machine, not cached)

    def line(self) -> str:
        """One line for the student: what was picked, and by how much it beat the alternative."""
        if self.source in ("forced", "fixed", "quick"):
            why = {"forced": "as asked", "fixed": f"{SPEED_ENV}=fixed, not measured",
                   "quick": "quick mode, not measured"}[self.source]
            return f"speed: bf16 autocast {_on(self.amp)}, channels_last {_on(self.channels_last)} ({why})"
        parts = [f"bf16 autocast {_on(self.amp)}{self._versus('amp')}",
                 f"channels_last {_on(self.channels_last)}{self._versus('channels_last')}"]
        where = "measured here" + (", cached" if self.source == "cached" else "")  # the machine: in the cache
        if self.noisy():
            where += (f"; timings unsteady (passes differed up to {self.spread:.1f}x: a busy machine?), "
                      "not cached: measured again next run")
        return f"speed: {', '.join(parts)}; {where}"

    def noisy(self) -> bool:
        """Measured while the machine's speed changed: kept for this run, not cached."""
        return self.source == "measured" and self.spread > NOISY

    def short(self) -> str:
        """``fp32, channels_last (bf16 12.6x slower)``: the choice and how the other precision fared."""
        text = f"{'bf16' if self.amp else 'fp32'}{', channels_last' if self.channels_last else ''}"
        other = "fp32" if self.amp else "bf16"
        mine = self.ms.get(candidate_name(self.amp, self.channels_last))
        rivals = {k: v for k, v in self.ms.items() if k.split()[0] == other}
        if not rivals or not mine:
            return text
        timed = [v for v in rivals.values() if v is not None]
        if timed:
            return f"{text} ({other} {min(timed) / mine:.2f}x slower)"
        first = [self.first_pass[k] for k in rivals if k in self.first_pass]  # abandoned after one pass
        return f"{text} ({other} {min(first) / mine:.1f}x slower)" if first else text

    def as_record(self) -> dict:
        return {"amp": self.amp, "channels_last": self.channels_last, "source": self.source,
                "ms_per_pass": dict(self.ms), "notes": dict(self.notes), "first_pass_ms": dict(self.first_pass),
                "spread": round(self.spread, 3), "machine": self.machine}

    def _versus(self, axis: str) -> str:
        """`` (1.4x faster here)`` against the same setting with ``axis`` flipped, if that was timed."""
        mine = self.ms.get(candidate_name(self.amp, self.channels_last))
        flipped = candidate_name(not self.amp if axis == "amp" else self.amp,
                                 not self.channels_last if axis == "channels_last" else self.channels_last)
        if flipped not in self.ms:
            return ""
        other = self.ms[flipped]
        if other is None:
            return f" (the other way {self.notes.get(flipped, 'was not timed')})"
        if not mine:
            return ""
        ratio = other / mine
        return f" ({ratio:.2f}x faster here)" if ratio >= 1 else f" ({1 / ratio:.2f}x slower the other way)"


def _on(flag: bool) -> str:
    return "on" if flag else "off"


def candidate_name(amp: bool, channels_last: bool) -> str:
    return f"{'bf16' if amp else 'fp32'}{' channels_last' if channels_last else ''}"


def bf16_candidate(device: torch.device) -> bool:
    """bf16 autocast can be tried here: any CPU, a CUDA GPU that supports bf16 (not MPS)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu"


def candidates(device: torch.device, amp="auto", channels_last="auto") -> list[tuple[bool, bool]]:
    """``(amp, channels_last)`` pairs to time; the fp32 one first (the reference for numerics)."""
    if amp == "auto":
        amps = [False, True] if bf16_candidate(device) else [False]
    else:
        amps = [bool(amp)]
    layouts = [False, True] if channels_last == "auto" else [bool(channels_last)]
    return [(a, c) for a in amps for c in layouts]


def fixed_choice(device: torch.device, amp, channels_last) -> tuple[bool, bool]:
    """The old static rule (``COURSE_SPEED=fixed``): fp32; channels_last on a CPU."""
    return (False if amp == "auto" else bool(amp),
            device.type == "cpu" if channels_last == "auto" else bool(channels_last))


def machine_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_name()}, {torch.get_num_threads()} threads" if device.type == "cpu" else device.type


def cache_key(G, D, device, batch_size: int) -> str:
    """This machine, this torch, these models' shapes, this batch size: a choice is reused only for all of them."""
    def shape(m):
        return f"{type(m).__name__}({sum(p.numel() for p in m.parameters())})"
    return f"{machine_name(device)} | torch {torch.__version__} | {shape(G)} {shape(D)} | batch {batch_size}"


def _cache_path():
    return runs_dir() / CACHE_NAME


def read_cache() -> dict:
    try:
        data = json.loads(_cache_path().read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(key: str, choice: SpeedChoice) -> None:
    """Add ``key`` to the cache: read, add and write back under a lock (another run may be writing its own
    entry), the file replaced atomically; a cache that cannot be written is skipped (measured next time)."""
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path.with_name(f".{path.name}.lock")):
            data = read_cache()
            data[key] = {**choice.as_record(), "date": time.strftime("%Y-%m-%d"), "version": CACHE_VERSION}
            write_text_atomic(path, json.dumps(data, indent=1) + "\n")
    except OSError:
        pass


ENTRY_TYPES = {"amp": bool, "channels_last": bool, "date": str, "spread": (int, float), "ms_per_pass": dict,
               "notes": dict, "first_pass_ms": dict}
"""The type of each field of a cache entry; an entry with a field of another type is measured again."""


def _well_formed(entry) -> bool:
    if not isinstance(entry, dict) or not {"amp", "channels_last"} <= entry.keys():
        return False
    if any(name in entry and not isinstance(entry[name], kind) for name, kind in ENTRY_TYPES.items()):
        return False
    numbers = [*entry.get("ms_per_pass", {}).values(), *entry.get("first_pass_ms", {}).values(), entry.get("spread")]
    try:
        return all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) >= 0)
                   for v in numbers)
    except OverflowError:  # an integer too large for a float
        return False


def cached_choice(key: str, today: float | None = None) -> dict | None:
    """The cache's entry for ``key`` if it is usable: well formed (each field of its type, ``ENTRY_TYPES``),
    written by this way of measuring (``CACHE_VERSION``) and at most ``MAX_AGE_DAYS`` old; else ``None``
    (measure again)."""
    entry = read_cache().get(key)
    if not _well_formed(entry) or entry.get("version") != CACHE_VERSION:
        return None
    try:
        written = time.mktime(time.strptime(str(entry.get("date")), "%Y-%m-%d"))
    except (ValueError, OverflowError):
        return None
    now = time.time() if today is None else today
    return entry if (now - written) / 86400 <= MAX_AGE_DAYS else None


def probe_inputs(G, batch_size: int, device) -> tuple:
    """Noise (and labels for a conditional G) from a private generator: the global random state is untouched."""
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(batch_size, G.latent_dim, generator=gen).to(device)  # (B, latent_dim)
    k = getattr(G, "num_classes", None)
    if isinstance(k, int):
        return z, torch.randint(0, k, (batch_size,), generator=gen).to(device)  # (B,), (B,)
    return z, None


def probe_pass(G, D, z, labels, amp: bool, device) -> torch.Tensor:
    """One forward and backward pass through G then D; returns D's logits (fp32, detached)."""
    from .loop import autocast_context

    with autocast_context(device, amp):
        fake = G(z) if labels is None else G(z, labels)
        logits = D(fake) if labels is None else D(fake, labels)
    logits = logits.float()
    logits.square().mean().backward()
    return logits.detach()


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def grads_finite(*models) -> bool:
    return all(p.grad is None or bool(torch.isfinite(p.grad).all()) for m in models for p in m.parameters())


def round_order(names: list, r: int) -> list:
    """The order candidates are timed in round ``r`` (1, 2, ...): forwards, then backwards, and so on, so
    that a machine slowing down or speeding up during the measurement hits every candidate alike."""
    return list(names) if r % 2 == 0 else list(reversed(names))


def _timed_pass(g, d, amp, z, labels, device, timer) -> tuple[float, torch.Tensor]:
    _sync(device)
    t0 = timer()
    logits = probe_pass(g, d, z, labels, amp, device)
    _sync(device)
    return 1000 * (timer() - t0), logits


def time_candidates(G, D, device, pairs, batch_size: int, steps: int = 3, timer=None):
    """ms per probe pass for each ``(amp, channels_last)`` in ``pairs`` (the first is the numerics reference).

    Each candidate gets a warm-up pass (the numerics sample) and a first timed pass; a candidate whose
    warm-up is ``ABANDON`` times slower than the best timed pass so far stops there. The other ``steps - 1``
    passes run in interleaved rounds (:func:`round_order`). A candidate's ms is the reference's fastest
    pass times the median, over rounds, of its time divided by the reference's in the same round: load
    that comes and goes during the measurement cancels out of those ratios.

    Returns ``(ms, notes, first_pass, spread)``: ``ms[name]`` is ``None`` for a candidate that failed the
    numerics check or was abandoned after its warm-up, ``notes[name]`` says which, ``first_pass[name]``
    holds an abandoned candidate's warm-up ms and ``spread`` is the largest slowest/fastest ratio among
    one candidate's timed passes (1.0 on a steady machine; see ``NOISY``).
    """
    timer = timer or DEFAULT_TIMER
    z, labels = probe_inputs(G, batch_size, device)
    results, notes, first_pass, reference, best = {}, {}, {}, None, None
    live, times = {}, {}  # name -> (g, d, amp) still timed; name -> its timed passes, ms, round by round
    for amp, channels_last in pairs:
        g, d = copy.deepcopy(G).train(), copy.deepcopy(D).train()  # as in a training step
        if channels_last:
            g.to(memory_format=torch.channels_last)
            d.to(memory_format=torch.channels_last)
        name = candidate_name(amp, channels_last)
        warmup_ms, logits = _timed_pass(g, d, amp, z, labels, device, timer)
        if reference is None:
            reference = logits
        diff, tol = float((logits - reference).abs().max()), ATOL + RTOL * float(reference.abs().max())
        if not grads_finite(g, d) or not diff <= tol:
            results[name], notes[name] = None, f"failed the numerics check (logits off by {diff:.3g} > {tol:.3g})"
            continue
        if best is not None and warmup_ms > ABANDON * best:
            results[name], first_pass[name] = None, warmup_ms
            notes[name] = f"was {warmup_ms / best:.1f}x slower on a first pass, not timed further"
            continue
        live[name] = (g, d, amp)
        times[name] = [_timed_pass(g, d, amp, z, labels, device, timer)[0]]
        best = times[name][0] if best is None else min(best, times[name][0])
    for r in range(1, steps):
        for name in round_order(list(live), r):
            times[name].append(_timed_pass(*live[name], z, labels, device, timer)[0])
    if times:
        ref = times[next(iter(times))]  # the first timed candidate's passes, round by round
        for name, passes in times.items():
            results[name] = min(ref) * statistics.median(t / r for t, r in zip(passes, ref, strict=True))
    spread = max((max(t) / min(t) for t in times.values()), default=1.0)
    return results, notes, first_pass, spread


def choose_speed(G, D, device, *, amp="auto", channels_last="auto", batch_size: int = 64, steps: int = 3,
                 timer=None, use_cache: bool = True) -> SpeedChoice:
    """The fastest ``(amp, channels_last)`` whose numerics pass, measured here (see the module docstring).

    ``amp``/``channels_last``: True or False force a setting (not measured), "auto" measures it.
    ``timer``: a stand-in clock for tests. The models are not changed (copies are timed).
    """
    device = torch.device(device)
    for name, value in (("amp", amp), ("channels_last", channels_last)):
        if value != "auto" and not isinstance(value, bool):
            raise ValueError(f"{name} must be True, False or \"auto\" (measure which is faster here); got {value!r}")
    if amp != "auto" and channels_last != "auto":
        return SpeedChoice(amp, channels_last, "forced", machine=machine_name(device))
    fixed = os.environ.get(SPEED_ENV, "").strip().lower() == "fixed"
    if fixed or is_quick():
        a, c = fixed_choice(device, amp, channels_last)
        return SpeedChoice(a, c, "fixed" if fixed else "quick", machine=machine_name(device))
    key = f"{cache_key(G, D, device, batch_size)} | amp={amp} channels_last={channels_last}"
    cached = cached_choice(key) if use_cache else None
    if cached is not None:
        return SpeedChoice(bool(cached["amp"]), bool(cached["channels_last"]), "cached",
                           dict(cached.get("ms_per_pass") or {}), machine_name(device), dict(cached.get("notes") or {}),
                           dict(cached.get("first_pass_ms") or {}), float(cached.get("spread") or 1.0))
    pairs = candidates(device, amp, channels_last)
    ms, notes, first_pass, spread = time_candidates(G, D, device, pairs, batch_size, steps, timer)
    timed = {p: ms[candidate_name(*p)] for p in pairs if ms[candidate_name(*p)] is not None}
    a, c = min(timed, key=timed.get) if timed else pairs[0]
    choice = SpeedChoice(a, c, "measured", ms, machine_name(device), notes, first_pass, spread)
    if use_cache and not choice.noisy():
        write_cache(key, choice)
    return choice
