"""What lesson 4 claims about its runs, computed. The notebook calls these where it makes a claim;
``python -m course_utils.claims --lesson 4`` re-checks them through ``lesson4`` (the provider).

Each function returns a list of :class:`~course_utils.measure.claims.Claim` and prints one ``PASS``/``FAIL``
line per claim. A claim about a run takes the run as its argument, so the notebook's statement is about the run
it just made; the provider makes the same runs, or reads the shipped records (:mod:`course_utils.measure.records`).
"""

from __future__ import annotations

from ..measure.claims import needs_full_run


def fashion_collapse(warmup: int = 300, steps: int = 400, eval_every: int = 100, seed: int = 0) -> list:
    """Lesson 4's Fashion-MNIST experiment at its full settings: lesson 3's G against a frozen and a learning D."""
    from ..kit.checkpoints import load_generator
    from ..kit.data import fashion_mnist_loader
    from ..kit.env import use_threads
    from .collapse import chase, fashion_collapse_claims, warm_up_discriminator

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
