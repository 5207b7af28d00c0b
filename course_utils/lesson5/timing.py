"""Lesson 5's training timed on this machine: one generator iteration at the lesson's setting (plumbing)."""

from __future__ import annotations

import torch

from ..kit.timing import random_loader
from .wgan import Critic, FlowerGenerator, train_wgan_gp

LESSON5 = {"num_epochs": 15, "iterations_per_epoch": 25, "n_critic": 5, "batch_size": 64,
           "cpu_num_epochs": 40, "cpu_max_minutes": 22}


def lesson5_setting(device) -> dict:
    """Lesson 5's full setting for ``device``, as its settings cell picks it (plumbing)."""
    gpu = torch.device(device).type == "cuda"
    return {"image_size": 64, "width": 48 if gpu else 32, "amp": "auto",
            "num_epochs": LESSON5["num_epochs"] if gpu else LESSON5["cpu_num_epochs"],
            "max_minutes": None if gpu else LESSON5["cpu_max_minutes"]}


def lesson5_training_s(iteration_s: float, setting: dict) -> float:
    """Lesson 5's training time: its epochs, or with ``max_minutes`` the whole epochs that fit (``loop.fit``'s rule)."""
    epoch_s = LESSON5["iterations_per_epoch"] * iteration_s
    epochs = setting["num_epochs"]
    if setting.get("max_minutes"):
        budget = setting["max_minutes"] * 60
        epochs = min(epochs, max(1, int(budget // epoch_s)))  # the next epoch would end past the budget
    return epochs * epoch_s


def time_lesson5_iteration(iterations: int, device, warmup: int = 1) -> float:
    """Seconds per ``train_wgan_gp`` generator iteration at lesson 5's setting, after a warm-up (plumbing)."""
    s = lesson5_setting(device)
    G = FlowerGenerator(100, s["width"], image_size=s["image_size"]).to(device)
    D = Critic(s["width"], image_size=s["image_size"]).to(device)
    options = dict(lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.9, n_critic=LESSON5["n_critic"], lambda_gp=10.0,
                   amp=s["amp"], seed=None, checkpoint_every=0, verbose=False, dashboard=False)
    shape, n = (3, s["image_size"], s["image_size"]), LESSON5["n_critic"]
    train_wgan_gp(G, D, random_loader(warmup * n, shape, device), 1, device, **options)
    history = train_wgan_gp(G, D, random_loader(iterations * n, shape, device), 1, device, **options)
    return history["wall_time_s"] / iterations


def lesson5_models(device):
    """Lesson 5's G and critic at its setting for ``device`` (plumbing)."""
    s = lesson5_setting(device)
    return (FlowerGenerator(100, s["width"], image_size=s["image_size"]).to(device),
            Critic(s["width"], image_size=s["image_size"]).to(device))
