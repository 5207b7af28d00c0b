"""Seeing what a GAN does (lesson 4): gradient norms, sample diversity and a health report.

Three failures, each with its own evidence:

* **discriminator dominance**: D's loss far below log 2 and D(G(z)) near 0. It is about the *game*.
  Whether G's gradient vanishes depends on G's loss: with the saturating loss it does as D(G(z)) goes
  to 0 (the health report's "vanishing gradient"); with the non-saturating loss it does not.
* **mode collapse**: the *samples* lack diversity: few of the modes covered, a class histogram
  with low entropy. It is measured on samples; D's loss does not flag it. It often comes with
  dominance, but it is a separate diagnosis.
* **non-convergence / oscillation**: the samples keep moving from epoch to epoch (the same ``z``), and
  the smoothed losses may swing.

All loss thresholds use the course's averaged BCE (chance = log 2 ~ 0.693).
"""

from __future__ import annotations

import textwrap

import numpy as np
import torch

from ..kit.smoothing import LOG2, smooth  # noqa: F401 - re-exported
from ..lesson2.ring import assign_modes, mode_counts, plot_ring_samples, ring_diversity, ring_eval_fn  # noqa: F401 - re-exported
from ..measure.metrics import MIN_FAIR_SHARE as MIN_MODE_SHARE
from ..measure.metrics import class_histogram, histogram_entropy  # noqa: F401 - re-exported
from ..measure.metrics import coverage as modes_covered
from ..measure.verdicts import (  # noqa: F401 - re-exported
    D_DOMINANT_LOSS,
    DOMINANT_D_FAKE,
    MAX_MOTION,
    MAX_SWING,
    balance,
    balance_findings,
    recent,
    sample_motion,
    smoothing_floor,
    swing,
)

MIN_NORM_ENTROPY = 0.85  # normalised entropy of the mode/class histogram below this: collapsed
MAX_COVER_JUMPS = 1.5    # modes covered going up and down by more than this per evaluation, beyond the trend
MAX_D_SWING = MAX_SWING  # the old name



def grad_norm(module: torch.nn.Module) -> float:
    """The L2 norm of all gradients of ``module``'s parameters taken together (0.0 if none)."""
    grads = [p.grad.detach().float().flatten() for p in module.parameters() if p.grad is not None]
    if not grads:
        return 0.0
    return torch.cat(grads).norm().item()


def count_modes(points: torch.Tensor, centers: torch.Tensor, max_dist: float,
                min_share: float = MIN_MODE_SHARE) -> int:
    """Modes covered by ``points`` ``(N, 2)``: near-mode counts against a fair share of all N (lesson 4)."""
    return modes_covered(mode_counts(points, centers, max_dist), total=len(points), min_share=min_share)


DIAGNOSES = ("dominance", "oscillation", "mode collapse", "healthy")
RECORDED = {"dominance": "lesson04_dominance", "oscillation": "lesson04_oscillation",
            "mode collapse": "lesson04_collapse", "healthy": "lesson04_healthy"}  # shipped histories, seed 0
HELD_OUT = "lesson04_heldout"  # + "_<run>_seed<1|2>": the same settings on other seeds, for the grader only


def diagnose(history: dict) -> tuple[str, str]:
    """One label for a toy run, in the order the evidence ranks them, and the numbers that decided it (lesson 4).

    Balance first (a dominant D also leaves G on few modes), then whether the samples settled (an
    oscillating G also misses modes), then the modes: ``("dominance" | "oscillation" | "mode collapse" |
    "healthy", evidence)``.
    """
    m = balance(history)  # d_loss, d_fake, floor, ... over the last epoch
    motion = sample_motion(history)  # how far the fixed-noise samples move per epoch
    last = history["metrics"][-1]  # modes, norm_entropy of the last evaluation
    if m["d_fake"] < DOMINANT_D_FAKE or m["d_loss"] - m["floor"] < D_DOMINANT_LOSS:
        return "dominance", f"D(G(z)) {m['d_fake']:.2f}, D loss {m['d_loss']:.3f}"
    if motion > MAX_MOTION:
        return "oscillation", f"the samples move {motion:.2f} per epoch"
    if last["modes"] < len(last["counts"]) or last["norm_entropy"] < MIN_NORM_ENTROPY:
        return "mode collapse", f"{last['modes']}/{len(last['counts'])} modes, entropy {last['norm_entropy']:.2f}"
    return "healthy", f"D(G(z)) {m['d_fake']:.2f}, samples move {motion:.2f}, {last['modes']} modes"


def summarize(history: dict, window: int | None = None) -> dict:
    """One row for a comparison table: recent losses, D outputs, grad norms and the last diversity."""
    row = {k: recent(history, k, window) for k in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad", "g_grad")
           if k in history}
    if history.get("metrics"):
        row.update({k: v for k, v in history["metrics"][-1].items() if k != "epoch"})
    return row


class HealthReport:
    """What :func:`health_report` found: a list of ``(failure, evidence)``; prints one line each."""

    def __init__(self, title: str, findings: list, facts: str):
        self.title, self.findings, self.facts = title, findings, facts

    @property
    def failures(self) -> list[str]:
        return [name for name, _ in self.findings]

    @property
    def healthy(self) -> bool:
        return not self.findings

    def __repr__(self) -> str:
        lines = [f"{self.title}: " + ("HEALTHY" if self.healthy else ", ".join(self.failures).upper()),
                 f"  measured: {self.facts}"]
        lines += [f"  - {name}: {evidence}" for name, evidence in self.findings]
        return "\n".join(textwrap.fill(line, 100, subsequent_indent="      ") for line in lines)  # fits a notebook

    __str__ = __repr__


def _balance_findings(history: dict, window: int | None) -> tuple[list, str]:
    m = balance(history, window)  # the same measurements and thresholds as lesson 3's verdicts
    g_grad = recent(history, "g_grad", window) if "g_grad" in history else float("nan")
    facts = (f"D loss {m['d_loss']:.3f} (chance {LOG2:.3f}), D(x) {m['d_real']:.2f}, D(G(z)) {m['d_fake']:.2f}, "
             f"|dL_G/d logit| {m['g_signal']:.3f}" + (f", |grad G| {g_grad:.3g}" if g_grad == g_grad else ""))
    found = [(label, evidence + (". Weaken D." if label.startswith("discriminator d") else "."))
             for label, evidence in balance_findings(m)]
    return found, facts


def _diversity_findings(history: dict) -> tuple[list, str]:
    rows = [m for m in history.get("metrics", []) if "norm_entropy" in m]
    if not rows:
        return [], "no diversity measured (pass eval_fn)"
    last, found = rows[-1], []
    n_bins = len(last.get("counts", [])) or None
    good = last.get("good", 1.0)
    facts = f"diversity {last.get('modes', '?')}/{n_bins or '?'} modes, entropy {last['norm_entropy']:.2f}"
    if "good" in last:
        facts += f", {good:.0%} of samples on a mode"
    covers = [m.get("modes", 0) for m in rows[len(rows) // 2:]]
    if good < 0.2:
        found.append(("samples off the data", f"only {good:.0%} of samples lie near any mode: G has not "
                      "learned the data (yet)."))
    elif last["norm_entropy"] < MIN_NORM_ENTROPY or (n_bins and last.get("modes", n_bins) < n_bins):
        found.append(("mode collapse", f"{last.get('modes', '?')} of {n_bins} modes covered, normalised "
                      f"entropy {last['norm_entropy']:.2f} (full coverage: 1.00, needs >= "
                      f"{MIN_NORM_ENTROPY}). Measured on samples, whatever the losses say."))
    motion = sample_motion(history)
    if motion == motion:  # not NaN: 2-D samples were stored
        facts += f", samples move {motion:.2f} per epoch"
        if motion > MAX_MOTION:
            found.append(("samples keep moving", f"the fixed-noise samples move {motion:.2f} per epoch over the "
                          f"second half (settled below {MAX_MOTION}): G keeps carrying them around"))
    jumps = sum(abs(b - a) for a, b in zip(covers, covers[1:]))
    if len(covers) > 2 and (jumps - abs(covers[-1] - covers[0])) / (len(covers) - 1) > MAX_COVER_JUMPS:
        found.append(("samples keep moving", f"modes covered go up and down over the second half: {covers} "
                      f"(total change {jumps}, net {covers[-1] - covers[0]:+d})"))
    return found, facts


def health_report(history: dict, window: int | None = None, title: str = "health") -> HealthReport:
    """Name the failures a run shows, each with the numbers that decided it (lesson 4).

    Balance (D loss, D(x), D(G(z)), G's gradient) over the last ``window`` steps (default: last
    epoch), oscillation over the second half of the run, diversity from the last ``eval_fn`` metrics.
    """
    balance, facts1 = _balance_findings(history, window)
    diversity, facts2 = _diversity_findings(history)
    findings, seen = [], set()
    for name, evidence in balance + diversity:
        if name not in seen:
            findings.append((name, evidence))
            seen.add(name)
    return HealthReport(title, findings, f"{facts1}; {facts2}")


def comparison_table(runs: dict, window: int | None = None) -> list[dict]:
    """Print one row per run (name -> history): diversity, losses, D outputs, grad norms, and the health report's
    verdicts indented below it (100 characters wide at most)."""
    head = (f"{'setting':30}{'modes':>6}{'entropy':>8}{'on-mode':>8}{'D loss':>8}{'G loss':>8}{'D(x)':>6}"
            f"{'D(G(z))':>8}{'|grad G|':>9}{'|grad D|':>9}")
    print(head + "\n" + "-" * len(head))
    rows = []
    for name, h in runs.items():
        row = {"setting": name, **summarize(h, window)}
        row["health"] = ", ".join(health_report(h, window).failures) or "healthy"
        rows.append(row)
        print(f"{name[:29]:30}{row.get('modes', float('nan')):>6}{row.get('norm_entropy', float('nan')):>8.2f}"
              f"{row.get('good', float('nan')):>8.0%}{row['d_loss']:>8.3f}{row['g_loss']:>8.3f}"
              f"{row['d_real']:>6.2f}{row['d_fake']:>8.2f}{row['g_grad']:>9.3g}{row['d_grad']:>9.3g}\n"
              f"    {row['health']}")
    print(f"(last-epoch means; averaged BCE, chance {LOG2:.3f}; entropy normalised to [0, 1];\n"
          "on-mode: share of samples within 3 std of a mode; indented: the health report)")
    return rows


def plot_traces(runs: dict, keys=("d_real", "d_fake", "g_grad", "modes"), smooth_width: int = 64):
    """One panel per statistic, one line per run: smoothed per-step values, or ``modes`` per epoch."""
    import matplotlib.pyplot as plt

    titles = {"d_real": "D(x)", "d_fake": "D(G(z))", "g_grad": "|grad G|", "d_grad": "|grad D|",
              "d_loss": "D loss", "g_loss": "G loss", "modes": "modes covered (of 8)"}
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.3), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, h in runs.items():
            if key in ("modes", "norm_entropy", "good"):
                ax.plot([m["epoch"] for m in h["metrics"]], [m[key] for m in h["metrics"]], label=name)
            else:
                values = np.asarray(h[key], dtype=float)
                values = values[~np.isnan(values)]  # d_grad is NaN where D was not updated
                x = np.arange(len(values)) * (len(h[key]) / max(1, len(values))) / h["steps_per_epoch"]
                ax.plot(x, smooth(values, smooth_width), label=name)
        ax.set(title=titles.get(key, key), xlabel="epoch")
        if key == "d_loss":
            ax.axhline(LOG2, color="k", ls="--", lw=1)
        if key == "g_grad":
            ax.set_yscale("log")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    return fig
