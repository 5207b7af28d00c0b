"""Each lesson's minutes per section (course_utils.tools.sections) and the run that records them (tools.run)."""

import json
from pathlib import Path

import pytest

from course_utils.tools import forecast, run, sections

ROOT = Path(__file__).resolve().parents[2]
T = forecast.Timings(lesson3_step=0.07, lesson5_iter=2.0, eval_per_image=0.001, eval_scores=1.0, cpu_step=0.07,
                     device="cpu", toy_step=0.01, lesson6_step=0.08)


def _solution(lesson: int) -> Path:
    return next((ROOT / "solutions").glob(f"{lesson:02d}_*.ipynb"))


def _headings(lesson: int) -> list[str]:
    return [name for name, _ in run.section_times([s for s, _ in run.sectioned_sources(_solution(lesson))],
                                                  [0.0] * len(run.sectioned_sources(_solution(lesson))))]


@pytest.mark.parametrize("lesson", forecast.LESSONS)
def test_every_lesson_has_a_record_of_its_current_sections(lesson):
    recorded = [name for name, _ in sections.load_sections(lesson)]
    assert recorded == _headings(lesson), (
        f"lesson {lesson}'s headings changed since its sections were timed: rerun "
        f"python -m course_utils.run {_solution(lesson).relative_to(ROOT)} --time-step and copy its sections.json "
        f"to {sections.record_path(lesson).relative_to(ROOT)}")


@pytest.mark.parametrize("lesson", sorted(sections.TRAINING_SECTIONS))
def test_every_training_section_is_a_heading_of_its_lesson(lesson):
    bases = {name.split(" (")[0] for name in _headings(lesson)}
    assert set(sections.TRAINING_SECTIONS[lesson]) <= bases


@pytest.mark.parametrize("lesson", forecast.LESSONS)
def test_the_sections_add_up_to_the_doctors_prediction(lesson):
    rows = sections.section_seconds(lesson, T)
    assert sum(s for _, s in rows) == pytest.approx(forecast.predict_from(T, lesson), rel=1e-9)
    assert all(s >= 0 for _, s in rows)


def test_a_training_section_gets_the_training_parts_and_the_others_share_the_rest_by_recorded_time():
    recorded = [("Lesson 3", 10.0), ("The game, plainly", 50.0), ("Training (about 20 min on a CPU)", 1200.0),
                ("Loss curves", 30.0)]
    parts = forecast.parts(T, 3)
    rows = dict(sections.section_seconds(3, T, recorded))
    assert rows["The game, plainly"] == pytest.approx(parts["plain loop"])
    assert rows["Training (about 20 min on a CPU)"] == pytest.approx(parts["training"] + parts["evaluation"])
    assert rows["Loss curves"] == pytest.approx(3 * rows["Lesson 3"])
    assert rows["Lesson 3"] + rows["Loss curves"] == pytest.approx(parts["other cells"])


def test_a_faster_machine_gets_fewer_minutes_in_every_untrained_section():
    fast = forecast.Timings(**{**T.__dict__, "cpu_step": T.cpu_step / 2, "lesson3_step": T.lesson3_step / 2})
    slow_rows, fast_rows = sections.section_seconds(7, T), sections.section_seconds(7, fast)
    assert all(f == pytest.approx(s / 2) for (_, s), (_, f) in zip(slow_rows, fast_rows))


def test_lesson_plan_prints_the_total_each_long_section_and_counts_the_short_ones(capsys, monkeypatch):
    recorded = [("Lesson 9", 1.0), ("Walks", 100.0), ("Settings", 0.5), ("Inversion", 300.0)]
    rows = sections.section_seconds(7, T, recorded)
    monkeypatch.setattr(sections, "load_sections", lambda lesson: recorded)
    assert sections.lesson_plan(7, timings=T) == rows
    out = capsys.readouterr().out.splitlines()
    total = sum(s for _, s in rows)
    assert f"about {total / 60:.0f} min in all" in out[0]
    long = [name for name, s in rows if s >= 30]
    assert [line.split("min  ")[1] for line in out[1:1 + len(long)]] == long
    assert out[-1].strip() == f"<1 min  each of the other {len(rows) - len(long)} sections"


def test_a_missing_record_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sections, "SECTIONS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no section record for lesson 7.*--time-step"):
        sections.load_sections(7)


def test_measure_for_times_only_what_the_lesson_reads():
    t = sections.measure_for(1, steps=1)
    assert t.cpu_step > 0 and t.lesson5_iter == t.toy_step == t.lesson6_step == 0.0


def test_run_records_each_sections_time(tmp_path, monkeypatch):
    code = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Lesson 9\n"},
                    {**code, "source": "x = 1"},
                    {"cell_type": "markdown", "metadata": {}, "source": "## Wait\n### a part of it"},
                    {**code, "source": "import time\ntime.sleep(0.3)"}, {**code, "source": "time.sleep(0.2)"},
                    {"cell_type": "markdown", "metadata": {}, "source": "## Done"}, {**code, "source": "y = 2"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nine.ipynb"
    path.write_text(json.dumps(nb))
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    assert run.main([str(path)]) == 0
    record = json.loads((tmp_path / "runs" / "nine" / "sections.json").read_text())
    assert [name for name, _ in record["sections"]] == ["Lesson 9", "Wait", "Done"]
    assert record["sections"][1][1] >= 0.5 and record["sections"][2][1] < 0.2
    assert "cpu_step_s" not in record and record["cpu"]


def test_without_a_record_the_plan_is_one_line_for_the_whole_lesson(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sections, "SECTIONS_DIR", tmp_path)
    rows = sections.lesson_plan(3, timings=T)
    assert rows == [("the whole lesson", pytest.approx(forecast.predict_from(T, 3)))]
    assert "no record of its sections yet" in capsys.readouterr().out
