"""Lesson 6's independent judge: a G that returns real images earns ratios of 1 and FIDs at the floor; a G that
ignores the label is far off; the judge's claims FAIL when their sentences are false."""

import pytest
import torch
from torch import nn

from course_utils.kit.checkpoints import CheckpointError
from course_utils.kit.data import fashion_mnist_tensors, to_unit_range
from course_utils.lesson6 import claims, judge


class RealImagesG(nn.Module):
    """A conditional 'generator' that returns real training images of the requested class (or of one class)."""

    def __init__(self, start: int, only_class: int | None = None):
        super().__init__()
        x, y = fashion_mnist_tensors(train=True)
        self.by_class = [to_unit_range(x[start:][y[start:] == k][:1000]) for k in range(10)]
        self.latent_dim, self.num_classes, self.only = 8, 10, only_class
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the module a device and dtype
        self.seen = [0] * 10

    def forward(self, z, y):
        out = []
        for k in y.tolist():
            k = self.only if self.only is not None else k
            out.append(self.by_class[k][self.seen[k] % 1000])
            self.seen[k] += 1
        return torch.stack(out)


@pytest.fixture(scope="module")
def real():
    return judge.held_out_real()  # the real data (CI sets COURSE_DATA_DIR), judged once


def test_real_images_of_the_requested_class_score_like_real_data(real):
    G = RealImagesG(start=judge.HELD_OUT)  # training images after the held-out ones: also never seen by the judge
    result = judge.honest_control(G, per_class=500, judge_real=real)
    assert max(result["deviation"]) < 0.1, result["ratio"]
    assert all(f < 3 * floor + 2 for f, floor in zip(result["fid"], result["fid_floor"])), (result["fid"],
                                                                                              result["fid_floor"])


def test_a_g_that_ignores_the_label_is_far_off(real):
    result = judge.honest_control(RealImagesG(start=judge.HELD_OUT, only_class=1), per_class=200, judge_real=real)
    assert result["ratio"][1] > 0.9 and max(result["deviation"]) > 0.9  # only trousers are right
    assert min(result["fid"][k] for k in range(10) if k != 1) > 10 * max(result["fid_floor"])


def test_a_missing_judge_names_the_script(tmp_path):
    with pytest.raises(CheckpointError, match="scripts/train/train_judge.py"):
        judge.load_judge(tmp_path / "nowhere.pt")


def _result(ratio, fid):
    return {"classes": [f"c{k}" for k in range(10)], "ratio": ratio, "fid": fid, "fid_floor": [2.0] * 10}


def test_judge_claims(must_pass, must_fail):
    ratio, fid = [1.0] * 9 + [1.2], [10.0] * 9 + [60.0]
    found = claims.judge_claims(_result(ratio, fid))
    must_pass(found, "judge_sees_overshoot")
    must_pass(found, "prototypical_is_far")
    must_fail(claims.judge_claims(_result([1.05] * 10, fid)), "judge_sees_overshoot")
    must_fail(claims.judge_claims(_result(ratio, [60.0] * 9 + [15.0])), "prototypical_is_far")  # 7.5x: near
    must_fail(claims.judge_claims(_result([1.05] * 10, fid)), "prototypical_is_far")  # nothing over-recognised
