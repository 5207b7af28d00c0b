"""Train the shipped WGAN-GP flowers generators (lesson 5) and record how.

    PYTHONPATH=. COURSE_DATA_DIR=... python scripts/train_flowers.py --image-size 64 --width 48 \
        --minutes 6 --out OUTDIR --name flowers_wgan_gp

``--minutes`` sets the epoch count from a timed 2-epoch probe (rounded down to a multiple of 5);
``--epochs`` fixes it. Writes ``<name>.pt`` (export_generator, with per-epoch curves and
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
from course_utils.flowers import flowers_loader, flowers_tensors
from course_utils.flowers_metric import swd_floor, swd_of_generator
from course_utils.wgan import Critic, FlowerGenerator, train_wgan_gp


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


def run(args, loader, device, num_epochs, verbose):
    seed_everything(args.seed)
    G, D = build(args, device)
    history = train_wgan_gp(G, D, loader, num_epochs, device, amp=args.amp, seed=args.seed,
                            verbose=verbose, n_samples=16, log_every=25)
    return G, history


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument("--width", type=int, default=48)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--amp", default="false", choices=["true", "false", "auto"])
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="flowers_wgan_gp")
    p.add_argument("--out", default="runs/flowers")
    args = p.parse_args(argv)
    args.amp = {"true": True, "false": False}.get(args.amp, "auto")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = get_device()
    torch.backends.cudnn.benchmark = True
    loader = flowers_loader(batch_size=64, image_size=args.image_size, limit=args.limit, device=device)
    epochs = args.epochs
    if epochs is None:
        run(args, loader, device, 1, verbose=False)  # warm-up: cuDNN autotuning, allocator
        t0 = time.perf_counter()
        run(args, loader, device, 2, verbose=False)
        per_epoch = (time.perf_counter() - t0) / 2
        epochs = max(5, 5 * math.floor(args.minutes * 60 / per_epoch / 5))
        print(f"probe: {per_epoch:.2f} s/epoch -> {epochs} epochs", flush=True)
    G, history = run(args, loader, device, epochs, verbose=True)
    wall = history["wall_time_s"]
    print(f"trained {history['epochs']} epochs in {wall:.0f} s ({wall / history['epochs']:.2f} s/epoch)")

    images, _ = flowers_tensors(image_size=args.image_size)
    n = 2048
    swd, floor = swd_of_generator(G, images, n=n), swd_floor(images, n=n)
    print("SWD", swd, "floor", floor, flush=True)

    spe = history["steps_per_epoch"]
    curves = {k: [sum(history[k][i * spe:(i + 1) * spe]) / spe for i in range(history["epochs"])]
              for k in ("d_real", "d_fake", "gp", "wasserstein", "d_loss", "g_loss")}
    snaps = history["samples"]
    keep = sorted({snaps[round(i * (len(snaps) - 1) / 9)]["epoch"] for i in range(10)}) if snaps else []
    snapshots = {s["epoch"]: s["images"].add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
                 for s in snaps if s["epoch"] in keep}
    command = "PYTHONPATH=. python " + " ".join(["scripts/train_flowers.py", *(argv or sys.argv[1:])])
    meta = dict(command=command, seed=args.seed, epochs=history["epochs"], wall_time_s=round(wall, 1),
                seconds_per_epoch=round(wall / history["epochs"], 3), hardware=hardware(device),
                torch=str(torch.__version__), image_size=args.image_size, width=args.width, amp=str(args.amp),
                batch_size=64, lr=1e-4, betas=[0.0, 0.9], n_critic=5, lambda_gp=10.0,
                images=len(loader.dataset), splits="train+val+test",
                generator_iterations=history["epochs"] * spe,
                swd=swd, swd_floor=floor, swd_images=n)
    G.cpu()
    export_generator(G, out / f"{args.name}.pt", **meta, curves=curves, snapshots=snapshots)
    (out / f"{args.name}.json").write_text(json.dumps(meta, indent=2) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_utils.plotting import show_grid
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
