"""Claims as code: the registry re-checks every lesson's claims; a broken threshold or fix makes a named claim FAIL."""

import copy
import math
import re
import subprocess
import sys

import pytest
import torch

from course_utils.kit.checkpoints import load_history
from course_utils.lesson2 import claims as lesson2_claims
from course_utils.lesson2 import theory
from course_utils.lesson2.ring import ring_loader, toy_models
from course_utils.lesson3 import claims as lesson3_claims
from course_utils.lesson4 import experiments
from course_utils.lesson4.checks import check_diagnose
from course_utils.lesson4.diagnostics import RECORDED, diagnose
from course_utils.lesson4.stability import smoothed_d_loss, train_stable_gan
from course_utils.lesson5 import theory as theory5
from course_utils.measure import claims, verdicts
from course_utils.tools import claims as claims_command


def _status(found, name):
    matches = [c for c in found if c.name == name]
    assert matches, f"no claim named {name}: {[c.name for c in found]}"
    return matches[0].status


@pytest.fixture(scope="module")
def recorded():
    return {label: load_history(name) for label, name in RECORDED.items()}


def _table(recorded, failure, label):
    return {experiments.failure_name(failure): experiments.seed_rows([recorded[label]])}


def test_quick_registry_passes_every_lesson():
    """What the test suite runs in CI: every lesson's quick claims, exit status 0."""
    out = subprocess.run([sys.executable, "-m", "course_utils.claims", "--quick"], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    for lesson in (1, 2, 3, 4, 5, 6, 7):
        assert f"== lesson {lesson}" in out.stdout
    assert not re.search(r"^ FAIL  ", out.stdout, re.M) and re.search(r"^ PASS  ", out.stdout, re.M)
    assert ", 0 FAIL," in out.stdout
    assert "needs full run" in out.stdout  # lesson 4's toy groups are listed, not faked
    assert "claims on " in out.stdout  # the machine is named


def test_a_broken_fix_makes_the_named_claim_fail(monkeypatch, capsys):
    """If the saturating loss were the non-saturating one, the vanishing-gradient claim must FAIL."""
    real = experiments.stable_g_loss
    monkeypatch.setattr(experiments, "stable_g_loss", lambda logits, kind="non_saturating": real(logits))
    found = experiments.lesson4_claims(quick=True, seeds=(0,))
    assert _status(found, "saturating_vanishes") == claims.FAIL
    assert _status(found, "dominant_d") == claims.PASS
    assert "FAIL" in capsys.readouterr().out


def test_main_exits_non_zero_and_names_the_failing_claim(monkeypatch, capsys):
    monkeypatch.setattr(theory, "optimal_d", lambda x, w_data, w_g, std=0.05: torch.full((len(x),), 0.5))
    monkeypatch.setattr(lesson2_claims, "lesson2", lambda quick=False: lesson2_claims.optimal_d_claims(
        [theory.train_d_against(torch.tensor([0.25] * 4 + [0.0] * 4), steps=300)],
        [theory.train_d_against(torch.full((8,), 1 / 8), steps=300)]))
    monkeypatch.setitem(claims_command.PROVIDERS, 2, lesson2_claims.lesson2)
    assert claims_command.main(["--lesson", "2"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"d_star_matches\s+FAIL", out) and re.search(r"d_star_loss\s+PASS", out)


def test_a_broken_threshold_makes_the_named_claim_fail(recorded, monkeypatch):
    table = _table(recorded, "dominance", "dominance")
    assert _status(experiments.dominance_claims(table), "dominance_diagnosed") == claims.PASS
    monkeypatch.setattr(verdicts, "DOMINANT_D_FAKE", 0.01)  # a threshold no dominated run reaches
    monkeypatch.setattr(verdicts, "D_DOMINANT_LOSS", 0.0)
    assert _status(experiments.dominance_claims(_table(recorded, "dominance", "dominance")),
                   "dominance_diagnosed") == claims.FAIL


def test_recorded_failures_are_diagnosed_by_their_claims(recorded):
    assert _status(experiments.collapse_claims(_table(recorded, "collapse", "mode collapse")),
                   "collapse_losses_look_healthy") == claims.PASS
    assert _status(experiments.oscillation_claims(_table(recorded, "oscillation", "oscillation")),
                   "oscillation_diagnosed") == claims.PASS
    # a dominated run is no "healthy-looking" run: the claim must not hold for it
    assert _status(experiments.collapse_claims(_table(recorded, "collapse", "dominance")),
                   "collapse_losses_look_healthy") == claims.FAIL


def test_quick_mode_lists_full_run_claims_without_faking_them(recorded):
    table = _table(recorded, "dominance", "dominance")
    found = experiments.dominance_claims(table, quick=True)
    assert [c.status for c in found] == [claims.NEEDS_FULL]
    short = dict(recorded["healthy"], metrics=recorded["healthy"]["metrics"][:1])
    assert lesson3_claims.losses_vs_quality_claims(short)[0].status == claims.NEEDS_FULL


def test_spread_and_on_every_seed():
    assert claims.spread([0.1, 0.3, 0.2]) == "0.2 [0.1-0.3]"
    assert claims.spread([3, 5, 8]) == "5 [3-8]"
    assert claims.on_every_seed([True, True, False]) == (False, "2/3 seeds")
    assert claims.on_every_seed([]) == (False, "0/0 seeds")


def test_unknown_lesson_is_a_clear_error(capsys):
    assert claims_command.main(["--lesson", "9"]) == 2
    assert "no claims registered for lesson 9" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the theory numbers


def test_optimal_discriminator_formula_on_the_ring():
    centers = theory.ring_centers()
    d = theory.optimal_d(centers, torch.full((8,), 1 / 8), torch.tensor([0.25] * 4 + [0.0] * 4))
    assert torch.allclose(d[:4], torch.full((4,), 1 / 3, dtype=d.dtype), atol=1e-6)
    assert torch.allclose(d[4:], torch.ones(4, dtype=d.dtype), atol=1e-6)
    js = theory.js_divergence_modes(torch.full((8,), 1 / 8), torch.tensor([0.25] * 4 + [0.0] * 4))
    assert js == pytest.approx(0.75 * math.log(4 / 3), rel=1e-9)


def test_js_saturates_and_w1_grows():
    js_half, w1_half = theory5.uniform_js_w1(0.5)
    assert js_half == pytest.approx(0.5 * math.log(2), abs=1e-3) and w1_half == pytest.approx(0.5, abs=1e-2)
    for shift in (1.5, 6.0):
        js, w1 = theory5.uniform_js_w1(shift)
        assert js == pytest.approx(math.log(2), abs=1e-9) and w1 == pytest.approx(shift, abs=1e-2)


def test_critic_mode_is_checked():
    with pytest.raises(ValueError, match="'clip' or 'gp'"):
        theory5.train_critic(1.0, "spectral")


# ----------------------------------------------------------------------------- student hooks and the diagnosis


def _toy_run(**kw):
    G, D = toy_models(seed=0)
    return train_stable_gan(G, D, ring_loader(n=1024, seed=0), 2, "cpu", seed=0, verbose=False, **kw)


def test_student_hooks_drive_the_run():
    base = _toy_run(label_smoothing=0.1, instance_noise=0.1)
    same = _toy_run(label_smoothing=0.1, instance_noise=0.1, d_loss_fn=smoothed_d_loss)
    assert same["d_loss"] == base["d_loss"]  # the reference as a hook changes nothing

    def two_sided(real_logits, fake_logits, s):  # the classic mistake: smoothing the fakes too
        t = torch.full_like(fake_logits, s)
        return (torch.nn.functional.binary_cross_entropy_with_logits(real_logits, 1 - t)
                + torch.nn.functional.binary_cross_entropy_with_logits(fake_logits, t)) / 2

    wrong = _toy_run(label_smoothing=0.1, instance_noise=0.1, d_loss_fn=two_sided)
    assert wrong["d_loss"] != base["d_loss"]
    calls = []

    def noise(real, fake, std):
        calls.append(std)
        return real, fake  # no noise at all: the run changes

    quiet = _toy_run(label_smoothing=0.1, instance_noise=0.1, noise_fn=noise)
    assert calls and set(calls) == {0.1} and quiet["d_loss"] != base["d_loss"]


def test_a_hook_returning_a_non_scalar_is_named():
    with pytest.raises(TypeError, match="d_loss_fn returned a tensor of shape"):
        _toy_run(d_loss_fn=lambda r, f, s: torch.cat([r, f]))


def test_diagnose_reference_passes_and_mistakes_are_named(recorded):
    assert check_diagnose(diagnose).passed
    for label, history in recorded.items():
        assert diagnose(history)[0] == label

    def modes_first(history):
        last = history["metrics"][-1]
        if last["modes"] < 8:
            return "mode collapse", f"{last['modes']} modes"
        return diagnose(history)

    report = check_diagnose(modes_first)
    assert not report.passed
    assert any("check the balance" in m for m in report.failures)
    report = check_diagnose(lambda h: ("dominance", "D won"))
    assert any("has no number" in m for m in report.failures)


def test_vanishing_gradient_is_one_verdict_for_both_lessons(recorded):
    from course_utils.lesson3.analysis import assess_equilibrium, convergence_checklist
    from course_utils.lesson4.diagnostics import health_report

    h = copy.deepcopy(recorded["dominance"])
    h["d_fake"] = [0.01] * len(h["d_fake"])  # saturating loss, D(G(z)) 0.01: 0.01 per fake reaches G
    assert "vanishing gradient" in health_report(h).failures
    checks = {c.name: c.passed for c in convergence_checklist(h, verbose=False)}
    assert checks["G still gets a learning signal"] is False
    assert assess_equilibrium(h, verbose=False)["verdict"] == "d_dominant"
    h["settings"] = dict(h["settings"], g_loss="non_saturating")  # the same D(G(z)) passes 0.99 per fake
    assert "vanishing gradient" not in health_report(h).failures


def _levers(raw50, ema50, finals):
    runs = [{"seed": s, "epochs": 50, "fid": [{"epoch": 50, "raw": r, "ema999_bn": e}]}
            for s, (r, e) in enumerate(zip(raw50, ema50))]
    runs += [{"seed": s, "epochs": 150, "fid": [{"epoch": 125, "raw": 25.0, "ema999_bn": 24.0}],
              "final_ema999_bn": {"fid": f}} for s, f in enumerate(finals)]
    return {"gpu_runs": runs}


def test_ema_claims_hold_only_when_the_record_and_the_measurement_say_so():
    from course_utils.lesson3.claims import ema_claims

    good = ema_claims(_levers([24.5, 27.5], [23.4, 26.0], [18.4, 21.3]), ema_fid=18.4)
    assert [c.holds for c in good] == [True, True]
    assert "1 of 2" in good[1].evidence  # the seed that missed the bar is said, not hidden
    one_seed_worse = ema_claims(_levers([24.5, 25.0], [23.4, 26.0], [18.4]), ema_fid=18.4)
    assert one_seed_worse[0].holds is False and "1/2 seeds" in one_seed_worse[0].statement
    assert ema_claims(_levers([24.5], [23.4], [18.4]), ema_fid=20.5)[1].holds is False


# ----------------------------------------------------------------------------- every claim can fail

FALSIFIED = re.compile(r"""must_fail\(.{0,300}?,\s*["']([a-z0-9_]+)["']\s*\)""", re.S)


def _falsified_names():
    from pathlib import Path

    tests = Path(__file__).resolve().parents[1]
    return {name for path in tests.rglob("*.py") for name in FALSIFIED.findall(path.read_text(encoding="utf-8"))}


def test_every_claim_has_a_falsification_test():
    stated = claims_command.stated_claims()
    assert len(stated) >= 40  # the reader finds the lessons' claims
    missing = stated - _falsified_names()
    assert not missing, (f"claims with no test that makes them FAIL on a doctored input: {sorted(missing)}; "
                         "add one that calls must_fail(claims, \"<name>\")")


def test_the_falsification_reader_sees_a_missing_test(tmp_path):
    found = FALSIFIED.findall('must_fail(experiments.collapse_claims(_doctor(t, "+ x", d_loss=0.55)),\n'
                              '          "spectral_norm_too_weak")\nmust_pass(found, "balanced")')
    assert found == ["spectral_norm_too_weak"]


# ----------------------------------------------------------------------------- the docs cite claims

def test_every_claim_the_docs_cite_is_stated():
    assert claims_command.citation_problems() == []


def test_a_cited_claim_that_is_unknown_or_fails_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("D pulls ahead (claim `d_pulls_ahead`); lost (claim `no_such_claim`).\n")
    problems = claims_command.citation_problems(root=tmp_path)
    assert problems == ["README.md:1: cites claim `no_such_claim`, which no lesson states"]
    failing = [claims.Claim("d_pulls_ahead", "...", False, lesson=3)]
    problems = claims_command.citation_problems(failing, root=tmp_path)
    assert "README.md:1: cites claim `d_pulls_ahead`, which FAILs on this run" in problems
    unchecked = [claims.Claim("balanced", "...", True, lesson=3)]  # lesson 3 ran, d_pulls_ahead was not checked
    assert any("did not check" in p for p in claims_command.citation_problems(unchecked, root=tmp_path))
    assert not any("did not check" in p for p in claims_command.citation_problems(unchecked, root=tmp_path,
                                                                                  quick=True))  # a full-run claim


def test_statements_checked_counts_each_printed_claim_once_with_its_last_result(capsys):
    from course_utils import statements_checked
    from course_utils.measure import claims as toolkit

    saved = dict(toolkit._SHOWN)
    toolkit._SHOWN.clear()
    try:
        toolkit.claim("one", "a sentence", False)
        toolkit.claim("two", "another", None)
        toolkit.claim("one", "a sentence", True)  # the cell run again: its last result counts
        toolkit.claim("one", "the same claim of another run", False)  # another sentence: counted on its own
        toolkit.claim("hidden", "not printed", False, show=False)
        assert statements_checked() is None  # nothing for Jupyter to echo below the line
        shown = toolkit.shown_claims()
    finally:
        toolkit._SHOWN.clear()
        toolkit._SHOWN.update(saved)
    assert [c.name for c in shown] == ["one", "two", "one"] and [c.holds for c in shown] == [True, None, False]
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "3 statements in this lesson checked on this run: 1 PASS, 1 FAIL, 1 need a full run"
