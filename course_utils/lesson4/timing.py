"""Lesson 4's toy GAN timed on this machine: one step of its experiments (plumbing)."""

from __future__ import annotations

import time

import torch

from ..kit.env import use_threads
from .experiments import TOY, settings_for, toy_run, toy_step_units  # noqa: F401 - the doctor counts toy steps with it


def time_toy_step(epochs: int = 1) -> float:
    """Seconds per step of lesson 4's toy GAN (one D and one G step, one thread, as the lesson runs it) (plumbing)."""
    threads = torch.get_num_threads()
    use_threads(1)
    try:
        start = time.perf_counter()
        toy_run(settings_for("collapse"), 0, epochs)
        return (time.perf_counter() - start) / (epochs * TOY["n_points"] // TOY["batch_size"])
    finally:
        torch.set_num_threads(threads)
