"""One diagnosis of the game's balance for lessons 3 and 4: every threshold, once, with its reason.

Lesson 3's convergence checklist and equilibrium verdict (:mod:`course_utils.lesson3.analysis`) and lesson 4's
health report (:mod:`course_utils.lesson4.diagnostics`) read these constants and these measurements, so they
agree on any history. All loss thresholds use the course's averaged BCE (chance = log 2 ~ 0.693).
"""

from __future__ import annotations

import math

import numpy as np

from ..kit.smoothing import LOG2, full_width_smooth

# Thresholds, each with the reason for its value.
D_DOMINANT_LOSS = 0.15  # mean D loss below this: D(x) ~ 0.86+ and D(G(z)) ~ 0.14- at once, D wins outright
DOMINANT_D_FAKE = 0.15  # mean D(G(z)) below this: D scores the fakes near 0 on average (at least 70% below 0.5)
CHANCE_MARGIN = 0.05  # a mean D loss this close to log 2 is chance: epoch means of a guessing D wobble by ~0.01-0.03
D_TOO_WEAK_LOSS = LOG2 + CHANCE_MARGIN  # mean D loss above chance (+ noise margin): D is worse than a coin flip
MAX_SWING = 0.10  # std of the smoothed D loss over the second half above this: the game keeps swinging
MAX_DRIFT = 0.10  # the smoothed D loss moving more than this across the recent window: not settled yet
NEAR_HALF = 0.10  # |D(x) - 0.5| and |D(G(z)) - 0.5| below this: near the ideal equilibrium
SWING_WIDTH = 100  # steps in the moving average that the swing is measured on (slow oscillation)
MAX_MOTION = 0.3  # mean move of the fixed-noise toy samples per epoch, second half: 0.3 = 15% of the ring's radius
VANISHING_SIGNAL = 0.05  # mean |dL_G/d logit| per fake below this: 10x below the ~0.5 of a balanced game
MAX_TREND = 0.05  # epoch-mean D loss moving more than this over the run's second half: one player is gaining.
#   Epoch means wobble by ~0.005 from one epoch to the next, so a steady 0.05 is a trend, not noise; it is half
#   of MAX_DRIFT because a slow slide over many epochs never shows inside one window (lesson 3's shipped run)
SWD_FLOOR_MULTIPLE = 10  # an SWD within 10x of two real sets' SWD (the metric's floor): a coarse bar that
#   colours and layout pass while texture still lags; the generators of lesson 5's records start far above it

# The bars the lessons' claims use (``course_utils.lessonN.claims``): each once, with its reason.
MOST = 0.5  # "most" in a claim's sentence: more than half (samples on a mode)
PILED_AT_BOUNDS = 0.25  # clipped weights within 1% of a bound: weights spread evenly over the box put ~1% there
DOMINANT_ALONE = 0.01  # D(G(z)) after D trains alone: below 0.01 D rejects 99% of the fakes, beyond any doubt
VANISHED = 0.1  # a gradient below a tenth of its value at the balanced start has vanished (lesson 4)
W1_TOLERANCE = 0.2  # a critic's estimate within 20% of W1: its slope is ~1 where the mass moves (lesson 5)
D_STAR_TOLERANCE = 0.1  # D within 0.1 of D* (1/3 or 1) at every mode centre: far inside the 0.67 between them
D_STAR_LOSS_TOLERANCE = 0.01  # D's loss within 0.01 of log 2 - JS: the optimum, not a nearby D
HALF_TOLERANCE = 0.05  # |D - 0.5| below this everywhere we look: D has nothing left to say (a perfect G)
CHANCE_LOSS_TOLERANCE = 0.005  # D's loss within this of log 2 against a perfect G
CLASSES_KEPT = 9  # covering 9 of 10 classes at every evaluation: at most one class below coverage's 2% rule
CLASSES_LOST = 3  # losing 3 classes is collapse, well beyond the one class that evaluation noise can drop
CLASS_SHARES = (0.05, 0.15)  # each class between half and 1.5x its fair 10% share of a generator's samples
OVERSHOOT = 1.10  # a class recognised 10% more often than real images of it: prototypical (lesson 6)
FAR_FROM_REAL = 10.0  # a class's FID this many times its real-vs-real floor (two real halves, same features): far off
AGREEMENT_BAR = 0.90  # overall: at least 90% of a conditional G's samples land in the requested class
RELATIVE_BAR = 0.90  # per class: at least 90% of what the classifier achieves on real images of that class
STYLE_RATIO = 0.5  # within-class spread at least half of the real class's: z still varies the image
RESCORE_TOLERANCE = 0.05  # a file scored again within 5% of its record: the same generator, the same metric
EMA_FID_BAR = 20.0  # lesson 3's long EMA run: FID 20 is well past the 50-epoch raw G's ~25 (its record)
ON_SHELL = 0.9  # "stays on / leaves the shell": 90% of midpoints; prior samples fall in its 1-99% band 98% of the time
FLIP_BAR = 0.5  # an edit "flips" the class when more than half of the source samples land in the target class
RANDOM_FLIP = 0.1  # a random direction of the same length sends at most 10% there: chance, not control (lesson 7)
STEER_GAP = 0.05  # optimised classifier minus judge, on the same steered images: 5 of 100 images, beyond the
#   0-2 points the two differ by on the same unsteered samples (both score the target class at chance there)
INVERSION_GAIN = 2.0  # inversion at least halves the pixel error of the nearest of 1,000-2,000 random samples
AVOID_CUT = 0.5  # an orthogonalised edit "avoids" a class when it sends at most half as many samples there


def default_window(history: dict) -> int:
    """The recent window: the last epoch, at least 100 and at most all steps."""
    n = len(history["d_loss"])
    return int(min(n, max(100, history.get("steps_per_epoch") or 0)))


def recent(history: dict, key: str, window: int | None = None) -> float:
    """Mean of ``history[key]`` over the recent window (NaN entries, e.g. skipped D steps, ignored)."""
    window = window or default_window(history)
    x = np.asarray(history[key][-window:], dtype=np.float64)
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else float("nan")


def swing(history: dict) -> float:
    """Std of the smoothed D loss over the second half of the run (slow oscillation)."""
    values = history["d_loss"][len(history["d_loss"]) // 2:]
    s = full_width_smooth(values, SWING_WIDTH)
    return float(s.std()) if len(s) > 1 else 0.0


def drift(history: dict, window: int | None = None) -> float:
    """How far the smoothed D loss moved across the recent window (last minus first full-width average)."""
    window = window or default_window(history)
    s = full_width_smooth(history["d_loss"][-window:], max(5, window // 10))
    return float(s[-1] - s[0]) if len(s) > 1 else 0.0


def epoch_means(history: dict, key: str) -> list[float]:
    """Mean of ``history[key]`` per whole epoch (NaN entries ignored; empty without ``steps_per_epoch``)."""
    steps = int(history.get("steps_per_epoch") or 0)
    values = np.asarray(history[key], dtype=np.float64)
    out = []
    for e in range(len(values) // steps if steps else 0):
        x = values[e * steps:(e + 1) * steps]
        x = x[np.isfinite(x)]
        out.append(float(x.mean()) if x.size else float("nan"))
    return out


def trend(history: dict, key: str = "d_loss") -> float:
    """How far the epoch means of ``history[key]`` moved over the run's second half (a least-squares line's
    rise across it; NaN with fewer than 4 epochs). Reads the whole run, not one window: a slow slide of a few
    thousandths per epoch adds up here while :func:`drift` never sees it."""
    means = epoch_means(history, key)
    half = means[len(means) // 2:]
    if len(means) < 4 or not all(np.isfinite(half)):
        return float("nan")
    x = np.arange(len(half), dtype=np.float64)
    slope = np.polyfit(x, np.asarray(half), 1)[0]
    return float(slope * (len(half) - 1))


def sample_motion(history: dict) -> float:
    """Mean distance the fixed-noise samples move from one epoch to the next, over the second half (lesson 4).

    A settled G maps the same ``z`` to (nearly) the same point epoch after epoch; an oscillating one keeps
    carrying its samples around. NaN when the history has fewer than 3 snapshots of 2-D points.
    """
    snaps = [s["images"] for s in history.get("samples", []) if getattr(s["images"], "dim", lambda: 0)() == 2]
    if len(snaps) < 3:
        return float("nan")
    epochs = [s["epoch"] for s in history["samples"] if getattr(s["images"], "dim", lambda: 0)() == 2]
    half = len(snaps) // 2
    moves = [float((snaps[i].float() - snaps[i - 1].float()).norm(dim=1).mean()) / max(1, epochs[i] - epochs[i - 1])
             for i in range(half, len(snaps))]  # per epoch, also when snapshots are several epochs apart
    return sum(moves) / len(moves)


def smoothing_floor(label_smoothing: float) -> float:
    """The lowest possible averaged D loss with one-sided smoothing: H(1 - s) / 2 (0 without)."""
    s = float(label_smoothing)
    return 0.0 if s <= 0 else -((1 - s) * math.log(1 - s) + s * math.log(s)) / 2


def g_signal(d_fake: float, g_loss: str = "non_saturating") -> float:
    """The gradient G's loss sends into D's logit per fake, ``|dL_G/d logit|``, at ``D(G(z)) = d_fake``.

    Saturating loss ``log(1 - s)``: its derivative is ``-s``, so it vanishes as D rejects the fakes;
    non-saturating ``-log(s)``: ``-(1 - s)``, largest exactly then. Everything else G's gradient is made
    of (D's slope, G's own layers) multiplies this factor, so below :data:`VANISHING_SIGNAL` G is starved.
    """
    return float(d_fake) if g_loss == "saturating" else 1.0 - float(d_fake)


def balance(history: dict, window: int | None = None) -> dict:
    """The measurements every verdict is made from."""
    settings = history.get("settings") or {}
    floor = smoothing_floor(settings.get("label_smoothing") or 0.0)
    d_fake = recent(history, "d_fake", window)
    return {"d_loss": recent(history, "d_loss", window), "d_real": recent(history, "d_real", window),
            "d_fake": d_fake, "swing": swing(history), "drift": drift(history, window), "floor": floor,
            "g_signal": g_signal(d_fake, settings.get("g_loss") or "non_saturating")}


def balance_findings(m: dict) -> list[tuple[str, str]]:
    """``(label, evidence)`` for each failure of the balance that the measurements ``m`` show."""
    found = []
    if m["d_loss"] - m["floor"] < D_DOMINANT_LOSS or m["d_fake"] < DOMINANT_D_FAKE:
        found.append(("discriminator dominance", f"D(G(z)) {m['d_fake']:.2f} (dominant below {DOMINANT_D_FAKE}) "
                      f"or D loss {m['d_loss']:.3f} (dominant below {m['floor'] + D_DOMINANT_LOSS:.2f})"))
    elif m["d_loss"] - m["floor"] > D_TOO_WEAK_LOSS:
        found.append(("discriminator too weak", f"D loss {m['d_loss']:.3f} above chance {LOG2:.3f}: D no longer "
                      "separates real from fake, so G learns nothing useful"))
    if m.get("g_signal", 1.0) < VANISHING_SIGNAL:
        found.append(("vanishing gradient", f"G's loss passes {m['g_signal']:.3f} per fake into D's logit "
                      f"(starved below {VANISHING_SIGNAL}, a balanced game gives ~0.5): use the non-saturating loss"))
    if m["swing"] > MAX_SWING:
        found.append(("oscillation", f"the smoothed D loss swings with std {m['swing']:.3f} over the second "
                      f"half (> {MAX_SWING}): the game does not settle"))
    if abs(m["drift"]) > MAX_DRIFT:
        found.append(("not settled", f"the smoothed D loss moved {m['drift']:+.3f} across the recent window "
                      f"(|.| > {MAX_DRIFT}): the balance is still changing"))
    return found
