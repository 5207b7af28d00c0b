"""Each lesson's sections and their minutes on this machine, printed by a lesson's first cells (``lesson_plan``).

The minutes come from the forecast (:mod:`course_utils.tools.forecast`), never typed: the forecast predicts the
lesson's parts from a few timed steps here (training, evaluation, the rest), and a record of one whole run at
default settings (``records/sections/NN.json``, written by ``python -m course_utils.run --time-step``) says how
the rest divides between the sections. So:

* a section that trains (``TRAINING_SECTIONS``) gets the forecast's training parts (on a CPU: the lesson's time
  budget; on a GPU: its epochs at the timed step);
* every other section gets the remaining parts in proportion to its recorded seconds.

The sections add up to the doctor's prediction for the lesson. A record names the headings it was measured on;
a test fails when a lesson's ``#``/``##`` headings and its record drift apart (rerun the lesson with
``--time-step`` and copy its ``sections.json`` into the records).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..measure.records import RECORDS_DIR
from . import forecast

SECTIONS_DIR = RECORDS_DIR / "sections"
TRAINING_SECTIONS = {
    3: {"The game, plainly": ("plain loop",), "Training": ("training", "evaluation")},
    5: {"Training": ("training",)},
    6: {"Training": ("training", "evaluation")},
}
"""Per lesson: the sections (headings, up to a parenthesis) that run the forecast's named parts."""


def record_path(lesson: int) -> Path:
    return SECTIONS_DIR / f"{lesson:02d}.json"


def load_sections(lesson: int) -> list[tuple[str, float]]:
    """The recorded ``(heading, seconds)`` of each section of lesson ``lesson``'s whole run (plumbing)."""
    path = record_path(lesson)
    if not path.exists():
        known = sorted(p.stem for p in SECTIONS_DIR.glob("*.json"))
        raise FileNotFoundError(f"no section record for lesson {lesson} ({path}); recorded lessons: {known}. Record "
                                f"one: python -m course_utils.run solutions/{lesson:02d}_*.ipynb --time-step, then "
                                f"copy its runs/.../sections.json to {path}")
    record = json.loads(path.read_text())
    return [(str(name), float(seconds)) for name, seconds in record["sections"]]


def _base(heading: str) -> str:
    return heading.split(" (")[0].strip()


def section_seconds(lesson: int, timings: forecast.Timings, sections=None) -> list[tuple[str, float]]:
    """``(heading, predicted seconds here)`` for each section of ``lesson``; they add up to the forecast.

    ``sections`` (default: the record) are the recorded ``(heading, seconds)``; ``timings`` come from
    :func:`forecast.measure`.
    """
    sections = load_sections(lesson) if sections is None else sections
    parts = forecast.parts(timings, lesson)
    tagged = {name: keys for name, keys in TRAINING_SECTIONS.get(lesson, {}).items()}
    claimed = {key for keys in tagged.values() for key in keys}
    rest = sum(seconds for key, seconds in parts.items() if key not in claimed)
    untagged = sum(s for name, s in sections if _base(name) not in tagged) or 1.0
    return [(name, sum(parts[k] for k in tagged[_base(name)]) if _base(name) in tagged else rest * s / untagged)
            for name, s in sections]


def measure_for(lesson: int, steps: int = 5) -> forecast.Timings:
    """Time only what lesson ``lesson``'s forecast reads (a few seconds on a CPU); the rest stays 0 (plumbing)."""
    from ..kit.env import get_device
    from ..kit.timing import preserved_rng

    device = get_device()
    with preserved_rng():
        G, D = forecast.lesson3_models("cpu")
        cpu_step = forecast.time_lesson3_step(steps, "cpu", warmup=2, models=(G, D))
        step = cpu_step if lesson != 3 or device.type == "cpu" else forecast.time_lesson3_step(steps, device)
        iteration = forecast.time_lesson5_iteration(1, device) if lesson == 5 else 0.0
        per_image, scores = forecast.time_evaluation(G.to(device), n=100) if lesson in (3, 6) else (0.0, 0.0)
        toy = forecast.time_toy_step() if lesson in (2, 4) else 0.0
        conditional = forecast.time_conditional_step(steps, device, warmup=2) if lesson == 6 else 0.0
    return forecast.Timings(step, iteration, per_image, scores, cpu_step, device.type, toy, conditional)


def _minutes(seconds: float) -> str:
    return "<1 min" if seconds < 30 else f"{seconds / 60:.0f} min"


def _about(seconds: float) -> str:
    return "under a minute" if seconds < 30 else f"about {seconds / 60:.0f} min"


def lesson_plan(lesson: int, steps: int = 5, timings=None) -> list[tuple[str, float]]:
    """Print lesson ``lesson``'s sections with their minutes on this machine (a few timed steps: some seconds).

    Returns the ``(heading, seconds)`` pairs printed. ``timings`` (default: measured now) are
    :class:`forecast.Timings`.
    """
    t = timings if timings is not None else measure_for(lesson, steps)
    if not record_path(lesson).exists():  # a lesson not timed by sections yet: the whole lesson, one line
        total = forecast.predict_from(t, lesson)
        print(f"This lesson's cells on this machine: {_about(total)} in all (predicted from a few timed "
              "steps; no record of its sections yet)")
        return [("the whole lesson", total)]
    rows = section_seconds(lesson, t)
    total = sum(s for _, s in rows)
    print(f"This lesson's cells on this machine: {_about(total)} in all, by section (predicted from a few "
          "timed steps; `python3 course.py doctor` explains how):")
    long = [(name, seconds) for name, seconds in rows if seconds >= 30]
    for name, seconds in long:
        print(f"  {_minutes(seconds):>7}  {'the opening cells' if name.startswith('Lesson ') else name}")
    if len(long) < len(rows):
        print(f"  {'<1 min':>7}  {'each of the other' if long else 'each of the'} {len(rows) - len(long)} sections")
    return rows
