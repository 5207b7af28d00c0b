"""Speed settings are chosen by timing candidates here (``course_utils.kit.speed``): exercised with a fake clock.

The fake clock decides which candidate is fast, so each test knows the right answer whatever this
machine's real speeds are; the numerics check and the cache run for real.
"""

from __future__ import annotations

import pytest
import torch

from course_utils.kit import speed
from course_utils.kit.data import TensorLoader
from course_utils.kit.speed import candidate_name, choose_speed
from course_utils.lesson1.reference import Generator, init_weights
from course_utils.lesson2.reference import Discriminator
from course_utils.lesson3.trainer import train_gan
from course_utils.lesson6.conditional import ConditionalGenerator, ProjectionDiscriminator

LATENT = 16


class FakeClock:
    """``timer()`` for choose_speed: each pass (a start and an end call) lasts its candidate's ms.

    The passes come in choose_speed's order: per candidate a warm-up, then (unless ``abandoned``) a
    first timed pass; then ``steps - 1`` interleaved rounds (``speed.round_order``). ``load(k)``
    multiplies the k-th pass's time (a busy machine); by default every pass takes its nominal time.
    """

    def __init__(self, ms: dict, steps: int, abandoned=(), load=None):
        live = [name for name in ms if name not in abandoned]
        names = []
        for name in ms:
            names += [name] if name in abandoned else [name, name]
        for r in range(1, steps):
            names += speed.round_order(live, r)
        self.plan = [ms[name] * (load(k) if load else 1.0) for k, name in enumerate(names)]
        self.t, self.calls, self.started = 0.0, 0, False

    def __call__(self) -> float:
        self.calls += 1
        if self.started:
            self.t += self.plan.pop(0) / 1000
        self.started = not self.started
        return self.t


def models(width=8):
    torch.manual_seed(0)
    G, D = Generator(LATENT, width=width), Discriminator(width=width)
    G.apply(init_weights)
    D.apply(init_weights)
    return G, D


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path))
    monkeypatch.delenv(speed.SPEED_ENV, raising=False)
    monkeypatch.delenv("COURSE_QUICK", raising=False)  # quick mode skips the timing (tested below)
    return tmp_path


ALL = ["fp32", "fp32 channels_last", "bf16", "bf16 channels_last"]


def test_the_fastest_candidate_is_chosen_and_said_in_one_line():
    G, D = models()
    clock = FakeClock(dict(zip(ALL, (100, 90, 50, 60), strict=True)), steps=2)
    choice = choose_speed(G, D, "cpu", batch_size=8, steps=2, timer=clock)
    assert (choice.amp, choice.channels_last, choice.source) == (True, False, "measured")
    assert choice.ms == pytest.approx({"fp32": 100, "fp32 channels_last": 90, "bf16": 50, "bf16 channels_last": 60})
    line = choice.line()
    assert line.startswith("speed: bf16 autocast on (2.00x faster here), channels_last off") and "\n" not in line


def test_channels_last_is_kept_when_it_wins_and_bf16_dropped_when_it_loses():
    G, D = models()
    clock = FakeClock(dict(zip(ALL, (100, 70, 900, 1000), strict=True)), steps=2, abandoned=ALL[2:])
    choice = choose_speed(G, D, "cpu", batch_size=8, steps=2, timer=clock)
    assert (choice.amp, choice.channels_last) == (False, True)
    assert choice.ms["bf16"] is None and "slower on a first pass" in choice.notes["bf16"]  # abandoned early
    assert clock.calls == 2 * (3 + 3 + 1 + 1)  # two timed candidates in full, two warm-ups only
    assert "bf16 autocast off (the other way was 14.3x slower on a first pass" in choice.line()  # 1000 / 70
    assert choice.first_pass == pytest.approx({"bf16": 900.0, "bf16 channels_last": 1000.0})  # their one pass, ms
    assert choice.short() == "fp32, channels_last (bf16 12.9x slower)"  # 900 / 70: the faster bf16 pass


def test_a_candidate_that_fails_the_numerics_check_is_never_chosen(monkeypatch):
    monkeypatch.setattr(speed, "RTOL", 0.0)
    monkeypatch.setattr(speed, "ATOL", 1e-5)  # float noise (channels_last) passes, bf16's rounding does not
    G, D = models()
    clock = FakeClock(dict(zip(ALL, (100, 100, 10, 10), strict=True)), steps=1, abandoned=ALL[2:])
    choice = choose_speed(G, D, "cpu", batch_size=8, steps=1, timer=clock)
    assert choice.amp is False
    assert "failed the numerics check" in choice.notes["bf16"]


def test_forced_settings_are_not_measured_and_fixed_mode_uses_the_static_rule(monkeypatch):
    G, D = models()
    clock = FakeClock({}, steps=1)
    forced = choose_speed(G, D, "cpu", amp=False, channels_last=True, timer=clock)
    assert (forced.amp, forced.channels_last, forced.source, clock.calls) == (False, True, "forced", 0)
    monkeypatch.setenv(speed.SPEED_ENV, "fixed")
    fixed = choose_speed(G, D, "cpu", timer=clock)
    assert (fixed.amp, fixed.channels_last, fixed.source, clock.calls) == (False, True, "fixed", 0)
    with pytest.raises(ValueError, match="True, False or \"auto\""):
        choose_speed(G, D, "cpu", amp="yes")


def test_quick_mode_is_not_measured(monkeypatch):
    monkeypatch.setenv("COURSE_QUICK", "1")
    G, D = models()
    clock = FakeClock({}, steps=1)
    choice = choose_speed(G, D, "cpu", timer=clock)
    assert (choice.amp, choice.channels_last, choice.source, clock.calls) == (False, True, "quick", 0)
    assert choice.line().endswith("(quick mode, not measured)")


def test_half_forced_measures_only_the_other_axis():
    G, D = models()
    clock = FakeClock({"fp32": 100, "bf16": 40}, steps=1)
    choice = choose_speed(G, D, "cpu", channels_last=False, batch_size=8, steps=1, timer=clock)
    assert (choice.amp, choice.channels_last) == (True, False) and set(choice.ms) == {"fp32", "bf16"}


def test_the_choice_is_cached_per_machine_and_shape(runs_dir):
    G, D = models()
    first = choose_speed(G, D, "cpu", batch_size=8, steps=1,
                         timer=FakeClock(dict(zip(ALL, (100, 50, 300, 300), strict=True)), steps=1,
                                         abandoned=ALL[2:]))
    clock = FakeClock({}, steps=1)
    again = choose_speed(G, D, "cpu", batch_size=8, steps=1, timer=clock)
    assert again.source == "cached" and clock.calls == 0
    assert (again.amp, again.channels_last) == (first.amp, first.channels_last) == (False, True)
    assert "cached" in again.line() and (runs_dir / speed.CACHE_NAME).exists()
    other = choose_speed(G, D, "cpu", batch_size=16, steps=1,
                         timer=FakeClock(dict(zip(ALL, (50, 100, 300, 300), strict=True)), steps=1,
                                         abandoned=ALL[2:]))
    assert other.source == "measured" and other.channels_last is False  # another batch size: measured anew


def test_measuring_leaves_the_models_and_the_random_state_alone():
    G, D = models()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    rng = torch.get_rng_state()
    choose_speed(G, D, "cpu", batch_size=8, steps=1, use_cache=False)
    assert torch.equal(rng, torch.get_rng_state())
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())
    assert all(p.grad is None for p in list(G.parameters()) + list(D.parameters()))
    assert all(p.is_contiguous() for p in list(G.parameters()) + list(D.parameters()))  # not made channels_last


def test_bf16_and_fp32_agree_within_the_stated_tolerance():
    """The numerics check's tolerance holds for the course's models: lesson 3's and lesson 6's at width 8."""
    for G, D in (models(), (ConditionalGenerator(LATENT, width=8), ProjectionDiscriminator(width=8))):
        z, labels = speed.probe_inputs(G, 16, torch.device("cpu"))
        fp32 = speed.probe_pass(G, D, z, labels, False, torch.device("cpu"))
        bf16 = speed.probe_pass(G, D, z, labels, True, torch.device("cpu"))
        assert (fp32 - bf16).abs().max() <= speed.ATOL + speed.RTOL * fp32.abs().max()
        assert not torch.equal(fp32, bf16)  # bf16 really ran: the check compares two different computations


def test_train_gan_with_auto_records_and_prints_the_choice(capsys):
    G, D = models()
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    loader = TensorLoader(images, torch.zeros(32, dtype=torch.long), batch_size=16, seed=0)
    history = train_gan(G, D, loader, 1, "cpu", checkpoint_every=0, dashboard=False)
    record = history["settings"]["speed"]
    assert record["source"] == "measured" and set(record["ms_per_pass"]) == set(ALL)
    assert history["settings"]["amp"] == record["amp"]
    assert history["settings"]["channels_last"] == record["channels_last"]
    assert "speed: bf16 autocast" in capsys.readouterr().out


def test_a_seeded_run_trains_the_same_whether_the_choice_was_measured_or_cached(monkeypatch):
    """Measuring draws no random numbers from the run's generators (fp32 forced by the fake clock)."""
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    runs = []
    for _ in range(2):  # the first call measures, the second reads the cache
        G, D = models()
        loader = TensorLoader(images, torch.zeros(32, dtype=torch.long), batch_size=16, seed=0)
        monkeypatch.setattr(speed, "DEFAULT_TIMER",
                            FakeClock(dict(zip(ALL, (10, 20, 300, 300), strict=True)), steps=3, abandoned=ALL[2:]))
        runs.append(train_gan(G, D, loader, 1, "cpu", checkpoint_every=0, verbose=False, dashboard=False))
    assert [r["settings"]["speed"]["source"] for r in runs] == ["measured", "cached"]
    assert runs[0]["settings"]["amp"] is False and runs[0]["settings"]["channels_last"] is False
    assert runs[0]["d_loss"] == runs[1]["d_loss"] and runs[0]["g_loss"] == runs[1]["g_loss"]
    assert candidate_name(False, False) == "fp32"


def test_a_burst_of_load_mid_measurement_does_not_flip_the_choice(runs_dir):
    """fp32 100 ms, channels_last 80 ms; every pass after the first four runs 4x slower (another program
    started). Timed one candidate after the other, channels_last's passes would all be slow and lose;
    interleaved and judged by per-round ratios it still wins, and the unsteady timing is not cached."""
    G, D = models()
    clock = FakeClock({"fp32": 100, "fp32 channels_last": 80}, steps=3, load=lambda k: 4.0 if k >= 4 else 1.0)
    choice = choose_speed(G, D, "cpu", amp=False, batch_size=8, steps=3, timer=clock)
    assert choice.channels_last is True and choice.ms == pytest.approx({"fp32": 100, "fp32 channels_last": 80})
    assert choice.spread == pytest.approx(4.0) and choice.noisy()
    assert "timings unsteady (passes differed up to 4.0x" in choice.line()
    assert not (runs_dir / speed.CACHE_NAME).exists()  # measured again next run
    again = choose_speed(G, D, "cpu", amp=False, batch_size=8, steps=3,
                         timer=FakeClock({"fp32": 100, "fp32 channels_last": 80}, steps=3))
    assert again.source == "measured" and not again.noisy() and "unsteady" not in again.line()
    assert (runs_dir / speed.CACHE_NAME).exists()


def test_old_or_outdated_cache_entries_are_measured_again(runs_dir):
    """An entry written by the older, one-candidate-after-the-other timing (no version) or more than
    MAX_AGE_DAYS old is ignored; a current one is used."""
    import json
    import time

    G, D = models()
    first = choose_speed(G, D, "cpu", amp=False, batch_size=8, steps=1,
                         timer=FakeClock({"fp32": 100, "fp32 channels_last": 50}, steps=1))
    path = runs_dir / speed.CACHE_NAME
    data = json.loads(path.read_text())
    (key, entry), = data.items()
    assert first.channels_last is True and entry["version"] == speed.CACHE_VERSION
    assert speed.cached_choice(key) == entry
    old = time.time() + (speed.MAX_AGE_DAYS + 1) * 86400  # a month and a day later
    assert speed.cached_choice(key, today=old) is None
    assert speed.cached_choice(key, today=time.time() + (speed.MAX_AGE_DAYS - 1) * 86400) == entry
    path.write_text(json.dumps({key: {k: v for k, v in entry.items() if k != "version"} | {"channels_last": False}}))
    clock = FakeClock({"fp32": 100, "fp32 channels_last": 50}, steps=1)
    again = choose_speed(G, D, "cpu", amp=False, batch_size=8, steps=1, timer=clock)
    assert again.source == "measured" and again.channels_last is True and clock.calls == 8  # 2 x (warm-up + 1)


def test_two_runs_writing_the_cache_at_once_both_keep_their_entry(runs_dir, monkeypatch):
    """Each write reads the cache, adds its entry and writes it back; a pause after the read lets the other
    writer in. Under the lock the second waits, so neither entry is lost."""
    import json
    import threading
    import time

    real_read = speed.read_cache

    def slow_read():
        data = real_read()
        time.sleep(0.3)  # the other thread reads now, unless the lock keeps it out
        return data

    monkeypatch.setattr(speed, "read_cache", slow_read)
    choice = speed.SpeedChoice(False, True, "measured", {"fp32": 10.0}, "test machine")
    threads = [threading.Thread(target=speed.write_cache, args=(key, choice)) for key in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = json.loads((runs_dir / speed.CACHE_NAME).read_text())
    assert set(data) == {"first", "second"}
    assert [p.name for p in runs_dir.iterdir() if p.name.endswith(".tmp")] == []  # no temporary file left


def test_two_processes_writing_the_cache_at_once_both_keep_their_entry(runs_dir):
    import json
    import subprocess
    import sys

    code = ("import sys, time\nfrom course_utils.kit import speed\nreal = speed.read_cache\n"
            "speed.read_cache = lambda: (real(), time.sleep(0.5))[0]\n"
            "speed.write_cache(sys.argv[1], speed.SpeedChoice(True, False, 'measured', {'bf16': 5.0}))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, key]) for key in ("one", "two")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert set(json.loads((runs_dir / speed.CACHE_NAME).read_text())) == {"one", "two"}


@pytest.mark.parametrize("field, value", [("amp", "yes"), ("channels_last", 1), ("ms_per_pass", [1, 2]),
                                          ("ms_per_pass", "fast"), ("notes", "none"), ("first_pass_ms", {"bf16": "x"}),
                                          ("spread", "wide"), pytest.param("spread", 10**400, id="spread-huge"),
                                          ("date", 20250101)])
def test_a_wrongly_typed_cache_entry_is_measured_again(runs_dir, field, value):
    import json

    G, D = models()
    choose_speed(G, D, "cpu", amp=False, batch_size=8, steps=1,
                 timer=FakeClock({"fp32": 100, "fp32 channels_last": 50}, steps=1))
    path = runs_dir / speed.CACHE_NAME
    (key, entry), = json.loads(path.read_text()).items()
    path.write_text(json.dumps({key: {**entry, field: value}}))
    clock = FakeClock({"fp32": 100, "fp32 channels_last": 50}, steps=1)
    again = choose_speed(G, D, "cpu", amp=False, batch_size=8, steps=1, timer=clock)
    assert again.source == "measured" and clock.calls == 8  # not raised, not used: measured again
    assert json.loads(path.read_text())[key]["amp"] is False  # and the entry is written anew, well formed


def test_the_speed_line_a_lesson_prints_names_no_machine():
    from course_utils.kit.speed import SpeedChoice

    choice = SpeedChoice(False, True, "measured", {"fp32": 120.0, "fp32 channels_last": 100.0},
                         machine="AMD EPYC, 2 threads")
    line = choice.line()
    assert line.startswith("speed: bf16 autocast off") and "measured here" in line and "EPYC" not in line
