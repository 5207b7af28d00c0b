"""The doctor: one line per check, one line naming the fix per problem, exit 1 when a lesson cannot run,
and predictions that follow the measured step time."""

import json
import math
import re
from pathlib import Path

import pytest
import torch

from course_utils.kit.speed import SpeedChoice
from course_utils.tools import doctor, forecast

ROOT = Path(__file__).resolve().parents[2]


def fake_timer(step: float = 0.05, seen=None):
    """A deterministic stand-in for forecast.measure: every timing proportional to ``step``."""
    def timer(steps):
        if seen is not None:
            seen.append(steps)
        return forecast.Timings(lesson3_step=step, lesson5_iter=4 * step, eval_per_image=step / 100,
                                eval_scores=step, cpu_step=step, toy_step=step / 5,
                                lesson6_step=2 * step)
    return timer


@pytest.fixture
def ready(tmp_path, monkeypatch):
    """A machine with everything in place: complete pre-fetched data, writable data and runs folders."""
    src = tmp_path / "prefetched"
    raw = src / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in doctor.FASHION_FILES:
        (raw / name).write_bytes(b"x")
    flowers = src / "flowers-102"
    (flowers / "jpg").mkdir(parents=True)
    for name in ("imagelabels.mat", "setid.mat"):
        (flowers / name).write_bytes(b"x")
    for i in range(1, doctor.FLOWERS_IMAGES + 1):
        (flowers / "jpg" / f"image_{i:05d}.jpg").touch()
    monkeypatch.setenv("COURSE_DATA_DIR", str(src))
    monkeypatch.setenv("COURSE_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(doctor, "machine_load", lambda: 0.0)  # an idle machine
    monkeypatch.setattr(forecast, "measure", fake_timer())
    monkeypatch.setenv("COURSE_SPEED", "fixed")  # the measured speed choice has its own test below
    return tmp_path


def test_min_versions_are_the_requirements():
    text = (ROOT / "requirements.txt").read_text()
    for name, version in doctor.MIN_VERSIONS.items():
        assert re.search(rf"^{name}>={re.escape(version)}\s", text, re.M), name


def test_main_prints_one_line_per_check_and_predictions(ready, capsys):
    assert doctor.main(["--steps", "2"]) == 0
    out = capsys.readouterr().out
    for expected in ("Python 3.", "torch ", "device: ", "speed: ", "fused Adam", "Fashion-MNIST: the 4 archives",
                     "Oxford 102 Flowers: ", "data folder writable", "runs folder writable", "widgets: ipywidgets",
                     "quick mode: ", "lesson 3 50 ms per step (2 steps)"):
        assert expected in out, expected
    predictions = re.findall(r"lesson (\d): predicted full run here ~(.+)", out)
    assert [p[0] for p in predictions] == ["1", "2", "3", "4", "5", "6", "7"]
    assert "WARN" not in out and "FAIL" not in out


def test_short_prints_only_problems_and_predictions(ready, capsys):
    assert doctor.report(short=True, steps=1) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "doctor: no problems found"
    assert len(lines) == 1 + len(forecast.LESSONS) and all(line.startswith("time  lesson ") for line in lines[1:])


def test_missing_data_and_an_unwritable_data_folder_fail_with_the_fix(ready, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR")
    blocker = ready / "not-a-folder"
    blocker.write_text("a file where the data folder's parent should be")
    monkeypatch.setenv("COURSE_DATA_HOME", str(blocker / "data"))
    assert doctor.main(["--steps", "1", "--short"]) == 1
    fails = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL")]
    assert any("Fashion-MNIST" in f and "cannot be downloaded" in f and "Fix: set COURSE_DATA_DIR" in f for f in fails)
    assert any("cannot write into the data folder" in f and "Fix: set COURSE_DATA_HOME" in f for f in fails)


def test_missing_data_with_a_writable_folder_is_a_warning_naming_the_offline_fix(ready, monkeypatch, capsys):
    monkeypatch.delenv("COURSE_DATA_DIR")
    assert doctor.report(short=True, steps=1) == 0  # the lessons download it
    warns = [line for line in capsys.readouterr().out.splitlines() if line.startswith("WARN")]
    assert any("Fashion-MNIST: not downloaded yet" in w and "Fix: offline: set COURSE_DATA_DIR" in w for w in warns)
    assert any("Oxford 102 Flowers: not downloaded yet" in w for w in warns)


def test_incomplete_prefetched_data_names_the_missing_files(ready, monkeypatch):
    src = Path(doctor.os.environ["COURSE_DATA_DIR"])
    (src / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    for jpg in list((src / "flowers-102" / "jpg").iterdir())[:10]:
        jpg.unlink()
    fashion, flowers = doctor.check_data(writable=True)
    assert fashion.level == "FAIL" and "t10k-labels-idx1-ubyte.gz" in fashion.text and "Fix:" in fashion.text
    assert flowers.level == "FAIL" and "8,179 of 8,189 images" in flowers.text


def test_a_data_dir_that_is_not_a_folder_fails(ready, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(ready / "nowhere"))
    [line] = doctor.check_data(writable=True)
    assert line.level == "FAIL" and "Fix: point COURSE_DATA_DIR at an existing folder" in line.text


def test_too_old_torch_is_a_problem_line(ready, monkeypatch, capsys):
    monkeypatch.setattr(torch, "__version__", "2.5.1+cu118")
    line = doctor.check_packages()
    assert line.level == "FAIL" and "torch 2.5.1+cu118 (needs >= 2.6)" in line.text
    assert "CVE-2025-32434" in line.text and "execute code" in line.text
    assert 'Fix: pip install -U "torch>=2.6" "torchvision>=0.21"' in line.text
    assert doctor.report(short=True, steps=1) == 1
    assert "FAIL  torch 2.5.1" in capsys.readouterr().out


@pytest.mark.parametrize("torch_version, vision, level", [
    ("2.5.1", "0.20.1", "FAIL"), ("2.6.0", "0.21.0", "WARN"), ("2.9.1+cu128", "0.24.1", "WARN"),
    ("2.10.0", "0.25.0", "ok"), ("2.14.1+cu130", "0.29.1", "ok"),
])
def test_torch_below_2_10_is_a_warning_naming_the_loader_bug(torch_version, vision, level):
    line = doctor.check_packages({"torch": torch_version, "torchvision": vision})
    assert line.level == level, line.text
    if level == "WARN":
        assert "CVE-2026-24747" in line.text and "memory-corruption" in line.text
        assert 'Fix: pip install -U "torch>=2.10" "torchvision>=0.25"' in line.text
    assert ("CVE-2025-32434" in line.text) == (level == "FAIL")


def test_old_python_and_busy_machine(ready, monkeypatch):
    assert doctor.check_python((3, 9, 18)).level == "FAIL"
    assert doctor.check_python((3, 10, 0)).level == "ok"
    monkeypatch.setattr(doctor, "machine_load", lambda: 7.5)
    lines = doctor.check_speed(torch.device("cpu"))
    assert any(line.level == "WARN" and "machine is busy (load 7.5" in line.text for line in lines)


def test_the_speed_line_names_each_lessons_measured_choice(ready):
    fast = SpeedChoice(False, True, "measured", {"fp32": 120.0, "fp32 channels_last": 100.0, "bf16": None,
                                                 "bf16 channels_last": None},
                       notes={"bf16": "was 11.0x slower on a first pass, not timed further"},  # vs the best then
                       first_pass={"bf16": 1260.0})  # 12.6x the chosen setting's 100 ms
    bf16 = SpeedChoice(True, False, "cached", {"fp32": 90.0, "bf16": 60.0})
    lines = doctor.check_speed(torch.device("cpu"), choices={3: fast, 5: bf16, 6: fast})
    text = lines[1].text
    assert text.startswith("speed settings (measured here): lesson 3 fp32, channels_last (bf16 12.6x slower)")
    assert "lesson 5 bf16 (fp32 1.50x slower)" in text
    fixed = doctor.check_speed(torch.device("cpu"))[1].text  # COURSE_SPEED=fixed (the fixture)
    assert fixed.startswith("speed settings (not measured: COURSE_SPEED=fixed): lesson 3 fp32, channels_last")


def test_missing_widget_packages_are_named(monkeypatch):
    real = doctor.metadata.version

    def version(name):
        if name == "ipywidgets":
            raise doctor.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(doctor.metadata, "version", version)
    line = doctor.check_widgets()
    assert line.level == "WARN" and "static figures" in line.text and "Fix: pip install ipywidgets" in line.text


def test_prediction_scales_linearly_with_the_step_timer():
    seen = []
    for lesson in forecast.LESSONS:
        # steps fast enough that no lesson's CPU time budget binds (lesson 3: 50 epochs in 4 of its 20 minutes)
        one = doctor.predict_lesson_seconds(lesson, steps=3, timer=fake_timer(0.005, seen))
        two = doctor.predict_lesson_seconds(lesson, steps=3, timer=fake_timer(0.010, seen))
        assert one > 0 and math.isclose(two, 2 * one, rel_tol=1e-12), lesson
    assert seen == [3] * 2 * len(forecast.LESSONS)


def test_prediction_model_terms():
    only_steps = forecast.Timings(lesson3_step=0.05, lesson5_iter=0.2, eval_per_image=0.0, eval_scores=0.0,
                                  cpu_step=0.0)
    # lesson 3's settings cell on a CPU: 46.85 s an epoch, 25 whole epochs fit its 20 minutes
    assert forecast.predict_from(only_steps, 3) == pytest.approx(25 * 937 * 0.05)
    on_gpu3 = forecast.Timings(0.05, 0.0, eval_per_image=0.0, eval_scores=0.0, cpu_step=0.0, device="cuda")
    assert forecast.predict_from(on_gpu3, 3) == pytest.approx(50 * 937 * 0.05)  # a GPU: 50 epochs, no budget
    assert forecast.predict_from(only_steps, 5) == pytest.approx(40 * 25 * 0.2)  # a CPU: 40 epochs fit 22 minutes
    on_gpu = forecast.Timings(0.0, lesson5_iter=0.2, eval_per_image=0.0, eval_scores=0.0, cpu_step=0.0, device="cuda")
    assert forecast.predict_from(on_gpu, 5) == pytest.approx(15 * 25 * 0.2)  # a GPU: 375 generator iterations
    conditional = forecast.Timings(0.0, 0.0, 0.0, 0.0, cpu_step=0.0, lesson6_step=0.1)
    # lesson 6's settings cell on a CPU: 93.7 s an epoch, 12 whole epochs fit its 20 minutes; a GPU: 20 epochs
    assert forecast.predict_from(conditional, 6) == pytest.approx(12 * 937 * 0.1)
    conditional_gpu = forecast.Timings(0.0, 0.0, 0.0, 0.0, cpu_step=0.0, lesson6_step=0.1, device="cuda")
    assert forecast.predict_from(conditional_gpu, 6) == pytest.approx(20 * 937 * 0.1)
    like_the_reference = forecast.Timings(0.0, 0.0, 0.0, 0.0, cpu_step=forecast.REFERENCE_STEP_S)
    assert forecast.predict_from(like_the_reference, 2) == pytest.approx(forecast.RECORDED_S[2])
    assert forecast.predict_from(like_the_reference, 7) == pytest.approx(forecast.RECORDED_S[7])  # trains nothing
    toy = forecast.Timings(0.0, 0.0, 0.0, 0.0, cpu_step=0.0, toy_step=0.01)  # lesson 4: its toy runs, 3 seeds
    from course_utils.lesson4.experiments import toy_step_units
    assert forecast.predict_from(toy, 4) == pytest.approx(toy_step_units(workers=None) * 0.01)  # as run_group runs
    assert toy_step_units(seeds=1) == pytest.approx(toy_step_units() / 3)
    # side by side: each run_group call (a failure alone, then its fixes) lasts its busiest worker's share; with a
    # worker per run, its longest run: dominance 4,000 (4 D steps) + 7,200 (8 D steps), the others 1,600 each
    assert toy_step_units(workers=100) == pytest.approx(4000 + 7200 + 4 * 1600)
    assert toy_step_units() / 2 <= toy_step_units(workers=2) < toy_step_units() * 0.6
    with pytest.raises(ValueError, match="lesson must be one of"):
        doctor.predict_lesson_seconds(8, timer=fake_timer())


def test_steps_must_be_positive():
    with pytest.raises(SystemExit):
        doctor.main(["--steps", "0"])
    with pytest.raises(ValueError, match="steps must be at least 1"):
        forecast.measure(0)


def test_real_timing_runs_the_lessons_code_and_keeps_the_callers_random_state():
    """One real (tiny) measurement: lesson 3's train_gan and lesson 5's train_wgan_gp on this machine."""
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    t = forecast.measure(steps=1, device="cpu")
    assert torch.equal(torch.rand(3), expected)  # the timing did not consume the caller's random numbers
    assert all(v > 0 and math.isfinite(v) for v in (t.lesson3_step, t.lesson5_iter, t.eval_per_image, t.cpu_step))
    epochs = min(50, max(1, int(20 * 60 // (937 * t.lesson3_step))))  # lesson 3 on a CPU: a 20-minute budget
    # the budget also holds the checkpoints' evaluation, which can cost the last epoch (measured: 22 of 23 fit)
    assert forecast.predict_from(t, 3) > max(1, epochs - 1) * 937 * t.lesson3_step


def test_a_busy_cpu_times_one_thread_and_says_training_picks_it(monkeypatch):
    monkeypatch.setattr(doctor, "available_cpus", lambda: 2)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    monkeypatch.setattr(forecast, "time_lesson3_step", lambda steps, device: 0.25)  # what 1 thread gives
    slow = fake_timer(4.5)(1)
    line = doctor.busy_cpu_line(slow, steps=3, load=9.0)
    assert line.level == "WARN" and "250 ms against 4500 ms with 2" in line.text and "`threads:` line" in line.text
    from dataclasses import replace
    one = forecast.duration(forecast.predict_from(replace(slow, lesson3_step=0.25, cpu_step=0.25), 3))
    assert f"lesson 3 with 1 thread: ~{one})" in line.text  # the forecast's model, time budget included
    assert doctor.busy_cpu_line(fake_timer(0.1)(1), steps=3, load=9.0) is None  # 1 thread no faster: nothing to say
    assert doctor.busy_cpu_line(slow, steps=3, load=0.2) is None  # an idle machine is not checked


def test_lesson5_on_a_cpu_is_predicted_by_its_time_budget_and_on_a_gpu_by_its_epochs():
    cpu, gpu = forecast.lesson5_setting("cpu"), forecast.lesson5_setting(torch.device("cuda"))
    assert (cpu["image_size"], cpu["width"], cpu["max_minutes"]) == (64, 32, 22)
    assert (gpu["image_size"], gpu["width"], gpu["max_minutes"], gpu["num_epochs"]) == (64, 48, None, 15)
    # 3 s per generator iteration: 75 s per epoch; 17 whole epochs fit 22 minutes, an 18th would not
    assert forecast.lesson5_training_s(3.0, cpu) == pytest.approx(17 * 75.0)
    # a fast CPU runs out of epochs (40) before the budget
    assert forecast.lesson5_training_s(0.5, cpu) == pytest.approx(40 * 12.5)
    assert forecast.lesson5_training_s(0.1, gpu) == pytest.approx(15 * 2.5)
    slow = forecast.Timings(lesson3_step=1.0, lesson5_iter=60.0, eval_per_image=0.0, eval_scores=0.0, cpu_step=1.0)
    assert forecast.parts(slow, 5)["training"] == pytest.approx(1500.0)  # one epoch, even if it alone is 25 min


def test_lesson3_on_a_cpu_is_predicted_by_its_time_budget_and_on_a_gpu_by_its_epochs():
    cpu, gpu = forecast.lesson3_setting("cpu"), forecast.lesson3_setting(torch.device("cuda"))
    assert (cpu["max_minutes"], cpu["checkpoint_every"]) == (20, 1)
    assert (gpu["max_minutes"], gpu["checkpoint_every"]) == (None, 5)
    # 0.15 s a step and 10 s of scoring: 150.55 s an epoch; 7 whole epochs fit 20 minutes, an 8th would not
    assert forecast.lesson3_training_s(0.15, 10.0, cpu) == (pytest.approx(7 * 937 * 0.15), 7)
    assert forecast.lesson3_training_s(0.001, 10.0, cpu) == (pytest.approx(50 * 937 * 0.001), 50)  # out of epochs
    assert forecast.lesson3_training_s(0.002, 10.0, gpu) == (pytest.approx(50 * 937 * 0.002), 10)
    cpu_timings = forecast.Timings(lesson3_step=0.15, lesson5_iter=1.0, eval_per_image=0.0, eval_scores=10.0,
                                   cpu_step=0.15)
    assert forecast.parts(cpu_timings, 3)["training"] == pytest.approx(7 * 937 * 0.15)
    assert forecast.parts(cpu_timings, 3)["plain loop"] == pytest.approx(300 * 0.15)


def test_lesson3_settings_cell_is_the_setting_the_doctor_predicts():
    cells = json.loads((ROOT / "solutions" / "03_training_a_gan.ipynb").read_text())["cells"]
    settings = next("".join(c["source"]) for c in cells
                    if c["cell_type"] == "code" and "max_minutes =" in "".join(c["source"]))
    c = forecast.LESSON3
    assert f'max_minutes = quick(None if device.type == "cuda" else {c["cpu_max_minutes"]}, None)' in settings
    assert (f'checkpoint_every = quick({c["gpu_checkpoint_every"]} if device.type == "cuda" else '
            f'{c["cpu_checkpoint_every"]}, 1)') in settings
    assert f'num_epochs = quick({c["num_epochs"]}, 1)' in settings
    assert f'plain_steps = quick({c["plain_steps"]}, 20)' in settings


@pytest.mark.parametrize("nb, c", [("06_conditional_gan.ipynb", forecast.LESSON6)])
def test_lesson6_settings_cell_is_the_setting_the_doctor_predicts(nb, c):
    cells = json.loads((ROOT / "solutions" / nb).read_text())["cells"]
    settings = next("".join(c["source"]) for c in cells
                    if c["cell_type"] == "code" and "max_minutes =" in "".join(c["source"]))
    assert f'max_minutes = quick(None if device.type == "cuda" else {c["cpu_max_minutes"]}, None)' in settings
    assert (f'checkpoint_every = quick({c["gpu_checkpoint_every"]} if device.type == "cuda" else '
            f'{c["cpu_checkpoint_every"]}, 1)') in settings
    assert f'num_epochs = quick({c["num_epochs"]}, 1)' in settings
    cpu = forecast.lesson6_setting("cpu")
    assert forecast.lesson6_training_s(0.15, 10.0, cpu) == (pytest.approx(7 * 937 * 0.15), 7)


def test_lesson5_settings_cell_is_the_setting_the_doctor_predicts():
    cells = json.loads((ROOT / "solutions" / "05_wgan_gp_flowers.ipynb").read_text())["cells"]
    settings = next("".join(c["source"]) for c in cells
                    if c["cell_type"] == "code" and "max_minutes =" in "".join(c["source"]))
    c = forecast.LESSON5
    assert f'max_minutes = quick(None if device.type == "cuda" else {c["cpu_max_minutes"]}, None)' in settings
    assert f'num_epochs = quick({c["num_epochs"]} if device.type == "cuda" else {c["cpu_num_epochs"]}, 1)' in settings


def test_lesson_1s_machine_check_is_one_line_without_timing(ready, monkeypatch, capsys):
    monkeypatch.setattr(doctor.forecast, "measure", lambda *a, **k: pytest.fail("the machine check must not time"))
    assert doctor.machine_check() == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("machine check: everything the lessons need is here")
    assert "python3 course.py doctor" in lines[0]


def test_the_machine_check_names_each_problem_with_its_fix(ready, monkeypatch, capsys):
    monkeypatch.setattr(torch, "__version__", "2.5.1+cu118")
    assert doctor.machine_check() == 1
    out = capsys.readouterr().out
    assert "FAIL  torch 2.5.1+cu118" in out and "Fix: pip install" in out and "machine check: everything" not in out
