"""A whole training step as one CUDA graph, kept only where it is faster (the trainer kit; lessons 3 and 6).

Lesson 3's networks are small: on a GPU one step is hundreds of tiny kernels, and the time goes to
launching them from Python, not to computing. A CUDA graph records the step's kernels once and
replays them with one launch (``torch.cuda.CUDAGraph``). :class:`GraphedStep` wraps a trainer's
``step(real) -> dict``:

1. ``WARMUP`` eager steps on a side stream (lazy initialisation, optimizer state);
2. ``COMPARE`` eager steps timed, then the step captured and ``COMPARE`` replays timed; every one of
   these is a real training step on a real batch (nothing is wasted);
3. the faster one is kept and said in one line: ``CUDA graphs: on (6.8x faster per step here)``.

What capture needs from a step, and what happens otherwise:

* the same work on every call: no Python counters or Python randomness inside the step (the
  course's ``d_step``/``g_step`` draw their noise with ``torch.randn``, which graphs replay freshly);
* no host syncs (``.item()``, printing a tensor): capture fails, the step stays eager, the line says why;
* a batch of another shape (an incomplete last batch) runs eagerly.

Adam runs with ``capturable=True`` (its step count lives on the GPU): the same update. On a CPU or
with ``cuda_graphs=False`` nothing changes: the step is called as it is.
"""

from __future__ import annotations

import contextlib
import time

import torch

WARMUP = 3  # eager steps before timing: the first ones pay for lazy initialisation
COMPARE = 20  # steps timed each way; a lesson-3 epoch has 937


def say(line: str) -> None:
    """Print above the progress bar, not through it (the choice is made while the bar runs)."""
    from tqdm.auto import tqdm

    tqdm.write(line)


class CudaBackend:
    """The real thing: streams, synchronisation and ``torch.cuda.graph`` (tests pass a stand-in)."""

    def __init__(self, device):
        self.device = torch.device(device)

    def sync(self) -> None:
        torch.cuda.synchronize(self.device)

    @contextlib.contextmanager
    def side_stream(self):
        """Run the enclosed work on a fresh stream, ordered after and before the current one (as the docs show)."""
        stream = torch.cuda.Stream(self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            yield
        torch.cuda.current_stream(self.device).wait_stream(stream)

    def capture(self, fn):
        """Record ``fn()``; returns ``(replay, outputs)``: ``replay()`` reruns the kernels, refilling ``outputs``."""
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            outputs = fn()
        return graph.replay, outputs


def make_capturable(*optimizers) -> None:
    """Adam's step count on the parameters' device (``capturable=True``): a graph can replay its update."""
    for opt in optimizers:
        for group in opt.param_groups:
            group["capturable"] = True
            for p in group["params"]:
                state = opt.state.get(p, {})
                step = state.get("step")
                if isinstance(step, torch.Tensor) and step.device != p.device:
                    state["step"] = step.to(device=p.device, dtype=torch.float32)


class GraphedStep:
    """``step(real)`` as a CUDA graph after a timed comparison; eager wherever that is not possible.

    ``mode``: "auto" (capture on a CUDA device and keep it if faster), True (keep it if capture works),
    False (never). ``optimizers`` are made capturable before the first step. ``timer``/``backend``:
    stand-ins for tests. ``choice``: None until decided, then a dict for the history.
    """

    def __init__(self, step, device, optimizers=(), mode="auto", *, verbose: bool = True, timer=None,
                 backend=None):
        if mode not in ("auto", True, False):
            raise ValueError(f"cuda_graphs must be True, False or \"auto\" (measure on this GPU), got {mode!r}")
        self.step, self.mode, self.verbose = step, mode, verbose
        self.timer = timer or time.perf_counter
        device = torch.device(device)
        self.active = mode is not False and (backend is not None or device.type == "cuda")
        self.backend = backend or (CudaBackend(device) if self.active else None)
        self.optimizers, self.calls, self.replays, self.eager_s, self.graph_s = optimizers, 0, 0, 0.0, 0.0
        self.replay = self.static_real = self.static_out = self.keys = None
        self.choice = None if self.active else {"cuda_graphs": False, "why": "not a CUDA device" if mode else "off"}

    def __call__(self, real):
        if not self.active:
            return self.step(real)
        self.calls += 1
        if self.calls == 1 and self.optimizers:
            make_capturable(*self.optimizers)
        if self.calls <= WARMUP:
            with self.backend.side_stream():
                return self.step(real)
        if self.calls <= WARMUP + COMPARE:
            return self._timed("eager_s", self.step, real)
        if self.replay is None:
            return self._capture(real)
        if real.shape != self.static_real.shape or real.dtype != self.static_real.dtype:
            return self.step(real)  # e.g. an incomplete last batch: eager, the graph keeps its shapes
        if self.replays < COMPARE:
            self.replays += 1
            out = self._timed("graph_s", self._replay, real)
            if self.replays == COMPARE:
                self._decide()
            return out
        return self._replay(real)

    def _timed(self, total: str, fn, real):
        self.backend.sync()
        t0 = self.timer()
        out = fn(real)
        self.backend.sync()
        setattr(self, total, getattr(self, total) + self.timer() - t0)
        return out

    def _capture(self, real):
        """Train on this batch eagerly, then record the step on a copy of it (recording runs nothing)."""
        with self.backend.side_stream():
            out = self.step(real)
        self.static_real = real.detach().clone()  # the graph's input: each later batch is copied into it

        def packed():
            stats = self.step(self.static_real)
            self.keys = list(stats)
            return torch.stack([stats[k].detach().float().reshape(()) for k in self.keys])  # (n_stats,)

        try:
            self.replay, self.static_out = self.backend.capture(packed)
        except Exception as exc:  # noqa: BLE001 - whatever stops the capture: stay eager, say why
            self._give_up(f"the step could not be captured ({type(exc).__name__}: {str(exc)[:160]})")
        return out

    def _replay(self, real):
        self.static_real.copy_(real)
        self.replay()
        stats = self.static_out.clone()  # (n_stats,): the next replay overwrites static_out
        return dict(zip(self.keys, stats, strict=True))

    def _decide(self) -> None:
        ratio = self.eager_s / self.graph_s if self.graph_s > 0 else float("inf")
        keep = ratio > 1.0 or self.mode is True
        self.choice = {"cuda_graphs": keep, "eager_ms": round(1000 * self.eager_s / COMPARE, 3),
                       "graph_ms": round(1000 * self.graph_s / COMPARE, 3), "steps_timed": COMPARE}
        if not keep:
            self.active = False
        if self.verbose:
            how = f"{ratio:.1f}x faster per step here" if ratio >= 1 else f"{1 / ratio:.1f}x slower per step here"
            say(f"CUDA graphs: {'on' if keep else 'off'} ({how}; {COMPARE} steps timed each way)")

    def _give_up(self, why: str) -> None:
        self.active, self.replay = False, None
        self.choice = {"cuda_graphs": False, "why": why}
        if self.verbose:
            say(f"CUDA graphs: off, {why}; training goes on eagerly")
