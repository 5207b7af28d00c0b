"""Train the shipped WGAN-GP flowers generators (lesson 5) and record how.

    PYTHONPATH=. COURSE_DATA_DIR=... python scripts/train/train_flowers.py --image-size 64 --width 48 \
        --minutes 6 --out OUTDIR --name flowers_wgan_gp

``--minutes`` sets the epoch count from a timed 2-epoch probe (rounded down to a multiple of 5);
``--epochs`` fixes it. ``--ema 0.999`` also keeps an EMA of G (its own BatchNorm statistics, recomputed);
``--score-every N`` scores SWD on ``--score-images`` images every N epochs, against training minutes
(scoring time excluded), for the raw G and the EMA: the record's ``swd_curve``.
Writes ``<name>.pt`` (export_generator, with per-epoch curves and
fixed-noise snapshots in its meta), ``<name>.json`` (command, seed, epochs, wall time, hardware,
SWD and its floor), ``<name>_grid.png`` (64 samples) and ``<name>_progress.png``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch

from course_utils import export_generator, get_device, sample, seed_everything
from course_utils.kit.ema import ema_copy, ema_update, recompute_bn
from course_utils.kit.flowers import flowers_loader, flowers_tensors
from course_utils.lesson5.wgan import Critic, FlowerGenerator, train_wgan_gp, wgan_step
from course_utils.measure.swd import swd_floor, swd_of_generator


def hardware(device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            name = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{name}, {torch.get_num_threads()} threads"


def build(args, device):
    G = FlowerGenerator(latent_dim=100, width=args.width, image_size=args.image_size).to(device)
    D = Critic(width=args.width, image_size=args.image_size, norm="layer").to(device)
    return G, D


def run(args, loader, device, num_epochs, verbose, images=None):
    """Train (and with ``images`` and ``--score-every``, score SWD on the way): (G, G_ema or None, history, curve)."""
    seed_everything(args.seed)
    G, D = build(args, device)
    G_ema = ema_copy(G) if args.ema else None
    curve, clock = [], {"start": time.perf_counter(), "scoring": 0.0}

    per_epoch, done = len(loader) // args.n_critic, [0]

    def step_fn(D_, G_, real, opt_d, opt_g, n_critic, lambda_gp, latent_dim):
        if args.budget and done[0] and done[0] % per_epoch == 0:  # an epoch boundary: does one more epoch fit?
            trained = time.perf_counter() - clock["start"] - clock["scoring"]
            if trained * (1 + per_epoch / done[0]) > args.budget * 60:
                clock["out_of_time"] = True
                raise KeyboardInterrupt  # the loop's interrupt path: stop between epochs, keep the history
        done[0] += 1
        out = wgan_step(D_, G_, real, opt_d, opt_g, n_critic, lambda_gp, latent_dim)
        if G_ema is not None:
            ema_update(G_ema, G_, args.ema)
        return out

    def eval_fn(G_):
        t0 = time.perf_counter()
        minutes = (t0 - clock["start"] - clock["scoring"]) / 60
        row = {"epoch": len(curve) * args.score_every + args.score_every, "train_minutes": round(minutes, 2),
               "raw": swd_of_generator(G_, images, n=args.score_images)["swd"]}
        if G_ema is not None:
            row["ema"] = swd_of_generator(recompute_bn(G_ema, args.bn_batches), images, n=args.score_images)["swd"]
        curve.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
        print("score", json.dumps(curve[-1]), flush=True)
        clock["scoring"] += time.perf_counter() - t0
        return {"swd": row["raw"]}

    scoring = images is not None and args.score_every
    history = train_wgan_gp(G, D, loader, num_epochs, device, amp=args.amp, channels_last=args.channels_last,
                            seed=args.seed, verbose=verbose, n_samples=16, log_every=25, n_critic=args.n_critic,
                            lr_g=args.lr_g, lr_d=args.lr_d, step_fn=step_fn, eval_fn=eval_fn if scoring else None,
                            checkpoint_every=args.score_every if scoring else 5)
    history["scoring_s"] = clock["scoring"]
    if clock.get("out_of_time"):
        history.update(interrupted=False, stopped=f"--budget {args.budget:g} min: another epoch would not fit")
        if scoring and (not curve or curve[-1]["epoch"] != history["epochs"]):
            eval_fn(G)  # the last point of the curve
            curve[-1]["epoch"] = history["epochs"]
    if G_ema is not None:
        recompute_bn(G_ema, args.bn_batches)
    return G, G_ema, history, curve


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--width", type=int, default=48)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--budget", type=float, default=None,
                   help="minutes of training (scoring excluded): stop before an epoch that would not fit")
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--amp", default="false", choices=["true", "false", "auto"])
    p.add_argument("--channels-last", default="auto", choices=["true", "false", "auto"])
    p.add_argument("--n-critic", type=int, default=5)
    p.add_argument("--lr-g", type=float, default=1e-4)
    p.add_argument("--lr-d", type=float, default=1e-4)
    p.add_argument("--ema", type=float, default=0.0, help="EMA decay of G's weights (0: no EMA)")
    p.add_argument("--bn-batches", type=int, default=20, help="batches of z to recompute the EMA's BatchNorm stats")
    p.add_argument("--score-every", type=int, default=0, help="score SWD every N epochs (0: only at the end)")
    p.add_argument("--score-images", type=int, default=512, help="images per set for the scores along the way")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="flowers_wgan_gp")
    p.add_argument("--out", default="runs/flowers")
    args = p.parse_args(argv)
    args.amp = {"true": True, "false": False}.get(args.amp, "auto")
    args.channels_last = {"true": True, "false": False}.get(args.channels_last, "auto")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = get_device()
    torch.backends.cudnn.benchmark = True
    loader = flowers_loader(batch_size=64, image_size=args.image_size, limit=args.limit, device=device)
    images, _ = flowers_tensors(image_size=args.image_size)
    epochs = args.epochs
    if epochs is None:
        run(args, loader, device, 1, verbose=False)  # warm-up: cuDNN autotuning, allocator
        t0 = time.perf_counter()
        run(args, loader, device, 2, verbose=False)
        per_epoch = (time.perf_counter() - t0) / 2
        epochs = max(5, 5 * math.floor(args.minutes * 60 / per_epoch / 5))
        print(f"probe: {per_epoch:.2f} s/epoch -> {epochs} epochs", flush=True)
    G, G_ema, history, curve = run(args, loader, device, epochs, verbose=True, images=images)
    wall = history["wall_time_s"] - history["scoring_s"]  # training only: the scores along the way excluded
    print(f"trained {history['epochs']} epochs in {wall:.0f} s ({wall / history['epochs']:.2f} s/epoch); "
          f"{history['scoring_s']:.0f} s of scoring besides", flush=True)

    n = 2048
    swd, floor = swd_of_generator(G, images, n=n), swd_floor(images, n=n)
    print("SWD", swd, "floor", floor, flush=True)
    swd_ema = swd_of_generator(G_ema, images, n=n) if G_ema is not None else None
    if swd_ema is not None:
        print("SWD of the EMA", swd_ema, flush=True)
    shipped = "ema" if swd_ema is not None and swd_ema["swd"] < swd["swd"] else "raw"

    spe = history["steps_per_epoch"]
    curves = {k: [sum(history[k][i * spe:(i + 1) * spe]) / spe for i in range(history["epochs"])]
              for k in ("d_real", "d_fake", "gp", "wasserstein", "d_loss", "g_loss")}
    snaps = history["samples"]
    keep = sorted({snaps[round(i * (len(snaps) - 1) / 9)]["epoch"] for i in range(10)}) if snaps else []
    snapshots = {s["epoch"]: s["images"].add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
                 for s in snaps if s["epoch"] in keep}
    command = "PYTHONPATH=. python " + " ".join(["scripts/train/train_flowers.py", *(argv or sys.argv[1:])])
    meta = dict(command=command, seed=args.seed, epochs=history["epochs"], wall_time_s=round(wall, 1),
                seconds_per_epoch=round(wall / history["epochs"], 3), hardware=hardware(device),
                torch=str(torch.__version__), image_size=args.image_size, width=args.width, amp=str(args.amp),
                batch_size=64, lr_g=args.lr_g, lr_d=args.lr_d, betas=[0.0, 0.9], n_critic=args.n_critic,
                lambda_gp=10.0, images=len(loader.dataset), splits="train+val+test",
                generator_iterations=history["epochs"] * spe, speed=history["settings"].get("speed"),
                swd=swd_ema if shipped == "ema" else swd, swd_floor=floor, swd_images=n)
    if G_ema is not None:
        meta.update(ema_decay=args.ema, shipped=shipped, swd_raw=swd, swd_ema=swd_ema)
    if args.budget:
        meta.update(budget_minutes=args.budget, stopped=history.get("stopped", "the epochs ran out first"))
    if curve:
        meta.update(swd_curve=curve, swd_curve_images=args.score_images, scoring_s=round(history["scoring_s"], 1))
    G = G_ema if shipped == "ema" else G
    G.cpu()
    export_generator(G, out / f"{args.name}.pt", **meta, curves=curves, snapshots=snapshots)
    (out / f"{args.name}.json").write_text(json.dumps(meta, indent=2) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.kit.plotting import show_grid
    fig, ax = plt.subplots(figsize=(8, 8))
    show_grid(sample(G, 64, seed=0), title=f"{args.name}: 64 samples", ax=ax)
    fig.savefig(out / f"{args.name}_grid.png", dpi=100, bbox_inches="tight")
    if snapshots:
        fig, axes = plt.subplots(1, len(snapshots), figsize=(2.5 * len(snapshots), 2.8))
        for ax, (ep, imgs) in zip(axes if len(snapshots) > 1 else [axes], snapshots.items(), strict=True):
            show_grid(imgs.float().div(127.5).sub(1), title=f"epoch {ep}", ax=ax, nrow=4)
        fig.savefig(out / f"{args.name}_progress.png", dpi=80, bbox_inches="tight")


if __name__ == "__main__":
    main()
