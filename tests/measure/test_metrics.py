"""The Fashion-MNIST quality metrics: exact on known cases, monotonic in damage, loud on bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.kit.data import DataNotFoundError, TensorLoader, fashion_mnist_tensors, to_unit_range
from course_utils.lesson1.reference import Generator
from course_utils.lesson2.reference import Discriminator
from course_utils.lesson3.trainer import train_gan
from course_utils.measure import metrics

N = 600  # images per scored set: enough to order the damage levels, fast on a CPU


@pytest.fixture(scope="module")
def real():
    """(train images, test images, test labels), floats in [-1, 1]."""
    try:
        train_x, _ = fashion_mnist_tensors(train=True, limit=N)
        test_x, test_y = fashion_mnist_tensors(train=False)
    except DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not available: {exc}")
    return to_unit_range(train_x), to_unit_range(test_x), test_y


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of (N, 1, 28, 28) images with a 9x9 kernel of width ``sigma``."""
    if sigma == 0:
        return images
    t = torch.arange(9.0) - 4
    k = torch.exp(-t**2 / (2 * sigma**2))
    k2d = torch.outer(k, k) / k.sum() ** 2  # (9, 9), sums to 1
    return F.conv2d(F.pad(images, (4, 4, 4, 4), mode="replicate"), k2d[None, None])


# ---------------------------------------------------------------- the formulas on known cases

def test_frechet_distance_of_gaussians_matches_the_closed_form():
    dim = 8
    eye = torch.eye(dim, dtype=torch.float64)
    mu_a, mu_b = torch.zeros(dim, dtype=torch.float64), torch.full((dim,), 0.5, dtype=torch.float64)
    assert metrics.frechet_distance((mu_a, eye), (mu_a, eye)) == pytest.approx(0, abs=1e-9)
    assert metrics.frechet_distance((mu_a, eye), (mu_b, eye)) == pytest.approx(dim * 0.25)
    # Tr(aI + bI - 2 sqrt(ab) I) = dim (sqrt(a) - sqrt(b))^2
    assert metrics.frechet_distance((mu_a, 4 * eye), (mu_a, eye)) == pytest.approx(dim * 1.0)


def test_kernel_distance_is_zero_for_one_set_and_positive_for_shifted_features():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(600, 16, generator=gen)
    same = metrics.kernel_distance(a, a, subsets=5, subset_size=300)
    small, large = (metrics.kernel_distance(a, a + d, subsets=5, subset_size=300) for d in (0.25, 0.5))
    assert abs(same) < 0.05 < small < large  # unbiased: noise around 0 for one distribution


def test_histogram_coverage_and_kl_on_known_histograms():
    uniform, one_class = torch.full((10,), 50), torch.tensor([0, 0, 0, 500, 0, 0, 0, 0, 0, 0])
    assert metrics.coverage(uniform) == 10 and metrics.kl_to_uniform(uniform) == pytest.approx(0, abs=1e-12)
    assert metrics.coverage(one_class) == 1
    assert metrics.kl_to_uniform(one_class) == pytest.approx(math.log(10)) == metrics.kl_uniform_max()
    few = torch.tensor([990, 5, 5, 0, 0, 0, 0, 0, 0, 0])  # two classes under the 2% bar
    assert metrics.coverage(few) == 1
    probs = torch.tensor([[0.95] + [0.05 / 9] * 9, [0.5, 0.5] + [0.0] * 8])
    assert metrics.class_histogram(probs).tolist() == [2] + [0] * 9
    assert metrics.confident_share(probs) == pytest.approx(0.5)


# ---------------------------------------------------------------- the shipped classifier

def test_shipped_classifier_is_accurate_and_its_record_says_so(real):
    _, test_x, test_y = real
    record = json.loads(metrics.CLASSIFIER_PATH.with_suffix(".json").read_text())
    assert record["test_accuracy"] >= 0.9
    assert {"command", "seed", "hardware", "train_time_s"} <= record.keys()
    _, probs = metrics.classify(test_x[:2000])
    accuracy = (probs.argmax(1) == test_y[:2000]).double().mean().item()
    assert accuracy == pytest.approx(record["test_accuracy"], abs=0.02)


# ---------------------------------------------------------------- the scores on real and damaged images

def test_identical_sets_score_zero(real):
    _, test_x, _ = real
    scores = metrics.fashion_scores(test_x)  # the very set the reference statistics come from
    assert scores["fid"] == pytest.approx(0, abs=1e-3)
    assert abs(scores["kid"]) < 0.01  # KID is unbiased: noise around 0 (noise 0.1 -> ~0.09)
    assert scores["coverage"] == 10 and scores["kl_uniform"] < 0.01


def test_floor_is_small_and_real_images_sit_on_it(real):
    train_x, _, _ = real
    floor = metrics.floors(N)
    scores = metrics.fashion_scores(train_x)
    assert floor["coverage"] == 10 and floor["kl_uniform"] < 0.05 and floor["confident"] > 0.6
    assert scores["fid"] < 2 * floor["fid"] + 1e-6  # another draw of real images is on the floor


@pytest.mark.parametrize("damage, levels", [("noise", [0.0, 0.1, 0.3, 1.0]),
                                            ("blur", [0.0, 0.7, 1.2, 2.5])])
def test_scores_grow_monotonically_with_damage(real, damage, levels):
    train_x, _, _ = real
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(train_x.shape, generator=gen)  # one draw, scaled: a clean ordering
    fids, kids = [], []
    for level in levels:
        x = (train_x + level * noise).clamp(-1, 1) if damage == "noise" else blur(train_x, level)
        feats, probs = metrics.classify(metrics.check_images(x))
        scores = metrics.scores_from_features(feats, probs)
        fids.append(scores["fid"])
        kids.append(scores["kid"])
    assert fids == sorted(fids) and len(set(fids)) == len(fids), f"FID not increasing: {fids}"
    assert kids == sorted(kids) and len(set(kids)) == len(kids), f"KID not increasing: {kids}"
    assert fids[-1] > 10 * fids[0]


def test_single_class_collapse_is_detected(real):
    _, test_x, test_y = real
    trousers = test_x[test_y == 1][:500]  # a generator that only makes trousers
    scores = metrics.fashion_scores(trousers)
    assert scores["coverage"] == 1
    assert scores["kl_uniform"] > 0.9 * math.log(10)
    one_image = test_x[:1].repeat(500, 1, 1, 1)  # a generator that makes one image
    collapsed = metrics.fashion_scores(one_image)
    assert collapsed["coverage"] == 1 and collapsed["kl_uniform"] == pytest.approx(math.log(10))
    floor = metrics.floors(N)
    assert min(collapsed["fid"], scores["fid"]) > 50 * floor["fid"]
    assert min(collapsed["kid"], scores["kid"]) > 1.0 > 100 * abs(floor["kid"])


def test_quality_report_prints_each_score_beside_its_floor(real, capsys):
    train_x, _, _ = real
    report = metrics.quality_report(train_x)
    out = capsys.readouterr().out
    for key in ("fid", "kid", "coverage", "kl_uniform", "confident", "floor", "Trouser"):
        assert key in out
    assert report["floor"] == metrics.floors(N)


def test_fashion_eval_fn_runs_inside_train_gan(real):
    train_x, _, _ = real
    eval_fn = metrics.fashion_eval_fn(n=200)
    assert set(eval_fn.floors) == set(metrics.LOWER_IS_BETTER)
    G, D = Generator(), Discriminator()
    loader = TensorLoader(train_x[:64], batch_size=64)
    history = train_gan(G, D, loader, 1, "cpu", checkpoint_every=1, eval_fn=eval_fn, verbose=False)
    (row,) = history["metrics"]
    assert row["epoch"] == 1 and {"fid", "kid", "coverage", "kl_uniform", "confident"} <= row.keys()
    assert row["fid"] > eval_fn.floors["fid"] and 1 <= row["coverage"] <= 10
    assert len(row["histogram"]) == 10 and sum(row["histogram"]) == 200  # every sample in one class
    assert eval_fn(G) == eval_fn(G)  # same latent vectors every call: repeatable


# ---------------------------------------------------------------- bad input gives clear errors

@pytest.mark.parametrize("images, error, words", [
    (torch.zeros(4, 1, 28, 28, dtype=torch.uint8), TypeError, "to_unit_range"),
    (torch.zeros(4, 1, 28, 28, dtype=torch.int64), TypeError, "dtype"),
    (torch.rand(4, 1, 28, 28) * 255, ValueError, "[0, 255]"),
    (torch.rand(4, 1, 28, 28), ValueError, "[0, 1]"),
    (torch.rand(4, 28, 28) * 2 - 1, ValueError, "unsqueeze(1)"),
    (torch.rand(4, 3, 28, 28) * 2 - 1, ValueError, "(N, 1, 28, 28)"),
    (torch.rand(1, 1, 28, 28) * 2 - 1, ValueError, "at least 2"),
    (torch.full((4, 1, 28, 28), float("nan")), ValueError, "NaN"),
    (torch.rand(4, 1, 28, 28) * 3 - 1.5, ValueError, "[-1, 1]"),
    ([[0.0]], TypeError, "torch.Tensor"),
])
def test_bad_images_raise_clear_errors(images, error, words):
    with pytest.raises(error) as info:
        metrics.check_images(images)
    assert words in str(info.value)


def test_missing_classifier_says_how_to_train_it(tmp_path):
    with pytest.raises(metrics.CheckpointError, match="train_classifier.py"):
        metrics.load_classifier(tmp_path / "none.pt")
