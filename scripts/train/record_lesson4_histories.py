"""Record the four toy runs lesson 4's diagnosis exercise is checked on (seed 0, full settings).

    python scripts/train/record_lesson4_histories.py   # writes course_utils/pretrained/histories/lesson04_*.pt

Each history keeps every per-step statistic and the diversity per epoch; the fixed-noise samples are
cut to their first 250 points (enough for ``sample_motion``) to keep the files small.
"""

from course_utils.kit.checkpoints import HISTORY_DIR, save_history
from course_utils.kit.env import use_threads
from course_utils.lesson4.diagnostics import RECORDED, diagnose
from course_utils.lesson4.experiments import settings_for, toy_run

RUNS = {"dominance": ("dominance", None), "oscillation": ("oscillation", None), "mode collapse": ("collapse", None),
        "healthy": ("collapse", "+ label smoothing 0.1")}


def main() -> None:
    use_threads(1)
    for label, (failure, fix) in RUNS.items():
        h = toy_run(settings_for(failure, fix), seed=0, epochs=50)
        h["samples"] = [{"epoch": s["epoch"], "images": s["images"][:250]} for s in h["samples"]]
        got = diagnose(h)
        print(f"{label:14} -> {got}")
        if got[0] != label:
            raise SystemExit(f"the {label} run is diagnosed {got[0]!r}: not recorded")
        save_history(h, HISTORY_DIR / f"{RECORDED[label]}.pt")


if __name__ == "__main__":
    main()
