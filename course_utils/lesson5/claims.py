"""What lesson 5 claims about its runs, computed. The notebook calls these where it makes a claim;
``python -m course_utils.claims --lesson 5`` re-checks them through ``lesson5`` (the provider).

Each function returns a list of :class:`~course_utils.measure.claims.Claim` and prints one ``PASS``/``FAIL``
line per claim. A claim about a run takes the run as its argument, so the notebook's statement is about the run
it just made; the provider makes the same runs, or reads the shipped records (:mod:`course_utils.measure.records`).
"""

from __future__ import annotations

from ..measure.claims import claim, needs_full_run, on_every_seed, spread
from ..measure.verdicts import PILED_AT_BOUNDS, RESCORE_TOLERANCE, W1_TOLERANCE

# ----------------------------------------------------------------------------- lesson 5

def js_w1_claims(shifts=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0)) -> list:
    """Lesson 5: JS saturates at log 2 once the supports are disjoint; W1 keeps growing."""
    from ..lesson2.theory import LOG2
    from .theory import uniform_js_w1

    rows = [(s, *uniform_js_w1(s)) for s in shifts]
    disjoint = [(s, js, w1) for s, js, w1 in rows if s >= 1.0]
    overlap = [(s, js, w1) for s, js, w1 in rows if s < 1.0]
    return [
        claim("js_saturates", "for two unit-width uniforms shifted by 1 or more (disjoint supports) JS is log 2 "
              "whatever the shift: no gradient tells G which way to move",
              all(abs(js - LOG2) < 1e-6 for _, js, _ in disjoint),
              ", ".join(f"shift {s:g}: JS {js:.4f}" for s, js, _ in disjoint)),
        claim("w1_grows", "W1 equals the shift: it keeps a slope of 1 however far apart they are",
              all(abs(w1 - s) < 0.01 for s, _, w1 in rows),
              ", ".join(f"shift {s:g}: W1 {w1:.3f}" for s, _, w1 in rows)),
        claim("js_overlap", "while the supports overlap, JS = shift x log 2 (it changes, so it has a gradient)",
              all(abs(js - s * LOG2) < 1e-3 for s, js, _ in overlap),
              ", ".join(f"shift {s:g}: JS {js:.4f}" for s, js, _ in overlap)),
    ]


def clipping_vs_gp_claims(clipped: list[dict], penalised: list[dict]) -> list:
    """Lesson 5: per seed, a critic made Lipschitz by weight clipping vs by the gradient penalty."""
    w1 = clipped[0]["w1"]
    ok1, n1 = on_every_seed(r["at_bounds"] >= PILED_AT_BOUNDS for r in clipped)
    ok2, n2 = on_every_seed(abs(r["estimate"] - w1) <= W1_TOLERANCE * w1 for r in penalised)
    return [
        claim("clipping_at_bounds", f"with weights clipped to [-0.01, 0.01] (started inside the box, trained with the "
              f"original WGAN's RMSProp at lr 5e-5), over {PILED_AT_BOUNDS:.0%} of the critic's weights end at the "
              f"bounds on {n1}, where weights spread over the box would put about 1%: the clip, not the data, "
              "decides them (the capacity loss Gulrajani et al. 2017 describe)", ok1,
              f"weights at the bounds {spread([r['at_bounds'] for r in clipped])}; estimate "
              f"{spread([r['estimate'] for r in clipped])} of W1 = {w1:g} (scaled down by the bound, as a clipped "
              f"critic estimates K x W1), slope {spread([r['slope'] for r in clipped])}"),
        claim("gp_estimates_w1", f"with the gradient penalty the estimate is within {W1_TOLERANCE:.0%} of "
              f"W1 = {w1:g} (slope ~1), on {n2}", ok2, f"estimate {spread([r['estimate'] for r in penalised])}, slope "
              f"{spread([r['slope'] for r in penalised])}"),
    ]


def flowers_cpu_claims(meta: dict, swd_now: dict | None = None, n_now: int | None = None,
                       minutes: float = 30.0) -> list:
    """Lesson 5's CPU setting: the shipped ``flowers_wgan_gp_cpu`` (its record ``meta``) trained in at most
    ``minutes`` on a 2-core CPU to an SWD within :data:`~course_utils.measure.verdicts.SWD_FLOOR_MULTIPLE` times
    the real-vs-real floor; ``swd_now``: the file scored now on ``n_now`` images."""
    from ..measure.verdicts import SWD_FLOOR_MULTIPLE

    wall, swd, floor = meta["wall_time_s"], meta["swd"], meta["swd_floor"]["swd"]
    bar = SWD_FLOOR_MULTIPLE * floor
    curve = meta["swd_curve"]
    key = meta.get("shipped", "raw")
    out = [
        claim("flowers_cpu_minutes", f"the shipped CPU generator trained in at most {minutes:g} minutes on a 2-core "
              "CPU (scoring along the way not counted)", wall <= minutes * 60 and "2 threads" in meta["hardware"],
              f"{wall / 60:.1f} min, {meta['epochs']} epochs of {meta['image_size']}x{meta['image_size']} with 2 "
              "threads (the machine: its record)"),
        claim("flowers_cpu_swd", f"its SWD (x1e3, {meta['swd_images']:,} images per set, 64x64) is within "
              f"{SWD_FLOOR_MULTIPLE}x the SWD between two sets of real flowers (the metric's floor, {floor:.1f})",
              swd["swd"] <= bar and meta["image_size"] == 64,
              f"{swd['swd']:.1f}; per level " + ", ".join(f"{k[4:]}: {v:.0f}" for k, v in swd.items() if k != "swd")
              + f"; real vs real {floor:.1f}"),
        claim("flowers_cpu_curve_falls", "SWD fell as the minutes went by: the last score along the run is below "
              "the first, and below the first half's best", curve[-1][key] < min(r[key] for r in
                                                                                curve[:max(1, len(curve) // 2)]),
              " -> ".join(f"{r['train_minutes']:.0f} min: {r[key]:.0f}" for r in curve)),
    ]
    if swd_now is None or n_now != meta["swd_images"]:
        out.append(needs_full_run("flowers_cpu_rescored", f"the file, scored now on {meta['swd_images']:,} images, "
                                  f"gives its recorded SWD (within {RESCORE_TOLERANCE:.0%})"))
    else:
        out.append(claim("flowers_cpu_rescored", f"the file, scored now on {n_now:,} images, gives its recorded SWD "
                         f"(within {RESCORE_TOLERANCE:.0%})",
                         abs(swd_now["swd"] - swd["swd"]) <= RESCORE_TOLERANCE * swd["swd"],
                         f"{swd_now['swd']:.1f} now, {swd['swd']:.1f} recorded"))
    return out


def flowers_cpu_swd_now(n: int = 2048) -> tuple[dict, dict]:
    """The record of ``flowers_wgan_gp_cpu`` and its SWD on ``n`` images scored now (lesson 5)."""
    from ..kit.checkpoints import load_generator
    from ..kit.flowers import flowers_tensors
    from ..measure.swd import swd_of_generator

    G = load_generator("flowers_wgan_gp_cpu")
    images, _ = flowers_tensors(image_size=64)
    return G.meta, swd_of_generator(G, images, n=n)


def lesson5(quick: bool = False) -> list:
    from ..kit.env import use_threads
    from .theory import train_critic

    use_threads(1)  # tiny MLP critics: one thread is fastest
    seeds = (0,) if quick else (0, 1, 2)
    clipped = [train_critic(3.0, "clip", seed=s) for s in seeds]
    penalised = [train_critic(3.0, "gp", seed=s) for s in seeds]
    if quick:  # scoring 2,048 images takes a minute on 2 cores: the record's own claims only
        from ..kit.checkpoints import load_generator

        cpu = flowers_cpu_claims(load_generator("flowers_wgan_gp_cpu").meta)
    else:
        meta, now = flowers_cpu_swd_now()
        cpu = flowers_cpu_claims(meta, now, meta["swd_images"])
    return js_w1_claims() + clipping_vs_gp_claims(clipped, penalised) + cpu
