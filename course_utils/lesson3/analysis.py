"""Reading a GAN's training history (lesson 3): statistics, convergence, checklist, equilibrium.

All thresholds assume the course's loss convention, the **averaged** BCE discriminator loss
``(BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2``: a discriminator at chance scores log 2 ~ 0.693.
Losses describe the *game*, not the *images*: a checklist that passes says the two networks are
balanced and stable; whether the samples are good is for the samples (and a metric) to say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kit.smoothing import LOG2, full_width_smooth, smooth  # noqa: F401 - re-exported
from ..measure.verdicts import (  # noqa: F401 - re-exported
    D_DOMINANT_LOSS,
    D_TOO_WEAK_LOSS,
    DOMINANT_D_FAKE,
    MAX_DRIFT,
    MAX_SWING,
    MAX_TREND,
    NEAR_HALF,
    VANISHING_SIGNAL,
    balance,
    balance_findings,
    default_window,
    trend,
)

# Thresholds and the measurements behind every verdict live in one place, shared with lesson 4's
# health report: see course_utils.measure.verdicts. The old names stay for code that imported them.
D_FAILING_LOSS = D_TOO_WEAK_LOSS
MIN_D_FAKE = DOMINANT_D_FAKE
MAX_SMOOTHED_STD = MAX_SWING


def loss_statistics(losses) -> dict:
    """Initial, final, min, max, mean and (population) std of a list of per-batch losses."""
    x = np.asarray(losses, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty 1-D list of losses, got shape {x.shape}")
    return {"initial": float(x[0]), "final": float(x[-1]), "min": float(x.min()),
            "max": float(x.max()), "mean": float(x.mean()), "std": float(x.std())}


def print_loss_statistics(history: dict) -> None:
    """Print :func:`loss_statistics` for D and G side by side."""
    d, g = loss_statistics(history["d_loss"]), loss_statistics(history["g_loss"])
    print(f"{'':8}{'D loss':>10}{'G loss':>10}")
    for k in d:
        print(f"{k:8}{d[k]:10.4f}{g[k]:10.4f}")
    print(f"(averaged BCE; chance level log 2 = {LOG2:.4f})")


def _describe(values, window: int) -> dict:
    x = np.asarray(values[-window:], dtype=np.float64)
    s = full_width_smooth(x, max(5, window // 10))  # no value rests on one raw batch
    return {"mean": float(x.mean()), "std": float(x.std()), "smoothed_std": float(s.std()),
            "drift": float(s[-1] - s[0])}


def convergence_analysis(history: dict, window: int | None = None, verbose: bool = True) -> dict:
    """Mean, std, smoothed std and drift of the losses and D outputs over the recent window."""
    window = window or default_window(history)
    out = {k: _describe(history[k], window) for k in ("d_loss", "g_loss", "d_real", "d_fake")}
    out["window"] = window
    if verbose:
        print(f"Recent window: last {window} steps")
        for k in ("d_loss", "g_loss", "d_real", "d_fake"):
            r = out[k]
            print(f"  {k:7} mean {r['mean']:.3f}  std {r['std']:.3f}  smoothed std "
                  f"{r['smoothed_std']:.3f}  drift {r['drift']:+.3f}")
    return out


@dataclass
class Check:
    name: str
    passed: bool
    evidence: str

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.evidence}"


def convergence_checklist(history: dict, window: int | None = None, verbose: bool = True) -> list[Check]:
    """Six checks, each with the number that decided it (lesson 3); the same measurements and
    thresholds as lesson 4's health report (:mod:`course_utils.measure.verdicts`)."""
    window = window or default_window(history)
    m = balance(history, window)
    d_loss = m["d_loss"] - m["floor"]
    checks = [
        Check("D is not dominant", d_loss >= D_DOMINANT_LOSS,
              f"mean D loss {m['d_loss']:.3f} (needs >= {m['floor'] + D_DOMINANT_LOSS:.2f}; chance {LOG2:.3f})"),
        Check("D is not worse than chance (within 0.05)", d_loss <= D_TOO_WEAK_LOSS,
              f"mean D loss {m['d_loss']:.3f} (needs <= {m['floor'] + D_TOO_WEAK_LOSS:.3f})"),
        Check("D's mean score on fakes is not near 0", m["d_fake"] >= DOMINANT_D_FAKE,
              f"mean D(G(z)) {m['d_fake']:.3f} (needs >= {DOMINANT_D_FAKE})"),
        Check("no slow oscillation", m["swing"] <= MAX_SWING,
              f"std of the smoothed D loss over the second half {m['swing']:.3f} (needs <= {MAX_SWING})"),
        Check("no drift", abs(m["drift"]) <= MAX_DRIFT,
              f"smoothed D loss moved {m['drift']:+.3f} across the window (needs |.| <= {MAX_DRIFT})"),
        Check("G still gets a learning signal", m["g_signal"] >= VANISHING_SIGNAL,
              f"G's loss pushes each fake's logit with strength {m['g_signal']:.3f} (needs >= {VANISHING_SIGNAL})"),
    ]
    if verbose:
        print(f"Convergence checklist (last {window} steps, averaged BCE):")
        for c in checks:
            print("  " + str(c))
        print(f"  {sum(c.passed for c in checks)}/{len(checks)} passed. These describe the balance of "
              "the game, not image quality: look at the samples and the metric for that.")
    return checks


VERDICT = {"discriminator dominance": "d_dominant", "vanishing gradient": "d_dominant",
           "discriminator too weak": "d_failing",
           "oscillation": "oscillating", "not settled": "oscillating"}
"""Lesson 4's balance labels -> lesson 3's verdict names (the same findings, two vocabularies)."""


def assess_equilibrium(history: dict, window: int | None = None, verbose: bool = True) -> dict:
    """Name the state of the game: d_dominant, d_failing, oscillating, d_gaining, g_gaining, balanced or
    near_equilibrium (lesson 3). The first three read the last window; ``d_gaining``/``g_gaining`` read the whole
    run's second half (:func:`course_utils.measure.verdicts.trend`, epoch means), which one window cannot see.

    Decided by the same findings as lesson 4's health report (:func:`course_utils.measure.verdicts.balance_findings`).
    """
    m = balance(history, window)
    labels = [label for label, _ in balance_findings(m)]
    d_real, d_fake = m["d_real"], m["d_fake"]
    moved = trend(history)  # the whole run's second half, epoch means (NaN for short runs)
    facts = f"D(x) {d_real:.2f}, D(G(z)) {d_fake:.2f}, D loss {m['d_loss']:.3f}"
    if np.isfinite(moved):
        facts += f"; over the second half the epoch-mean D loss moved {moved:+.3f}"
    if "discriminator dominance" in labels or "vanishing gradient" in labels:
        verdict, text = "d_dominant", ("D DOMINATES: it separates real from fake almost perfectly, so G "
                                       "learns only to fool a D that rejects everything (lesson 4 shows what "
                                       "follows). Lesson 4 measures which remedies "
                                       "help: a lower lr for D (equal to G's) and instance noise did.")
    elif "discriminator too weak" in labels:
        verdict, text = "d_failing", "D IS AT OR BELOW CHANCE: it no longer tells real from fake; G is ahead."
    elif labels:
        verdict, text = "oscillating", "NOT CONVERGED: the smoothed losses still swing or drift."
    elif moved < -MAX_TREND:
        verdict, text = "d_gaining", (f"BALANCED NOW, BUT D IS PULLING AHEAD: every check of the last window "
                                      f"passes, yet over the run's second half D's loss fell by {-moved:.2f} "
                                      f"(more than {MAX_TREND}): D is slowly winning, and a longer run may end "
                                      "with D dominant.")
    elif moved > MAX_TREND:
        verdict, text = "g_gaining", (f"BALANCED NOW, G CATCHING UP: every check of the last window passes, "
                                      f"and over the run's second half D's loss rose by {moved:.2f} towards "
                                      "chance: the game has not settled yet.")
    elif abs(d_real - 0.5) < NEAR_HALF and abs(d_fake - 0.5) < NEAR_HALF:
        verdict, text = "near_equilibrium", ("NEAR EQUILIBRIUM: D outputs close to 0.5 on real and fake "
                                             "alike, both losses near log 2.")
    elif d_real <= d_fake:
        verdict, text = "d_failing", ("D IS NOT AHEAD: it rates the fakes at least as real as the real "
                                      "images.")
    else:
        verdict, text = "balanced", ("BALANCED, NOT AT EQUILIBRIUM: D stays ahead (D(x) > D(G(z))), G keeps "
                                     "getting gradient, and neither the last window nor the run's second half "
                                     "shows the balance moving. This is the usual healthy state; the ideal "
                                     "equilibrium (D = 0.5 everywhere, both losses at log 2) is rarely reached "
                                     "in practice.")
    if verbose:
        print(f"{text}\n  evidence: {facts}")
    return {"verdict": verdict, "message": text, "d_real": d_real, "d_fake": d_fake, "d_loss": m["d_loss"],
            "trend": moved}
