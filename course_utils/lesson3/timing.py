"""Lesson 3's training step timed on this machine: the prediction the lesson prints before it trains."""

from __future__ import annotations

import torch

from ..kit.timing import GRAPH_SETUP, gpu_steps, preserved_rng, random_loader


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


def predict_training_seconds(num_epochs: int, steps_per_epoch: int, device, steps: int = 10) -> tuple[float, float]:
    """Lesson 3, before it trains: ``(predicted seconds, seconds per step)`` for ``num_epochs`` x
    ``steps_per_epoch`` steps, from ``steps`` timed steps on this machine (the caller's random state is kept)."""
    with preserved_rng():
        step_s = time_lesson3_step(steps, device)
    return num_epochs * steps_per_epoch * step_s, step_s
