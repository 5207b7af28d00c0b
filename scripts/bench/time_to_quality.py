"""Time to quality: lesson 3's default path against the PyTorch tutorial's DCGAN, same minutes, same metric.

    python scripts/train/tutorial_dcgan.py --record          # once per machine: the tutorial's 20-epoch curve
    python scripts/bench/benchmark.py --ttq --minutes 9 --out runs/ttq

Both paths train for ``--minutes`` of wall time, one after the other (never side by side: they would
share the CPU); scoring is paused out of the clock. Every ``--score-every`` minutes of training each
generator is scored with the course metric (FID of ``--ttq-n`` samples, the same latent vectors each
time). Printed: both curves (minutes -> FID) next to the tutorial's recorded 20-epoch curve on this
machine, and the minutes the lesson path needed to reach the tutorial's 20-epoch FID, against the
target of a third of the tutorial's 20-epoch wall time.

* **lesson path**: ``train_gan`` with lesson 3's models and settings and every default (speed settings
  picked by measurement, CUDA graphs where they time faster), plus the EMA of G the lesson ships
  (decay 0.999, its own BatchNorm statistics); both the raw G and the EMA are scored, and the better
  one at the end is written to ``DIR/generator.pt`` (``load_generator(path)`` reads it).
* **tutorial**: ``scripts/train/tutorial_dcgan.py`` (the tutorial's architecture, BCELoss, batch 128,
  a torchvision ``DataLoader``), its loop unchanged.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch

from course_utils import export_generator, fashion_mnist_loader
from course_utils.kit.ema import ema_copy, ema_update, recompute_bn
from course_utils.kit.env import cpu_name
from course_utils.lesson3.trainer import g_step, train_gan
from course_utils.measure.records import load_record, record_path
from course_utils.tools.forecast import lesson3_models

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
from tutorial_dcgan import fid_of  # noqa: E402 - the course metric, one definition for both scripts

RECORD = record_path("tutorial_dcgan_curve")
EMA_DECAY = 0.999
TIMER = time.perf_counter  # the clock a TrainingClock reads unless given one (tests use a fake)


class StopTraining(BaseException):
    """Raised from inside a training loop once the time budget is spent (BaseException: the course's
    loops keep going after an ``Exception`` in a metric, by design)."""


class Chunks:
    """Present a loader as "epochs" of ``steps`` batches from one continuing stream (to look at the clock often)."""

    def __init__(self, loader, steps: int):
        self.loader, self.steps, self._it = loader, steps, None
        self.dataset = getattr(loader, "dataset", None)
        self.batch_size = getattr(loader, "batch_size", None)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        for _ in range(self.steps):
            batch = next(self._it, None) if self._it is not None else None
            if batch is None:  # start (or restart) a pass over the data
                self._it = iter(self.loader)
                batch = next(self._it)
            yield batch


class TrainingClock:
    """Training time with the scoring paused out of it; ``tick()`` scores on a fixed schedule and stops at the end.

    ``score()`` is called at every ``every`` seconds of training and once more when ``budget`` seconds are
    spent; then ``tick`` raises :class:`StopTraining`. ``timer`` is injectable (tests use a fake clock).
    """

    def __init__(self, budget: float, every: float, score, timer=None):
        if budget <= 0 or every <= 0:
            raise ValueError(f"budget and every must be positive seconds, got {budget} and {every}")
        self.budget, self.every, self.score, self.timer = budget, every, score, timer or TIMER
        self.trained, self.next_mark, self.rows, self._resumed = 0.0, every, [], None

    def start(self) -> None:
        self._resumed = self.timer()

    def tick(self) -> None:
        now = self.timer()
        self.trained += now - self._resumed
        self._resumed = now
        if self.trained < self.next_mark and self.trained < self.budget:
            return
        row = {"minutes": round(min(self.trained, self.budget) / 60, 3), **self.score()}
        self.rows.append(row)
        print("  " + json.dumps(row), flush=True)
        while self.next_mark <= self.trained:
            self.next_mark += self.every
        self._resumed = self.timer()  # the scoring is not training time
        if self.trained >= self.budget:
            raise StopTraining


def lesson_path(minutes: float, every: float, n: int, device, seed: int = 0, chunk: int = 25):
    """Lesson 3's default path with the EMA for ``minutes``, the clock read every ``chunk`` steps; returns
    (rows, raw G, EMA G)."""
    torch.manual_seed(seed)
    G, D = lesson3_models(device)
    G_ema = ema_copy(G)

    def g_step_with_ema(D_, G_, opt_g, batch_size, latent_dim, device_):
        loss = g_step(D_, G_, opt_g, batch_size, latent_dim, device_)
        ema_update(G_ema, G_, EMA_DECAY)  # a float decay: replayed correctly inside a CUDA graph
        return loss

    def score() -> dict:
        return {"raw": fid_of(G, n), "ema": fid_of(recompute_bn(G_ema), n)}

    clock = TrainingClock(minutes * 60, every * 60, score)
    loader = Chunks(fashion_mnist_loader(batch_size=64, device=device, seed=seed), chunk)
    clock.start()
    try:
        train_gan(G, D, loader, 10**9, device, seed=seed, g_step_fn=g_step_with_ema, checkpoint_every=1,
                  eval_fn=lambda _: clock.tick() or {}, verbose=False, n_samples=4, dashboard=False)
    except StopTraining:
        pass
    return clock.rows, G, recompute_bn(G_ema)


def tutorial_path(minutes: float, every: float, n: int, device, seed: int = 0):
    """The tutorial DCGAN for ``minutes``; returns its rows."""
    from tutorial_dcgan import SampleableG, train

    holder = {}

    def on_step(G) -> None:
        holder["G"] = G
        clock.tick()

    clock = TrainingClock(minutes * 60, every * 60, lambda: {"fid": fid_of(SampleableG(holder["G"]), n)})
    clock.start()
    try:
        train(None, device, seed=seed, on_step=on_step)
    except StopTraining:
        pass
    return clock.rows


def load_curve(path: Path = RECORD) -> dict | None:
    """The recorded 20-epoch tutorial curve, or None."""
    return json.loads(Path(path).read_text()) if Path(path).exists() else None


def first_reaching(rows: list, key: str, target: float) -> float | None:
    """Minutes of training at the first score <= ``target``, or None."""
    return next((r["minutes"] for r in rows if r[key] <= target), None)


def run(minutes: float, out: str, every: float | None = None, n: int = 10_000, device=None,
        record_path: Path = RECORD, chunk: int = 25, tutorial: bool = True) -> dict:
    """Both paths for ``minutes`` each, the curves printed side by side; writes ``out/generator.pt`` and
    ``out/ttq.json``; returns the result. ``tutorial=False`` (``--lesson-only``): only the lesson path,
    judged against the tutorial's curve recorded on this machine (half the time: for runs as long as a
    third of the tutorial's 20 epochs)."""
    device = device or torch.device("cpu")
    every = every or minutes / 9
    machine = cpu_name() if device.type == "cpu" else torch.cuda.get_device_name(device)
    curve = load_curve(record_path)
    if not tutorial and (curve is None or curve["machine"] != machine):
        raise SystemExit(f"--lesson-only compares with the tutorial's curve recorded on this machine ({machine}); "
                         f"{'there is none' if curve is None else 'the recorded one is from ' + curve['machine']}: "
                         "run `python scripts/train/tutorial_dcgan.py --record` first, or drop --lesson-only")
    print(f"\ntime to quality on {machine}: {minutes:g} minutes per path, scored every {every:g} min "
          f"(FID of {n:,} samples, the course metric)", flush=True)
    print("lesson path (train_gan, lesson 3's settings and defaults, EMA 0.999 of G):", flush=True)
    lesson_rows, G, G_ema = lesson_path(minutes, every, n, device, chunk=chunk)
    tutorial_rows = []
    if tutorial:
        print("tutorial DCGAN (scripts/train/tutorial_dcgan.py):", flush=True)
        tutorial_rows = tutorial_path(minutes, every, n, device)
    final = lesson_rows[-1]
    kept, name = (G_ema, "ema") if final["ema"] <= final["raw"] else (G, "raw")
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    export_generator(kept.cpu(), out_dir / "generator.pt", variant=name, fid=final[name], fid_samples=n,
                     minutes=minutes, hardware=machine, what="lesson 3's default path, time to quality")
    result = {"machine": machine, "minutes": minutes, "score_every_minutes": every, "fid_samples": n,
              "lesson": lesson_rows, "tutorial": tutorial_rows, "kept": name}
    report(result, curve)
    (out_dir / "ttq.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out_dir / 'generator.pt'} ({name} G; load_generator(path) reads it) and {out_dir / 'ttq.json'}")
    return result


def report(result: dict, curve: dict | None) -> None:
    """The curves side by side, and the time the lesson path needed to reach the tutorial's 20-epoch FID."""
    lesson, tutorial = result["lesson"], result["tutorial"]
    print(f"\n{'minutes':>8} {'lesson raw':>11} {'lesson EMA':>11} {'tutorial':>9}")
    for i, row in enumerate(lesson):
        tut = f"{tutorial[i]['fid']:9.2f}" if i < len(tutorial) else f"{'-':>9}"
        print(f"{row['minutes']:8.2f} {row['raw']:11.2f} {row['ema']:11.2f} {tut}")
    if curve is None:
        print("no recorded tutorial curve on this machine: run `python scripts/train/tutorial_dcgan.py --record` once")
        base = load_record("fashion_dcgan")["quality"]["baseline_tutorial_dcgan_20_epochs"]
        target = base["fid"]
        best = min(first_reaching(lesson, key, target) or float("inf") for key in ("raw", "ema"))
        print(f"the tutorial's 20-epoch FID from the course's record ({base['command'].split(';')[0]}): {target:.2f}; "
              + (f"the lesson path reached it after {best:.2f} min" if best < float("inf") else
                 f"the lesson path did NOT reach it in {result['minutes']:g} minutes"))
        return
    same = curve["machine"] == result["machine"]
    print(f"\nthe tutorial's recorded curve ({curve['epochs']} epochs, {curve['train_s'] / 60:.1f} min of training "
          f"on {curve['machine']}{'' if same else ': ANOTHER machine, the times do not compare'}; FID of "
          f"{curve['fid_samples']:,} samples):")
    print("  " + ", ".join(f"epoch {r['epoch']}: {r['minutes']:.1f} min, {r['fid']:.1f}" for r in curve["curve"]))
    target, budget = curve["curve"][-1]["fid"], curve["train_s"] / 60 / 3
    best = min(first_reaching(lesson, key, target) or float("inf") for key in ("raw", "ema"))
    if best == float("inf"):
        verdict = (f"so NOT within a third of the tutorial's {curve['epochs']}-epoch time ({budget:.1f} min)"
                   if result["minutes"] >= budget else
                   f"a run shorter than a third of the tutorial's {curve['epochs']}-epoch time ({budget:.1f} min) "
                   f"does not decide the target: rerun with --minutes {math.ceil(budget)}")
        print(f"the lesson path did NOT reach the tutorial's {curve['epochs']}-epoch FID {target:.2f} "
              f"in {result['minutes']:g} minutes; {verdict}")
    else:
        verdict = "within" if best <= budget else "NOT within"
        print(f"the lesson path reached the tutorial's {curve['epochs']}-epoch FID {target:.2f} after {best:.2f} "
              f"min of training: {verdict} a third of the tutorial's {curve['epochs']}-epoch time ({budget:.1f} min)")
    if not tutorial:
        return
    reached = first_reaching(tutorial, "fid", target)
    print(f"the tutorial itself, in these {result['minutes']:g} minutes: FID {tutorial[-1]['fid']:.2f} "
          f"({'reached' if reached is not None else 'far from'} its own {curve['epochs']}-epoch quality)")
