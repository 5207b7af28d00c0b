"""Lesson 3's claims: each PASSes on the shipped run or record and FAILs on a doctored copy."""

import copy

import pytest

from course_utils.kit.checkpoints import load_history
from course_utils.lesson3 import claims
from course_utils.measure import records


@pytest.fixture(scope="module")
def shipped():
    return load_history("fashion_dcgan")


def test_the_shipped_run_passes(shipped, must_pass):
    found = claims.losses_vs_quality_claims(shipped, shipped=True) + claims.balance_claims(shipped, shipped=True)
    for name in ("g_loss_rises_kid_falls", "classes_every_checkpoint", "balanced", "d_pulls_ahead"):
        must_pass(found, name)


def test_a_kid_that_rises_fails(shipped, must_fail):
    h = copy.deepcopy(shipped)
    h["metrics"][-1]["kid"] = h["metrics"][0]["kid"] + 0.01
    must_fail(claims.losses_vs_quality_claims(h, shipped=True), "g_loss_rises_kid_falls")


def test_a_g_loss_that_falls_fails(shipped, must_fail):
    h = copy.deepcopy(shipped)
    h["g_loss"] = [3.0 - i / len(h["g_loss"]) for i in range(len(h["g_loss"]))]  # falling all run long
    must_fail(claims.losses_vs_quality_claims(h, shipped=True), "g_loss_rises_kid_falls")


def test_a_checkpoint_with_8_classes_fails(shipped, must_fail):
    h = copy.deepcopy(shipped)
    h["metrics"][3]["coverage"] = 8
    must_fail(claims.losses_vs_quality_claims(h, shipped=True), "classes_every_checkpoint")


def test_a_dominant_last_window_fails_balanced(shipped, must_fail):
    h = copy.deepcopy(shipped)
    n = h["steps_per_epoch"]
    h["d_fake"] = h["d_fake"][:-n] + [0.05] * n  # D rejects 95% of the fakes in the last epoch
    must_fail(claims.balance_claims(h, shipped=True), "balanced")


def test_a_flat_run_fails_d_pulls_ahead(shipped, must_fail):
    h = copy.deepcopy(shipped)
    n, half = h["steps_per_epoch"], len(h["d_loss"]) // 2
    for key in ("d_loss", "d_fake", "d_real"):  # the second half replays its first epoch: no trend at all
        h[key] = h[key][:half] + (h[key][half:half + n] * (len(h[key]) - half))[:len(h[key]) - half]
    must_fail(claims.balance_claims(h, shipped=True), "d_pulls_ahead")


def _short_run(shipped, epochs=18):
    """The shipped history cut to its first ``epochs`` epochs: a CPU's budgeted run."""
    h, n = copy.deepcopy(shipped), shipped["steps_per_epoch"]
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        h[key] = h[key][:epochs * n]
    h["metrics"], h["epochs"] = [m for m in h["metrics"] if m["epoch"] <= epochs], epochs
    return h


def test_a_short_run_of_the_student_leaves_the_50_epoch_trends_to_a_full_run(shipped):
    from course_utils.measure.claims import FAIL, NEEDS_FULL, PASS

    short = _short_run(shipped)
    found = {c.name: c for c in claims.losses_vs_quality_claims(short) + claims.balance_claims(short)}
    for name in ("g_loss_rises_kid_falls", "d_pulls_ahead"):
        assert found[name].status == NEEDS_FULL and "this run trained 18 epochs" in found[name].evidence
    assert found["classes_every_checkpoint"].status in (PASS, FAIL)  # not a trend: checked on any run
    as_shipped = {c.name: c for c in claims.balance_claims(short, shipped=True)}
    assert as_shipped["d_pulls_ahead"].status != NEEDS_FULL  # the shipped run is always judged


def _record(fid=15.0, base_fid=36.0, shares=(0.08, 0.12), covered=10):
    return {"quality": {"fid": fid, "baseline_tutorial_dcgan_20_epochs": {"fid": base_fid},
                        "class_shares_min_max": list(shares), "classes_covered": covered}}


def test_shipped_quality_claims_pass_and_fail_on_the_record(monkeypatch, must_pass, must_fail):
    must_pass(claims.shipped_quality_claims(), "shipped_beats_tutorial")
    must_pass(claims.shipped_quality_claims(), "shipped_all_classes")
    monkeypatch.setattr(claims, "load_record", lambda name: _record(fid=40.0))
    must_fail(claims.shipped_quality_claims(), "shipped_beats_tutorial")
    for doctored in (_record(shares=(0.03, 0.12)), _record(shares=(0.05, 0.2)), _record(covered=9)):
        monkeypatch.setattr(claims, "load_record", lambda name, d=doctored: d)
        must_fail(claims.shipped_quality_claims(), "shipped_all_classes")


def _levers(raw50, ema50, finals):
    runs = [{"seed": s, "epochs": 50, "fid": [{"epoch": 50, "raw": r, "ema999_bn": e}]}
            for s, (r, e) in enumerate(zip(raw50, ema50))]
    runs += [{"seed": s, "epochs": 150, "final_ema999_bn": {"fid": f}} for s, f in enumerate(finals)]
    return {"gpu_runs": runs}


def test_ema_claims_fail_when_the_ema_loses_or_misses_the_bar(must_pass, must_fail):
    good = claims.ema_claims(_levers([24.5, 27.5], [23.4, 26.0], [18.4]), ema_fid=18.4)
    must_pass(good, "ema_beats_raw_at_50")
    must_pass(good, "ema_long_run_bar")
    must_fail(claims.ema_claims(_levers([24.5, 25.0], [23.4, 26.0], [18.4]), ema_fid=18.4), "ema_beats_raw_at_50")
    must_fail(claims.ema_claims(_levers([24.5], [23.4], [18.4]), ema_fid=20.5), "ema_long_run_bar")


def test_the_shipped_records_load():
    assert records.load_record("fashion_dcgan")["quality"]["fid"] > 0
