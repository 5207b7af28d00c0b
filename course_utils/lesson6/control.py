"""Measuring a conditional generator's control (lesson 6): did we get the class we asked for, and how good is it?

The course classifier (``course_utils.measure.metrics``) labels each sample; **agreement** is the share of
samples it puts in the requested class. The classifier is not perfect (it confuses shirts with
T-shirts, pullovers and coats on *real* test images), so each class is judged against the
classifier's own accuracy on real test images of that class (:func:`real_class_accuracy`): a class
passes when its agreement is at least ``RELATIVE_BAR`` (90%) of that accuracy.
"""

from __future__ import annotations

import functools

import torch

from ..kit.data import FASHION_CLASSES, fashion_mnist_tensors, to_unit_range
from ..kit.sampling import sample
from ..measure.metrics import (
    NUM_CLASSES,
    check_images,
    classify,
    floors,
    frechet_distance,
    gaussian_stats,
    scores_from_features,
)
from ..measure.verdicts import AGREEMENT_BAR, RELATIVE_BAR  # noqa: F401 - the bars (with their reasons) live there


def balanced_labels(per_class: int, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """``per_class`` of every class, in order: a LongTensor ``(num_classes * per_class,)`` (lesson 6)."""
    return torch.arange(num_classes).repeat_interleave(per_class)


def confusion_matrix(requested: torch.Tensor, predicted: torch.Tensor, num_classes: int = NUM_CLASSES):
    """Counts ``(K, K)``: row = the class asked for (or the true class), column = the classifier's answer."""
    m = torch.zeros(num_classes, num_classes, dtype=torch.long)
    m.index_put_((requested.long(), predicted.long()), torch.ones_like(requested, dtype=torch.long), accumulate=True)
    return m


def per_class_agreement(matrix: torch.Tensor) -> torch.Tensor:
    """The diagonal share of each row of a confusion matrix, ``(K,)``."""
    return matrix.diag().double() / matrix.sum(1).clamp(min=1).double()


@functools.lru_cache(maxsize=1)
def real_test_features():
    """Classifier features ``(10000, 128)``, predictions and true labels of the real test images (cached)."""
    x, y = fashion_mnist_tensors(train=False)  # (10000, 1, 28, 28) uint8, (10000,)
    feats, probs = classify(to_unit_range(x))
    return feats, probs.argmax(1), y.long()


def real_class_accuracy() -> torch.Tensor:
    """The classifier's accuracy on real test images of each class, ``(10,)``: what real data earns."""
    _, predicted, labels = real_test_features()
    return per_class_agreement(confusion_matrix(labels, predicted))


def control_report(G, per_class: int = 1000, seed: int = 0, verbose: bool = True) -> dict:
    """Sample ``per_class`` images of every class from a conditional G and measure control and quality (lesson 6).

    Returns ``agreement`` (overall), ``per_class`` and ``real_accuracy`` (``(K,)`` each), ``relative``
    (per-class agreement / real accuracy), ``confusion`` (``(K, K)`` counts), ``fid`` (all samples vs the
    10,000 real test images), ``fid_per_class`` (each class's samples vs the real test images of that
    class), ``coverage``, and ``passed`` (``AGREEMENT_BAR`` overall and ``RELATIVE_BAR`` for every class).
    """
    labels = balanced_labels(per_class)  # (K * per_class,)
    images = check_images(sample(G, len(labels), seed=seed, labels=labels), strict_range=False)
    feats, probs = classify(images)  # (N, 128), (N, K)
    matrix = confusion_matrix(labels, probs.argmax(1))
    agreement = float(matrix.diag().sum() / matrix.sum())
    per_class_share, real = per_class_agreement(matrix), real_class_accuracy()
    relative = per_class_share / real
    real_feats, _, real_labels = real_test_features()
    fid_per_class = [frechet_distance(gaussian_stats(feats[labels == k]), gaussian_stats(real_feats[real_labels == k]))
                     for k in range(NUM_CLASSES)]
    scores = scores_from_features(feats, probs, seed=seed)
    report = {"agreement": agreement, "per_class": per_class_share, "real_accuracy": real, "relative": relative,
              "confusion": matrix, "fid": scores["fid"], "kid": scores["kid"], "coverage": scores["coverage"],
              "fid_per_class": fid_per_class, "n": len(labels),
              "passed": agreement >= AGREEMENT_BAR and bool((relative >= RELATIVE_BAR).all())}
    if verbose:
        print_control(report)
    return report


def print_control(report: dict) -> None:
    """One line per class: agreement, the classifier's accuracy on real images, their ratio, per-class FID."""
    print(f"{'class':<13}{'agreement':>10}{'real acc.':>10}{'ratio':>8}{'FID':>8}")
    for k, name in enumerate(FASHION_CLASSES):
        print(f"{name:<13}{report['per_class'][k]:>10.3f}{report['real_accuracy'][k]:>10.3f}"
              f"{report['relative'][k]:>8.2f}{report['fid_per_class'][k]:>8.1f}")
    worst = float((report["relative"] - 1).abs().max())
    print(f"overall agreement {report['agreement']:.3f} on {report['n']:,} samples; ratios from "
          f"{float(report['relative'].min()):.2f} to {float(report['relative'].max()):.2f} (1 = as recognisable as "
          f"real images; largest |ratio - 1| {worst:.2f}); FID {report['fid']:.2f}")


def conditional_eval_fn(per_class: int = 200, seed: int = 0):
    """An ``eval_fn(G) -> dict`` for ``train_conditional_gan``: agreement and FID of ``10 * per_class`` samples.

    ``eval_fn.floors`` holds the FID of as many real training images (what a perfect G would score).
    """
    def eval_fn(G) -> dict:
        r = control_report(G, per_class=per_class, seed=seed, verbose=False)
        return {"agreement": r["agreement"], "fid": r["fid"], "kid": r["kid"], "coverage": r["coverage"],
                "min_relative": float(r["relative"].min())}

    eval_fn.floors = {"fid": floors(NUM_CLASSES * per_class)["fid"]}
    return eval_fn


def _mean_pairwise_distance(x: torch.Tensor) -> float:
    d = torch.cdist(x.flatten(1).double(), x.flatten(1).double())  # (n, n)
    n = len(x)
    return float(d.sum() / (n * (n - 1)))


def within_class_diversity(G, per_class: int = 100, seed: int = 0) -> torch.Tensor:
    """Per class ``(K,)``: mean pixel distance between G's samples of that class / the same for real test images.

    About 1 when z varies a class as much as real garments vary; near 0 when every z gives one image
    (the class collapsed). It shows that ``z`` carries the style while ``y`` carries the class (lesson 6).
    """
    x_real, y_real = fashion_mnist_tensors(train=False)
    labels = balanced_labels(per_class)
    fake = sample(G, len(labels), seed=seed, labels=labels)  # (K * per_class, 1, 28, 28)
    ratios = []
    for k in range(NUM_CLASSES):
        real_k = to_unit_range(x_real[y_real == k][:per_class])  # (per_class, 1, 28, 28)
        ratios.append(_mean_pairwise_distance(fake[labels == k]) / _mean_pairwise_distance(real_k))
    return torch.tensor(ratios)
