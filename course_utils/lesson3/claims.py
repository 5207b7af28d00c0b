"""What lesson 3 claims about its runs, computed. The notebook calls these where it makes a claim;
``python -m course_utils.claims --lesson 3`` re-checks them through ``lesson3`` (the provider).

Each function returns a list of :class:`~course_utils.measure.claims.Claim` and prints one ``PASS``/``FAIL``
line per claim. A claim about a run takes the run as its argument, so the notebook's statement is about the run
it just made; the provider makes the same runs, or reads the shipped records (:mod:`course_utils.measure.records`).
"""

from __future__ import annotations

from ..measure.claims import claim, needs_full_run, on_every_seed, spread
from ..measure.records import load_record
from ..measure.verdicts import CLASS_SHARES, CLASSES_KEPT, EMA_FID_BAR
from .timing import LESSON3

# ----------------------------------------------------------------------------- lesson 3

def _epoch_mean(history: dict, key: str, epoch: int) -> float:
    steps = history["steps_per_epoch"]
    values = history[key][(epoch - 1) * steps:epoch * steps]
    return sum(values) / len(values)


def losses_vs_quality_claims(history: dict, shipped: bool = False) -> list:
    """Lesson 3: in this run, does G's loss rise while the images get better (KID falls)?"""
    rows = history.get("metrics") or []
    if len(rows) < 3:
        return [needs_full_run("g_loss_vs_kid", "G's loss rises from the first to the last checkpoint while the "
                               "KID falls (needs at least 3 checkpoints: run the full 50 epochs)")]
    first, last = rows[0], rows[-1]
    g0, g1 = _epoch_mean(history, "g_loss", first["epoch"]), _epoch_mean(history, "g_loss", last["epoch"])
    which = "the shipped run" if shipped else "this run"
    covers = [m["coverage"] for m in rows]
    measured = f"G loss {g0:.2f} -> {g1:.2f}, KID {first['kid']:.3f} -> {last['kid']:.3f}"
    statement = (f"in {which}, G's loss rose from epoch {first['epoch']} to epoch {last['epoch']} while the KID fell: "
                 "a rising G loss went with better images")
    return [
        claim("g_loss_rises_kid_falls", *_trend(statement, g1 > g0 and last["kid"] < first["kid"], measured, history,
                                                shipped, "G's loss rises from the first checkpoint to the last while "
                                                "the KID falls")),
        claim("classes_every_checkpoint", f"in {which}, the samples covered at least {CLASSES_KEPT} of 10 classes at "
              "every checkpoint", min(covers) >= CLASSES_KEPT, f"classes covered per checkpoint: {covers}"),
    ]


def balance_claims(history: dict, shipped: bool = False) -> list:
    """Lesson 3: the last window's checks pass, and the whole run's second half shows D pulling ahead."""
    from ..measure.verdicts import MAX_TREND, trend
    from .analysis import assess_equilibrium, convergence_checklist

    checks = convergence_checklist(history, verbose=False)
    verdict = assess_equilibrium(history, verbose=False)["verdict"]
    passed = sum(c.passed for c in checks)
    which = "the shipped run" if shipped else "this run"
    d_loss, d_fake = trend(history), trend(history, "d_fake")
    return [
        claim("balanced", f"at its end {which} passes every check of the convergence checklist (the last "
              "window: D neither dominant nor at chance, G still gets a learning signal, no swing, no drift)",
              passed == len(checks), f"{passed}/{len(checks)} checks"),
        claim("d_pulls_ahead", *_trend(f"yet over {which}'s second half D pulled ahead: the epoch-mean D loss fell by "
                                       f"more than {MAX_TREND} and D(G(z)) fell too, a slow trend that no one-window "
                                       "check sees", d_loss < -MAX_TREND and d_fake < 0 and verdict == "d_gaining",
                                       f"D loss {d_loss:+.3f}, D(G(z)) {d_fake:+.3f} over the second half; verdict "
                                       f"{verdict}", history, shipped, "over a run's second half D pulls ahead "
                                       "(its epoch-mean loss and D(G(z)) fall)")),
    ]


def _trend(statement: str, ok: bool, measured: str, history: dict, shipped: bool, general: str) -> tuple:
    """``(statement, holds, evidence)`` of a claim about a trend over the full run: for the student's run shorter
    than the full epochs (a CPU's time budget), the ``general`` statement needs a full run (``None``), with what the
    run measured; the shipped run answers it."""
    full = LESSON3["num_epochs"]
    if shipped or history.get("epochs", full) >= full:
        return statement, ok, measured
    return (f"{general}: a {full}-epoch trend, asked of the shipped run below", None,
            f"this run trained {history['epochs']} epochs: {measured}")


def shipped_quality_claims() -> list:
    """Lesson 3: the shipped generator's recorded quality against the tutorial DCGAN's."""
    q = load_record("fashion_dcgan")["quality"]
    base = q["baseline_tutorial_dcgan_20_epochs"]
    lo, hi = q["class_shares_min_max"]
    return [
        claim("shipped_beats_tutorial", "the shipped generator's FID (10,000 samples, the course metric) is lower "
              "than the PyTorch tutorial's DCGAN trained 20 epochs", q["fid"] < base["fid"],
              f"{q['fid']:.1f} vs {base['fid']:.1f} (record: fashion_dcgan.json)"),
        claim("shipped_all_classes", f"the shipped generator covers all 10 classes, none below "
              f"{CLASS_SHARES[0]:.0%} or above {CLASS_SHARES[1]:.0%}",
              q["classes_covered"] == 10 and lo >= CLASS_SHARES[0] and hi <= CLASS_SHARES[1],
              f"shares {lo:.0%} to {hi:.0%}"),
    ]


def ema_claims(levers: dict, ema_fid: float, bar: float = EMA_FID_BAR) -> list:
    """Lesson 3's optional lever: an EMA of G (its own BatchNorm statistics) against the raw G, from the sweep's
    record; and the shipped long run's FID as measured now (``ema_fid``, 10,000 samples)."""
    at50 = [next(row for row in r["fid"] if row["epoch"] == 50) for r in levers["gpu_runs"] if r["epochs"] == 50]
    long = [r["final_ema999_bn"]["fid"] for r in levers["gpu_runs"] if "final_ema999_bn" in r]
    ok, n = on_every_seed(row["ema999_bn"] < row["raw"] for row in at50)
    return [
        claim("ema_beats_raw_at_50", f"after lesson 3's 50 epochs, the EMA of G (decay 0.999, its own BatchNorm "
              f"statistics) scores a lower FID than the raw G on {n}", ok,
              "FID raw -> EMA: " + ", ".join(f"{row['raw']:.1f} -> {row['ema999_bn']:.1f}" for row in at50)),
        claim("ema_long_run_bar", f"the shipped fashion_dcgan_ema (150 epochs, EMA, seed 0) scores FID <= {bar:g} "
              "(10,000 samples, measured now)", ema_fid <= bar,
              f"{ema_fid:.2f}; 150-epoch EMAs over seeds: {spread(long)}, at most {bar:g} on "
              f"{sum(f <= bar for f in long)} of {len(long)}: a longer run, not a guarantee"),
    ]


def ema_fid_now(n: int = 10_000) -> float:
    """FID of the shipped ``fashion_dcgan_ema`` on ``n`` seeded samples (the course metric)."""
    from ..kit.checkpoints import load_generator
    from ..kit.sampling import sample
    from ..measure.metrics import fashion_scores

    return fashion_scores(sample(load_generator("fashion_dcgan_ema"), n, seed=0))["fid"]


def lesson3(quick: bool = False) -> list:
    from ..kit.checkpoints import load_history

    shipped = load_history("fashion_dcgan")
    return (balance_claims(shipped, shipped=True) + losses_vs_quality_claims(shipped, shipped=True)
            + shipped_quality_claims() + ema_claims(load_record("fashion_dcgan_levers"), ema_fid_now()))
