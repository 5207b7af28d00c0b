"""Issue 14, lever "generator EMA done right for BatchNorm": does an EMA of lesson 3's G beat the raw G?

    PYTHONPATH=. COURSE_DATA_DIR=... python scripts/bench/ema_bn.py --epochs 8 --out runs/ema_bn.json

Trains lesson 3's default path (train_gan, its models and settings, ``--seed``) and after every G step updates
exponential moving averages of G's weights (on a GPU inside the step's CUDA graph: the step count lives on the
device, no Python counter). Every ``--score-every`` epochs each variant is scored with the course metric
(FID etc. of ``--samples`` samples, the same latent vectors each time):

* ``raw``: the trained G, as the lesson uses it (eval mode: BatchNorm's running statistics);
* ``raw_bn``: the trained G with its BatchNorm statistics recomputed from ``--bn-batches`` fresh batches;
* ``ema999_copied``: EMA (decay 0.999) with G's BatchNorm buffers copied (the plain EMA the issue measured);
* ``ema999_bn`` / ``ema995_bn``: EMA (0.999 / 0.995) with its own BatchNorm statistics recomputed;
* ``ema999_warm_bn``: EMA with the warm-up decay min(0.999, (1 + t) / (10 + t)), statistics recomputed.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import torch

from course_utils import export_generator, fashion_mnist_loader
from course_utils.kit.ema import ema_update, recompute_bn
from course_utils.kit.env import cpu_name, get_device
from course_utils.kit.sampling import sample
from course_utils.lesson3.trainer import g_step, train_gan
from course_utils.measure.metrics import fashion_scores
from course_utils.tools.forecast import lesson3_models

VARIANTS = {"ema999_copied": (0.999, False), "ema999_bn": (0.999, True), "ema995_bn": (0.995, True),
            "ema999_warm_bn": ("warm", True)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--samples", type=int, default=5000)
    p.add_argument("--bn-batches", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--score-every", type=int, default=1, help="score the variants every N epochs")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"a comma list of {', '.join(VARIANTS)}")
    p.add_argument("--out", default="runs/ema_bn.json")
    p.add_argument("--save", default=None, help="a folder: write the final raw G and each EMA (BN recomputed) there")
    p.add_argument("--limit", type=int, default=None, help="the first N training images only (smoke tests)")
    args = p.parse_args(argv)
    variants = {name: VARIANTS[name] for name in args.variants.split(",") if name}
    device = get_device()
    torch.manual_seed(args.seed)
    G, D = lesson3_models(device)
    emas = {name: copy.deepcopy(G).requires_grad_(False) for name in variants}
    t = torch.zeros((), device=device)  # G steps so far, kept on the device: a CUDA graph replays its update

    def g_step_with_ema(D_, G_, opt_g, batch_size, latent_dim, device_):
        loss = g_step(D_, G_, opt_g, batch_size, latent_dim, device_)
        t.add_(1)
        for name, (decay, _) in variants.items():
            if decay == "warm":  # min(0.999, (1 + t) / (10 + t)), computed on the device
                decay = torch.clamp((1 + t) / (10 + t), max=0.999)
            ema_update(emas[name], G_, decay)
        return loss

    rows = []

    def eval_fn(G_):
        step = int(t.item())
        row = {"epoch": round(step / len(loader)), "step": step}
        scored = {"raw": G_, "raw_bn": recompute_bn(copy.deepcopy(G_), args.bn_batches)}
        for name, (_, recompute) in variants.items():
            e = emas[name]
            if recompute:
                scored[name] = recompute_bn(copy.deepcopy(e), args.bn_batches)
            else:
                for b_e, b in zip(e.buffers(), G_.buffers()):
                    b_e.copy_(b)
                scored[name] = e
        for name, g in scored.items():
            s = fashion_scores(sample(g, args.samples, seed=0), strict_range=False)
            row[name] = round(s["fid"], 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
        return {"fid": row["raw"]}

    loader = fashion_mnist_loader(batch_size=64, device=device, seed=args.seed, limit=args.limit)
    start = time.perf_counter()
    history = train_gan(G, D, loader, args.epochs, device, seed=args.seed, checkpoint_every=args.score_every,
                        eval_fn=eval_fn, g_step_fn=g_step_with_ema, verbose=False)
    used = sys.argv[1:] if argv is None else argv
    record = {"what": __doc__.split("\n\n")[0], "command": " ".join(["python scripts/bench/ema_bn.py", *used]),
              "machine": cpu_name() if device.type == "cpu" else torch.cuda.get_device_name(),
              "samples": args.samples, "bn_batches": args.bn_batches, "epochs": history["epochs"], "seed": args.seed,
              "cuda_graphs": history["settings"].get("cuda_graphs"),
              "wall_s": round(time.perf_counter() - start, 1), "fid": rows}
    if args.save:
        finals = {"raw": G, **{name: recompute_bn(copy.deepcopy(e), args.bn_batches) if variants[name][1] else e
                               for name, e in emas.items()}}
        for name, g in finals.items():
            export_generator(g, Path(args.save) / f"{name}_s{args.seed}.pt", epochs=history["epochs"], seed=args.seed,
                             variant=name, wall_time_s=record["wall_s"], hardware=record["machine"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
