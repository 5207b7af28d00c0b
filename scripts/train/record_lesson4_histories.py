"""Record the four toy runs lesson 4's diagnosis exercise is checked on (seed 0, full settings), and the
held-out runs the grader adds (the same four settings on seeds 1 and 2, labelled by the course's ``diagnose``).

    python scripts/train/record_lesson4_histories.py              # lesson04_*.pt: seed 0 and the held-out runs
    python scripts/train/record_lesson4_histories.py --held-out   # only the held-out runs (lesson04_heldout_*.pt)

Each history keeps every per-step statistic and the diversity per epoch; the fixed-noise samples are
cut to their first 250 points (enough for ``sample_motion``) to keep the files small.
"""

import sys

from course_utils.kit.checkpoints import HISTORY_DIR, save_history
from course_utils.kit.env import use_threads
from course_utils.lesson4.diagnostics import HELD_OUT, RECORDED, diagnose
from course_utils.lesson4.experiments import settings_for, toy_run

RUNS = {"dominance": ("dominance", None), "oscillation": ("oscillation", None), "mode collapse": ("collapse", None),
        "healthy": ("collapse", "+ label smoothing 0.1")}


def main(argv=None) -> None:
    held_out_only = "--held-out" in (sys.argv[1:] if argv is None else argv)
    use_threads(1)
    for label, (failure, fix) in ({} if held_out_only else RUNS).items():
        h = toy_run(settings_for(failure, fix), seed=0, epochs=50)
        h["samples"] = [{"epoch": s["epoch"], "images": s["images"][:250]} for s in h["samples"]]
        got = diagnose(h)
        print(f"{label:14} -> {got}")
        if got[0] != label:
            raise SystemExit(f"the {label} run is diagnosed {got[0]!r}: not recorded")
        save_history(h, HISTORY_DIR / f"{RECORDED[label]}.pt")
    for label, (failure, fix) in RUNS.items():  # held out: the student's thresholds never saw these
        for seed in (1, 2):
            h = toy_run(settings_for(failure, fix), seed=seed, epochs=50)
            h["samples"] = [{"epoch": s["epoch"], "images": s["images"][:250]} for s in h["samples"]]
            h["diagnosis"] = diagnose(h)[0]  # the grader's answer: the course's thresholds on this run
            print(f"held out, {label} setting, seed {seed} -> {h['diagnosis']}")
            save_history(h, HISTORY_DIR / f"{HELD_OUT}_{RECORDED[label].removeprefix('lesson04_')}_seed{seed}.pt")


if __name__ == "__main__":
    main()
