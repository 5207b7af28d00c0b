"""What lesson 2 claims about its runs, computed. The notebook calls these where it makes a claim;
``python -m course_utils.claims --lesson 2`` re-checks them through ``lesson2`` (the provider).

Each function returns a list of :class:`~course_utils.measure.claims.Claim` and prints one ``PASS``/``FAIL``
line per claim. A claim about a run takes the run as its argument, so the notebook's statement is about the run
it just made; the provider makes the same runs, or reads the shipped records (:mod:`course_utils.measure.records`).
"""

from __future__ import annotations

import torch

from ..measure.claims import claim, on_every_seed, spread

# ----------------------------------------------------------------------------- lesson 2

def lesson2_chance() -> list:
    """A D that guesses (logit 0, D = 0.5) scores log 2 with the averaged BCE (lesson 2)."""
    from ..kit.smoothing import LOG2
    from .reference import discriminator_loss

    loss = discriminator_loss(torch.zeros(8, 1), torch.zeros(8, 1)).item()
    return [claim("chance_is_log2", "a D that guesses (D = 0.5 everywhere) scores log 2 ~ 0.693",
                  abs(loss - LOG2) < 1e-6, f"loss {loss:.6f}")]


def optimal_d_claims(collapsed: list[dict], perfect: list[dict]) -> list:
    """D* on the ring: per seed, a D trained against a 4-mode G and against a perfect G (lesson 2)."""
    from ..measure.verdicts import CHANCE_LOSS_TOLERANCE, D_STAR_LOSS_TOLERANCE, D_STAR_TOLERANCE, HALF_TOLERANCE
    from .theory import LOG2

    err = [float((r["d_at_centers"] - r["d_star_at_centers"]).abs().max()) for r in collapsed]
    gap = [abs(r["d_loss"] - r["d_star_loss"]) for r in collapsed]
    half = [float((r["d_at_centers"] - 0.5).abs().max()) for r in perfect]
    chance = [abs(r["d_loss"] - LOG2) for r in perfect]
    covered = [float(r["d_at_centers"][:4].mean()) for r in collapsed]
    missing = [float(r["d_at_centers"][4:].mean()) for r in collapsed]
    ok1, n1 = on_every_seed(e < D_STAR_TOLERANCE for e in err)
    ok2, n2 = on_every_seed(g < D_STAR_LOSS_TOLERANCE for g in gap)
    ok3, n3 = on_every_seed(h < HALF_TOLERANCE and c < CHANCE_LOSS_TOLERANCE for h, c in zip(half, chance))
    return [
        claim("d_star_matches", f"against a G that covers 4 of 8 modes, the trained D is D* = p_data / (p_data + "
              f"p_g) at every mode centre (1/3 on the covered modes, 1 on the missing ones) on {n1}", ok1,
              f"covered {spread(covered)}, missing {spread(missing)}, largest error {spread(err)}"),
        claim("d_star_loss", f"its loss is log 2 - JS(p_data, p_g) = {collapsed[0]['d_star_loss']:.3f} on {n2}",
              ok2, f"loss {spread([r['d_loss'] for r in collapsed])}"),
        claim("perfect_g_chance", f"against a perfect G, D = 0.5 at every mode centre (within {HALF_TOLERANCE}) "
              f"and its loss is log 2 on {n3}", ok3,
              f"largest |D - 0.5| {spread(half)}, loss {spread([r['d_loss'] for r in perfect])}"),
    ]


def lesson2(quick: bool = False) -> list:
    from ..kit.env import use_threads
    from .theory import train_d_against

    use_threads(1)  # a tiny MLP: one thread is fastest
    seeds, steps = ((0,), 800) if quick else ((0, 1, 2), 1500)
    w_collapsed, w_perfect = torch.tensor([0.25] * 4 + [0.0] * 4), torch.full((8,), 1 / 8)
    collapsed = [train_d_against(w_collapsed, steps=steps, seed=s) for s in seeds]
    perfect = [train_d_against(w_perfect, steps=steps, seed=s) for s in seeds]
    return lesson2_chance() + optimal_d_claims(collapsed, perfect)
