"""Lesson 6's claims: each PASSes on the shipped record (or a report where its sentence is true) and FAILs on a
doctored copy."""

import copy

import torch

from course_utils.lesson6 import claims
from course_utils.measure.records import load_levers


def test_the_sweep_record_passes(must_pass):
    found = claims.class_term_claims(load_levers())
    for name in ("plain_game_leaves_a_top", "class_term_overshoots", "class_term_closer_two_sided", "class_term_fid",
                 "other_levers_fall_short", "lighter_term_closer"):
        must_pass(found, name)


def _doctor(levers, run, **changes):
    levers = copy.deepcopy(levers)
    for r in levers["runs"]:
        if r["run"] == run:
            r.update(changes)
    return levers


def _relative(value_at, k, rest=1.0):
    return [value_at if i == k else rest for i in range(10)]


def test_doctored_sweeps_fail(must_fail):
    levers = load_levers()
    lifted = _doctor(levers, "base_s1", relative=_relative(0.95, 6, 1.02), min_relative=0.95)  # a plain seed at the bar
    must_fail(claims.class_term_claims(lifted), "plain_game_leaves_a_top")
    trousers = _doctor(levers, "base", relative=_relative(0.8, 1, 1.02), min_relative=0.8)  # the low class not a top
    must_fail(claims.class_term_claims(trousers), "plain_game_leaves_a_top")
    like_real = _doctor(levers, "class1_s2", relative=_relative(1.05, 6, 1.0), min_relative=1.0)  # no overshoot
    must_fail(claims.class_term_claims(like_real), "class_term_overshoots")
    already = copy.deepcopy(levers)  # the plain game already over-recognises every class: no control, no claim
    for r in already["runs"]:
        if r["class_weight"] == 0:
            r["relative"] = [1.2] * 10
    must_fail(claims.class_term_claims(already), "class_term_overshoots")
    far = copy.deepcopy(levers)
    for r in far["runs"]:
        if r["class_weight"] == 1.0:
            r["relative"] = _relative(1.3, 6, 1.0)  # every weight-1 seed 30% over on shirts
    must_fail(claims.class_term_claims(far), "class_term_closer_two_sided")
    worse = copy.deepcopy(levers)
    for r in worse["runs"]:
        if r["class_weight"] == 1.0:
            r["fid"] += 5.0
    must_fail(claims.class_term_claims(worse), "class_term_fid")
    must_fail(claims.class_term_claims(_doctor(levers, "dwide", relative=_relative(0.95, 6), min_relative=0.95)),
              "other_levers_fall_short")
    heavy = _doctor(levers, "class03_s1", relative=_relative(1.2, 6))
    must_fail(claims.class_term_claims(heavy), "lighter_term_closer")


def _report(per_class, real=0.9, n=10_000, fid=10.0, coverage=10):
    per_class = torch.tensor(per_class, dtype=torch.float64)
    real = torch.full((10,), real, dtype=torch.float64)
    return {"agreement": float(per_class.mean()), "per_class": per_class, "real_accuracy": real,
            "relative": per_class / real, "n": n, "fid": fid, "coverage": coverage}


def test_control_claims(must_pass, must_fail):
    good = _report([0.92] * 9 + [1.0])  # the last class 1.11x the real accuracy of 0.9
    for name in ("cgan_agreement", "cgan_every_class_at_bar", "cgan_overshoots"):
        must_pass(claims.control_claims(good), name)
    must_fail(claims.control_claims(_report([0.85] * 10, real=0.85)), "cgan_agreement")
    must_fail(claims.control_claims(_report([0.95] * 9 + [0.7])), "cgan_every_class_at_bar")
    must_fail(claims.control_claims(_report([0.92] * 10)), "cgan_overshoots")  # every class like real (1.02x)


def test_versus_unconditional_claims(must_pass, must_fail):
    cgan, dcgan = _report([0.92] * 10, fid=12.0), {"fid": 14.0, "coverage": 10, "n": 10_000}
    must_pass(claims.versus_unconditional_claims(cgan, dcgan), "cgan_fid_vs_dcgan")
    must_pass(claims.versus_unconditional_claims(cgan, dcgan), "cgan_coverage")
    must_fail(claims.versus_unconditional_claims(_report([0.92] * 10, fid=15.0), dcgan), "cgan_fid_vs_dcgan")
    must_fail(claims.versus_unconditional_claims(cgan, dict(dcgan, coverage=9)), "cgan_coverage")


def test_style_claims(must_pass, must_fail):
    must_pass(claims.style_claims(torch.tensor([0.9] * 10)), "z_carries_style")
    must_fail(claims.style_claims(torch.tensor([0.9] * 9 + [0.3])), "z_carries_style")
