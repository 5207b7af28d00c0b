"""kit.parallel: independent runs side by side in forked children give what they give alone, bit for bit."""

import os
import sys

import pytest
import torch

from course_utils.kit import parallel
from course_utils.kit.parallel import run_in_processes, worker_count

FORKS = sys.platform == "linux"


def noisy_fit(seed: int, steps: int = 20) -> dict:
    """A small training run whose result depends on the seed, the RNG stream and the arithmetic."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        loss = net(torch.randn(32, 8)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"loss": loss.item(), "weights": [p.detach().clone() for p in net.parameters()],
            "pid": os.getpid(), "threads": torch.get_num_threads()}


def fails(seed: int):
    if seed == 1:
        raise ValueError(f"seed {seed} diverged")
    return seed


@pytest.mark.skipif(not FORKS, reason="children are forked only on Linux")
def test_children_give_the_same_results_bit_for_bit_in_order():
    alone = run_in_processes(noisy_fit, [dict(seed=s) for s in range(4)], workers=1)
    side_by_side = run_in_processes(noisy_fit, [dict(seed=s) for s in range(4)], workers=2)
    assert [r["loss"] for r in side_by_side] == [r["loss"] for r in alone]
    for a, b in zip(alone, side_by_side):
        assert all(torch.equal(x, y) for x, y in zip(a["weights"], b["weights"]))
    assert len({r["loss"] for r in alone}) == 4  # the seeds differ, so the order is checked too
    assert {r["pid"] for r in side_by_side} != {os.getpid()}  # they ran in children
    assert {r["threads"] for r in side_by_side} == {1}


def test_one_after_another_runs_here_with_one_thread_and_restores_the_count():
    before = torch.get_num_threads()
    out = run_in_processes(noisy_fit, [dict(seed=0, steps=2)], workers=1)
    assert out[0]["pid"] == os.getpid() and out[0]["threads"] == 1
    assert torch.get_num_threads() == before


@pytest.mark.skipif(not FORKS, reason="children are forked only on Linux")
def test_a_failing_job_raises_its_own_error_here():
    with pytest.raises(ValueError, match="seed 1 diverged"):
        run_in_processes(fails, [dict(seed=s) for s in range(3)], workers=2)


@pytest.mark.skipif(not FORKS, reason="children are forked only on Linux")
def test_jobs_that_cannot_travel_run_here():
    out = run_in_processes(lambda seed: (seed, os.getpid()), [dict(seed=s) for s in range(3)], workers=2)
    assert out == [(s, os.getpid()) for s in range(3)]


def test_progress_is_reported_once_per_job():
    done = []
    run_in_processes(fails, [dict(seed=0), dict(seed=2), dict(seed=3)], workers=2, on_done=done.append)
    assert sorted(done) == [0, 1, 2]


def test_worker_count(monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 8)
    monkeypatch.delenv("COURSE_WORKERS", raising=False)
    expected = 8 if FORKS else 1
    assert worker_count(20) == expected and worker_count(3) == min(3, expected) and worker_count(0) == 1
    monkeypatch.setenv("COURSE_WORKERS", "2")
    assert worker_count(20) == min(2, expected) and worker_count(20, workers=5) == min(5, expected)
    if FORKS:
        monkeypatch.setenv("COURSE_WORKERS", "two")
        with pytest.raises(ValueError, match="COURSE_WORKERS must be a whole number"):
            worker_count(20)
        monkeypatch.setattr(parallel.sys, "platform", "darwin")
        assert worker_count(20) == 1
