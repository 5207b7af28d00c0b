"""The thread count chosen by measurement (course_utils.kit.threads): the faster count wins, whichever it is."""

import pytest
import torch

from course_utils.kit import loop, threads


class TinyG(torch.nn.Module):
    latent_dim = 8

    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(8, 16)

    def forward(self, z):
        return self.net(z).view(-1, 1, 4, 4)


class FakeClock:
    """A clock whose probe costs ``ms[threads]``: each probe() call advances it by the current count's cost."""

    def __init__(self, ms):
        self.now, self.ms = 0.0, ms

    def __call__(self):
        return self.now

    def probe(self):
        self.now += self.ms[torch.get_num_threads()] / 1000


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    monkeypatch.delenv("COURSE_SPEED", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    threads.forget()


@pytest.mark.parametrize("ms, best", [({1: 170.0, 2: 1300.0}, 1), ({1: 120.0, 2: 70.0}, 2)])
def test_the_faster_thread_count_is_chosen_and_set(two_cores, ms, best):
    clock = FakeClock(ms)
    choice = threads.choose_threads(clock.probe, "cpu", timer=clock)
    assert choice.threads == best and torch.get_num_threads() == best and choice.source == "measured"
    assert choice.ms == pytest.approx(ms)
    other = 3 - best
    assert f"{other} thread{'s' * (other > 1)} {ms[other] / ms[best]:.2f}x slower here" in choice.line()
    assert ("the machine is busy" in choice.line()) == (best == 1)


def test_time_threads_leaves_the_thread_count_as_it_found_it(two_cores):
    torch.set_num_threads(2)
    clock = FakeClock({1: 5.0, 2: 9.0})
    threads.time_threads(clock.probe, [2, 1], timer=clock)
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("env, device, source", [({"COURSE_QUICK": "1"}, "cpu", "quick"),
                                                 ({"COURSE_SPEED": "fixed"}, "cpu", "fixed"),
                                                 ({}, "meta", "not a CPU")])
def test_no_measuring_in_quick_mode_with_fixed_speed_or_off_the_cpu(two_cores, monkeypatch, env, device, source):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    choice = threads.choose_threads(lambda: pytest.fail("measured"), device)
    assert choice.source == source and "not measured" in choice.line()


def test_a_changed_load_measures_again_and_says_so(two_cores, monkeypatch, capsys):
    clock = FakeClock({1: 100.0, 2: 60.0})
    monkeypatch.setattr(threads, "machine_load", lambda: 0.2)
    threads.watch(clock.probe, "cpu", threads.choose_threads(clock.probe, "cpu", timer=clock), before=2)
    assert threads.recheck(timer=clock) is None  # the load has not moved
    clock.ms = {1: 150.0, 2: 900.0}  # another program started
    monkeypatch.setattr(threads, "machine_load", lambda: 2.4)
    new = threads.recheck(timer=clock)
    assert new.threads == 1 and torch.get_num_threads() == 1
    assert "the machine's load changed: threads: 1" in capsys.readouterr().out
    threads.forget()
    assert torch.get_num_threads() == 2  # restored after the run


def test_short_runs_keep_their_threads_and_long_ones_are_measured(two_cores):
    G, D = TinyG(), torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1))
    torch.set_num_threads(1)  # lesson 4's toys ask for one thread
    assert threads.for_run(G, D, "cpu", False, False, 4, total_steps=1600, budgeted=False, verbose=False) is None
    assert torch.get_num_threads() == 1
    choice = threads.for_run(G, D, "cpu", False, False, 4, total_steps=50, budgeted=True, verbose=False)
    assert choice.source == "measured" and set(choice.ms) == {1, 2}


def test_fit_restores_the_thread_count_when_the_run_ends(two_cores):
    torch.set_num_threads(2)
    clock = FakeClock({1: 10.0, 2: 50.0})
    threads.watch(clock.probe, "cpu", threads.choose_threads(clock.probe, "cpu", timer=clock), before=2)
    assert torch.get_num_threads() == 1
    loader = [torch.zeros(2, 1)] * 3
    step = lambda batch: {"loss": torch.tensor(0.0)}  # noqa: E731
    loop.fit(step, loader, 1, loop.new_history(["loss"]), progress=False, verbose=False)
    assert torch.get_num_threads() == 2
