"""Lesson 7's measurements: precision and recall on known sets; every measurement runs end to end (tiny sizes)."""

import torch

from course_utils.kit.checkpoints import load_generator
from course_utils.kit.data import fashion_mnist_tensors, to_unit_range
from course_utils.lesson7 import effects
from course_utils.lesson7.latent import find_direction


def test_precision_and_recall_on_known_sets():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(300, 4, generator=g)
    assert effects.precision_recall(real, real.clone()) == (1.0, 1.0)
    far = real + 100
    assert effects.precision_recall(real, far) == (0.0, 0.0)
    squeezed = 0.05 * torch.randn(300, 4, generator=g)  # a collapsed G: realistic, not diverse
    precision, recall = effects.precision_recall(real, squeezed)
    assert precision > 0.9 and recall < 0.2


def test_every_measurement_runs_and_returns_plain_numbers(real_data_dir):
    G = load_generator("fashion_dcgan")
    walks = effects.walk_measurements(G, (0,), pairs=16)
    assert walks[0]["linear"]["median_norm"] < walks[0]["slerp"]["median_norm"]
    sweep = effects.truncation_sweep(G, (0,), n=64, psis=(1.0, 0.5))
    assert [r["psi"] for r in sweep[0]["rows"]] == [1.0, 0.5] and sum(sweep[0]["rows"][0]["histogram"]) == 64
    calls = []
    edits = effects.direction_measurements(G, (0,), 7, 9, n_find=300, n_test=200,
                                           find_direction_fn=lambda *a: calls.append(1) or find_direction(*a))
    assert calls and 0 <= edits[0]["found"]["flip"] <= 1 and abs(sum(edits[0]["random"]["shares"]) - 1) < 1e-9
    steering = effects.steer_measurements(G, (0,), n=10, steps=2)
    assert set(steering[0]["after"]) == {0.0, 0.1} and isinstance(steering[0]["after"][0.1]["judge"], float)
    x, _ = fashion_mnist_tensors(train=False, limit=2)
    inv = effects.inversion_measurements(G, (0,), to_unit_range(x), steps=2, restarts=1, pool=20)
    assert inv[0]["z"].shape == (2, G.latent_dim) and inv[0]["nearest"] > 0


def test_the_orthogonal_edit_is_measured_with_the_students_function_and_avoids_the_class(real_data_dir):
    G = load_generator("fashion_dcgan")
    calls = []
    edits = effects.direction_measurements(G, (0,), 7, 9, n_find=2000, n_test=1000, avoid=5,
                                           find_direction_fn=lambda *a: calls.append(a[2:]) or find_direction(*a))
    row = edits[0]
    assert calls == [(7, 9), (7, 5)]  # the Sneaker -> Sandal direction comes from the same function
    assert 0.2 < row["cosine"] < 0.9 and row["avoid"] == 5
    assert row["orthogonal"]["avoided"] < row["found"]["avoided"] and row["orthogonal"]["flip"] > 0.5
    without = effects.direction_measurements(G, (0,), 7, 9, n_find=300, n_test=200)
    assert "orthogonal" not in without[0] and "avoided" not in without[0]["found"]
