"""What each lesson claims about its runs, computed (lessons 1-6). The notebooks call these functions where
they make a claim; ``python -m course_utils.claims`` calls :data:`PROVIDERS` to re-check them all.

Each function returns a list of :class:`~course_utils.claims.Claim` and prints one ``PASS``/``FAIL``
line per claim. A claim about a run takes the run (a history, a table of seeds) as its argument, so the
notebook's statement is about the run it just made; the providers make the same runs, or read the
shipped records (``course_utils/pretrained/*.json``, the shipped histories).
"""

from __future__ import annotations

import json

import torch

from .claims import claim, needs_full_run, on_every_seed, spread
from .env import quick as _quick_value

# ----------------------------------------------------------------------------- lesson 1


def lesson1_facts() -> list:
    """The data's class names and the [-1, 1] convention (lesson 1)."""
    from torchvision.datasets import FashionMNIST
    from torchvision.transforms import Normalize

    from .data import FASHION_CLASSES
    from .models import Generator

    ends = Normalize((0.5,), (0.5,))(torch.tensor([0.0, 1.0]).view(2, 1, 1)).flatten().tolist()
    torch.manual_seed(0)
    with torch.no_grad():
        out = Generator().eval()(torch.randn(16, 100))
    return [
        claim("fashion_classes", "the course's class names are torchvision's FashionMNIST.classes, in order",
              list(FASHION_CLASSES) == list(FashionMNIST.classes), ", ".join(FASHION_CLASSES)),
        claim("normalize_range", "Normalize((0.5,), (0.5,)) maps ToTensor's [0, 1] to [-1, 1]",
              ends == [-1.0, 1.0], f"0 -> {ends[0]:g}, 1 -> {ends[1]:g}"),
        claim("generator_range", "the reference Generator turns z (16, 100) into (16, 1, 28, 28) in [-1, 1]",
              tuple(out.shape) == (16, 1, 28, 28) and out.abs().max().item() <= 1.0,
              f"shape {tuple(out.shape)}, max |x| {out.abs().max().item():.3f}"),
    ]


# ----------------------------------------------------------------------------- lesson 2

def lesson2_chance() -> list:
    """A D that guesses (logit 0, D = 0.5) scores log 2 with the averaged BCE (lesson 2)."""
    from .training import LOG2, discriminator_loss

    loss = discriminator_loss(torch.zeros(8, 1), torch.zeros(8, 1)).item()
    return [claim("chance_is_log2", "a D that guesses (D = 0.5 everywhere) scores log 2 ~ 0.693",
                  abs(loss - LOG2) < 1e-6, f"loss {loss:.6f}")]


def optimal_d_claims(collapsed: list[dict], perfect: list[dict]) -> list:
    """D* on the ring: per seed, a D trained against a 4-mode G and against a perfect G (lesson 2)."""
    from .theory import LOG2

    err = [float((r["d_at_centers"] - r["d_star_at_centers"]).abs().max()) for r in collapsed]
    gap = [abs(r["d_loss"] - r["d_star_loss"]) for r in collapsed]
    half = [float((r["d_at_centers"] - 0.5).abs().max()) for r in perfect]
    chance = [abs(r["d_loss"] - LOG2) for r in perfect]
    covered = [float(r["d_at_centers"][:4].mean()) for r in collapsed]
    missing = [float(r["d_at_centers"][4:].mean()) for r in collapsed]
    ok1, n1 = on_every_seed(e < 0.1 for e in err)
    ok2, n2 = on_every_seed(g < 0.01 for g in gap)
    ok3, n3 = on_every_seed(h < 0.05 and c < 0.005 for h, c in zip(half, chance))
    return [
        claim("d_star_matches", f"against a G that covers 4 of 8 modes, the trained D is D* = p_data / (p_data + "
              f"p_g) at every mode centre (1/3 on the covered modes, 1 on the missing ones) on {n1}", ok1,
              f"covered {spread(covered)}, missing {spread(missing)}, largest error {spread(err)}"),
        claim("d_star_loss", f"its loss is log 2 - JS(p_data, p_g) = {collapsed[0]['d_star_loss']:.3f} on {n2}",
              ok2, f"loss {spread([r['d_loss'] for r in collapsed])}"),
        claim("perfect_g_chance", f"against a perfect G, D = 0.5 everywhere and its loss is log 2 on {n3}", ok3,
              f"largest |D - 0.5| {spread(half)}, loss {spread([r['d_loss'] for r in perfect])}"),
    ]


def lesson2(quick: bool = False) -> list:
    from .env import use_threads
    from .theory import train_d_against

    use_threads(1)  # a tiny MLP: one thread is fastest
    seeds, steps = ((0,), 800) if quick else ((0, 1, 2), 1500)
    w_collapsed, w_perfect = torch.tensor([0.25] * 4 + [0.0] * 4), torch.full((8,), 1 / 8)
    collapsed = [train_d_against(w_collapsed, steps=steps, seed=s) for s in seeds]
    perfect = [train_d_against(w_perfect, steps=steps, seed=s) for s in seeds]
    return lesson2_chance() + optimal_d_claims(collapsed, perfect)


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
    return [
        claim("g_loss_rises_kid_falls", f"in {which}, G's loss rose from epoch {first['epoch']} to epoch "
              f"{last['epoch']} while the KID fell: a rising G loss went with better images", g1 > g0 and
              last["kid"] < first["kid"], f"G loss {g0:.2f} -> {g1:.2f}, KID {first['kid']:.3f} -> {last['kid']:.3f}"),
        claim("classes_every_checkpoint", f"in {which}, the samples covered at least 9 of 10 classes at every "
              "checkpoint", min(covers) >= 9, f"classes covered per checkpoint: {covers}"),
    ]


def balance_claims(history: dict, shipped: bool = False) -> list:
    """Lesson 3: the shipped run is balanced by the one diagnosis (checklist and verdict agree)."""
    from .analysis import assess_equilibrium, convergence_checklist

    checks = convergence_checklist(history, verbose=False)
    verdict = assess_equilibrium(history, verbose=False)["verdict"]
    passed = sum(c.passed for c in checks)
    which = "the shipped run" if shipped else "this run"
    return [claim("balanced", f"{which} passes the convergence checklist and its verdict is balanced (lesson 4's "
                  "health report uses the same thresholds)", passed == len(checks) and verdict in
                  ("balanced", "near_equilibrium"), f"{passed}/{len(checks)} checks, verdict {verdict}")]


def shipped_quality_claims() -> list:
    """Lesson 3: the shipped generator's recorded quality against the tutorial DCGAN's."""
    q = load_record("fashion_dcgan")["quality"]
    base = q["baseline_tutorial_dcgan_20_epochs"]
    lo, hi = q["class_shares_min_max"]
    return [
        claim("shipped_beats_tutorial", "the shipped generator's FID (10,000 samples, the course metric) is lower "
              "than the PyTorch tutorial's DCGAN trained 20 epochs", q["fid"] < base["fid"],
              f"{q['fid']:.1f} vs {base['fid']:.1f} (record: fashion_dcgan.json)"),
        claim("shipped_all_classes", "the shipped generator covers all 10 classes, none below 5% or above 15%",
              q["classes_covered"] == 10 and lo >= 0.05 and hi <= 0.15, f"shares {lo:.0%} to {hi:.0%}"),
    ]


def load_record(name: str) -> dict:
    """A shipped record, ``pretrained/<name>.json`` (e.g. ``"fashion_dcgan_levers"``)."""
    from .checkpoints import PRETRAINED_DIR

    return json.loads((PRETRAINED_DIR / f"{name}.json").read_text())


def ema_claims(levers: dict, ema_fid: float, bar: float = 20.0) -> list:
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
    from .checkpoints import load_generator
    from .metrics import fashion_scores
    from .sampling import sample

    return fashion_scores(sample(load_generator("fashion_dcgan_ema"), n, seed=0))["fid"]


def lesson3(quick: bool = False) -> list:
    from .checkpoints import load_history

    shipped = load_history("fashion_dcgan")
    return (balance_claims(shipped, shipped=True) + losses_vs_quality_claims(shipped, shipped=True)
            + shipped_quality_claims() + ema_claims(load_record("fashion_dcgan_levers"), ema_fid_now()))


# ----------------------------------------------------------------------------- lesson 5

def js_w1_claims(shifts=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0)) -> list:
    """Lesson 5: JS saturates at log 2 once the supports are disjoint; W1 keeps growing."""
    from .theory import LOG2, uniform_js_w1

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
    ok1, n1 = on_every_seed(r["estimate"] < 0.01 * w1 and r["at_bounds"] >= 0.5 for r in clipped)
    ok2, n2 = on_every_seed(abs(r["estimate"] - w1) <= 0.2 * w1 for r in penalised)
    return [
        claim("clipping_shrinks", f"with weights clipped to [-0.01, 0.01] the critic's estimate is under 1% of "
              f"W1 = {w1:g} and most weights sit at the bounds, on {n1}", ok1,
              f"estimate {spread([r['estimate'] for r in clipped])}, slope {spread([r['slope'] for r in clipped])}, "
              f"weights at the bounds {spread([r['at_bounds'] for r in clipped])}"),
        claim("gp_estimates_w1", f"with the gradient penalty the estimate is within 20% of W1 = {w1:g} (slope ~1), "
              f"on {n2}", ok2, f"estimate {spread([r['estimate'] for r in penalised])}, slope "
              f"{spread([r['slope'] for r in penalised])}"),
    ]


def flowers_cpu_claims(meta: dict, swd_now: dict | None = None, n_now: int | None = None,
                       minutes: float = 30.0, bar: float = 100.0) -> list:
    """Lesson 5's CPU setting: the shipped ``flowers_wgan_gp_cpu`` (its record ``meta``) trained in at most
    ``minutes`` on a 2-core CPU to SWD <= ``bar``; ``swd_now``: the file scored now on ``n_now`` images."""
    wall, swd, floor = meta["wall_time_s"], meta["swd"], meta["swd_floor"]["swd"]
    curve = meta["swd_curve"]
    key = meta.get("shipped", "raw")
    out = [
        claim("flowers_cpu_minutes", f"the shipped CPU generator trained in at most {minutes:g} minutes on a 2-core "
              "CPU (scoring along the way not counted)", wall <= minutes * 60 and "2 threads" in meta["hardware"],
              f"{wall / 60:.1f} min, {meta['epochs']} epochs of {meta['image_size']}x{meta['image_size']} on "
              f"{meta['hardware']}"),
        claim("flowers_cpu_swd", f"its SWD (x1e3, {meta['swd_images']:,} images per set, 64x64) is at most {bar:g}",
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
                                  "gives its recorded SWD (within 5%)"))
    else:
        out.append(claim("flowers_cpu_rescored", f"the file, scored now on {n_now:,} images, gives its recorded SWD "
                         "(within 5%)", abs(swd_now["swd"] - swd["swd"]) <= 0.05 * swd["swd"],
                         f"{swd_now['swd']:.1f} now, {swd['swd']:.1f} recorded"))
    return out


def flowers_cpu_swd_now(n: int = 2048) -> tuple[dict, dict]:
    """The record of ``flowers_wgan_gp_cpu`` and its SWD on ``n`` images scored now (lesson 5)."""
    from .checkpoints import load_generator
    from .flowers import flowers_tensors
    from .flowers_metric import swd_of_generator

    G = load_generator("flowers_wgan_gp_cpu")
    images, _ = flowers_tensors(image_size=64)
    return G.meta, swd_of_generator(G, images, n=n)


def lesson5(quick: bool = False) -> list:
    from .env import use_threads
    from .theory import train_critic

    use_threads(1)  # tiny MLP critics: one thread is fastest
    seeds = (0,) if quick else (0, 1, 2)
    clipped = [train_critic(3.0, "clip", seed=s) for s in seeds]
    penalised = [train_critic(3.0, "gp", seed=s) for s in seeds]
    if quick:  # scoring 2,048 images takes a minute on 2 cores: the record's own claims only
        from .checkpoints import load_generator

        cpu = flowers_cpu_claims(load_generator("flowers_wgan_gp_cpu").meta)
    else:
        meta, now = flowers_cpu_swd_now()
        cpu = flowers_cpu_claims(meta, now, meta["swd_images"])
    return js_w1_claims() + clipping_vs_gp_claims(clipped, penalised) + cpu


# ----------------------------------------------------------------------------- registry

def lesson1(quick: bool = False) -> list:
    return lesson1_facts()


def fashion_collapse(warmup: int = 300, steps: int = 400, eval_every: int = 100, seed: int = 0) -> list:
    """Lesson 4's Fashion-MNIST experiment at its full settings: lesson 3's G against a frozen and a learning D."""
    from .checkpoints import load_generator
    from .collapse import chase, fashion_collapse_claims, warm_up_discriminator
    from .data import fashion_mnist_loader
    from .env import use_threads

    use_threads()  # the DCGAN uses every core this process may use
    loader = fashion_mnist_loader(batch_size=64, device="cpu", seed=seed)
    G = load_generator("fashion_dcgan")
    D = warm_up_discriminator(G, loader, warmup, seed=seed)
    runs = {name: chase(G, D, loader, steps, d_learns=learns, eval_every=eval_every)
            for name, learns in [("D frozen, G keeps training", False), ("D learning (alternating steps)", True)]}
    return fashion_collapse_claims(runs)


def lesson4(quick: bool = False) -> list:
    from .experiments import lesson4_claims

    found = lesson4_claims(quick=quick)
    if quick:
        return found + [needs_full_run("fashion_collapse", "the Fashion-MNIST collapse (300 + 2 x 400 steps of "
                                       "lesson 3's DCGAN): run without --quick")]
    return found + fashion_collapse()


def quick_or(full, reduced):
    """``quick(full, reduced)`` (re-exported for the notebooks' claim cells)."""
    return _quick_value(full, reduced)


# ----------------------------------------------------------------------------- lesson 6

TOPS = ("T-shirt/top", "Pullover", "Coat", "Shirt")
"""The four tops: the classes the course classifier confuses most with each other on real images."""


def control_claims(report: dict, who: str = "the shipped generator") -> list:
    """Lesson 6: the class asked for is the class the course classifier sees, overall and class by class.

    Each class is held to the classifier's own accuracy on real images of that class (``relative``).
    """
    from .control import AGREEMENT_BAR, RELATIVE_BAR
    from .data import FASHION_CLASSES

    relative = report["relative"].tolist()
    worst = min(range(len(relative)), key=relative.__getitem__)
    return [
        claim("cgan_agreement", f"the classifier puts at least {AGREEMENT_BAR:.0%} of {who}'s samples in the "
              f"class they were asked for", report["agreement"] >= AGREEMENT_BAR,
              f"{report['agreement']:.3f} on {report['n']:,} samples"),
        claim("cgan_every_class_at_bar", f"every class reaches {RELATIVE_BAR:.0%} of the classifier's own accuracy "
              "on real images of that class, the tops it confuses (T-shirt/top, Pullover, Coat, Shirt) included",
              min(relative) >= RELATIVE_BAR,
              f"lowest: {FASHION_CLASSES[worst]} {report['per_class'][worst]:.3f} vs real "
              f"{report['real_accuracy'][worst]:.3f} (ratio {relative[worst]:.2f})"),
    ]


def load_levers() -> dict:
    """The lever sweep behind lesson 6's class term (``pretrained/fashion_cgan_levers.json``)."""
    return load_record("fashion_cgan_levers")


def class_term_claims(levers: dict, dcgan_fid: float) -> list:
    """Lesson 6: the plain projection game leaves a top below the bar on every seed; the class term lifts every
    class past it on every seed, with FID no worse than lesson 3's generator; the other levers tried did not."""
    from .control import RELATIVE_BAR
    from .data import FASHION_CLASSES

    runs = levers["runs"]
    plain = [r for r in runs if r["class_weight"] == 0 and r["epochs"] == 20 and r["lr_d"] == r["lr_g"]
             and r["d_width"] == 64]
    term = [r for r in runs if r["class_weight"] == 1.0]
    others = [r for r in runs if r["class_weight"] == 0 and r not in plain]
    if not plain or not term:
        raise ValueError("the lever record needs plain runs (class_weight 0) and class-term runs (class_weight 1.0)")

    def lowest(r) -> str:  # the class with the lowest ratio to the classifier's real accuracy
        return FASHION_CLASSES[min(range(len(r["relative"])), key=r["relative"].__getitem__)]

    def worst(r) -> str:
        return f"{lowest(r)} {r['min_relative']:.2f}"

    ok1, n1 = on_every_seed(r["min_relative"] < RELATIVE_BAR and lowest(r) in TOPS for r in plain)
    ok2, n2 = on_every_seed(r["min_relative"] >= RELATIVE_BAR for r in term)
    ok3, n3 = on_every_seed(r["fid"] <= dcgan_fid for r in term)
    return [
        claim("plain_game_leaves_a_top", f"without the class term a top stays below {RELATIVE_BAR:.0%} of the "
              f"classifier's real accuracy on {n1}", ok1, "lowest per seed: " + ", ".join(worst(r) for r in plain)),
        claim("class_term_every_class", f"with the class term (weight 1) every class reaches {RELATIVE_BAR:.0%} "
              f"of it on {n2}", ok2, "lowest per seed: " + ", ".join(worst(r) for r in term)),
        claim("class_term_fid", f"and its FID is no worse than lesson 3's generator ({dcgan_fid:.1f}) on {n3}", ok3,
              f"FID {spread([r['fid'] for r in term])} (without it: {spread([r['fid'] for r in plain])})"),
        claim("other_levers_fall_short", "more epochs, a wider D or TTUR did not lift every class past the bar "
              "(one seed each)", bool(others) and all(r["min_relative"] < RELATIVE_BAR for r in others),
              ", ".join(f"{r['run']}: {worst(r)}" for r in others)),
    ]


def versus_unconditional_claims(cgan: dict, dcgan: dict) -> list:
    """Lesson 6 vs lesson 3, the same metric and sample count: FID no worse, all ten classes covered."""
    return [
        claim("cgan_fid_vs_dcgan", "the conditional generator's FID is no worse than lesson 3's unconditional one "
              "(same classifier, same number of samples)", cgan["fid"] <= dcgan["fid"],
              f"{cgan['fid']:.2f} vs {dcgan['fid']:.2f} ({cgan['n']:,} samples each)"),
        claim("cgan_coverage", "both cover all 10 classes; the conditional one by construction (10% each asked for)",
              cgan["coverage"] == 10 and dcgan["coverage"] == 10,
              f"{cgan['coverage']} and {dcgan['coverage']} classes"),
    ]


def style_claims(diversity) -> list:
    """Lesson 6: within every class, z still varies the image (no class collapsed to one picture)."""
    low = float(diversity.min())
    return [claim("z_carries_style", "within every class, samples for different z differ at least half as much "
                  "as real images of that class do", low >= 0.5,
                  f"ratios {float(diversity.min()):.2f} to {float(diversity.max()):.2f}")]


def lesson6_measurements(per_class: int = 1000) -> tuple[dict, dict, object]:
    """Lesson 6's measurements of the shipped generators: cGAN control, lesson 3's scores, the cGAN's diversity."""
    from .checkpoints import load_generator
    from .control import control_report, within_class_diversity
    from .metrics import fashion_scores
    from .sampling import sample

    cgan = load_generator("fashion_cgan")
    report = control_report(cgan, per_class=per_class, verbose=False)
    dcgan = {**fashion_scores(sample(load_generator("fashion_dcgan"), 10 * per_class, seed=0)), "n": 10 * per_class}
    return report, dcgan, within_class_diversity(cgan)


def lesson6(quick: bool = False) -> list:
    report, dcgan, diversity = lesson6_measurements(per_class=1000)  # seeded, ~15 s: the same in quick mode
    return (control_claims(report) + versus_unconditional_claims(report, dcgan) + style_claims(diversity)
            + class_term_claims(load_levers(), dcgan["fid"]))



PROVIDERS = {1: lesson1, 2: lesson2, 3: lesson3, 4: lesson4, 5: lesson5, 6: lesson6}
