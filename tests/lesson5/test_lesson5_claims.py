"""Lesson 5's claims: each PASSes where its sentence is true and FAILs on a doctored run or record."""

import copy

import pytest

from course_utils.lesson5 import claims, theory


def test_js_and_w1_claims_fail_when_the_divergences_are_doctored(monkeypatch, must_pass, must_fail):
    found = claims.js_w1_claims()
    for name in ("js_saturates", "w1_grows", "js_overlap"):
        must_pass(found, name)
    real = theory.uniform_js_w1
    monkeypatch.setattr(theory, "uniform_js_w1", lambda s: (real(s)[0] - (0.01 * s if s >= 1 else 0), real(s)[1]))
    must_fail(claims.js_w1_claims(), "js_saturates")  # JS that keeps changing after the supports separate
    monkeypatch.setattr(theory, "uniform_js_w1", lambda s: (real(s)[0], min(real(s)[1], 1.0)))
    must_fail(claims.js_w1_claims(), "w1_grows")  # a W1 that stops growing
    monkeypatch.setattr(theory, "uniform_js_w1", lambda s: (real(s)[0] ** 2, real(s)[1]))
    must_fail(claims.js_w1_claims(), "js_overlap")  # not linear in the shift while they overlap


def _critic(estimate, at_bounds=float("nan"), slope=1.0):
    return {"estimate": estimate, "w1": 3.0, "slope": slope, "at_bounds": at_bounds}


def test_clipping_and_gp_claims(must_pass, must_fail):
    clipped = [_critic(0.004, 0.4, 0.002) for _ in range(3)]
    penalised = [_critic(2.9) for _ in range(3)]
    found = claims.clipping_vs_gp_claims(clipped, penalised)
    must_pass(found, "clipping_at_bounds")
    must_pass(found, "gp_estimates_w1")
    clipped[1] = _critic(0.004, 0.1, 0.002)  # one seed: the weights spread inside the bounds
    must_fail(claims.clipping_vs_gp_claims(clipped, penalised), "clipping_at_bounds")
    penalised[2] = _critic(2.0)  # one seed 33% off
    must_fail(claims.clipping_vs_gp_claims(clipped, penalised), "gp_estimates_w1")


@pytest.fixture(scope="module")
def meta():
    from course_utils.kit.checkpoints import load_generator

    return load_generator("flowers_wgan_gp_cpu").meta


def test_the_cpu_record_passes(meta, must_pass):
    found = claims.flowers_cpu_claims(meta, dict(meta["swd"]), meta["swd_images"])
    for name in ("flowers_cpu_minutes", "flowers_cpu_swd", "flowers_cpu_curve_falls", "flowers_cpu_rescored"):
        must_pass(found, name)


def test_doctored_cpu_records_fail(meta, must_fail):
    slow = dict(meta, wall_time_s=31 * 60)
    must_fail(claims.flowers_cpu_claims(slow), "flowers_cpu_minutes")
    big_machine = dict(meta, hardware="AMD EPYC, 16 threads")
    must_fail(claims.flowers_cpu_claims(big_machine), "flowers_cpu_minutes")
    far = copy.deepcopy(meta)
    far["swd"]["swd"] = 10.5 * meta["swd_floor"]["swd"]  # more than 10x the real-vs-real floor
    must_fail(claims.flowers_cpu_claims(far), "flowers_cpu_swd")
    rising = copy.deepcopy(meta)
    key = meta.get("shipped", "raw")
    rising["swd_curve"][-1][key] = rising["swd_curve"][0][key] + 1
    must_fail(claims.flowers_cpu_claims(rising), "flowers_cpu_curve_falls")
    now = dict(meta["swd"], swd=meta["swd"]["swd"] * 1.08)  # scored now: 8% off the record
    must_fail(claims.flowers_cpu_claims(meta, now, meta["swd_images"]), "flowers_cpu_rescored")
