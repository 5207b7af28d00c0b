"""Lesson 4's claims: each PASSes on results where its sentence is true and FAILs on a doctored copy.

The seed tables here are built by hand in the shape ``experiments.seed_rows`` returns (one row per seed), with
numbers like the real runs'; ``tests/tools/test_claims.py`` runs the real experiments in quick mode."""

import copy

import pytest

from course_utils.lesson4 import collapse, experiments
from course_utils.lesson4.experiments import failure_name

DOMINANT = ["discriminator dominance", "mode collapse"]


def _row(modes=8, good=0.8, d_loss=0.6, d_fake=0.45, g_grad=3.0, health=(), motion=0.1, swing=0.02):
    return {"modes": modes, "good": good, "d_loss": d_loss, "d_fake": d_fake, "g_grad": g_grad,
            "norm_entropy": 0.9, "health": list(health), "motion": motion, "swing": swing}


def _seeds(**kw):
    return [_row(**kw) for _ in range(3)]


def _dominance():
    return {
        failure_name("dominance"): _seeds(modes=1, good=0.8, d_loss=0.19, d_fake=0.10, g_grad=3.2, health=DOMINANT),
        "+ non-saturating G loss": _seeds(modes=1, d_loss=0.19, d_fake=0.10, g_grad=27.0, health=DOMINANT),
        "+ lr_d 2e-4 (= lr_g)": _seeds(modes=1, good=0.2, d_loss=0.24, d_fake=0.17, health=["mode collapse"]),
        "+ instance noise 0.2": _seeds(modes=2, good=0.12, d_loss=0.49, d_fake=0.33),
        "+ dropout 0.5 in D": _seeds(modes=1, good=0.14, d_loss=0.63, d_fake=0.44),
        "+ spectral norm in D": _seeds(modes=0, good=0.1, d_loss=0.68, d_fake=0.49, g_grad=0.08),
        "+ 8 D steps per G step": _seeds(modes=1, good=0.94, d_loss=0.19, d_fake=0.105, health=DOMINANT),
    }


def _collapse():
    return {
        failure_name("collapse"): [_row(modes=5, health=["mode collapse"]), _row(modes=6, health=["mode collapse"]),
                                   _row(modes=8)],
        "+ spectral norm in D": _seeds(modes=0, good=0.05, d_loss=0.68, d_fake=0.49, health=["samples keep moving"]),
    }


def _oscillation():
    moving = ["samples keep moving"]
    return {
        failure_name("oscillation"): _seeds(motion=0.9, d_fake=0.4, health=moving),
        "+ beta1 0.5": _seeds(motion=0.1, good=0.8),
        "+ lr_g 5e-4 (D 10x faster)": _seeds(motion=0.6, d_fake=0.2, health=moving),
    }


DOMINANCE = ("dominance_diagnosed", "dominance_not_starved", "non_saturating_gradient", "more_d_steps_wrong_way",
             "weakening_rebalances", "rebalanced_not_learned")


def test_the_tables_pass(must_pass):
    for name in DOMINANCE:
        must_pass(experiments.dominance_claims(_dominance()), name)
    for name in ("collapse_losses_look_healthy", "spectral_norm_too_weak"):
        must_pass(experiments.collapse_claims(_collapse()), name)
    for name in ("oscillation_diagnosed", "beta1_settles", "slower_g_no_fix"):
        must_pass(experiments.oscillation_claims(_oscillation()), name)


def _doctor(table, setting, seed=1, **changes):
    table = copy.deepcopy(table)
    table[setting][seed].update(changes)
    return table


def test_doctored_dominance_tables_fail(must_fail):
    t, fail = _dominance(), failure_name("dominance")
    must_fail(experiments.dominance_claims(_doctor(t, fail, health=["mode collapse"])), "dominance_diagnosed")
    must_fail(experiments.dominance_claims(_doctor(t, fail, d_fake=0.03)), "dominance_not_starved")
    must_fail(experiments.dominance_claims(_doctor(t, "+ non-saturating G loss", g_grad=2.0)),
              "non_saturating_gradient")
    must_fail(experiments.dominance_claims(_doctor(t, "+ 8 D steps per G step", health=[])), "more_d_steps_wrong_way")
    must_fail(experiments.dominance_claims(_doctor(t, "+ dropout 0.5 in D", d_fake=0.09)), "weakening_rebalances")
    must_fail(experiments.dominance_claims(_doctor(t, "+ lr_d 2e-4 (= lr_g)", good=0.7)), "rebalanced_not_learned")


def test_doctored_collapse_tables_fail(must_fail):
    t, fail = _collapse(), failure_name("collapse")
    no_seed_collapses = copy.deepcopy(t)
    no_seed_collapses[fail] = _seeds(modes=8)
    must_fail(experiments.collapse_claims(no_seed_collapses), "collapse_losses_look_healthy")
    must_fail(experiments.collapse_claims(_doctor(t, fail, seed=2, health=["discriminator dominance"])),
              "collapse_losses_look_healthy")
    must_fail(experiments.collapse_claims(_doctor(t, "+ spectral norm in D", d_loss=0.55)), "spectral_norm_too_weak")
    must_fail(experiments.collapse_claims(_doctor(t, "+ spectral norm in D", good=0.6)), "spectral_norm_too_weak")


def test_doctored_oscillation_tables_fail(must_fail):
    t, fail = _oscillation(), failure_name("oscillation")
    must_fail(experiments.oscillation_claims(_doctor(t, fail, motion=0.2, health=[])), "oscillation_diagnosed")
    must_fail(experiments.oscillation_claims(_doctor(t, "+ beta1 0.5", motion=0.5)), "beta1_settles")
    must_fail(experiments.oscillation_claims(_doctor(t, "+ beta1 0.5", good=0.3)), "beta1_settles")
    must_fail(experiments.oscillation_claims(_doctor(t, "+ lr_g 5e-4 (D 10x faster)", motion=0.2)), "slower_g_no_fix")
    must_fail(experiments.oscillation_claims(_doctor(t, "+ lr_g 5e-4 (D 10x faster)", d_fake=0.5)), "slower_g_no_fix")


def _vanishing(first_sat=0.5, last_sat=0.01, first_ns=0.5, last_ns=2.0, last_fake=0.001):
    return [[{"step": 0, "saturating": first_sat, "non_saturating": first_ns, "d_fake": 0.5},
             {"step": 300, "saturating": last_sat, "non_saturating": last_ns, "d_fake": last_fake}]
            for _ in range(3)]


def test_vanishing_claims(must_pass, must_fail):
    for name in ("dominant_d", "saturating_vanishes", "non_saturating_restores"):
        must_pass(experiments.vanishing_claims(_vanishing()), name)
    must_fail(experiments.vanishing_claims(_vanishing(last_fake=0.05)), "dominant_d")
    must_fail(experiments.vanishing_claims(_vanishing(last_sat=0.2)), "saturating_vanishes")
    must_fail(experiments.vanishing_claims(_vanishing(last_ns=0.4)), "non_saturating_restores")


def _chase(coverage, d_logits):
    return [{"step": 100 * i, "coverage": c, "d_logit": d, "g_loss": float("nan") if i == 0 else -d}
            for i, (c, d) in enumerate(zip(coverage, d_logits))]


def _fashion(frozen_cov=(10, 9, 7, 6), learning_cov=(10, 10, 9, 10), frozen_logits=(-1.0, 0.5, 2.0, 3.0)):
    return {"D frozen, G keeps training": _chase(frozen_cov, frozen_logits),
            "D learning (alternating steps)": _chase(learning_cov, (-1.0, -0.8, -0.9, -1.1))}


def test_fashion_collapse_claims(must_pass, must_fail):
    for name in ("frozen_d_collapses", "learning_d_keeps_classes", "frozen_d_prefers_collapse"):
        must_pass(collapse.fashion_collapse_claims(_fashion()), name)
    must_fail(collapse.fashion_collapse_claims(_fashion(frozen_cov=(10, 9, 9, 8))), "frozen_d_collapses")
    must_fail(collapse.fashion_collapse_claims(_fashion(learning_cov=(10, 8, 9, 10))), "learning_d_keeps_classes")
    must_fail(collapse.fashion_collapse_claims(_fashion(frozen_logits=(1.0, 0.5, 0.2, -0.5))),
              "frozen_d_prefers_collapse")


@pytest.mark.parametrize("quick", [True])
def test_quick_mode_claims_need_a_full_run(quick):
    assert all(c.holds is None for c in experiments.dominance_claims(_dominance(), quick=quick))
