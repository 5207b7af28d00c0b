"""Issue 14, item 7: lesson 3's epoch on a GPU, eager against CUDA graphs (``course_utils.kit.graphs``).

    PYTHONPATH=. COURSE_DATA_DIR=... python scripts/bench/gpu_epoch.py --epochs 2 --rounds 2 --out runs/gpu_epoch.json

Trains lesson 3's default path (``train_gan``, its models and settings, the whole training set on the
GPU, seed 0) for ``--epochs`` epochs with ``cuda_graphs=False`` and then ``"auto"``, ``--rounds`` times
alternating, and prints seconds per epoch (``history["wall_time_s"]``: the training loop, no
checkpoints). Each run's G is scored with the course metric on ``--samples`` samples: graphs must
train as well as the eager loop, not only faster. Needs a CUDA GPU.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from course_utils.kit.data import fashion_mnist_loader
from course_utils.lesson3.trainer import train_gan
from course_utils.measure.metrics import fashion_eval_fn
from course_utils.tools.forecast import lesson3_models


def one_run(loader, epochs: int, mode, score) -> dict:
    torch.manual_seed(0)
    G, D = lesson3_models(loader.images.device)
    history = train_gan(G, D, loader, epochs, loader.images.device, checkpoint_every=0, verbose=False,
                        dashboard=False, cuda_graphs=mode)
    last = slice(-history["steps_per_epoch"], None)
    return {"cuda_graphs": mode, "s_per_epoch": round(history["wall_time_s"] / epochs, 3),
            "choice": history["settings"].get("cuda_graphs"), "amp": history["settings"]["amp"],
            "channels_last": history["settings"]["channels_last"],
            "d_loss_last_epoch": round(sum(history["d_loss"][last]) / history["steps_per_epoch"], 4),
            "g_loss_last_epoch": round(sum(history["g_loss"][last]) / history["steps_per_epoch"], 4),
            "fid": round(score(G)["fid"], 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--samples", type=int, default=2000)
    p.add_argument("--out", default="runs/gpu_epoch.json")
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("scripts/bench/gpu_epoch.py times lesson 3 on a CUDA GPU; this machine has none")
        return 2
    device = torch.device("cuda")
    loader = fashion_mnist_loader(64, device=device, seed=0)
    score = fashion_eval_fn(n=args.samples)
    rows = []
    for _ in range(args.rounds):
        for mode in (False, "auto"):
            rows.append(one_run(loader, args.epochs, mode, score))
            print(json.dumps(rows[-1]), flush=True)
    eager = [r["s_per_epoch"] for r in rows if r["cuda_graphs"] is False]
    graphed = [r["s_per_epoch"] for r in rows if r["cuda_graphs"] == "auto"]
    record = {"what": __doc__.split("\n\n")[0], "command": "python scripts/bench/gpu_epoch.py " + " ".join(argv or []),
              "machine": torch.cuda.get_device_name(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
              "epochs": args.epochs, "rounds": rows, "eager_s_per_epoch": eager, "graphs_s_per_epoch": graphed}
    print(f"{record['machine']}: eager {min(eager):.2f}-{max(eager):.2f} s per epoch, CUDA graphs "
          f"{min(graphed):.2f}-{max(graphed):.2f} s per epoch")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
