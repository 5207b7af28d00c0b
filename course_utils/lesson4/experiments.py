"""Lesson 4's experiments on several seeds: the toy ring, the three failures and the usual remedies.

Tables show the median and range over seeds; a verdict is stated only when it holds on every seed. The same
functions serve the notebook and ``python -m course_utils.claims --lesson 4``, so the two cannot drift.
"""

from __future__ import annotations

import torch

from ..kit.env import cpu_name  # noqa: F401 - the old flat module exposed it
from ..kit.parallel import run_in_processes, worker_count
from ..kit.smoothing import LOG2
from ..lesson2.ring import ring_centers, ring_data, ring_eval_fn, ring_loader, toy_models
from ..measure.claims import claim, needs_full_run, on_every_seed, spread
from ..measure.verdicts import (
    CHANCE_MARGIN,
    DOMINANT_ALONE,
    MAX_MOTION,
    MOST,
    VANISHED,
    VANISHING_SIGNAL,
)
from .diagnostics import grad_norm
from .stability import stable_g_loss, train_stable_gan
from .tables import health_report, sample_motion, seed_rows, seed_table, summarize, swing  # noqa: F401 - re-exported

# The ring and the toy networks (one place; the notebook's settings cell shows them).
TOY = dict(n_points=8192, batch_size=256, ring_std=0.05, latent_dim=8)
SEEDS = (0, 1, 2)  # every claim of lesson 4 must hold on each

# The three failures: each the smallest change from a working GAN that fails for real.
FAILURES = {
    "dominance": dict(lr_g=2e-4, lr_d=2e-3, d_steps=4, g_loss="saturating"),  # D 10x faster, 4 steps; minimax loss
    "collapse": dict(lr_g=1e-3, lr_d=1e-3),                          # a plain GAN at Adam's default lr
    "oscillation": dict(lr_g=5e-3, lr_d=5e-3, beta1=0.9),            # large steps with heavy momentum
}

# One change from the failure per fix; ``d_options`` are model options of the toy D.
FIXES = {
    "dominance": {
        "+ non-saturating G loss": dict(g_loss="non_saturating"),
        "+ lr_d 2e-4 (= lr_g)": dict(lr_d=2e-4),
        "+ label smoothing 0.2": dict(label_smoothing=0.2),
        "+ instance noise 0.2": dict(instance_noise=0.2),
        "+ train D every 3rd batch": dict(d_every=3),
        "+ dropout 0.5 in D": dict(d_options=dict(dropout=0.5)),
        "+ spectral norm in D": dict(d_options=dict(spectral_norm=True)),
        "+ 8 D steps per G step": dict(d_steps=8),
    },
    "collapse": {
        "+ label smoothing 0.1": dict(label_smoothing=0.1),
        "+ instance noise 0.1": dict(instance_noise=0.1),
        "+ instance noise 0.2, annealed to 0": dict(instance_noise=0.2, instance_noise_decay="epochs"),
        "+ dropout 0.3 in D": dict(d_options=dict(dropout=0.3)),
        "+ spectral norm in D": dict(d_options=dict(spectral_norm=True)),
    },
    "oscillation": {
        "+ beta1 0.5": dict(beta1=0.5),
        "+ lr_g 5e-4 (D 10x faster)": dict(lr_g=5e-4),
        "+ lr 5e-4 for both": dict(lr_g=5e-4, lr_d=5e-4),
    },
}
WEAKENING = ("+ lr_d 2e-4 (= lr_g)", "+ instance noise 0.2", "+ dropout 0.5 in D", "+ spectral norm in D")
"""The dominance fixes that weaken D (the others change G's loss or D's number of steps)."""


def _run_units(failure: str, fix: str | None, epochs: int) -> float:
    """One toy run in plain steps (one D and one G step); a D step counts as half a plain step."""
    s = settings_for(failure, fix)
    d_steps = s.get("d_steps", 1) / s.get("d_every", 1)  # D updates per batch
    return (d_steps + 1) / 2 * epochs * (TOY["n_points"] // TOY["batch_size"])


def toy_step_units(epochs: int = 50, seeds: int = len(SEEDS), workers: int | None = 1) -> float:
    """Lesson 4's toy work at full settings in units of one plain step: every failure and fix on every seed (for
    the doctor's prediction). ``workers`` processes side by side (``None``: as many as ``run_group`` starts
    here): the wall-clock units, each call of ``run_group`` (the failure alone, then its fixes) taking its
    busiest worker's share."""
    units = 0.0
    for failure in FAILURES:
        for fixes in ([None], list(FIXES[failure])):
            runs = [_run_units(failure, fix, epochs) for fix in fixes for _ in range(seeds)]
            loads = [0.0] * (worker_count(len(runs)) if workers is None else max(1, min(workers, len(runs))))
            for run in runs:  # in run_group's order, each worker that comes free takes the next run
                loads[loads.index(min(loads))] += run
            units += max(loads)
    return units


def failure_name(failure: str) -> str:
    return f"{failure} (failure)"


def settings_for(failure: str, fix: str | None = None) -> dict:
    """The failure's settings with one fix applied (``fix=None``: the failure itself)."""
    if failure not in FAILURES:
        raise ValueError(f"unknown failure {failure!r}; choose from {sorted(FAILURES)}")
    if fix is not None and fix not in FIXES[failure]:
        raise ValueError(f"unknown fix {fix!r} for {failure}; choose from {list(FIXES[failure])}")
    return {**FAILURES[failure], **(FIXES[failure][fix] if fix else {})}


def toy_run(settings: dict, seed: int, epochs: int, *, device="cpu", toy: dict | None = None, verbose=False,
            desc: str = "toy", **hooks) -> dict:
    """One run of the toy GAN with ``settings`` (flags of ``train_stable_gan`` plus ``d_options``) on ``seed``
    (it fixes the data, the initial weights and the batch order). ``hooks`` (``d_loss_fn``, ``noise_fn``) go
    to ``train_stable_gan``: lesson 4 passes the student's functions."""
    toy = {**TOY, **(toy or {})}
    settings = dict(settings)
    d_options = settings.pop("d_options", {})
    if settings.get("instance_noise_decay") == "epochs":
        settings["instance_noise_decay"] = epochs
    loader = ring_loader(n=toy["n_points"], batch_size=toy["batch_size"], seed=seed, std=toy["ring_std"],
                         device=device)
    G, D = toy_models(seed=seed, latent_dim=toy["latent_dim"], **d_options)
    return train_stable_gan(G.to(device), D.to(device), loader, epochs, device, seed=seed,
                            eval_fn=ring_eval_fn(ring_centers(), toy["ring_std"]), n_samples=1000, desc=desc,
                            verbose=verbose, **settings, **hooks)


def run_seeds(settings: dict, epochs: int, seeds=SEEDS, *, desc: str = "toy", **kw) -> list[dict]:
    """One history per seed (the seeds side by side, one process per core: :mod:`course_utils.kit.parallel`)."""
    return run_in_processes(toy_run, [dict(settings=settings, seed=seed, epochs=epochs, desc=f"{desc}, seed {seed}",
                                           **kw) for seed in seeds])


def run_group(failure: str, epochs: int, seeds=SEEDS, fixes=None, *, failure_runs=None, progress: bool = True,
              workers: int | None = None, **kw) -> dict[str, list[dict]]:
    """The failure and its ``fixes`` (default: all) on every seed: ``{name: [history per seed]}``.

    ``failure_runs``: the failure's histories if already run. One progress bar over all runs. The runs are
    independent, so they go side by side, one process per core (``workers``; :mod:`course_utils.kit.parallel`):
    each history is the same, bit for bit, as the run alone would give.
    """
    from tqdm.auto import tqdm

    names = list(FIXES[failure]) if fixes is None else list(fixes)
    todo = ([] if failure_runs is not None else [None]) + names
    jobs = [(fix, seed) for fix in todo for seed in seeds]
    with tqdm(total=len(jobs), desc=failure, disable=not progress) as bar:
        histories = run_in_processes(
            toy_run, [dict(settings=settings_for(failure, fix), seed=seed, epochs=epochs,
                           desc=failure_name(failure) if fix is None else fix, **kw) for fix, seed in jobs],
            workers=workers, on_done=lambda i: bar.update())
    group = {failure_name(failure): failure_runs} if failure_runs is not None else {}
    for k, fix in enumerate(todo):
        group[failure_name(failure) if fix is None else fix] = histories[k * len(seeds):(k + 1) * len(seeds)]
    return {failure_name(failure): group.pop(failure_name(failure)), **group}


# ----------------------------------------------------------------------------- vanishing gradient, measured

def vanishing_gradient(seed: int = 0, d_steps: int = 300, every: int = 25, lr_d: float = 2e-3,
                       n_fakes: int = 1024, toy: dict | None = None) -> list[dict]:
    """Train D alone against a fixed G (both at their start) and measure, every ``every`` D steps:
    D(G(z)) and the norm of G's gradient, ``|dL_G/d theta_G|``, under the saturating and the
    non-saturating loss (lesson 4). Step 0 is the balanced start (an untrained D says ~0.5)."""
    toy = {**TOY, **(toy or {})}
    G, D = toy_models(seed=seed, latent_dim=toy["latent_dim"])
    real_all, _ = ring_data(toy["n_points"], std=toy["ring_std"], seed=seed)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n_fakes, toy["latent_dim"], generator=gen)  # the fakes G is measured on
    opt_d = torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999))
    rows = []
    for step in range(d_steps + 1):
        if step % every == 0:
            rows.append(_measure_g_gradients(G, D, z, step))
        idx = torch.randint(0, len(real_all), (toy["batch_size"],), generator=gen)
        with torch.no_grad():
            fake = G(torch.randn(toy["batch_size"], toy["latent_dim"], generator=gen))
        ones, zeros = torch.ones(len(idx), 1), torch.zeros(len(fake), 1)
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(D(real_all[idx]), ones)
                + torch.nn.functional.binary_cross_entropy_with_logits(D(fake), zeros)) / 2
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
    G.zero_grad(set_to_none=True)
    return rows


def _measure_g_gradients(G, D, z, step: int) -> dict:
    row = {"step": step}
    for kind in ("saturating", "non_saturating"):
        G.zero_grad(set_to_none=True)
        stable_g_loss(D(G(z)), kind).backward()
        row[kind] = grad_norm(G)
    with torch.no_grad():
        row["d_fake"] = torch.sigmoid(D(G(z))).mean().item()
    return row


def plot_vanishing_gradient(runs: list[list[dict]]):
    """D(G(z)) and G's gradient norm under both losses against D's steps, one line per seed."""
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4))
    for i, rows in enumerate(runs):
        steps = [r["step"] for r in rows]
        ax1.plot(steps, [r["d_fake"] for r in rows], color="tab:red", alpha=0.7, label="D(G(z))" if i == 0 else None)
        ax2.plot(steps, [r["saturating"] for r in rows], color="tab:blue", label="saturating" if i == 0 else None)
        ax2.plot(steps, [r["non_saturating"] for r in rows], color="tab:orange",
                 label="non-saturating" if i == 0 else None)
    ax1.set(xlabel="D steps against a fixed G", title="D(G(z))", yscale="log")
    ax2.set(xlabel="D steps against a fixed G", title="|grad G| (norm over G's parameters)", yscale="log")
    ax1.legend()
    ax2.legend()
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- lesson 4's claims

def _all(rows, test) -> tuple[bool, str]:
    return on_every_seed(test(r) for r in rows)


def _col(rows, key) -> str:  # median [min-max] of one column over the seeds
    return spread([r[key] for r in rows])


def vanishing_claims(runs: list[list[dict]]) -> list:
    """The measured vanishing gradient: per seed, the first (balanced) and the last measurement."""
    first, last = [r[0] for r in runs], [r[-1] for r in runs]
    ok1, n1 = on_every_seed(b["d_fake"] < DOMINANT_ALONE for b in last)
    ok2, n2 = on_every_seed(b["saturating"] < VANISHED * a["saturating"] for a, b in zip(first, last))
    ok3, n3 = on_every_seed(b["non_saturating"] > a["non_saturating"] for a, b in zip(first, last))
    steps = last[0]["step"]
    return [
        claim("dominant_d", f"after {steps} steps of D alone, D(G(z)) is below {DOMINANT_ALONE} on {n1}", ok1,
              f"D(G(z)) {spread([b['d_fake'] for b in last])}"),
        claim("saturating_vanishes", f"with the saturating loss G's gradient fell below a tenth of its value at the "
              f"balanced start (untrained D) on {n2}: it vanished", ok2,
              f"|grad G| {spread([a['saturating'] for a in first])} -> {spread([b['saturating'] for b in last])}"),
        claim("non_saturating_restores", f"with the non-saturating loss, on the same G and D, it grew instead, above "
              f"its value at the start, on {n3}", ok3,
              f"|grad G| {spread([a['non_saturating'] for a in first])} -> "
              f"{spread([b['non_saturating'] for b in last])}"),
    ]


def dominance_claims(table: dict, quick: bool = False) -> list:
    """Lesson 4, failure 1, from the seed table of the dominance group."""
    fail = table[failure_name("dominance")]
    if quick:
        return [needs_full_run("dominance_fixes", "the dominance claims need the full 50 epochs on 3 seeds")]
    out = []
    ok, n = _all(fail, lambda r: "discriminator dominance" in r["health"])
    out.append(claim("dominance_diagnosed", f"the failure is diagnosed as discriminator dominance on {n}", ok,
                     f"D(G(z)) {_col(fail, 'd_fake')}, D loss {_col(fail, 'd_loss')}"))
    ok, n = _all(fail, lambda r: r["d_fake"] >= VANISHING_SIGNAL)
    out.append(claim("dominance_not_starved", f"yet G's gradient has not vanished in this run: the saturating loss "
                     f"still passes D(G(z)) >= {VANISHING_SIGNAL} per fake, on {n}", ok,
                     f"D(G(z)) {_col(fail, 'd_fake')}, |grad G| {_col(fail, 'g_grad')}"))
    if "+ non-saturating G loss" in table:
        fix = table["+ non-saturating G loss"]
        ok, n = on_every_seed(a["g_grad"] > b["g_grad"] for a, b in zip(fix, fail))
        out.append(claim("non_saturating_gradient", f"the non-saturating loss gives G a larger gradient than the "
                         f"failure's on {n}", ok, f"|grad G| {_col(fix, 'g_grad')} vs {_col(fail, 'g_grad')}"))
    if "+ 8 D steps per G step" in table:
        fix = table["+ 8 D steps per G step"]
        ok, n = _all(fix, lambda r: "discriminator dominance" in r["health"])
        out.append(claim("more_d_steps_wrong_way", f"more D steps per G step leave D dominant on {n}", ok,
                         f"D(G(z)) {_col(fix, 'd_fake')}"))
    weakening = [k for k in WEAKENING if k in table]
    if weakening:
        ok, n = on_every_seed(a["d_fake"] > b["d_fake"] for k in weakening for a, b in zip(table[k], fail))
        n = n.replace(" seeds", " fix-and-seed pairs")
        out.append(claim("weakening_rebalances", f"a lower lr_d, instance noise, dropout and spectral norm each lift "
                         f"D(G(z)) above the failure's (on {n})", ok,
                         "; ".join(f"{k[2:]}: {_col(table[k], 'd_fake')}" for k in weakening)))
        ok, n = on_every_seed(r["good"] < MOST for k in weakening for r in table[k])
        n = n.replace(" seeds", " fix-and-seed pairs")
        out.append(claim("rebalanced_not_learned", f"yet with none of them does G learn the ring: under half of its "
                         f"samples lie on a mode (on {n}); D's numbers rebalance, the samples do not follow",
                         ok, "; ".join(f"{k[2:]}: on-mode {_col(table[k], 'good')}" for k in weakening)))
    return out


def collapse_claims(table: dict, quick: bool = False) -> list:
    """Lesson 4, failure 2: on the ring, whether this plain GAN collapses depends on the seed; its losses never tell."""
    fail = table[failure_name("collapse")]
    if quick:
        return [needs_full_run("collapse_fixes", "the collapse claims need the full 50 epochs on 3 seeds")]
    balance_labels = ("discriminator dominance", "discriminator too weak", "vanishing gradient", "oscillation")
    ok, n = _all(fail, lambda r: not set(balance_labels) & set(r["health"]))
    collapsed = sum(r["modes"] < 8 for r in fail)
    out = [claim("collapse_losses_look_healthy", f"the plain GAN at lr 1e-3 collapsed (fewer than 8 modes) on "
                 f"{collapsed} of {len(fail)} seeds, yet passes every balance check on {n}: its losses cannot show "
                 "collapse", ok and collapsed >= 1,
                 f"modes {_col(fail, 'modes')}, entropy {_col(fail, 'norm_entropy')}, D loss {_col(fail, 'd_loss')}, "
                 f"D(G(z)) {_col(fail, 'd_fake')}")]
    if "+ spectral norm in D" in table:
        fix = table["+ spectral norm in D"]
        ok, n = _all(fix, lambda r: abs(r["d_loss"] - LOG2) < CHANCE_MARGIN and r["good"] < MOST)
        out.append(claim("spectral_norm_too_weak", f"spectral norm leaves D at chance (D loss within {CHANCE_MARGIN} "
                         f"of log 2) and G off the ring (under half its samples on a mode) on {n}: on this toy, too "
                         "weak to teach G", ok, f"D loss {_col(fix, 'd_loss')}, on-mode {_col(fix, 'good')}"))
    return out


def oscillation_claims(table: dict, quick: bool = False) -> list:
    """Lesson 4, failure 3."""
    fail = table[failure_name("oscillation")]
    if quick:
        return [needs_full_run("oscillation_fixes", "the oscillation claims need the full 50 epochs on 3 seeds")]
    ok, n = _all(fail, lambda r: r["motion"] > MAX_MOTION and "samples keep moving" in r["health"])
    out = [claim("oscillation_diagnosed", f"in the failure the samples keep moving (more than {MAX_MOTION} per "
                 f"epoch; the health report says so), on {n}: the game does not settle", ok,
                 f"motion {_col(fail, 'motion')}, swing of the smoothed D loss {_col(fail, 'swing')}")]
    if "+ beta1 0.5" in table:
        fix = table["+ beta1 0.5"]
        ok, n = _all(fix, lambda r: r["motion"] < MAX_MOTION and r["good"] >= MOST)
        out.append(claim("beta1_settles", f"beta1 0.5 settles it: samples move less than {MAX_MOTION} per epoch and "
                         f"most lie on a mode, on {n}", ok,
                         f"motion {_col(fix, 'motion')}, on-mode {_col(fix, 'good')}"))
    if "+ lr_g 5e-4 (D 10x faster)" in table:
        fix = table["+ lr_g 5e-4 (D 10x faster)"]
        ok, n = on_every_seed(a["d_fake"] < b["d_fake"] and a["motion"] > MAX_MOTION for a, b in zip(fix, fail))
        out.append(claim("slower_g_no_fix", f"slowing G alone (D 10x faster) settles nothing: the samples keep moving "
                         f"and D pulls ahead (D(G(z)) below the failure's), on {n}", ok,
                         f"motion {_col(fix, 'motion')}, D(G(z)) {_col(fix, 'd_fake')} vs {_col(fail, 'd_fake')}"))
    return out


def lesson4_claims(quick: bool = False, seeds=SEEDS) -> list:
    """Every toy claim of lesson 4, on every seed (``python -m course_utils.claims --lesson 4``)."""
    from ..kit.env import use_threads

    use_threads(1)  # the toy networks are tiny: one thread is fastest (as in the notebook)
    out = vanishing_claims([vanishing_gradient(seed=s) for s in seeds])
    if quick:
        return out + [needs_full_run("toy_groups", "the failures and fixes on 3 seeds x 50 epochs: run "
                                     "without --quick")]
    claims_of = {"dominance": dominance_claims, "collapse": collapse_claims, "oscillation": oscillation_claims}
    for failure, claims_fn in claims_of.items():
        table = seed_table(run_group(failure, 50, seeds))
        out += claims_fn(table)
    return out
