"""Grade a generated class of lesson-1 submissions and time it (the grader's throughput, sandbox included).

    COURSE_DATA_DIR=... python scripts/bench/grade_class.py --n 100 --jobs 2 --out runs/grade_class

Builds ``--n`` submissions from lesson 1's solution (its exercise and import cells): a third right, a third
with one typical mistake, a third hostile (rewrites a course file, reads the environment, floods its output,
leaves a ``setsid`` child, writes elsewhere); grades them with ``--jobs``; prints the wall time, the time per
submission, the score histogram, and whether every submission scored what it should.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from course_utils.grading import grade  # noqa: E402
from course_utils.kit.env import cpu_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
MISTAKES = {  # exercise -> (old, new, points lost)
    "sample_latent": ("torch.randn(", "torch.rand(", 1),
    "fc_generator": (".view(-1, 1, 28, 28)", "", 2),
    "conv_generator": ("nn.Tanh(),", "", 3),
}
HOSTILE = [
    "open(__import__('course_utils').__file__, 'a').write('# pwned')",
    "import os\nprint(os.environ.get('HOME'), sorted(os.environ))",
    "for _ in range(100_000):\n    print('x' * 1000)",
    "import subprocess\nsubprocess.Popen(['setsid', 'sleep', '600'])",
    "open('/tmp/planted', 'w').write('x'); open('../gradebook.csv', 'w').write('forged')",
]


def lesson1_cells() -> list[dict]:
    nb = json.loads((ROOT / "solutions" / "01_generator.ipynb").read_text())
    keep = []
    for cell in nb["cells"]:
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and ("exercise" in cell["metadata"] or src.lstrip().startswith("import ")):
            keep.append({**cell, "source": src, "outputs": [], "execution_count": None})
    return keep


def make_class(n: int, folder: Path) -> dict[str, int]:
    """Write ``n`` submissions into ``folder``; returns the score each should get."""
    base, expected = lesson1_cells(), {}
    for i in range(n):
        cells = [dict(c) for c in base]
        kind, score = i % 3, 7
        if kind == 1:
            exercise = list(MISTAKES)[(i // 3) % len(MISTAKES)]  # every kind of mistake in turn
            old, new, lost = MISTAKES[exercise]
            for c in cells:
                if c["metadata"].get("exercise", {}).get("id") == exercise:
                    c["source"] = c["source"].replace(old, new)
            score -= lost
        elif kind == 2:
            cells.append({"cell_type": "code", "metadata": {}, "source": HOSTILE[i % len(HOSTILE)], "outputs": [],
                          "execution_count": None})
        name = f"student{i:03d}"
        (folder / f"{name}.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                          "nbformat_minor": 5}))
        expected[name] = score
    return expected


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="runs/grade_class")
    args = p.parse_args(argv)
    out = Path(args.out)
    subs = out / "submissions"
    subs.mkdir(parents=True, exist_ok=True)
    expected = make_class(args.n, subs)
    start = time.perf_counter()
    reports = grade.grade_all([str(subs)], out / "grades", cell_timeout=60, total_timeout=300, jobs=args.jobs)
    wall = time.perf_counter() - start
    wrong = {r["student"]: (r["score"], expected[r["student"]]) for r in reports
             if r["score"] != expected[r["student"]]}
    per = [r["runtime_s"] for r in reports]
    summary = {"cpu": cpu_name(), "n": args.n, "jobs": args.jobs, "wall_s": round(wall, 1),
               "wall_per_submission_s": round(wall / args.n, 2), "runtime_s_median": statistics.median(per),
               "runtime_s_max": max(per), "scores": {s: sum(r["score"] == s for r in reports) for s in range(8)},
               "mismatches": wrong}
    print(json.dumps(summary, indent=1))
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
