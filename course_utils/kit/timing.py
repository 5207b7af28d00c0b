"""Timing helpers shared by the lessons' time predictions and the doctor's forecast (plumbing)."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import torch

from .graphs import COMPARE, WARMUP

GRAPH_SETUP = WARMUP + 2 * COMPARE + 1  # train_gan's steps before its CUDA-graph choice (course_utils.kit.graphs)


GPU_STEPS = 300  # steps timed past that on a GPU, where one step takes about a millisecond


@contextlib.contextmanager
def preserved_rng():
    """Timing draws random numbers; the caller's random state (torch, NumPy, Python) is restored (plumbing)."""
    py, npy = random.getstate(), np.random.get_state()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        try:
            yield
        finally:
            random.setstate(py)
            np.random.set_state(npy)


def random_loader(n_batches: int, shape, device, batch_size: int = 64):
    from .data import TensorLoader

    images = torch.randint(0, 256, (n_batches * batch_size, *shape), dtype=torch.uint8)
    return TensorLoader(images, batch_size=batch_size, device=device, seed=0)


def gpu_steps(steps: int) -> int:
    """Lesson-3 steps timed on a GPU when ``steps`` are asked for: at least ``GPU_STEPS`` (a step is ~1 ms)."""
    return max(steps, GPU_STEPS)


def duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``2 h 05 min`` (plumbing)."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min"


def budgeted_epochs(epoch_s: float, num_epochs: int, max_minutes: float | None) -> int:
    """The whole epochs a run trains: ``num_epochs``, or with ``max_minutes`` those that fit the budget, at least 1
    (``kit.loop``'s rule: before each epoch after the first, stop if it would end past the budget) (plumbing)."""
    if not max_minutes:
        return num_epochs
    return min(num_epochs, max(1, int(max_minutes * 60 // epoch_s)))


def budgeted_training_s(step_s: float, checkpoint_s: float, setting: dict, steps_per_epoch: int) -> tuple[float, int]:
    """``(training seconds, checkpoints)`` of a lesson's run at ``setting`` (``num_epochs``, ``max_minutes``,
    ``checkpoint_every``): its epochs, or the whole epochs that fit the budget, each ``steps_per_epoch`` steps plus,
    when every epoch is a checkpoint, ``checkpoint_s`` of scoring (plumbing for lessons 3 and 6)."""
    every = setting["checkpoint_every"]
    epoch_s = steps_per_epoch * step_s + (checkpoint_s if every == 1 else 0.0)
    epochs = budgeted_epochs(epoch_s, setting["num_epochs"], setting["max_minutes"])
    return epochs * steps_per_epoch * step_s, epochs // every if every else 0
