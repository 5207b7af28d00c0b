import numpy as np
import pytest

from course_utils import assess_equilibrium, convergence_analysis, convergence_checklist, loss_statistics, smooth


def trace(d_loss, d_real, d_fake, steps_per_epoch=500):
    n = len(d_loss)
    return {"d_loss": list(d_loss), "g_loss": list(np.full(n, 1.5)), "d_real": list(d_real),
            "d_fake": list(d_fake), "steps_per_epoch": steps_per_epoch}


def balanced(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return trace(0.55 + 0.05 * rng.standard_normal(n), 0.7 + 0.05 * rng.standard_normal(n),
                 0.3 + 0.05 * rng.standard_normal(n))


def d_dominant(n=3000):
    t = np.arange(n)
    return trace(0.6 * np.exp(-t / 300) + 0.02, 1 - 0.3 * np.exp(-t / 300), 0.3 * np.exp(-t / 300) + 0.005)


def oscillating(n=3000):
    t = np.arange(n)
    return trace(0.45 + 0.25 * np.sin(2 * np.pi * t / 400), 0.7 + 0.1 * np.sin(2 * np.pi * t / 400),
                 0.3 - 0.1 * np.sin(2 * np.pi * t / 400))


def test_loss_statistics_match_numpy():
    x = np.random.default_rng(1).random(1000)
    s = loss_statistics(list(x))
    assert s == pytest.approx({"initial": x[0], "final": x[-1], "min": x.min(), "max": x.max(),
                               "mean": x.mean(), "std": x.std()})
    with pytest.raises(ValueError):
        loss_statistics([])


def test_smooth_is_a_moving_average():
    x = np.arange(10.0)
    s = smooth(x, 3)
    assert s[0] == 0 and s[1] == 0.5 and s[5] == pytest.approx(np.mean(x[3:6]))


def verdicts(history):
    return {c.name: c.passed for c in convergence_checklist(history, verbose=False)}


def test_balanced_run_passes_everything():
    assert all(verdicts(balanced()).values())
    assert assess_equilibrium(balanced(), verbose=False)["verdict"] == "balanced"


def test_d_dominant_run_is_named():
    v = verdicts(d_dominant())
    assert not v["D is not dominant"] and not v["D's mean score on fakes is not near 0"]
    assert v["D is not worse than chance (within 0.05)"]
    assert assess_equilibrium(d_dominant(), verbose=False)["verdict"] == "d_dominant"


def test_oscillating_run_is_named():
    v = verdicts(oscillating())
    assert not v["no slow oscillation"] and v["D is not dominant"]
    assert assess_equilibrium(oscillating(), verbose=False)["verdict"] == "oscillating"


def test_d_failing_and_near_equilibrium():
    n = 2000
    failing = trace(np.full(n, 0.9), np.full(n, 0.45), np.full(n, 0.55))
    assert assess_equilibrium(failing, verbose=False)["verdict"] == "d_failing"
    near = trace(np.full(n, 0.69), np.full(n, 0.52), np.full(n, 0.48))
    assert assess_equilibrium(near, verbose=False)["verdict"] == "near_equilibrium"


def test_convergence_analysis_window_and_printout(capsys):
    a = convergence_analysis(balanced(), window=200)
    assert a["window"] == 200 and abs(a["d_loss"]["mean"] - 0.55) < 0.02
    out = capsys.readouterr().out
    assert "last 200 steps" in out and "d_loss" in out


def test_checklist_prints_evidence(capsys):
    convergence_checklist(d_dominant())
    out = capsys.readouterr().out
    assert "FAIL  D is not dominant: mean D loss 0.02" in out and "needs >= 0.15" in out
