"""Time a few training steps of lessons 3 and 5 on this machine and predict each lesson's full run.

The timings run the lessons' own code path: ``train_gan`` (lesson 3's settings: the reference
``Generator``/``Discriminator``, ``d_step``/``g_step``, batch 64, Adam 2e-4, beta1 0.5, ``amp="auto"``,
``channels_last="auto"``) and ``train_wgan_gp`` (lesson 5's setting for this device: 64x64, width 32
and a 22-minute budget on a CPU, width 48 and 15 epochs on a GPU, n_critic 5, ``amp="auto"``), on
random images, after a warm-up, so the fused Adam, frozen networks, autocast and threads are the
ones the lessons get.

The model (all times in seconds; the recorded times are the README's, on its 2-core Intel Xeon):

* ``speed = cpu_step / REFERENCE_STEP_S``: this CPU's lesson-3 step against that Xeon's (70 ms).
* lesson 3 = its plain loop (300 steps x ``cpu_step``) + 50 epochs x 937 steps x ``lesson3_step`` (on a CPU the
  whole epochs that fit its 20-minute budget, scored every epoch) + evaluation + ``14 x speed``, where the
  evaluation is what the notebook's ``fashion_eval_fn`` does: at each checkpoint (10 on a GPU) sample and
  classify 2,000 images and compute FID and KID, plus classifying 12,000 real images once
  (``eval_per_image``, ``eval_scores`` measured); 14 s is the rest of the notebook on the Xeon
  (3,350 s in all, 3,336 s of them training).
* lesson 5 = its epochs x 25 generator iterations x ``lesson5_iter`` + ``REST_S[5] x speed`` (the Xeon:
  291 s in all, 172 s of them training, plus about 60 s since for scoring the CPU generator); on a CPU the
  epochs are those that fit the lesson's ``max_minutes`` (whole epochs while the next one fits, at most 40).
* lesson 4 = its toy runs (``experiments.toy_step_units()``: every failure and fix on 3 seeds, in plain
  toy steps, side by side in one process per core as ``run_group`` runs them) x ``toy_step`` (timed: one
  epoch of the toy GAN, one thread) + ``REST_S[4] x speed``: the other cells (the Fashion-MNIST experiment,
  checkpoints, plots), 116 s of a 429.8 s whole run on a 2-core AMD EPYC whose lesson-3 step timed 72.6 ms
  right after (the toy sections took the other 314 s; ``records/sections/04.json``): 112 s at the Xeon's 70 ms.
* lesson 6 = 20 epochs x 937 steps x ``lesson6_step`` (on a CPU the whole epochs that fit its 20-minute budget,
  scored every epoch) + the checkpoints' evaluation (2,000 samples each; 10 on a GPU)
  + ``REST_S[6] x speed``: the rest of the notebook (the control measurements on 10,000 samples, the
  comparison with lesson 3, the figures), timed on an AMD EPYC with ``use_shipped_run = True`` and scaled
  to the Xeon by the two CPUs' lesson-3 steps.
* lesson 7 = its recorded time x ``speed``: it trains nothing (walks, truncation, directions, steering and
  inversion of the shipped generator, 3 seeds); the whole notebook took 106 s on a 2-core AMD EPYC whose
  lesson-3 step timed 35 ms right after: 212 s at the Xeon's 70 ms.
* lessons 1, 2 = their recorded time x ``speed`` (5 and 14 s on the Xeon); lesson 2 also trains a toy D
  for its optimal-D demo (3 seeds x 2 x 1,500 D-only steps, half a toy step each). Lesson 1 also runs
  the doctor's checks without the timing (``machine_check``, a few seconds).

The non-training parts run on the CPU even beside a GPU, so ``speed`` always comes from a CPU step.
Other programs running at the same time slow both the timing and the lessons.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ..kit.graphs import COMPARE, WARMUP  # noqa: F401 - the old flat module exposed them
from ..kit.timing import GPU_STEPS, GRAPH_SETUP, duration, gpu_steps, preserved_rng, random_loader  # noqa: F401
from ..lesson3.timing import (  # noqa: F401  # noqa: F401
    LESSON3,
    lesson3_models,
    lesson3_setting,
    lesson3_training_s,
    predict_training_seconds,
    time_lesson3_step,
)
from ..lesson4.timing import time_toy_step, toy_step_units
from ..lesson5.timing import LESSON5, lesson5_models, lesson5_setting, lesson5_training_s, time_lesson5_iteration  # noqa: F401
from ..lesson6.timing import (  # noqa: F401
    LESSON6,
    lesson6_models,
    lesson6_setting,
    lesson6_training_s,
    predict_conditional_training_seconds,
    time_conditional_step,
)

REFERENCE_STEP_S = 0.070
"""Lesson 3's training step on the README's 2-core Intel Xeon, fp32 (bf16 timed slower there)."""
RECORDED_S = {1: 5.0, 2: 14.0, 3: 3350.0, 4: 201.0, 5: 291.0, 7: 106.2 * 0.070 / 0.035}
"""Full-run wall time of each lesson on that Xeon (README's lesson table)."""
REST_S = {3: 3350.0 - 3336.0, 4: 116.0 * 0.070 / 0.0726, 5: 291.0 - 172.0 + 60.0, 6: 29.7}
"""The part of lessons 3 and 5 that is not training, on that Xeon (whole notebook minus training)."""
LESSONS = (1, 2, 3, 4, 5, 6, 7)


@dataclass(frozen=True)
class Timings:
    """Seconds per unit of work on this machine (plumbing for :func:`predict_lesson_seconds`)."""

    lesson3_step: float  # one train_gan step, batch 64, on the lessons' device
    lesson5_iter: float  # one train_wgan_gp generator iteration (5 critic steps + 1 G step)
    eval_per_image: float  # sample and classify one image (lesson 3's FID/KID)
    eval_scores: float  # FID + KID of 2,000 features against 10,000
    cpu_step: float  # one train_gan step on the CPU (the speed of the CPU-bound cells)
    device: str = "cpu"
    toy_step: float = 0.0  # one train_stable_gan step of lesson 4's toy GAN, one thread (0: not measured)
    lesson6_step: float = 0.0  # one train_conditional_gan step, batch 64 (0: not measured)




























def speed_choices(device, batch_size: int = 64) -> dict:
    """The bf16/channels_last setting each training lesson (3, 5, 6) will use here, measured as its trainer
    measures it and cached, so the lesson then reuses it (``course_utils.kit.speed``) (plumbing)."""
    from ..kit.speed import choose_speed

    with preserved_rng():
        models = {3: lesson3_models(device), 5: lesson5_models(device), 6: lesson6_models(device)}
        return {lesson: choose_speed(G, D, device, batch_size=batch_size) for lesson, (G, D) in models.items()}


def time_evaluation(G, n: int) -> tuple[float, float]:
    """``(seconds per image sampled and classified, seconds for FID + KID at lesson 3's sizes)`` (plumbing)."""
    from ..kit.sampling import sample
    from ..measure.metrics import classify, frechet_distance, gaussian_stats, kernel_distance

    classify(sample(G, 8, seed=0))  # warm-up: loads the classifier
    start = time.perf_counter()
    feats, _ = classify(sample(G, n, seed=0))  # (n, 128)
    per_image = (time.perf_counter() - start) / n
    feats = feats.repeat(-(-LESSON3["eval_samples"] // n), 1)[:LESSON3["eval_samples"]]  # (2000, 128)
    reference = torch.randn(10_000, feats.shape[1], dtype=torch.float64)
    start = time.perf_counter()
    frechet_distance(gaussian_stats(feats), gaussian_stats(reference))
    kernel_distance(feats, reference)
    return per_image, time.perf_counter() - start


def measure(steps: int = 25, device=None) -> Timings:
    """Time lessons 3 and 5 here: ``steps`` lesson-3 steps, ``steps // 5`` lesson-5 iterations (plumbing)."""
    from ..kit.env import get_device

    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}: e.g. steps=25")
    device = torch.device(device) if device is not None else get_device()
    with preserved_rng():
        G, D = lesson3_models(device)
        step = time_lesson3_step(steps, device, warmup=max(2, steps // 5), models=(G, D))
        cpu_step = step if device.type == "cpu" else time_lesson3_step(min(steps, 5), "cpu")
        iteration = time_lesson5_iteration(max(1, steps // 5), device)
        per_image, scores = time_evaluation(G, n=min(500, 25 * steps))
        toy = time_toy_step()
        conditional = time_conditional_step(steps, device, warmup=max(2, steps // 5))
    return Timings(step, iteration, per_image, scores, cpu_step, device.type, toy, conditional)


def predict_lesson_seconds(lesson: int, steps: int = 25, timer=None) -> float:
    """Predicted wall time of lesson ``lesson``'s full run on this machine, in seconds (plumbing; lessons 1-7).

    ``timer(steps) -> Timings`` (default :func:`measure`, which takes seconds) measures the machine;
    the model is in this module's docstring. Linear in every timing.
    """
    if lesson not in LESSONS:
        raise ValueError(f"lesson must be one of {LESSONS}, got {lesson!r}")
    return predict_from(timer(steps) if timer is not None else measure(steps), lesson)


def predict_from(t: Timings, lesson: int) -> float:
    """The model of this module's docstring, applied to measured timings ``t`` (plumbing)."""
    return sum(parts(t, lesson).values())


def parts(t: Timings, lesson: int) -> dict[str, float]:
    """The predicted seconds of ``lesson`` by part: ``training``, ``evaluation``, ``other cells`` (plumbing)."""
    speed = t.cpu_step / REFERENCE_STEP_S
    if lesson == 3:
        c = LESSON3
        per_checkpoint = c["eval_samples"] * t.eval_per_image + t.eval_scores
        training, checkpoints = lesson3_training_s(t.lesson3_step, per_checkpoint, lesson3_setting(t.device))
        evaluation = checkpoints * per_checkpoint + c["real_images_scored"] * t.eval_per_image + t.eval_scores
        return {"plain loop": c["plain_steps"] * t.cpu_step, "training": training, "evaluation": evaluation,
                "other cells": REST_S[3] * speed}
    if lesson == 2 and t.toy_step:  # + the optimal-D demo: 3 seeds x 2 Ds x 1,500 D-only steps (half a toy step)
        return {"whole notebook": RECORDED_S[2] * speed, "optimal-D demo": 3 * 2 * 1500 * 0.5 * t.toy_step}
    if lesson == 4 and t.toy_step:
        return {"toy runs": toy_step_units(workers=None) * t.toy_step, "other cells": REST_S[4] * speed}
    if lesson == 6:
        per_checkpoint = LESSON6["eval_samples"] * t.eval_per_image + t.eval_scores
        training, checkpoints = lesson6_training_s(t.lesson6_step, per_checkpoint, lesson6_setting(t.device))
        return {"training": training, "evaluation": checkpoints * per_checkpoint,
                "other cells": REST_S[6] * speed}
    if lesson == 5:
        return {"training": lesson5_training_s(t.lesson5_iter, lesson5_setting(t.device)),
                "other cells": REST_S[5] * speed}
    return {"whole notebook": RECORDED_S[lesson] * speed}


