"""CUDA graphs for a training step (course_utils.kit.graphs): the choice, the fallbacks, the CPU path.

No GPU here: a stand-in backend records the step and replays it by calling it again, and a fake clock
makes eager steps and replays take the times each test wants.
"""

import contextlib

import pytest
import torch

from course_utils.kit import graphs
from course_utils.kit.graphs import COMPARE, WARMUP, GraphedStep, make_capturable


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeBackend:
    """Capture stores the step; replay runs it again and refills the static outputs, as a graph does."""

    def __init__(self, clock, replay_s, fail=None):
        self.clock, self.replay_s, self.fail, self.captures = clock, replay_s, fail, 0

    def sync(self):
        pass

    def side_stream(self):
        return contextlib.nullcontext()

    def capture(self, fn):
        self.captures += 1
        if self.fail:
            raise RuntimeError(self.fail)
        out = fn()

        def replay():
            out.copy_(fn())
            self.clock.now += self.replay_s - self.step_s  # a replay costs replay_s, not an eager step

        return replay, out


def make_step(clock, step_s, calls):
    def step(real):
        calls.append(tuple(real.shape))
        clock.now += step_s
        return {"d_loss": real.mean(), "g_loss": real.sum()}
    return step


def run(n, step_s=0.007, replay_s=0.001, mode="auto", fail=None, shapes=None):
    clock, calls = Clock(), []
    backend = FakeBackend(clock, replay_s, fail)
    backend.step_s = step_s
    graphed = GraphedStep(make_step(clock, step_s, calls), "cpu", mode=mode, verbose=False, timer=clock,
                          backend=backend)
    outs = [graphed(torch.full(shapes[i] if shapes else (4, 1), float(i))) for i in range(n)]
    return graphed, outs, calls, backend


def test_faster_graph_is_kept_and_every_step_reports_its_own_batch():
    graphed, outs, calls, backend = run(WARMUP + 2 * COMPARE + 10)
    assert graphed.choice["cuda_graphs"] is True and backend.captures == 1
    assert graphed.choice["eager_ms"] == pytest.approx(7.0) and graphed.choice["graph_ms"] == pytest.approx(1.0)
    for i, out in enumerate(outs):  # replays copy each batch in and clone the statistics out
        assert set(out) == {"d_loss", "g_loss"}
        assert float(out["d_loss"]) == pytest.approx(i) and float(out["g_loss"]) == pytest.approx(4 * i)
    first, second = outs[-2]["d_loss"], outs[-1]["d_loss"]
    assert float(first) != float(second)  # not views of one buffer the next replay overwrites


def test_slower_graph_is_dropped_unless_forced():
    graphed, outs, _, _ = run(WARMUP + 2 * COMPARE + 5, step_s=0.001, replay_s=0.003)
    assert graphed.choice["cuda_graphs"] is False and not graphed.active
    assert float(outs[-1]["d_loss"]) == pytest.approx(len(outs) - 1)
    forced, _, _, _ = run(WARMUP + 2 * COMPARE + 5, step_s=0.001, replay_s=0.003, mode=True)
    assert forced.choice["cuda_graphs"] is True


def test_capture_failure_keeps_training_eagerly_and_says_why():
    graphed, outs, calls, _ = run(WARMUP + COMPARE + 10, fail="operation not permitted when stream is capturing")
    assert graphed.choice["cuda_graphs"] is False and "not permitted" in graphed.choice["why"]
    assert len(calls) == len(outs)  # every batch was trained on, eagerly
    assert float(outs[-1]["d_loss"]) == pytest.approx(len(outs) - 1)


def test_a_batch_of_another_shape_runs_eagerly():
    n = WARMUP + 2 * COMPARE + 3
    shapes = [(4, 1)] * (n - 1) + [(2, 1)]  # an incomplete last batch
    graphed, outs, calls, _ = run(n, shapes=shapes)
    assert calls[-1] == (2, 1) and float(outs[-1]["d_loss"]) == pytest.approx(n - 1)


def test_on_a_cpu_the_step_is_called_as_it_is():
    calls = []
    step = make_step(Clock(), 0.0, calls)
    graphed = GraphedStep(step, "cpu", mode="auto", verbose=False)
    real = torch.randn(3, 2)
    assert graphed(real)["d_loss"] is not None and len(calls) == 1
    assert graphed.choice == {"cuda_graphs": False, "why": "not a CUDA device"}
    with pytest.raises(ValueError, match="True, False or \"auto\""):
        GraphedStep(step, "cpu", mode="yes")


def test_make_capturable_moves_adams_step_count_to_the_parameters():
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.ones(2)
    opt.step()
    make_capturable(opt)
    assert opt.param_groups[0]["capturable"] is True
    assert opt.state[p]["step"].device == p.device and opt.state[p]["step"].dtype == torch.float32


def test_train_gan_on_a_cpu_is_unchanged_by_the_graph_option(monkeypatch):
    from course_utils.kit.data import TensorLoader
    from course_utils.lesson3.trainer import train_gan
    from course_utils.tools.forecast import lesson3_models

    images = torch.randint(0, 256, (4 * 16, 1, 28, 28), dtype=torch.uint8)
    histories = []
    for mode in ("auto", False):
        torch.manual_seed(0)
        G, D = lesson3_models("cpu")
        histories.append(train_gan(G, D, TensorLoader(images, batch_size=16), 1, "cpu", amp=False,
                                   channels_last=False, verbose=False, dashboard=False, checkpoint_every=0,
                                   cuda_graphs=mode))
    assert histories[0]["d_loss"] == histories[1]["d_loss"]  # bit-identical
    assert histories[0]["settings"]["cuda_graphs"]["cuda_graphs"] is False
    assert graphs.COMPARE >= 10  # enough steps timed each way for the choice to mean something
