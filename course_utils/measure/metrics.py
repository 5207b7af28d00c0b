"""Measured sample quality for Fashion-MNIST (lessons 3 and 4): scores in a classifier's feature space.

A small CNN trained on the real training set (``scripts/train/train_classifier.py``; weights and test
accuracy shipped in ``pretrained/classifiers/``) turns images into 128 features and 10 class
probabilities. In that space we measure, against the real **test** set:

* ``fid``: the Fréchet distance between Gaussians fitted to the features (lower is better);
* ``kid``: the kernel (MMD) distance with a cubic polynomial kernel, unbiased (lower is better);
* ``coverage``: how many of the 10 classes hold at least 2% of the samples (mode collapse -> 1);
* ``kl_uniform``: KL(class histogram || uniform), 0 for balanced classes, log 10 ~ 2.30 for one;
* ``confident``: the share of samples the classifier labels with probability >= 0.9.

Every score comes with its **floor**: the same score for real training images (same count) against
the real test set, i.e. what a perfect generator would get. FID and KID from few samples are biased,
so only a comparison with the floor (and between runs with the same ``n``) means something.

Why not torchmetrics' ``FrechetInceptionDistance``/``KernelInceptionDistance`` (they accept a custom
feature extractor)? It is not a course dependency, and here it would add a package for ~30 lines of
linear algebra while making the floors harder: its KID draws subsets from the global RNG (not
repeatable without reseeding the user's run) and it keeps the real features inside a stateful
object instead of a cache shared by every score. ``tests/test_metrics.py`` checks our FID and KID
against torchmetrics whenever it is installed.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import torch
from torch import nn

from ..kit.checkpoints import CheckpointError, load_checkpoint
from ..kit.data import FASHION_CLASSES, fashion_mnist_tensors, to_unit_range
from ..kit.sampling import sample

CLASSIFIER_PATH = Path(__file__).resolve().parents[1] / "pretrained" / "classifiers" / "fashion_classifier.pt"
NUM_CLASSES = len(FASHION_CLASSES)
MIN_FAIR_SHARE = 0.2  # a class (or mode) is covered when it holds >= 20% of its fair share: 2% of 10 classes
CONFIDENT = 0.9  # a prediction is "confident" when its top probability is at least this
LOWER_IS_BETTER = {"fid": True, "kid": True, "coverage": False, "kl_uniform": True, "confident": False}


class FashionClassifier(nn.Module):
    """(B, 1, 28, 28) in [-1, 1] -> 128 features -> 10 class logits. About 0.4 M parameters."""

    def __init__(self, width: int = 32, num_features: int = 128):
        super().__init__()
        self.num_features = num_features
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(),
            nn.MaxPool2d(2),  # 14 -> 7
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, num_features), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(num_features, NUM_CLASSES))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, num_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))  # (B, 10) logits


@functools.lru_cache(maxsize=2)
def load_classifier(path: str | Path = CLASSIFIER_PATH) -> FashionClassifier:
    """The shipped classifier, on CPU in eval mode (read with ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no classifier at {path}: run `python scripts/train/train_classifier.py` "
                              "from the repository root to train it (a few minutes on a CPU)")
    model = FashionClassifier()
    load_checkpoint(path, state_dict=model)
    return model.eval()


def check_images(images, strict_range: bool = True) -> torch.Tensor:
    """Validate a batch for the metrics: float ``(N, 1, 28, 28)`` in [-1, 1], N >= 2; returns float32.

    ``strict_range`` also rejects batches with no negative value (images in [0, 1] by mistake).
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of images, got {type(images).__name__}")
    if images.dtype == torch.uint8:
        raise TypeError("got uint8 images (range [0, 255]); convert them to floats in [-1, 1] with "
                        "course_utils.kit.data.to_unit_range(images)")
    if not images.is_floating_point():
        raise TypeError(f"expected float images in [-1, 1], got dtype {images.dtype}")
    if images.dim() == 3 and tuple(images.shape[1:]) == (28, 28):
        raise ValueError(f"expected (N, 1, 28, 28), got {tuple(images.shape)}: add the channel "
                         "dimension with images.unsqueeze(1)")
    if images.dim() != 4 or tuple(images.shape[1:]) != (1, 28, 28) or len(images) < 2:
        raise ValueError(f"expected a batch of at least 2 images of shape (N, 1, 28, 28), "
                         f"got {tuple(images.shape)}")
    images = images.detach().float().cpu()
    if not torch.isfinite(images).all():
        raise ValueError("images contain NaN or inf: the generator diverged or the batch is corrupted")
    lo, hi = images.min().item(), images.max().item()
    if hi > 2.0:
        raise ValueError(f"values reach {hi:.1f}: these look like images in [0, 255]; "
                         "map them to [-1, 1] with images / 127.5 - 1")
    if lo < -1.001 or hi > 1.001:
        raise ValueError(f"values span [{lo:.3f}, {hi:.3f}], expected [-1, 1] (a tanh output): "
                         "clamp or rescale them")
    if strict_range and lo >= 0:
        raise ValueError("no value is below 0: these look like images in [0, 1]; "
                         "map them to [-1, 1] with images * 2 - 1")
    return images.contiguous()


@torch.no_grad()
def classify(images: torch.Tensor, batch_size: int = 1000):
    """Features ``(N, 128)`` float64 and class probabilities ``(N, 10)`` of checked images."""
    model = load_classifier()
    feats, probs = [], []
    for x in images.split(batch_size):  # (b, 1, 28, 28)
        h = model.features(x)  # (b, 128)
        feats.append(h.double())
        probs.append(model.head(h).softmax(1))  # (b, 10)
    return torch.cat(feats), torch.cat(probs)


def gaussian_stats(features: torch.Tensor):
    """Mean ``(D,)`` and covariance ``(D, D)`` of features ``(N, D)``, in float64."""
    features = features.double()
    mu = features.mean(0)
    centered = features - mu  # (N, D)
    return mu, centered.T @ centered / (len(features) - 1)


def frechet_distance(stats_a, stats_b) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), from two ``(mu, cov)`` pairs.

    Tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), a symmetric PSD matrix,
    so two ``eigh`` calls replace a general (and less stable) matrix square root.
    """
    (mu_a, cov_a), (mu_b, cov_b) = stats_a, stats_b
    vals, vecs = torch.linalg.eigh(cov_a)
    sqrt_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T  # (D, D)
    middle = sqrt_a @ cov_b @ sqrt_a
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * tr_sqrt)


def kernel_distance(feat_a: torch.Tensor, feat_b: torch.Tensor, subsets: int = 10,
                    subset_size: int = 1000, seed: int = 0) -> float:
    """KID: unbiased MMD^2 with kernel k(x, y) = (x.y / D + 1)^3, averaged over random subsets."""
    gen = torch.Generator().manual_seed(seed)
    m = min(subset_size, len(feat_a), len(feat_b))
    dim, total = feat_a.shape[1], 0.0
    for _ in range(subsets):
        a = feat_a[torch.randperm(len(feat_a), generator=gen)[:m]].double()  # (m, D)
        b = feat_b[torch.randperm(len(feat_b), generator=gen)[:m]].double()  # (m, D)
        k_aa, k_bb, k_ab = [(x @ y.T / dim + 1) ** 3 for x, y in ((a, a), (b, b), (a, b))]  # (m, m)
        off_diag = (k_aa.sum() - k_aa.trace() + k_bb.sum() - k_bb.trace()) / (m * (m - 1))
        total += float(off_diag - 2 * k_ab.mean())
    return total / subsets


def class_histogram(x: torch.Tensor, classifier=None, num_classes: int = NUM_CLASSES,
                    batch_size: int = 500) -> torch.Tensor:
    """How many samples a classifier puts in each class: ``(num_classes,)`` int64 counts (lessons 3, 4).

    ``x`` is the classifier's output ``(N, num_classes)`` (probabilities or logits), or images when
    ``classifier`` is given (run in batches of ``batch_size``).
    """
    if classifier is not None:
        x = torch.cat([classifier(x[i:i + batch_size]).cpu() for i in range(0, len(x), batch_size)])
    return torch.bincount(x.argmax(1).cpu(), minlength=num_classes)


def coverage(counts, total: int | None = None, min_share: float = MIN_FAIR_SHARE) -> int:
    """Classes (or modes) holding at least ``min_share`` of a fair share, ``total / K``, of the samples.

    One definition for lesson 3's classes (10 = all, 1 = collapse; 20% of a fair share is 2% of the
    samples) and lesson 4's ring modes. ``total`` is the number of samples drawn (default: the sum of
    ``counts``); pass it when samples far from every mode were dropped, so a cloud of bad samples
    covers nothing.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    total = counts.sum().item() if total is None else total
    if total == 0:
        return 0
    return int((counts >= min_share * total / len(counts)).sum())


def histogram_entropy(counts) -> dict:
    """Entropy of a histogram (mode or class counts) in nats, and normalised by log(#bins) to [0, 1]."""
    p = torch.as_tensor(counts, dtype=torch.float64)
    if p.dim() != 1 or len(p) < 2:
        raise ValueError(f"expected a 1-D histogram with >= 2 bins, got shape {tuple(p.shape)}")
    if p.sum() == 0:
        return {"entropy": 0.0, "normalized": 0.0}
    p = p / p.sum()
    h = max(0.0, -(p[p > 0] * p[p > 0].log()).sum().item())  # max: no "-0.00" for one bin
    return {"entropy": h, "normalized": h / math.log(len(p))}


def kl_to_uniform(hist: torch.Tensor) -> float:
    """KL(p || uniform) = log K - H(p) of the class shares, in nats: 0 balanced, log 10 one class."""
    p = hist.double() / hist.sum()
    p = p[p > 0]  # 0 log 0 = 0
    return float((p * (p * len(hist)).log()).sum())


def confident_share(probs: torch.Tensor, threshold: float = CONFIDENT) -> float:
    """Share of samples whose top class probability is at least ``threshold``."""
    return float((probs.max(1).values >= threshold).double().mean())


@functools.lru_cache(maxsize=1)
def _reference():
    """Features, Gaussian statistics and KID scale of the 10,000 real test images (once per process).

    The scale (root-mean-square feature value) makes x.y / D of order 1 in KID's cubic kernel, as
    it is for Inception features; otherwise the cube of our larger features drowns KID in noise.
    """
    test_x, _ = fashion_mnist_tensors(train=False)  # (10000, 1, 28, 28) uint8
    feats, _ = classify(to_unit_range(test_x))  # (10000, 128)
    return feats, gaussian_stats(feats), feats.square().mean().sqrt()


def scores_from_features(feats: torch.Tensor, probs: torch.Tensor, seed: int = 0) -> dict:
    """All five scores for features ``(N, 128)`` and probabilities ``(N, 10)`` vs the real test set."""
    ref_feats, ref_stats, scale = _reference()
    hist = class_histogram(probs)
    return {"fid": frechet_distance(gaussian_stats(feats), ref_stats),
            "kid": kernel_distance(feats / scale, ref_feats / scale, seed=seed),
            "coverage": coverage(hist), "kl_uniform": kl_to_uniform(hist),
            "confident": confident_share(probs)}


def fashion_scores(images: torch.Tensor, strict_range: bool = True) -> dict:
    """Scores of images ``(N, 1, 28, 28)`` in [-1, 1] against the real test set, plus the histogram."""
    feats, probs = classify(check_images(images, strict_range))
    return {**scores_from_features(feats, probs), "histogram": class_histogram(probs).tolist()}


@functools.lru_cache(maxsize=8)
def floors(n: int = 2000, seed: int = 0) -> dict:
    """The scores of ``n`` random real **training** images: what a perfect generator would get."""
    train_x, _ = fashion_mnist_tensors(train=True)  # (60000, 1, 28, 28) uint8
    if not 2 <= n <= len(train_x):
        raise ValueError(f"n must be between 2 and {len(train_x)}, got {n}")
    idx = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))[:n]
    return fashion_scores(to_unit_range(train_x[idx]))


def fashion_eval_fn(n: int = 2000, seed: int = 0):
    """An ``eval_fn(G) -> dict`` for ``train_gan`` (lessons 3 and 4): scores of ``n`` samples of G.

    The same latent vectors (``seed``) at every checkpoint, so the curve shows G changing, not noise.
    Returns ``{"fid", "kid", "coverage", "kl_uniform", "confident", "histogram"}`` (``histogram``:
    samples per class, as in ``FASHION_CLASSES``); ``eval_fn.floors`` holds the
    floor of each score for the same ``n`` (real train vs real test), e.g. to draw on a plot.
    """
    def eval_fn(G) -> dict:
        return fashion_scores(sample(G, n, seed=seed), strict_range=False)  # (n, 1, 28, 28) samples

    eval_fn.floors = {k: v for k, v in floors(n).items() if k in LOWER_IS_BETTER}
    return eval_fn


def quality_report(images: torch.Tensor, verbose: bool = True) -> dict:
    """Print each score of ``images`` next to its floor (real train vs real test, same count)."""
    scores = fashion_scores(images)
    floor = floors(len(images)) if len(images) <= 60000 else floors(60000)
    if verbose:
        print(f"{'score':<12}{'samples':>10}{'floor':>10}   (floor = {len(images)} real training "
              "images vs the real test set)")
        for key, better in LOWER_IS_BETTER.items():
            fmt = "{:>10d}" if key == "coverage" else "{:>10.4f}"
            print(f"{key:<12}" + fmt.format(scores[key]) + fmt.format(floor[key])
                  + f"   {'lower' if better else 'higher'} is better")
        shares = zip(FASHION_CLASSES, scores["histogram"], strict=True)
        print("classes: " + ", ".join(f"{c} {k / len(images):.0%}" for c, k in shares))
    return {**scores, "floor": floor}


def kl_uniform_max() -> float:
    """The largest possible ``kl_uniform``: every sample in one class, log 10 ~ 2.30."""
    return math.log(NUM_CLASSES)
