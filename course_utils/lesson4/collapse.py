"""Mode collapse on Fashion-MNIST, read off the class histogram (lesson 4).

On the toy ring a mode is a point we can count. On Fashion-MNIST the course classifier (lesson 3's
metric) sorts G's samples into the 10 classes instead: ``coverage`` (classes holding at least 2%
of the samples) and ``kl_uniform`` (0 when every class gets its 10%, log 10 ~ 2.30 when one class
gets everything) play the role of "modes covered" and the histogram's entropy.

The experiment shows *why* collapse happens: G follows the current D. Starting from lesson 3's
trained generator (all 10 classes), :func:`warm_up_discriminator` trains a fresh D against it;
then :func:`chase` trains G for the same number of steps twice, once with D frozen and once with
D learning as usual. G's loss is ``-D(G(z)).mean()`` (raise D's logit): unlike BCE it never
saturates, so G can follow D as far as D leads it.
"""

from __future__ import annotations

import copy
import itertools

import torch

from ..kit.data import FASHION_CLASSES
from ..kit.loop import frozen, make_adam
from ..kit.sampling import sample
from ..lesson1.reference import init_weights
from ..lesson2.reference import Discriminator
from ..lesson3.trainer import d_step, g_step
from ..measure.metrics import fashion_scores


def warm_up_discriminator(G, loader, steps: int, seed: int = 0, lr: float = 2e-4) -> torch.nn.Module:
    """A fresh lesson-2 ``Discriminator`` trained for ``steps`` batches against ``G``'s fakes.

    G's weights stay fixed; G is put in training mode, so its BatchNorm statistics follow the
    batches as they do in training.
    """
    torch.manual_seed(seed)
    D = Discriminator().to(next(G.parameters()).device)
    D.apply(init_weights)
    opt_d = make_adam(D.parameters(), lr, (0.5, 0.999), None)
    G.train()
    with frozen(G):
        for real, *_ in itertools.islice(_forever(loader), steps):
            d_step(D, G, real, opt_d, G.latent_dim)
    return D


def chase(G, D, loader, steps: int, d_learns: bool, eval_every: int = 100, n: int = 1000,
          seed: int = 1, lr: float = 2e-4) -> list[dict]:
    """Train copies of ``G`` and ``D`` for ``steps`` G steps; D takes a step before each only if
    ``d_learns``. Returns one row per ``eval_every`` steps (and step 0): ``step``, ``coverage``,
    ``kl_uniform``, ``fid``, ``histogram`` (samples per class of ``n``), ``g_loss``, ``d_logit`` (the mean logit
    of D, as it is at that step, on the evaluation samples, in training mode as a G step sees it), ``G`` (a copy).
    """
    G, D = copy.deepcopy(G).train(), copy.deepcopy(D).train()
    opt_g = make_adam(G.parameters(), lr, (0.5, 0.999), None)
    opt_d = make_adam(D.parameters(), lr, (0.5, 0.999), None)
    torch.manual_seed(seed)
    rows = [_row(G, D, 0, float("nan"), n)]
    for step, (real, *_) in enumerate(itertools.islice(_forever(loader), steps), start=1):
        if d_learns:
            with frozen(G):
                d_step(D, G, real, opt_d, G.latent_dim)
        with frozen(D):
            g_loss = g_step(D, G, opt_g, real.size(0), G.latent_dim, real.device, loss_fn=raise_fake_logits)
        if step % eval_every == 0 or step == steps:
            rows.append(_row(G, D, step, g_loss.item(), n))
    return rows


def raise_fake_logits(fake_logits: torch.Tensor) -> torch.Tensor:
    """G's loss in this experiment: ``-D(G(z)).mean()``, push D's logit for the fakes up, without a ceiling."""
    return -fake_logits.mean()


def _row(G, D, step: int, g_loss: float, n: int) -> dict:
    images = sample(G, n, seed=5)  # the same z at every evaluation
    scores = fashion_scores(images)
    keep = ("coverage", "kl_uniform", "fid", "histogram")
    with torch.no_grad():  # D's mean logit on them, judged as in a G step (training mode: batch statistics),
        judge = copy.deepcopy(D).train()  # on a copy, so its BatchNorm running statistics stay the run's
        d_logit = judge(images.to(next(D.parameters()).device)).mean().item()
    return {"step": step, **{k: scores[k] for k in keep}, "g_loss": g_loss, "d_logit": d_logit,
            "G": copy.deepcopy(G).eval()}


def _forever(loader):
    while True:
        yield from loader


def plot_class_histograms(runs: dict, classes=FASHION_CLASSES):
    """Class shares of G's samples, before and after, one panel per run; coverage and KL in titles."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3), sharey=True, squeeze=False)
    for ax, (name, rows) in zip(axes[0], runs.items(), strict=True):
        for row, color in ((rows[0], "0.7"), (rows[-1], "C3")):
            shares = torch.tensor(row["histogram"], dtype=torch.float64) / sum(row["histogram"])
            ax.bar(range(len(classes)), shares, color=color, alpha=0.8,
                   label=f"step {row['step']}: {row['coverage']} classes, KL {row['kl_uniform']:.2f}")
        ax.axhline(1 / len(classes), color="k", ls=":", lw=1)
        ax.set_xticks(range(len(classes)), classes, rotation=60, fontsize=7)
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("share of samples")  # dotted line: the data's 10%
    fig.tight_layout()
    return fig


def collapse_table(runs: dict) -> None:
    """Print coverage, KL to uniform, FID and G's loss (``nan`` before any step) at each evaluation."""
    for name, rows in runs.items():
        print(name)
        for row in rows:
            top = max(range(len(row["histogram"])), key=row["histogram"].__getitem__)
            share = row["histogram"][top] / sum(row["histogram"])
            print(f"  step {row['step']:>4}: {row['coverage']:>2} classes, KL to uniform "
                  f"{row['kl_uniform']:.3f}, largest class {FASHION_CLASSES[top]} {share:.0%}, FID {row['fid']:.1f}, "
                  f"G loss {row['g_loss']:.2f}")


def fashion_collapse_claims(runs: dict, quick: bool = False) -> list:
    """Lesson 4: what the frozen-D and learning-D runs on Fashion-MNIST show (one seed: stated as this run's)."""
    from ..measure.claims import claim, needs_full_run
    from ..measure.verdicts import CLASSES_KEPT, CLASSES_LOST

    frozen, learning = runs["D frozen, G keeps training"], runs["D learning (alternating steps)"]
    if quick:
        return [needs_full_run("fashion_collapse", "the Fashion-MNIST collapse needs the full 400 G steps")]
    cov_f, cov_l = [r["coverage"] for r in frozen], [r["coverage"] for r in learning]
    return [
        claim("frozen_d_collapses", f"in this run, against a frozen D, G lost at least {CLASSES_LOST} of its classes",
              cov_f[-1] <= cov_f[0] - CLASSES_LOST, f"classes covered per evaluation: {cov_f}"),
        claim("learning_d_keeps_classes", f"with D learning, G kept at least {CLASSES_KEPT} classes at every "
              "evaluation",
              min(cov_l) >= CLASSES_KEPT, f"classes covered per evaluation: {cov_l}"),
        claim("frozen_d_prefers_collapse", "the frozen D scores G's collapsed samples as more real than the samples "
              "G made before the chase (the same D, the same z): G moved to what this one D prefers",
              frozen[-1]["d_logit"] > frozen[0]["d_logit"],
              f"frozen D's mean logit {frozen[0]['d_logit']:.2f} (step 0) -> {frozen[-1]['d_logit']:.2f} "
              f"(step {frozen[-1]['step']})"),
    ]
