"""Lesson 6's training step timed on this machine: the prediction the lesson prints before it trains."""

from __future__ import annotations

import torch

from ..kit.timing import preserved_rng


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


def predict_conditional_training_seconds(num_epochs: int, steps_per_epoch: int, device,
                                         steps: int = 10) -> tuple[float, float]:
    """Lesson 6, before it trains: ``(predicted seconds, seconds per step)``, from ``steps`` timed steps here."""
    with preserved_rng():
        step_s = time_conditional_step(steps, device)
    return num_epochs * steps_per_epoch * step_s, step_s


def lesson6_models(device):
    """Lesson 6's G and D (the class term's D) on ``device`` (plumbing)."""
    from .conditional import ClassHeadDiscriminator, ConditionalGenerator

    return ConditionalGenerator().to(device), ClassHeadDiscriminator().to(device)
