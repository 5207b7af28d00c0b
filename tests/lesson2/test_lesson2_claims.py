"""Lesson 2's claims: each PASSes on a run where its sentence is true and FAILs on a doctored one."""

import torch

from course_utils.lesson2 import claims, reference


def test_chance_is_log2_fails_for_a_summed_loss(monkeypatch, must_pass, must_fail):
    must_pass(claims.lesson2_chance(), "chance_is_log2")
    import torch.nn.functional as F

    def summed(real_logits, fake_logits):  # the sum of the two BCE terms: chance would be 2 log 2
        return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))

    monkeypatch.setattr(reference, "discriminator_loss", summed)
    must_fail(claims.lesson2_chance(), "chance_is_log2")


def _run(d_centres, d_star_centres, d_loss, d_star_loss):
    return {"d_at_centers": torch.tensor(d_centres), "d_star_at_centers": torch.tensor(d_star_centres),
            "d_loss": d_loss, "d_star_loss": d_star_loss}


STAR = [1 / 3] * 4 + [1.0] * 4
LOG2 = 0.6931471805599453


def _good():
    collapsed = [_run([0.34] * 4 + [0.98] * 4, STAR, 0.477, 0.4735) for _ in range(3)]
    perfect = [_run([0.5] * 8, [0.5] * 8, LOG2 + 0.001, LOG2) for _ in range(3)]
    return collapsed, perfect


def test_optimal_d_claims_pass_on_a_d_that_is_d_star(must_pass):
    found = claims.optimal_d_claims(*_good())
    for name in ("d_star_matches", "d_star_loss", "perfect_g_chance"):
        must_pass(found, name)


def test_a_d_that_misses_d_star_on_one_seed_fails(must_fail):
    collapsed, perfect = _good()
    collapsed[2] = _run([0.5] * 8, STAR, 0.477, 0.4735)  # one seed: D says 0.5 on the missing modes
    must_fail(claims.optimal_d_claims(collapsed, perfect), "d_star_matches")


def test_a_loss_away_from_log2_minus_js_fails(must_fail):
    collapsed, perfect = _good()
    collapsed[1] = _run([0.34] * 4 + [0.98] * 4, STAR, 0.52, 0.4735)
    must_fail(claims.optimal_d_claims(collapsed, perfect), "d_star_loss")


def test_a_d_not_at_half_against_a_perfect_g_fails(must_fail):
    collapsed, perfect = _good()
    perfect[0] = _run([0.5] * 7 + [0.7], [0.5] * 8, LOG2, LOG2)  # 0.7 at one centre
    must_fail(claims.optimal_d_claims(collapsed, perfect), "perfect_g_chance")
    perfect[0] = _run([0.5] * 8, [0.5] * 8, LOG2 - 0.02, LOG2)  # at 0.5 but its loss is not log 2
    must_fail(claims.optimal_d_claims(collapsed, perfect), "perfect_g_chance")
