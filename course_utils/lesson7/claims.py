"""What lesson 7 claims about controlling a trained generator, computed. The notebook calls these where it makes a
claim, on the measurements it just made (:mod:`course_utils.lesson7.effects`, one dict per seed);
``python -m course_utils.claims --lesson 7`` re-checks them through :func:`lesson7` (the provider).

Each function returns a list of :class:`~course_utils.measure.claims.Claim` and prints one ``PASS``/``FAIL`` line
per claim. Every claim must hold on every seed measured (3 at full settings, 1 in quick mode).
"""

from __future__ import annotations

from ..kit.data import FASHION_CLASSES
from ..measure.claims import claim, on_every_seed, spread
from ..measure.verdicts import AVOID_CUT, FLIP_BAR, INVERSION_GAIN, ON_SHELL, RANDOM_FLIP, STEER_GAP

SOURCE, TARGET = FASHION_CLASSES.index("Sneaker"), FASHION_CLASSES.index("Ankle boot")
"""The lesson's edit: sneakers into ankle boots (the classifier tells the two apart on real images)."""
AVOID = FASHION_CLASSES.index("Sandal")
"""The class the edit should not produce: the found direction is made orthogonal to the Sneaker -> Sandal one."""


def walk_claims(rows: list[dict]) -> list:
    """Lesson 7, walks: linear midpoints fall inside the prior's shell, slerp midpoints stay on it, and the linear
    midpoints' images are further from the data (FID)."""
    lo, hi = rows[0]["shell"]
    ok1, n1 = on_every_seed(r["linear"]["below"] >= ON_SHELL for r in rows)
    ok2, n2 = on_every_seed(r["slerp"]["inside"] >= ON_SHELL for r in rows)
    ok3, n3 = on_every_seed(r["linear"]["fid"] > r["slerp"]["fid"] for r in rows)
    return [
        claim("linear_midpoint_leaves_shell", f"at least {ON_SHELL:.0%} of the linear walks' midpoints fall inside the "
              f"prior's shell (|z| below {lo:.2f}, the 1st percentile of |z| for z ~ N(0, I)) on {n1}", ok1,
              "below: " + spread(r["linear"]["below"] for r in rows) + "; median |z| "
              + spread(r["linear"]["median_norm"] for r in rows)),
        claim("slerp_stays_on_shell", f"at least {ON_SHELL:.0%} of the slerp midpoints stay on it (|z| between "
              f"{lo:.2f} and {hi:.2f}) on {n2}", ok2, "inside: " + spread(r["slerp"]["inside"] for r in rows)
              + "; median |z| " + spread(r["slerp"]["median_norm"] for r in rows)),
        claim("linear_midpoints_look_worse", f"the linear midpoints' images are further from real images (higher FID, "
              f"same number of samples) than the slerp midpoints' on {n3}", ok3,
              "FID linear " + spread(r["linear"]["fid"] for r in rows) + ", slerp "
              + spread(r["slerp"]["fid"] for r in rows) + f" ({rows[0]['pairs']} midpoints each)"),
    ]


def _monotone(values, rising: bool) -> bool:
    pairs = list(zip(values, values[1:]))
    return bool(pairs) and all(b > a if rising else b < a for a, b in pairs)


def truncation_claims(sweeps: list[dict]) -> list:
    """Lesson 7, truncation over ``psi`` from 1 down: precision rises, recall falls, classes are lost, FID rises."""
    def col(s, key):
        return [row[key] for row in s["rows"]]

    psis = col(sweeps[0], "psi")
    ok1, n1 = on_every_seed(_monotone(col(s, "precision"), rising=True) for s in sweeps)
    ok2, n2 = on_every_seed(_monotone(col(s, "recall"), rising=False) for s in sweeps)
    ok3, n3 = on_every_seed(col(s, "coverage")[0] == 10 and col(s, "coverage")[-1] < 10 for s in sweeps)
    ok4, n4 = on_every_seed(_monotone(col(s, "fid"), rising=True) for s in sweeps)
    grid = f"psi {psis[0]:g} to {psis[-1]:g}"
    return [
        claim("truncation_raises_precision", f"precision (samples inside the real data's manifold) rises at every step "
              f"down from {grid} on {n1}", ok1, "precision " + ", ".join(
                  f"psi {p:g}: {spread(s['rows'][i]['precision'] for s in sweeps)}" for i, p in enumerate(psis))),
        claim("truncation_lowers_recall", f"recall (real data covered by the samples) falls at every step on {n2}: "
              "quality is bought with diversity", ok2, "recall " + ", ".join(
                  f"psi {p:g}: {spread(s['rows'][i]['recall'] for s in sweeps)}" for i, p in enumerate(psis))),
        claim("truncation_loses_classes", f"psi {psis[0]:g} covers all 10 classes, psi {psis[-1]:g} fewer, on {n3}",
              ok3, "classes covered " + ", ".join(f"psi {p:g}: {spread(s['rows'][i]['coverage'] for s in sweeps)}"
                                                  for i, p in enumerate(psis))),
        claim("truncation_costs_fid", f"on this generator FID rises at every step down from psi {psis[0]:g} on {n4}: "
              "FID counts the lost variety, so no psi below 1 improves it", ok4, "FID " + ", ".join(
                  f"psi {p:g}: {spread(s['rows'][i]['fid'] for s in sweeps)}" for i, p in enumerate(psis))),
    ]


def direction_claims(rows: list[dict]) -> list:
    """Lesson 7, directions: the found direction turns most held-out source samples into the target class; a random
    direction of the same length does not."""
    src, tgt, alpha = FASHION_CLASSES[rows[0]["source"]], FASHION_CLASSES[rows[0]["target"]], rows[0]["alpha"]
    ok1, n1 = on_every_seed(r["found"]["flip"] > FLIP_BAR for r in rows)
    ok2, n2 = on_every_seed(r["random"]["flip"] <= RANDOM_FLIP for r in rows)
    return [
        claim("direction_flips_class", f"a step of {alpha:g} along the found direction turns more than {FLIP_BAR:.0%} "
              f"of held-out {src} samples into {tgt} (the classifier's verdict) on {n1}", ok1,
              f"share now {tgt}: " + spread(r["found"]["flip"] for r in rows)
              + f"; still {src}: " + spread(r["found"]["stay"] for r in rows)
              + f"; {spread(r['n'] for r in rows)} samples"),
        claim("random_direction_does_not", f"a random direction of the same length turns at most {RANDOM_FLIP:.0%} "
              f"of them into {tgt} on {n2}", ok2, f"share now {tgt}: " + spread(r["random"]["flip"] for r in rows)
              + f"; still {src}: " + spread(r["random"]["stay"] for r in rows)),
    ]


def orthogonal_claims(rows: list[dict]) -> list:
    """Lesson 7, directions: made orthogonal to the direction towards a third class (``avoid``), the edit sends at
    most half as many samples into that class (the found one sending some) and still flips most of them."""
    src, tgt, avoid = (FASHION_CLASSES[rows[0][key]] for key in ("source", "target", "avoid"))
    ok1, n1 = on_every_seed(r["orthogonal"]["avoided"] <= AVOID_CUT * r["found"]["avoided"]
                            and r["found"]["avoided"] > 0 for r in rows)
    ok2, n2 = on_every_seed(r["orthogonal"]["flip"] > FLIP_BAR for r in rows)
    return [
        claim("orthogonal_edit_avoids_class", f"made orthogonal to the {src} -> {avoid} direction, the edit sends at "
              f"most {AVOID_CUT:.0%} as many held-out {src} samples into {avoid} as the found direction does (and "
              f"the found one sends some) on {n1}", ok1,
              f"share now {avoid}: found " + spread(r["found"]["avoided"] for r in rows) + ", orthogonal "
              + spread(r["orthogonal"]["avoided"] for r in rows) + "; cosine of the two directions "
              + spread(r["cosine"] for r in rows)),
        claim("orthogonal_edit_still_flips", f"the orthogonal edit still turns more than {FLIP_BAR:.0%} of them into "
              f"{tgt} on {n2}", ok2, f"share now {tgt}: " + spread(r["orthogonal"]["flip"] for r in rows)
              + ", found " + spread(r["found"]["flip"] for r in rows)),
    ]


def steer_claims(rows: list[dict], shell_low: float) -> list:
    """Lesson 7, classifier guidance: the classifier that was optimised believes the steered samples more than an
    independent judge does; the Gaussian prior penalty pulls ``z`` inside the shell, towards the density's peak."""
    def gap(r):
        a = r["after"][0.0]
        return a["classifier"] - a["judge"]

    weights = sorted(w for w in rows[0]["after"] if w > 0)
    ok1, n1 = on_every_seed(gap(r) >= STEER_GAP for r in rows)
    out = [claim("steering_fools_its_classifier", f"after steering (no prior), the course classifier that was "
                 f"optimised names the target class at least {STEER_GAP:.0%} more often than the independent judge, "
                 f"on the same images, on {n1}", ok1,
                 "classifier " + spread(r["after"][0.0]["classifier"] for r in rows) + ", judge "
                 + spread(r["after"][0.0]["judge"] for r in rows) + "; before steering: classifier "
                 + spread(r["before"]["classifier"] for r in rows) + ", judge "
                 + spread(r["before"]["judge"] for r in rows))]
    if weights:
        w = weights[0]
        ok2, n2 = on_every_seed(r["after"][w]["norm"] < shell_low for r in rows)
        out.append(claim("prior_pulls_inside_shell", f"with the prior penalty (weight {w:g}) the steered z end inside "
                         f"the shell (mean |z| below {shell_low:.2f}): the Gaussian's density peaks at 0, not on the "
                         f"shell, on {n2}", ok2,
                         f"mean |z| with the prior {spread(r['after'][w]['norm'] for r in rows)}, without "
                         f"{spread(r['after'][0.0]['norm'] for r in rows)}"))
    return out


def inversion_claims(rows: list[dict]) -> list:
    """Lesson 7, inversion: optimising z beats the nearest random sample; real images stay further from G's range
    than G's own samples."""
    ok1, n1 = on_every_seed(r["real"] * INVERSION_GAIN <= r["nearest"] for r in rows)
    ok2, n2 = on_every_seed(r["real"] > r["own"] for r in rows)
    return [
        claim("inversion_beats_nearest_sample", f"inverting real test images at least {INVERSION_GAIN:g}x lowers the "
              f"pixel error of the nearest random sample on {n1}", ok1,
              "MSE inverted " + spread(r["real"] for r in rows) + ", nearest of the pool "
              + spread(r["nearest"] for r in rows) + f" ({rows[0]['n']} images)"),
        claim("real_images_outside_range", f"real images are reconstructed worse than G's own samples inverted the "
              f"same way on {n2}: part of a real image lies outside what G can draw", ok2,
              "MSE real " + spread(r["real"] for r in rows) + ", G's samples " + spread(r["own"] for r in rows)),
    ]


SETTINGS = {  # the measurements' sizes at full settings and in quick mode (the notebook's settings cell uses these)
    False: {"seeds": (0, 1, 2), "pairs": 256, "n": 2000, "n_find": 4000, "n_test": 2000, "steer_n": 100,
            "steer_steps": 80, "images": 16, "inv_steps": 200, "restarts": 3, "pool": 2000},
    True: {"seeds": (0,), "pairs": 256, "n": 500, "n_find": 2000, "n_test": 1000, "steer_n": 50,
           "steer_steps": 60, "images": 8, "inv_steps": 100, "restarts": 2, "pool": 1000},
}


def lesson7(quick: bool = False) -> list:
    """Every claim of lesson 7, measured here on the shipped ``fashion_dcgan`` with the reference code."""
    from ..kit.checkpoints import load_generator
    from ..kit.data import fashion_mnist_tensors, to_unit_range
    from . import effects
    from .latent import prior_shell

    s, G = SETTINGS[bool(quick)], load_generator("fashion_dcgan")
    x, _ = fashion_mnist_tensors(train=False, limit=s["images"])
    edits = effects.direction_measurements(G, s["seeds"], SOURCE, TARGET, n_find=s["n_find"], n_test=s["n_test"],
                                           avoid=AVOID)
    return (walk_claims(effects.walk_measurements(G, s["seeds"], s["pairs"]))
            + truncation_claims(effects.truncation_sweep(G, s["seeds"], s["n"]))
            + direction_claims(edits) + orthogonal_claims(edits)
            + steer_claims(effects.steer_measurements(G, s["seeds"], s["steer_n"], s["steer_steps"]),
                           prior_shell(G.latent_dim)[0])
            + inversion_claims(effects.inversion_measurements(G, s["seeds"], to_unit_range(x), s["inv_steps"],
                                                              s["restarts"], pool=s["pool"])))
