"""Lesson 4's seed tables: one row of numbers per seed, printed as median [min-max] in lines under 100 characters."""

from __future__ import annotations

import textwrap

from ..measure.verdicts import sample_motion, swing
from .diagnostics import health_report, summarize


def seed_rows(histories: list[dict]) -> list[dict]:
    """One summary row per seed, with the health report's labels."""
    rows = []
    for h in histories:
        row = summarize(h)
        row["health"] = health_report(h).failures
        row["motion"], row["swing"] = sample_motion(h), swing(h)
        rows.append(row)
    return rows


def _short(values) -> str:  # median [min-max], 2 significant digits, no leading zero: a column of 16 or fewer
    values = sorted(float(v) for v in values)

    def f(v: float) -> str:
        text = f"{v:.2g}"
        return text[1:] if text.startswith("0.") else text.replace("-0.", "-.")

    mid = f(values[len(values) // 2])
    return mid if len(values) == 1 else f"{mid} [{f(values[0])}-{f(values[-1])}]"


def seed_table(group: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Print each setting's median [min-max] over seeds (a line under 100 characters) and, indented below it,
    how often each verdict of the health report came up."""
    head = f"{'setting':30}{'modes':>10}{'on-mode':>17}{'D(G(z))':>17}{'|grad G|':>17}"
    print(head + "\n" + "-" * len(head))
    table = {}
    for name, histories in group.items():
        rows = table[name] = seed_rows(histories)
        labels = sorted({label for r in rows for label in r["health"]})
        verdicts = ", ".join(f"{lab} {sum(lab in r['health'] for r in rows)}/{len(rows)}" for lab in labels)
        print(f"{name[:30]:30}" + "".join(f"{_short(r[k] for r in rows):>{w}}" for k, w in
                                          (("modes", 10), ("good", 17), ("d_fake", 17), ("g_grad", 17))))
        print(textwrap.fill(verdicts or f"healthy {len(rows)}/{len(rows)}", 96, initial_indent="    ",
                            subsequent_indent="    "))
    n = len(next(iter(group.values())))
    print(textwrap.fill(f"(median [min-max] over {n} seed{'s' * (n > 1)}, means over the last epoch; on-mode: share "
                        "of samples within 3 std of a mode; |grad G|: the norm of G's gradient; indented: the health "
                        "report's verdicts, on how many seeds)",
                        96))
    return table


def diagnosis_evidence(histories: dict | None = None) -> list[dict]:
    """The numbers ``diagnose`` reads, one row per recorded run (label -> history; default: the four shipped seed-0
    runs), printed under 100 characters: D(G(z)) and D loss above its floor over the last epoch, how far the
    fixed-noise samples move per epoch, modes covered and the normalised entropy at the last evaluation."""
    from ..kit.checkpoints import load_history
    from ..measure.verdicts import balance
    from .diagnostics import RECORDED

    histories = histories or {label: load_history(name) for label, name in RECORDED.items()}
    rows = []
    print(f"{'recorded run':14} {'D(G(z))':>8} {'D loss - floor':>15} {'motion':>7} {'modes':>6} {'entropy':>8}")
    for label, h in histories.items():
        m, last = balance(h), h["metrics"][-1]
        row = {"run": label, "d_fake": m["d_fake"], "loss_margin": m["d_loss"] - m["floor"],
               "motion": sample_motion(h), "modes": last["modes"], "of": len(last["counts"]),
               "entropy": last["norm_entropy"]}
        rows.append(row)
        print(f"{label:14} {row['d_fake']:8.3f} {row['loss_margin']:15.3f} {row['motion']:7.3f} "
              f"{row['modes']:>3}/{row['of']:<2} {row['entropy']:8.3f}")
    return rows
