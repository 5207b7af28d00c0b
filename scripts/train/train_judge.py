"""Train lesson 6's independent judge: a classifier that never saw the images D's class head learns from.

Run from the repository root with the real data (e.g. COURSE_DATA_DIR set)::

    python scripts/train/train_judge.py           # writes course_utils/pretrained/classifiers/fashion_judge.*
    python scripts/train/train_judge.py --record  # then measures the shipped fashion_cgan with it

It trains :class:`course_utils.lesson6.judge.Judge` on the 10,000 Fashion-MNIST *test* images (D and the course
classifier learned from the training images), reports its accuracy per class on the first 20,000 training
images (which it never saw), and writes ``fashion_judge.pt`` (state dict, atomic save) and ``fashion_judge.json``.
``--record`` writes ``course_utils/pretrained/records/fashion_cgan_judge.json``: ``honest_control`` of the
shipped ``fashion_cgan`` beside the course classifier's per-class ratios.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from course_utils.kit.checkpoints import load_generator, save_checkpoint  # noqa: E402
from course_utils.kit.data import FASHION_CLASSES, TensorLoader, fashion_mnist_tensors  # noqa: E402
from course_utils.kit.env import cpu_name, seed_everything  # noqa: E402
from course_utils.lesson6 import judge as judging  # noqa: E402
from course_utils.measure.records import RECORDS_DIR  # noqa: E402


def train(model, loader, epochs: int, lr: float) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader))
    for epoch in range(1, epochs + 1):
        model.train()
        total = torch.zeros(())
        for x, y in loader:  # (B, 1, 28, 28) in [-1, 1], (B,)
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach()
        print(f"epoch {epoch}: loss {total.item() / len(loader):.4f}", flush=True)


def write_json(path: Path, record: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help="also measure the shipped fashion_cgan")
    args = parser.parse_args(argv)
    command = "python " + shlex.join(["scripts/train/train_judge.py", *(argv or sys.argv[1:])])

    seed_everything(args.seed)
    x, y = fashion_mnist_tensors(train=False)  # (10000, 1, 28, 28) uint8: the test split only
    model = judging.Judge()
    start = time.perf_counter()
    train(model, TensorLoader(x, y, batch_size=64, seed=args.seed), args.epochs, args.lr)
    wall = time.perf_counter() - start
    model.eval()
    save_checkpoint(judging.JUDGE_PATH, state_dict={k: v.cpu() for k, v in model.state_dict().items()})
    judging.load_judge.cache_clear()
    _, preds, labels = judging.held_out_real()
    per_class = judging.real_accuracy(preds, labels)
    record = {"split": "trained on the 10,000 test images; evaluated on the first "
                       f"{judging.HELD_OUT:,} training images (never seen)",
              "accuracy": round(float((preds == labels).double().mean()), 4),
              "per_class_accuracy": dict(zip(FASHION_CLASSES, [round(float(a), 4) for a in per_class])),
              "epochs": args.epochs, "lr": args.lr, "seed": args.seed, "train_time_s": round(wall, 1),
              "command": command, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "torch": torch.__version__,
              "hardware": f"{cpu_name()}, {torch.get_num_threads()} threads"}
    write_json(judging.JUDGE_PATH.with_suffix(".json"), record)
    print(json.dumps(record, indent=2))
    if args.record:
        from course_utils.lesson6.control import control_report

        G = load_generator("fashion_cgan")
        result = judging.honest_control(G, per_class=1000, seed=0)
        course = control_report(G, per_class=1000, seed=0, verbose=False)["relative"].tolist()
        judging.print_honest_control(result)
        write_json(RECORDS_DIR / "fashion_cgan_judge.json", {
            "name": "fashion_cgan_judge", "lesson": "06_conditional_gan",
            "what": "the shipped fashion_cgan measured by the independent judge (honest_control, 1,000 samples per "
                    "class, seed 0) beside the course classifier's per-class ratios",
            "judge": "course_utils/pretrained/classifiers/fashion_judge.pt", "result": result,
            "course_classifier_relative": course, "command": command, "date": record["date"],
            "torch": torch.__version__, "hardware": record["hardware"]})


if __name__ == "__main__":
    main()
