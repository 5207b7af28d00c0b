"""Lesson 3's training step timed on this machine: the prediction the lesson prints before it trains."""

from __future__ import annotations

import torch

from ..kit.timing import GRAPH_SETUP, budgeted_epochs, budgeted_training_s, gpu_steps, preserved_rng, random_loader

LESSON3 = {"num_epochs": 50, "steps_per_epoch": 937, "eval_samples": 2000, "real_images_scored": 10_000 + 2_000,
           "gpu_checkpoint_every": 5, "cpu_checkpoint_every": 1, "cpu_max_minutes": 20, "plain_steps": 300}
"""Lesson 3's settings cell, as the doctor predicts it: 50 epochs on a GPU; on a CPU a 20-minute budget scored every
epoch (so a run of a few epochs still has a curve), and the plain loop's 300 steps before ``train_gan``."""


def lesson3_setting(device) -> dict:
    """Lesson 3's training setting for ``device``, as its settings cell picks it (plumbing)."""
    gpu = torch.device(device).type == "cuda"
    return {"num_epochs": LESSON3["num_epochs"], "max_minutes": None if gpu else LESSON3["cpu_max_minutes"],
            "checkpoint_every": LESSON3["gpu_checkpoint_every" if gpu else "cpu_checkpoint_every"]}


def lesson3_training_s(step_s: float, checkpoint_s: float, setting: dict) -> tuple[float, int]:
    """``(training seconds, checkpoints)`` of lesson 3's run (:func:`~course_utils.kit.timing.budgeted_training_s`)."""
    return budgeted_training_s(step_s, checkpoint_s, setting, LESSON3["steps_per_epoch"])


def lesson3_models(device):
    """Lesson 3's G and D with DCGAN initialisation, on ``device`` (plumbing)."""
    from ..lesson1.reference import Generator, init_weights
    from ..lesson2.reference import Discriminator

    G, D = Generator(100).to(device), Discriminator().to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    return G, D


def time_lesson3_step(steps: int, device, warmup: int = 2, models=None) -> float:
    """Seconds per ``train_gan`` step at lesson 3's settings, after ``warmup`` steps (plumbing)."""
    from .trainer import d_step, g_step, train_gan

    G, D = models or lesson3_models(device)
    options = dict(lr_g=2e-4, lr_d=2e-4, beta1=0.5, d_step_fn=d_step, g_step_fn=g_step, seed=None, amp="auto",
                   checkpoint_every=0, verbose=False, dashboard=False)

    def seconds(n):
        return train_gan(G, D, random_loader(n, (1, 28, 28), device), 1, device, **options)["wall_time_s"]

    if torch.device(device).type == "cuda":  # CUDA graphs are decided after GRAPH_SETUP steps: time past them
        seconds(GRAPH_SETUP)  # warm-up: the GPU's first kernels load and tune here
        steps = gpu_steps(steps)
        return (seconds(GRAPH_SETUP + steps) - seconds(GRAPH_SETUP)) / steps
    seconds(warmup)
    return seconds(steps) / steps


def predict_training_seconds(num_epochs: int, steps_per_epoch: int, device, steps: int = 10,
                             max_minutes: float | None = None) -> tuple[float, float]:
    """Lesson 3, before it trains: ``(predicted seconds, seconds per step)`` for ``num_epochs`` x
    ``steps_per_epoch`` steps, or the whole epochs that fit ``max_minutes``, from ``steps`` timed steps on this
    machine (the caller's random state is kept)."""
    with preserved_rng():
        step_s = time_lesson3_step(steps, device)
    epochs = budgeted_epochs(steps_per_epoch * step_s, num_epochs, max_minutes)
    return epochs * steps_per_epoch * step_s, step_s
