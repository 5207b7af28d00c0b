"""Lesson 7's reference in z: walks, truncation, directions and edits (no data needed)."""

import math

import pytest
import torch

from course_utils.lesson7.latent import (
    class_index,
    edit,
    expected_norm,
    find_direction,
    interpolate,
    orthogonalize,
    prior_shell,
    truncate,
    truncated_sample,
)


def _pair(d=100, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(d, generator=g), torch.randn(d, generator=g)


@pytest.mark.parametrize("mode", ["linear", "slerp"])
def test_walks_start_at_z0_end_at_z1_and_have_steps_points(mode):
    z0, z1 = _pair()
    path = interpolate(z0, z1, 7, mode)
    assert path.shape == (7, 100)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)


def test_slerp_interpolates_the_norm_and_turns_at_a_constant_rate():
    z0, z1 = _pair()
    z1 = 1.7 * z1
    path = interpolate(z0, z1, 11, "slerp")
    t = torch.linspace(0, 1, 11)
    assert torch.allclose(path.norm(dim=1), (1 - t) * z0.norm() + t * z1.norm(), atol=1e-4)
    u = path / path.norm(dim=1, keepdim=True)
    angles = torch.arccos((u[:-1] * u[1:]).sum(1).clamp(-1, 1))  # the angle of each step
    assert torch.allclose(angles, angles.mean().expand_as(angles), atol=1e-3)


def test_the_linear_midpoint_of_two_gaussian_vectors_is_about_sqrt_d_over_2():
    g = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(500, 100, generator=g), torch.randn(500, 100, generator=g)
    mid = interpolate(z0, z1, 3, "linear")[1].norm(dim=1)
    assert abs(float(mid.median()) - math.sqrt(50)) < 0.3
    assert abs(float(interpolate(z0, z1, 3, "slerp")[1].norm(dim=1).median()) - 10) < 0.3


def test_slerp_of_one_direction_is_the_straight_line_and_batches_work():
    z = torch.ones(4)
    assert torch.allclose(interpolate(z, 3 * z, 3, "slerp")[1], 2 * z)
    z0, z1 = torch.randn(5, 8), torch.randn(5, 8)
    batch = interpolate(z0, z1, 4, "slerp")
    assert batch.shape == (4, 5, 8)
    assert torch.allclose(batch[:, 2], interpolate(z0[2], z1[2], 4, "slerp"), atol=1e-6)


@pytest.mark.parametrize("args, words", [((torch.zeros(3), torch.zeros(4), 3), "one shape"),
                                         ((torch.zeros(3), torch.zeros(3), 1), "steps must be an int >= 2"),
                                         ((torch.zeros(3), torch.zeros(3), 3, "cubic"), "mode must be")])
def test_bad_walks_say_what_was_expected(args, words):
    with pytest.raises(ValueError, match=words):
        interpolate(*args)


def test_prior_shell_brackets_sqrt_d():
    lo, hi = prior_shell(100)
    assert 8 < lo < expected_norm(100) < hi < 12
    assert abs(expected_norm(100) - math.sqrt(99.5)) < 0.01


def test_truncate_scales_towards_the_centre_and_checks_psi():
    z = torch.randn(4, 8)
    assert torch.equal(truncate(z, 1.0), z) and torch.equal(truncate(z, 0.0), torch.zeros_like(z))
    assert torch.allclose(truncate(z, 0.5), z / 2)
    for bad in (-0.1, 1.5, "0.5", True):
        with pytest.raises(ValueError, match="psi must be"):
            truncate(z, bad)


def test_truncated_sample_runs_g_on_the_truncated_z():
    seen = []

    def G(z):
        seen.append(z)
        return z.sum(1)

    z = torch.randn(3, 8)
    truncated_sample(G, z, 0.25)
    assert torch.allclose(seen[0], 0.25 * z)


def test_find_direction_is_the_unit_difference_of_class_means():
    z = torch.tensor([[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]])
    classes = torch.tensor([0, 0, 1, 1])
    d = find_direction(z, classes, 0, 1)
    assert torch.allclose(d, torch.tensor([1.0, 0.0]))
    assert torch.allclose(find_direction(z, classes, 1, 0), -d)
    with pytest.raises(ValueError, match="no sample of class 2"):
        find_direction(z, classes, 0, 2)


def test_edit_moves_alpha_along_the_unit_direction_and_orthogonalize_removes_the_other():
    z = torch.zeros(2, 3)
    out = edit(z, torch.tensor([0.0, 3.0, 4.0]), 10.0)
    assert torch.allclose(out, torch.tensor([[0.0, 6.0, 8.0]] * 2))
    d = orthogonalize(torch.tensor([1.0, 1.0, 0.0]), torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(d, torch.tensor([0.0, 1.0, 0.0]))


def test_class_index_by_name_or_number():
    assert class_index("Sneaker") == 7 and class_index(9) == 9
    with pytest.raises(ValueError, match="unknown class"):
        class_index("Hat")
    with pytest.raises(ValueError, match="0..9"):
        class_index(10)
