"""Train the shipped conditional generator ``fashion_cgan`` (lesson 6) and record how.

    PYTHONPATH=. COURSE_DATA_DIR=... python scripts/train/train_cgan.py --epochs 20 --out runs/cgan

Lesson 6's models and settings (batch 64, Adam 2e-4, beta1 0.5, seed 0). Every epoch: agreement and
FID on 2,000 samples (200 per class) and a full checkpoint ``OUT/ckpt_{epoch}.pt``. At the end the
final G is scored on 10,000 samples (1,000 per class) and written as ``OUT/fashion_cgan.pt``
(export_generator), ``OUT/fashion_cgan.json`` (command, seed, epochs, wall time, hardware, scores) and
``OUT/fashion_cgan_history.pt``. ``--ship`` copies the three into ``course_utils/pretrained``.
``--resume-from OUT/ckpt_N.pt --epochs M`` continues a run for M more epochs (the course's resume rule).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

from course_utils import export_generator, fashion_mnist_loader, init_weights, save_history, seed_everything
from course_utils.kit.checkpoints import PRETRAINED_DIR
from course_utils.kit.env import cpu_name, get_device
from course_utils.lesson6.conditional import (
    ClassHeadDiscriminator,
    ConditionalGenerator,
    ProjectionDiscriminator,
    class_loss_steps,
    train_conditional_gan,
)
from course_utils.lesson6.control import conditional_eval_fn, control_report
from course_utils.measure.records import record_path


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/cgan")
    p.add_argument("--ship", action="store_true")
    p.add_argument("--resume-from", default=None, help="a checkpoint of an earlier run: train --epochs more")
    p.add_argument("--note", default=None, help="kept in the record, e.g. what ran beside the training")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only (smoke tests)")
    p.add_argument("--lr-g", type=float, default=2e-4)
    p.add_argument("--lr-d", type=float, default=2e-4)
    p.add_argument("--d-width", type=int, default=64)
    p.add_argument("--class-weight", type=float, default=1.0,
                   help="the class term's weight (D's class head on real images, G rewarded for fakes it files "
                        "under their class); 0: the plain projection game")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = get_device()
    seed_everything(args.seed)
    G = ConditionalGenerator().to(device)
    steps = {}
    if args.class_weight > 0:
        D = ClassHeadDiscriminator(width=args.d_width).to(device)
        steps = class_loss_steps(args.class_weight)
    else:
        D = ProjectionDiscriminator(width=args.d_width).to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    loader = fashion_mnist_loader(batch_size=args.batch_size, device=device, seed=args.seed, limit=args.limit)
    start = time.perf_counter()
    history = train_conditional_gan(G, D, loader, args.epochs, device, seed=args.seed, checkpoint_every=1,
                                    lr_g=args.lr_g, lr_d=args.lr_d, **steps,
                                    eval_fn=conditional_eval_fn(per_class=200), dashboard=False,
                                    checkpoint_path=out / "ckpt_{epoch}.pt", resume_from=args.resume_from)
    wall = time.perf_counter() - start
    hw = torch.cuda.get_device_name() if device.type == "cuda" else f"{cpu_name()}, {torch.get_num_threads()} threads"
    history["settings"]["hardware"] = hw
    report = control_report(G, per_class=1000, seed=0)
    record = {
        "name": "fashion_cgan", "lesson": "06_conditional_gan",
        "command": "PYTHONPATH=. COURSE_DATA_DIR=<folder with FashionMNIST/raw/*.gz> "
                   "python scripts/train/train_cgan.py "
                   + " ".join(sys.argv[1:]),
        "settings": {"num_epochs": history["epochs"], "batch_size": args.batch_size, "lr_g": args.lr_g,
                     "lr_d": args.lr_d, "d_width": args.d_width, "class_weight": args.class_weight,
                     "beta1": 0.5, "latent_dim": G.latent_dim, "embed_dim": G.embed_dim, "seed": args.seed,
                     "amp": history["settings"]["amp"], "channels_last": history["settings"]["channels_last"],
                     "speed": history["settings"]["speed"], "data": "Fashion-MNIST train, 60,000 images with labels"},
        "hardware": hw, "training_wall_time_s": round(history["wall_time_s"], 1),
        "script_wall_time_s": round(wall, 1), "date": time.strftime("%Y-%m-%d"),
        "quality": {"metric": "course_utils.lesson6.control.control_report: 1,000 samples per class, "
                              "the course classifier",
                    "agreement": round(report["agreement"], 4),
                    "per_class_agreement": [round(v, 4) for v in report["per_class"].tolist()],
                    "classifier_real_accuracy": [round(v, 4) for v in report["real_accuracy"].tolist()],
                    "fid": round(report["fid"], 2), "kid": round(report["kid"], 4), "coverage": report["coverage"],
                    "fid_per_class": [round(v, 2) for v in report["fid_per_class"]],
                    "confusion": report["confusion"].tolist()},
        "curve": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()} for m in history["metrics"]],
        "files": {"generator": "fashion_cgan.pt", "history": "histories/fashion_cgan.pt"},
    }
    if args.note:
        record["note"] = args.note
    export_generator(G, out / "fashion_cgan.pt", epochs=history["epochs"], seed=args.seed,
                     wall_time_s=record["training_wall_time_s"], hardware=hw)
    save_history(history, out / "fashion_cgan_history.pt")
    (out / "fashion_cgan.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["quality"], indent=1)[:2000])
    if args.ship:
        shutil.copy(out / "fashion_cgan.pt", PRETRAINED_DIR / "fashion_cgan.pt")
        shutil.copy(out / "fashion_cgan.json", record_path("fashion_cgan"))
        shutil.copy(out / "fashion_cgan_history.pt", PRETRAINED_DIR / "histories" / "fashion_cgan.pt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
