"""A second, independent judge of lesson 6's control: a classifier that never learned from D's data.

Lesson 6's class term trains D's class head on the 60,000 real training images, and the course classifier
that scores control learned from the same images: G can please both at once. The judge is a different small
CNN trained on the 10,000 *test* images only (``scripts/train/train_judge.py``); it is evaluated, and G is
compared, on real *training* images it never saw (:data:`HELD_OUT`).

:func:`honest_control` measures a conditional G from both sides, class by class: the judge's agreement with the
requested class over its accuracy on real images of that class (``ratio``: 1 = as recognisable as real images,
below = ambiguous, above = prototypical) and ``deviation = |ratio - 1|``; the per-class FID in the judge's
features beside the FID between two real halves of that class (``fid_floor``: what a perfect G would score);
and the within-class pixel diversity of :func:`~course_utils.lesson6.control.within_class_diversity`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

from ..kit.checkpoints import CheckpointError, load_checkpoint
from ..kit.data import FASHION_CLASSES, fashion_mnist_tensors, to_unit_range
from ..kit.sampling import sample
from ..measure.metrics import frechet_distance, gaussian_stats
from .control import balanced_labels, confusion_matrix, per_class_agreement, within_class_diversity

JUDGE_PATH = Path(__file__).resolve().parents[1] / "pretrained" / "classifiers" / "fashion_judge.pt"
HELD_OUT = 20_000
"""The judge is evaluated on the first ``HELD_OUT`` training images (about 2,000 per class), none of which it saw."""
NUM_CLASSES = len(FASHION_CLASSES)


class Judge(nn.Module):
    """(B, 1, 28, 28) in [-1, 1] -> 64 features -> 10 logits; 5x5 kernels, GroupNorm: not the course classifier."""

    def __init__(self, width: int = 24, num_features: int = 64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 5, padding=2), nn.GroupNorm(4, width), nn.GELU(), nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 5, padding=2), nn.GroupNorm(4, 2 * width), nn.GELU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, num_features), nn.GELU(),  # 14 -> 7 -> (B, 64)
        )
        self.head = nn.Linear(num_features, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, 64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, 10) logits


@functools.lru_cache(maxsize=2)
def load_judge(path: str | Path = JUDGE_PATH) -> Judge:
    """The shipped judge, on CPU in eval mode (read with ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no judge at {path}: run `python scripts/train/train_judge.py` from the repository "
                              "root to train it (a few minutes on a CPU)")
    model = Judge()
    load_checkpoint(path, state_dict=model)
    return model.eval()


@torch.no_grad()
def judge_images(images: torch.Tensor, judge: Judge | None = None, batch_size: int = 1000):
    """Judge features ``(N, 64)`` float64 and predicted classes ``(N,)`` of images in [-1, 1]."""
    judge = judge or load_judge()
    feats, preds = [], []
    for x in images.float().split(batch_size):
        h = judge.features(x)
        feats.append(h.double())
        preds.append(judge.head(h).argmax(1))
    return torch.cat(feats), torch.cat(preds)


@functools.lru_cache(maxsize=1)
def held_out_real():
    """The judge's features, predictions and labels of the held-out real images (cached)."""
    x, y = fashion_mnist_tensors(train=True, limit=HELD_OUT)
    feats, preds = judge_images(to_unit_range(x))
    return feats, preds, y.long()


def real_accuracy(preds: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The judge's accuracy on real images of each class, ``(K,)``."""
    return per_class_agreement(confusion_matrix(labels, preds))


def honest_control(G, per_class: int = 1000, seed: int = 0, judge_real=None) -> dict:
    """Control of a conditional G measured by the judge, from both sides and class by class (plain floats)."""
    real_feats, real_preds, real_labels = judge_real or held_out_real()
    labels = balanced_labels(per_class)  # (K * per_class,)
    feats, preds = judge_images(sample(G, len(labels), seed=seed, labels=labels))
    agreement = per_class_agreement(confusion_matrix(labels, preds))
    real = real_accuracy(real_preds, real_labels)
    ratio = agreement / real
    fid, floor = [], []
    for k in range(NUM_CLASSES):
        real_k = real_feats[real_labels == k]
        half = min(len(real_k) // 2, per_class)
        a, b = real_k[:half], real_k[half:2 * half]  # two disjoint real sets of the same size
        fid.append(frechet_distance(gaussian_stats(feats[labels == k][:half]), gaussian_stats(a)))
        floor.append(frechet_distance(gaussian_stats(b), gaussian_stats(a)))
    return {"classes": list(FASHION_CLASSES), "n": len(labels), "agreement": agreement.tolist(),
            "real_accuracy": real.tolist(), "ratio": ratio.tolist(), "deviation": (ratio - 1).abs().tolist(),
            "fid": fid, "fid_floor": floor, "diversity": within_class_diversity(G, seed=seed).tolist()}


def print_honest_control(result: dict) -> None:
    """One line per class: the judge's ratio, the per-class FID beside its real-vs-real floor, the diversity."""
    print(f"{'class':<13}{'ratio':>7}{'|r - 1|':>9}{'FID':>8}{'floor':>8}{'diversity':>11}")
    for k, name in enumerate(result["classes"]):
        print(f"{name:<13}{result['ratio'][k]:>7.2f}{result['deviation'][k]:>9.2f}{result['fid'][k]:>8.1f}"
              f"{result['fid_floor'][k]:>8.1f}{result['diversity'][k]:>11.2f}")
