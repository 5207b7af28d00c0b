"""Lesson 4's toy runs at full settings, one after another and side by side: seconds and the verdict tables.

    python scripts/bench/lesson4_toys.py --out course_utils/pretrained/records/lesson4_toys.json
    python scripts/bench/lesson4_toys.py --groups collapse --epochs 50    # one group

Runs each failure with all its fixes on 3 seeds (``run_group``) twice in one process: ``workers=1`` (one after
another, one thread, as lesson 4 ran them before) and ``workers=N`` (one process per core), alternating the order
per group so that load which comes and goes falls on both. Prints both verdict tables and whether every history
is identical, and writes a JSON record (the CPU named) with both times per group.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from course_utils.kit.env import available_cpus, cpu_name, use_threads  # noqa: E402
from course_utils.kit.files import write_text_atomic  # noqa: E402
from course_utils.kit.parallel import worker_count  # noqa: E402
from course_utils.lesson4.experiments import FAILURES, SEEDS, run_group, seed_table  # noqa: E402


def verdicts(group: dict) -> tuple[str, dict]:
    """The printed seed table and ``{setting: sorted health verdicts per seed}``."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        table = seed_table(group)
    return buf.getvalue(), {name: [sorted(r["health"]) for r in rows] for name, rows in table.items()}


def identical(a: dict, b: dict) -> bool:
    keys = ("d_loss", "g_loss", "d_real", "d_fake", "g_grad", "metrics")
    return all(x[k] == y[k] for name in a for x, y in zip(a[name], b[name], strict=True) for k in keys)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="+", default=list(FAILURES), choices=list(FAILURES))
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--workers", type=int, default=None, help="side-by-side processes (default: every core)")
    ap.add_argument("--out", type=Path, default=None, help="write the JSON record here")
    args = ap.parse_args(argv)
    use_threads(1)
    workers = worker_count(10**6, args.workers)
    record = {"cpu": cpu_name(), "cores": available_cpus(), "workers": workers, "epochs": args.epochs,
              "seeds": list(SEEDS), "groups": {}}
    for k, failure in enumerate(args.groups):
        order = (1, workers) if k % 2 == 0 else (workers, 1)
        runs, seconds = {}, {}
        for w in order:
            start = time.perf_counter()
            runs[w] = run_group(failure, args.epochs, SEEDS, workers=w, progress=False)
            seconds[w] = time.perf_counter() - start
        (text_1, v_1), (text_n, v_n) = verdicts(runs[1]), verdicts(runs[workers])
        same = identical(runs[1], runs[workers])
        print(f"== {failure}: one after another {seconds[1]:.1f} s, {workers} side by side {seconds[workers]:.1f} s "
              f"({seconds[1] / seconds[workers]:.2f}x); histories identical: {same}; verdicts equal: {v_1 == v_n}")
        print("-- one after another\n" + text_1 + f"-- {workers} side by side\n" + text_n)
        record["groups"][failure] = {"one_after_another_s": round(seconds[1], 1),
                                     "side_by_side_s": round(seconds[workers], 1), "order": list(order),
                                     "identical_histories": same, "verdicts": v_1, "verdicts_side_by_side": v_n}
    total_1 = sum(g["one_after_another_s"] for g in record["groups"].values())
    total_n = sum(g["side_by_side_s"] for g in record["groups"].values())
    record["total"] = {"one_after_another_s": round(total_1, 1), "side_by_side_s": round(total_n, 1)}
    print(f"all groups: {total_1:.1f} s one after another, {total_n:.1f} s with {workers} processes "
          f"({total_1 / total_n:.2f}x) on {record['cpu']}")
    if args.out:
        write_text_atomic(args.out, json.dumps(record, indent=1) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
