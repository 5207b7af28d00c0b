"""scripts/bench/time_to_quality.py (``benchmark.py --ttq``): the clock, schedule, verdict, one tiny real run."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from course_utils import load_generator
from course_utils.kit.env import cpu_name

SCRIPTS = Path(__file__).parents[2] / "scripts" / "bench"
sys.path[:0] = [str(SCRIPTS), str(SCRIPTS.parent / "train")]
_spec = importlib.util.spec_from_file_location("time_to_quality", SCRIPTS / "time_to_quality.py")
ttq = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ttq)


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Ticker:
    """A clock that moves ``step`` seconds each time it is read: real runs score on a schedule that does not
    depend on how fast (or how loaded) this machine is."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_the_clock_scores_on_schedule_stops_at_the_budget_and_leaves_scoring_off_the_clock():
    t = FakeTime()

    def score():
        t.now += 1000.0  # scoring takes long: it must not count as training
        return {"fid": 50.0 - len(clock.rows)}

    clock = ttq.TrainingClock(budget=150, every=60, score=score, timer=t)
    clock.start()
    with pytest.raises(ttq.StopTraining):
        for _ in range(100):
            t.now += 7.0  # one training step
            clock.tick()
    assert [r["minutes"] for r in clock.rows] == [pytest.approx(63 / 60, abs=1e-3), pytest.approx(126 / 60, abs=1e-3),
                                                  2.5]
    assert clock.trained == pytest.approx(154.0)  # 22 steps of 7 s: the first tick at or past 150 s stops
    assert [r["fid"] for r in clock.rows] == [50.0, 49.0, 48.0]


def test_the_clock_refuses_a_budget_that_is_not_positive():
    with pytest.raises(ValueError, match="positive"):
        ttq.TrainingClock(budget=0, every=1, score=dict)


def _result(lesson_ema, machine="AMD EPYC"):
    lesson = [{"minutes": m, "raw": 99.0, "ema": f} for m, f in zip([3, 6, 9], lesson_ema, strict=True)]
    tutorial = [{"minutes": m, "fid": f} for m, f in zip([3, 6, 9], [150.0, 90.0, 70.0], strict=True)]
    return {"machine": machine, "minutes": 9, "lesson": lesson, "tutorial": tutorial}


CURVE = {"machine": "AMD EPYC", "epochs": 20, "train_s": 90 * 60, "fid_samples": 10_000,
         "curve": [{"epoch": 1, "minutes": 4.5, "fid": 120.0}, {"epoch": 20, "minutes": 90.0, "fid": 40.0}]}


def test_the_report_names_the_first_time_at_the_tutorials_final_quality_and_the_verdict(capsys):
    ttq.report(_result([60.0, 39.5, 30.0]), CURVE)
    out = capsys.readouterr().out
    assert "reached the tutorial's 20-epoch FID 40.00 after 6.00 min" in out
    assert "within a third of the tutorial's 20-epoch time (30.0 min)" in out and "NOT within" not in out
    assert "FID 70.00 (far from its own 20-epoch quality)" in out


def test_the_report_says_when_the_target_is_missed_or_the_curve_is_from_another_machine(capsys):
    ttq.report(_result([60.0, 50.0, 45.0], machine="Intel Xeon"), CURVE)
    out = capsys.readouterr().out
    assert "did NOT reach" in out and "ANOTHER machine" in out
    assert "does not decide the target: rerun with --minutes 30" in out  # 9 minutes < a third of 90
    ttq.report({**_result([60.0, 50.0, 45.0]), "minutes": 30}, CURVE)
    assert "so NOT within a third of the tutorial's 20-epoch time (30.0 min)" in capsys.readouterr().out
    ttq.report(_result([60.0, 50.0, 45.0]), None)  # no curve here: the target from the course's (GPU) record
    out = capsys.readouterr().out
    assert "tutorial_dcgan.py --record" in out and "did NOT reach it in 9 minutes" in out
    ttq.report(_result([60.0, 30.0, 20.0]), None)
    assert "the lesson path reached it after 6.00 min" in capsys.readouterr().out


def test_a_tiny_real_run_scores_both_paths_and_writes_a_loadable_generator(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_SPEED", "fixed")  # no speed measuring
    monkeypatch.setattr(ttq, "TIMER", Ticker(0.25))  # 3 "seconds" = a dozen clock readings
    result = ttq.run(0.05, str(tmp_path), every=0.02, n=200, device=torch.device("cpu"),
                     record_path=tmp_path / "no_curve.json", chunk=2)
    for rows in (result["lesson"], result["tutorial"]):
        assert len(rows) >= 2 and rows[-1]["minutes"] == pytest.approx(0.05)
        assert all(a["minutes"] < b["minutes"] for a, b in zip(rows, rows[1:]))
    assert all(r["raw"] > 0 and r["ema"] > 0 for r in result["lesson"])
    G = load_generator(tmp_path / "generator.pt")
    assert G.meta["variant"] == result["kept"] and G.meta["fid"] == result["lesson"][-1][result["kept"]]
    assert (tmp_path / "ttq.json").exists() and "tutorial_dcgan.py --record" in capsys.readouterr().out


def test_lesson_only_needs_this_machines_curve_and_trains_only_the_lesson_path(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COURSE_SPEED", "fixed")
    monkeypatch.setattr(ttq, "TIMER", Ticker(0.25))
    with pytest.raises(SystemExit, match="tutorial_dcgan.py --record"):
        ttq.run(0.03, str(tmp_path), every=0.015, n=200, record_path=tmp_path / "none.json", tutorial=False)
    curve_path = tmp_path / "curve.json"
    curve_path.write_text(json.dumps({**CURVE, "machine": "another CPU"}))
    with pytest.raises(SystemExit, match="recorded one is from another CPU"):
        ttq.run(0.03, str(tmp_path), every=0.015, n=200, record_path=curve_path, tutorial=False)
    curve_path.write_text(json.dumps({**CURVE, "machine": cpu_name()}))
    result = ttq.run(0.03, str(tmp_path), every=0.015, n=200, device=torch.device("cpu"), record_path=curve_path,
                     chunk=2, tutorial=False)
    assert result["tutorial"] == [] and len(result["lesson"]) >= 2
    out = capsys.readouterr().out
    assert "tutorial DCGAN" not in out and "the tutorial's recorded curve (20 epochs" in out
    assert "rerun with --minutes 30" in out  # 0.03 minutes: far short of a third of the recorded 90
