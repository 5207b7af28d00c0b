"""Lesson 4 diagnostics on synthetic inputs with known answers."""

import math

import pytest
import torch
from torch import nn

from course_utils.kit.loop import new_history
from course_utils.kit.smoothing import LOG2
from course_utils.lesson2.ring import PointLoader, mode_counts, ring_centers, ring_data, ring_diversity, ring_loader
from course_utils.lesson4.diagnostics import grad_norm, health_report
from course_utils.measure.metrics import class_histogram, histogram_entropy
from course_utils.measure.metrics import coverage as modes_covered
from course_utils.measure.verdicts import smoothing_floor


def test_grad_norm_known_value():
    m = nn.Linear(2, 1)
    m.weight.grad = torch.tensor([[3.0, 0.0]])
    m.bias.grad = torch.tensor([4.0])
    assert grad_norm(m) == pytest.approx(5.0)
    assert grad_norm(nn.Linear(2, 1)) == 0.0  # no gradients yet


def test_ring_geometry_and_balance():
    c = ring_centers(8, radius=2.0)
    assert c.shape == (8, 2)
    assert torch.allclose(c.norm(dim=1), torch.full((8,), 2.0))
    points, modes = ring_data(800, std=0.05, seed=0)
    assert torch.bincount(modes).tolist() == [100] * 8


def test_true_data_covers_all_modes_and_one_point_covers_one():
    c = ring_centers()
    points, _ = ring_data(4000, std=0.05, seed=1)
    d = ring_diversity(points, c, std=0.05)
    assert d["modes"] == 8 and d["norm_entropy"] > 0.99 and d["good"] > 0.98
    collapsed = c[3].repeat(1000, 1) + 0.01 * torch.randn(1000, 2)
    d = ring_diversity(collapsed, c)
    assert d["modes"] == 1 and d["norm_entropy"] == pytest.approx(0.0)
    far = torch.zeros(1000, 2)  # the centre of the ring: no mode
    assert ring_diversity(far, c)["modes"] == 0 and ring_diversity(far, c)["good"] == 0.0


def test_mode_counts_and_coverage_threshold():
    c = ring_centers()
    pts = torch.cat([c[0].repeat(50, 1), c[1].repeat(3, 1), torch.zeros(47, 2)])
    counts = mode_counts(pts, c, max_dist=0.15)
    assert counts.tolist() == [50, 3, 0, 0, 0, 0, 0, 0]
    # fair share = 100 / 8 = 12.5; 20% of it = 2.5: both modes count, relative to all 100 samples
    assert modes_covered(counts, total=100) == 2
    assert modes_covered(counts, total=1000) == 1  # 3 < 25


def test_histogram_entropy_known_values():
    assert histogram_entropy([5, 5, 5, 5])["normalized"] == pytest.approx(1.0)
    assert histogram_entropy([5, 5, 5, 5])["entropy"] == pytest.approx(math.log(4))
    assert histogram_entropy([9, 0, 0])["entropy"] == pytest.approx(0.0)
    assert histogram_entropy([1, 1, 0, 0])["normalized"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="1-D"):
        histogram_entropy([3])


def test_class_histogram_with_a_known_classifier():
    images = torch.arange(30).float().view(30, 1)  # "image" i
    classifier = lambda x: nn.functional.one_hot((x[:, 0] % 3).long(), 10).float()  # noqa: E731
    assert class_histogram(images, classifier, 10, batch_size=7).tolist() == [10, 10, 10] + [0] * 7


def test_point_loader_is_repeatable_from_its_generator_state():
    loader = ring_loader(n=1024, batch_size=256, seed=0)
    state = loader.generator.get_state()
    first = [x for x, _ in loader]
    loader.generator.set_state(state)
    again = [x for x, _ in loader]
    assert len(loader) == 4 and all(torch.equal(a, b) for a, b in zip(first, again))
    with pytest.raises(ValueError, match="points must be"):
        PointLoader(torch.zeros(10, 1, 2))


def _history(d_loss, d_real, d_fake, metrics=(), smoothing=0.0, n=400):
    h = new_history(["d_loss", "g_loss", "d_real", "d_fake", "d_grad", "g_grad"],
                    settings={"label_smoothing": smoothing})
    h["steps_per_epoch"] = 100
    for k, v in (("d_loss", d_loss), ("g_loss", 1.0), ("d_real", d_real), ("d_fake", d_fake),
                 ("d_grad", 1.0), ("g_grad", 0.01)):
        h[k] = list(v) if isinstance(v, list) else [v] * n
    h["metrics"] = list(metrics)
    return h


def _div(modes, ent, good=0.9):
    return {"epoch": 1, "modes": modes, "norm_entropy": ent, "good": good, "counts": [1] * 8}


def test_health_report_names_each_failure():
    dominant = health_report(_history(0.05, 0.98, 0.02, [_div(8, 0.99)]))
    assert dominant.failures == ["discriminator dominance"]
    assert "0.050" in str(dominant)
    collapsed = health_report(_history(0.6, 0.6, 0.4, [_div(3, 0.5)]))
    assert collapsed.failures == ["mode collapse"]  # healthy-looking losses, collapsed samples
    swinging = [0.3 + 0.3 * (i // 150 % 2) for i in range(800)]  # D loss jumps every 150 steps
    assert "oscillation" in health_report(_history(swinging, 0.6, 0.4, [_div(8, 0.99)])).failures
    healthy = health_report(_history(0.62, 0.57, 0.43, [_div(8, 0.99)]))
    assert healthy.healthy and "HEALTHY" in str(healthy)
    weak = health_report(_history(0.80, 0.45, 0.5, [_div(8, 0.99)]))
    assert weak.failures == ["discriminator too weak"]


def test_health_report_accounts_for_label_smoothing():
    floor = smoothing_floor(0.1)
    assert floor == pytest.approx(0.1625, abs=1e-3)
    # D loss 0.40 with smoothing 0.1 is only 0.24 above what a perfect D can reach: dominant
    assert "discriminator dominance" in health_report(_history(0.40, 0.88, 0.08, smoothing=0.1)).failures
    assert health_report(_history(LOG2 - 0.05, 0.55, 0.45, smoothing=0.0)).failures == []
