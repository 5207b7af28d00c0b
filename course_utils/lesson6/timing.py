"""Lesson 6's training step timed on this machine: the prediction the lesson prints before it trains."""

from __future__ import annotations

import torch

from ..kit.timing import budgeted_epochs, budgeted_training_s, preserved_rng

LESSON6 = {"num_epochs": 20, "steps_per_epoch": 937, "eval_samples": 2000, "gpu_checkpoint_every": 2,
           "cpu_checkpoint_every": 1, "cpu_max_minutes": 20}
"""Lesson 6's settings cell, as the doctor predicts it: 20 epochs on a GPU, scored every 2; on a CPU a 20-minute
budget scored every epoch (scores on 200 samples per class, 2,000 in all)."""


def lesson6_setting(device) -> dict:
    """Lesson 6's training setting for ``device``, as its settings cell picks it (plumbing)."""
    gpu = torch.device(device).type == "cuda"
    return {"num_epochs": LESSON6["num_epochs"], "max_minutes": None if gpu else LESSON6["cpu_max_minutes"],
            "checkpoint_every": LESSON6["gpu_checkpoint_every" if gpu else "cpu_checkpoint_every"]}


def lesson6_training_s(step_s: float, checkpoint_s: float, setting: dict) -> tuple[float, int]:
    """``(training seconds, checkpoints)`` of lesson 6's run (:func:`~course_utils.kit.timing.budgeted_training_s`)."""
    return budgeted_training_s(step_s, checkpoint_s, setting, LESSON6["steps_per_epoch"])


def time_conditional_step(steps: int, device, warmup: int = 2) -> float:
    """Seconds per ``train_conditional_gan`` step at lesson 6's settings (the class term on), after ``warmup``
    steps (plumbing)."""
    from ..kit.data import TensorLoader
    from ..lesson1.reference import init_weights
    from .conditional import (
        ClassHeadDiscriminator,
        ConditionalGenerator,
        class_loss_steps,
        train_conditional_gan,
    )

    G, D = ConditionalGenerator().to(device), ClassHeadDiscriminator().to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    options = dict(seed=None, checkpoint_every=0, verbose=False, dashboard=False, **class_loss_steps(1.0))
    for n in (warmup, steps):
        images = torch.randint(0, 256, (n * 64, 1, 28, 28), dtype=torch.uint8)
        loader = TensorLoader(images, torch.randint(0, 10, (n * 64,)), batch_size=64, device=device)
        history = train_conditional_gan(G, D, loader, 1, device, **options)
    return history["wall_time_s"] / steps


def predict_conditional_training_seconds(num_epochs: int, steps_per_epoch: int, device, steps: int = 10,
                                         max_minutes: float | None = None) -> tuple[float, float]:
    """Lesson 6, before it trains: ``(predicted seconds, seconds per step)`` for ``num_epochs``, or the whole epochs
    that fit ``max_minutes``, from ``steps`` timed steps here."""
    with preserved_rng():
        step_s = time_conditional_step(steps, device)
    epochs = budgeted_epochs(steps_per_epoch * step_s, num_epochs, max_minutes)
    return epochs * steps_per_epoch * step_s, step_s


def lesson6_models(device):
    """Lesson 6's G and D (the class term's D) on ``device`` (plumbing)."""
    from .conditional import ClassHeadDiscriminator, ConditionalGenerator

    return ConditionalGenerator().to(device), ClassHeadDiscriminator().to(device)
