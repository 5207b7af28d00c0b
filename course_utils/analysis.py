"""Reading a GAN's training history (lesson 3): statistics, convergence, checklist, equilibrium.

All thresholds assume the course's loss convention, the **averaged** BCE discriminator loss
``(BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2``: a discriminator at chance scores log 2 ~ 0.693.
Losses describe the *game*, not the *images*: a checklist that passes says the two networks are
balanced and stable; whether the samples are good is for the samples (and a metric) to say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOG2 = math.log(2.0)

# Thresholds, averaged-BCE convention (see module docstring). Each is printed with its verdict.
D_DOMINANT_LOSS = 0.15   # recent mean D loss below this: D wins too easily (D(x) ~ 0.86+, D(G(z)) ~ 0.14-)
D_FAILING_LOSS = LOG2 + 0.05  # above chance: D is worse than a coin flip, G is ahead
MIN_D_FAKE = 0.05        # mean D(G(z)) below this: D rejects (almost) every fake
MAX_SMOOTHED_STD = 0.08  # std of the smoothed D loss in the window: slow oscillation if larger
MAX_DRIFT = 0.10         # |change of the smoothed D loss across the window|: still moving if larger
NEAR_HALF = 0.10         # |D(x) - 0.5| and |D(G(z)) - 0.5| below this: near the ideal equilibrium


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


def smooth(values, width: int = 50) -> np.ndarray:
    """Moving average with a window of ``width`` steps (shorter at the start)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, x.size + 1)
    lo = np.maximum(0, idx - width)
    return (c[idx] - c[lo]) / (idx - lo)


def default_window(history: dict) -> int:
    """The recent window: the last epoch, at least 100 and at most all steps."""
    n = len(history["d_loss"])
    return int(min(n, max(100, history.get("steps_per_epoch") or 0)))


def _describe(values, window: int) -> dict:
    x = np.asarray(values[-window:], dtype=np.float64)
    width = min(len(x), max(5, window // 10))
    s = smooth(x, width)[width - 1:]  # full-width averages only: no value rests on one raw batch
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
    """Five checks on the recent window, each with the number that decided it."""
    a = convergence_analysis(history, window, verbose=False)
    d, d_fake = a["d_loss"], a["d_fake"]
    checks = [
        Check("D is not dominant", d["mean"] >= D_DOMINANT_LOSS,
              f"mean D loss {d['mean']:.3f} (needs >= {D_DOMINANT_LOSS}; chance {LOG2:.3f})"),
        Check("D is better than chance", d["mean"] <= D_FAILING_LOSS,
              f"mean D loss {d['mean']:.3f} (needs <= {D_FAILING_LOSS:.3f})"),
        Check("D does not reject every fake", d_fake["mean"] >= MIN_D_FAKE,
              f"mean D(G(z)) {d_fake['mean']:.3f} (needs >= {MIN_D_FAKE})"),
        Check("no slow oscillation", d["smoothed_std"] <= MAX_SMOOTHED_STD,
              f"std of smoothed D loss {d['smoothed_std']:.3f} (needs <= {MAX_SMOOTHED_STD})"),
        Check("no drift", abs(d["drift"]) <= MAX_DRIFT,
              f"smoothed D loss moved {d['drift']:+.3f} across the window (needs |.| <= {MAX_DRIFT})"),
    ]
    if verbose:
        print(f"Convergence checklist (last {a['window']} steps, averaged BCE):")
        for c in checks:
            print("  " + str(c))
        print(f"  {sum(c.passed for c in checks)}/{len(checks)} passed. These describe the balance of "
              "the game, not image quality: look at the samples and the metric for that.")
    return checks


def assess_equilibrium(history: dict, window: int | None = None, verbose: bool = True) -> dict:
    """Name the state of the game: d_dominant, d_failing, oscillating, balanced or near_equilibrium."""
    a = convergence_analysis(history, window, verbose=False)
    d, d_real, d_fake = a["d_loss"], a["d_real"]["mean"], a["d_fake"]["mean"]
    facts = f"D(x) {d_real:.2f}, D(G(z)) {d_fake:.2f}, D loss {d['mean']:.3f}"
    if d["mean"] < D_DOMINANT_LOSS or d_fake < MIN_D_FAKE:
        verdict, text = "d_dominant", ("D DOMINATES: it separates real from fake almost perfectly, so G "
                                       "learns only to fool a D that rejects everything (lesson 4 shows what "
                                       "follows). Weaken D: lower its lr, label smoothing, instance noise, "
                                       "dropout, train it less often.")
    elif d["mean"] > D_FAILING_LOSS:
        verdict, text = "d_failing", "D IS AT OR BELOW CHANCE: it no longer tells real from fake; G is ahead."
    elif d["smoothed_std"] > MAX_SMOOTHED_STD or abs(d["drift"]) > MAX_DRIFT:
        verdict, text = "oscillating", "NOT CONVERGED: the smoothed losses still swing or drift."
    elif abs(d_real - 0.5) < NEAR_HALF and abs(d_fake - 0.5) < NEAR_HALF:
        verdict, text = "near_equilibrium", ("NEAR EQUILIBRIUM: D outputs close to 0.5 on real and fake "
                                             "alike, both losses near log 2.")
    else:
        verdict, text = "balanced", ("BALANCED, NOT AT EQUILIBRIUM: D stays ahead (D(x) > D(G(z))) but "
                                     "G keeps getting gradient and the losses are stable. This is the "
                                     "usual healthy state; the ideal equilibrium (D = 0.5 everywhere, both "
                                     "losses at log 2) is rarely reached in practice.")
    if verbose:
        print(f"{text}\n  evidence: {facts}")
    return {"verdict": verdict, "message": text, "d_real": d_real, "d_fake": d_fake, "d_loss": d["mean"]}
