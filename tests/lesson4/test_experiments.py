"""Lesson 4's toy runs side by side (one process per core) are the same experiment as one after another."""

import sys

import pytest
import torch

from course_utils.lesson4 import FIXES, failure_name, run_group
from course_utils.lesson4.stability import smoothed_d_loss


def _same(a: dict, b: dict) -> bool:
    keys = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad", "metrics")
    return all(a[k] == b[k] for k in keys) and len(a["samples"]) == len(b["samples"]) > 0 and all(
        x["epoch"] == y["epoch"] and torch.equal(x["images"], y["images"]) for x, y in zip(a["samples"], b["samples"]))


@pytest.mark.skipif(sys.platform != "linux", reason="children are forked only on Linux")
def test_side_by_side_histories_equal_one_after_another_bit_for_bit():
    fix = next(iter(FIXES["dominance"]))
    kw = dict(seeds=(0, 1), fixes=[fix], progress=False, d_loss_fn=smoothed_d_loss)  # a hook travels too
    alone = run_group("dominance", 2, workers=1, **kw)
    side_by_side = run_group("dominance", 2, workers=2, **kw)
    assert list(side_by_side) == list(alone) == [failure_name("dominance"), fix]
    for name in alone:
        assert all(_same(a, b) for a, b in zip(alone[name], side_by_side[name], strict=True)), name
    assert alone[fix][0]["d_loss"] != alone[fix][1]["d_loss"]  # two seeds, two runs: order is checked
    assert alone[fix][0]["d_loss"] != alone[failure_name("dominance")][0]["d_loss"]
