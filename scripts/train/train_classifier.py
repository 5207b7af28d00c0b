"""Train the Fashion-MNIST classifier whose feature space ``course_utils.measure.metrics`` measures in.

Run from the repository root (the real data, e.g. COURSE_DATA_DIR set). Measured: 4 epochs took
26 min wall (about 12 CPU-minutes) on a 2-core Xeon shared with other jobs; 91.7% test accuracy::

    python scripts/train/train_classifier.py            # writes course_utils/pretrained/classifiers/

It trains :class:`course_utils.measure.metrics.FashionClassifier` on the 60,000 training images, measures
its accuracy on the 10,000 test images, and writes ``fashion_classifier.pt`` (state dict, atomic
save) and ``fashion_classifier.json`` (accuracy, command, seed, time, hardware, floors). It lives in
``pretrained/classifiers/`` because ``load_generator`` treats every top-level ``pretrained/*.pt`` as a
generator.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from course_utils.kit.checkpoints import save_checkpoint  # noqa: E402
from course_utils.kit.data import TensorLoader, fashion_mnist_tensors, to_unit_range  # noqa: E402
from course_utils.kit.env import cpu_name, seed_everything  # noqa: E402
from course_utils.measure.metrics import CLASSIFIER_PATH, FashionClassifier  # noqa: E402


def augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips (all ten classes are left-right symmetric enough). x: (B, 1, 28, 28)."""
    flip = torch.rand(x.size(0), generator=generator) < 0.5  # (B,)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def train(model, loader, epochs: int, lr: float, seed: int) -> None:
    """Adam + one-cycle schedule; prints the mean loss of each epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader))
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        start, total = time.perf_counter(), torch.zeros(())
        for x, y in loader:  # x: (B, 1, 28, 28) in [-1, 1], y: (B,)
            loss = F.cross_entropy(model(augment(x, gen)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.detach()
        print(f"epoch {epoch}: loss {total.item() / len(loader):.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)


@torch.no_grad()
def accuracy(model, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 accuracy on uint8 images (N, 1, 28, 28)."""
    model.eval()
    correct = sum((model(to_unit_range(x)).argmax(1) == y).sum().item()
                  for x, y in zip(images.split(1000), labels.split(1000), strict=True))
    return correct / len(images)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=CLASSIFIER_PATH)
    args = parser.parse_args(argv)

    seed_everything(args.seed)
    train_x, train_y = fashion_mnist_tensors(train=True)  # (60000, 1, 28, 28) uint8
    test_x, test_y = fashion_mnist_tensors(train=False)  # (10000, 1, 28, 28) uint8
    model = FashionClassifier()
    loader = TensorLoader(train_x, train_y, batch_size=args.batch_size, seed=args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    train(model, loader, args.epochs, args.lr, args.seed)
    train_time, cpu_time = time.perf_counter() - start, time.process_time() - cpu_start
    test_acc = accuracy(model, test_x, test_y)
    print(f"test accuracy {test_acc:.4f}, trained in {train_time:.0f} s", flush=True)

    save_checkpoint(args.out, state_dict={k: v.cpu() for k, v in model.state_dict().items()})
    record = {
        "test_accuracy": round(test_acc, 4), "train_accuracy": round(accuracy(model, train_x, train_y), 4),
        "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed,
        "train_time_s": round(train_time, 1), "train_cpu_time_s": round(cpu_time, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),  # > threads: the CPU was shared, wall time inflated
        "command": "python " + shlex.join(["scripts/train/train_classifier.py", *(argv or sys.argv[1:])]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "torch": torch.__version__,
        "hardware": f"{cpu_name()}, {torch.get_num_threads()} threads ({platform.machine()})",
    }
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(args.out.with_suffix(".json"))
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
