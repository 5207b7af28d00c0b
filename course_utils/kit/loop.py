"""The training loop every lesson shares: progress bar, buffered statistics, interrupts, a stop at NaN.

The lessons show *what* one training step does; this module runs steps over epochs. A step is a
function ``step(real) -> dict of 0-dim tensors`` (e.g. ``{"d_loss": ..., "g_loss": ...}``).
Statistics stay on the device and are copied to the host only every ``log_every`` steps, so a GPU
never waits for Python. Ctrl-C (or the notebook's interrupt button) stops training and returns the
history gathered so far; nothing is lost. Checkpoints are the trainers' business
(``course_utils.kit.trainer``), written from ``on_epoch_end``.
"""

from __future__ import annotations

import contextlib
import math
import time

import torch

from . import threads
from .env import is_whole_number

CLOCK = time.perf_counter  # fit's clock (tests replace it with a fake one)

def new_history(keys, settings: dict | None = None) -> dict:
    """An empty history: one list per statistic, plus bookkeeping shared by all trainers."""
    history = {k: [] for k in keys}
    history.update(epochs=0, steps_per_epoch=0, samples=[], metrics=[], interrupted=False,
                   wall_time_s=0.0, settings=dict(settings or {}))
    return history


def autocast_context(device: torch.device, amp: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast when ``amp`` is True (trainers resolve ``amp="auto"`` by timing: ``course_utils.kit.speed``)."""
    device = torch.device(device)
    if not isinstance(amp, bool):
        raise ValueError(f"autocast_context needs amp True or False, got {amp!r}; a trainer's amp=\"auto\" is "
                         "decided by course_utils.kit.speed.choose_speed (it times both on this machine)")
    if not amp:
        return contextlib.nullcontext()
    # no weight-cast cache on a GPU: a CUDA graph (course_utils.kit.graphs) cannot replay a cache filled outside it
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, cache_enabled=device.type != "cuda")


@contextlib.contextmanager
def frozen(module: torch.nn.Module):
    """Inside the block, ``module``'s parameters need no gradient; their flags are restored after.

    The D step never uses G's weight gradients and the G step never uses D's. Freezing the other
    network lets autograd skip computing them (about a sixth of a lesson-3 step on a CPU); the
    updates are exactly the same, because those gradients were cleared before they were ever used.
    """
    params = list(module.parameters())
    flags = [p.requires_grad for p in params]
    module.requires_grad_(False)
    try:
        yield module
    finally:
        for p, flag in zip(params, flags, strict=True):
            p.requires_grad_(flag)


def make_adam(params, lr: float, betas, device=None) -> torch.optim.Adam:
    """Adam with the fused kernel where this PyTorch has one for the parameters' device, else foreach.

    (``device`` is ignored: the parameters say where they are. Kept so older calls still work.)
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="step", mininterval=0.5)


class NonFiniteError(ArithmeticError):
    """A training statistic became NaN or infinite; ``fit`` stops there and keeps the history."""


class _Buffer:
    """Per-step statistics kept as device tensors until :meth:`flush` copies them to the history."""

    def __init__(self, history: dict, nan_ok=()):
        self.history, self.pending, self.nan_ok = history, [], set(nan_ok)

    def add(self, stats: dict) -> None:
        self.pending.append(stats)

    def flush(self) -> dict:
        """Copy the pending statistics to the history; raise :class:`NonFiniteError` at the first NaN/inf."""
        if not self.pending:
            return {}
        keys, n = self.pending[0].keys(), len(self.pending)
        values = {k: torch.stack([s[k].detach().float().reshape(()) for s in self.pending]).cpu().tolist()
                  for k in keys}
        self.pending = []
        bad = [(i, k) for k in keys if k not in self.nan_ok for i, v in enumerate(values[k]) if not math.isfinite(v)]
        first = min(bad)[0] if bad else n
        done = len(self.history.get(next(iter(keys)), []))
        for k in keys:
            self.history.setdefault(k, []).extend(values[k][:first + 1])  # up to the first bad step
        if bad:
            names = sorted({k for i, k in bad if i == first})
            raise NonFiniteError(f"{', '.join(names)} became {values[names[0]][first]} at step {done + first + 1}")
        return {k: values[k][-1] for k in keys}


def _whole_number(value, what: str) -> int:
    if not is_whole_number(value):
        raise TypeError(f"{what} must be a whole number (an int), got {value!r}; e.g. {what}=5")
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    return int(value)


def _images(batch):
    """The real images of a batch: ``(images, labels)`` pairs as from a DataLoader, or a bare tensor."""
    real = batch[0] if isinstance(batch, (tuple, list)) else batch
    if not isinstance(real, torch.Tensor):
        raise TypeError(f"each batch must be a tensor of images or an (images, labels) pair; the loader "
                        f"gave {type(real).__name__}. Use course_utils.TensorLoader or a torch DataLoader.")
    return real


def _labelled(batch):
    """An ``(images, labels)`` batch for a conditional GAN; a clear error for a loader without labels."""
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError("a conditional GAN needs (images, labels) batches; the loader gave "
                        f"{type(batch).__name__}. Use fashion_mnist_loader(...) or TensorLoader(images, labels).")
    return _images(batch), batch[1]


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, float):
        return f"a Python float ({value:.4g})"
    return f"a {type(value).__name__}"


def _scalar_problem(value) -> str | None:
    if isinstance(value, float):
        return "return the tensor itself (loss.detach()), not loss.item(): .item() makes the GPU wait every step"
    if not isinstance(value, torch.Tensor):
        return "return torch tensors"
    if value.numel() != 1:
        return "average over the batch (.mean()) so each statistic is a single number"
    return None


def check_step_result(fn, result, names):
    """Check what a step function returned, naming the function, what it must return and the fix.

    ``names`` lists the statistics: one name means a single 0-dim tensor; several mean a tuple of
    that many (``d_step``); a set means a dict with those keys (``wgan_step``). Returns ``result``.
    Cheap (no device sync), so trainers call it on every step.
    """
    fn_name = getattr(fn, "__name__", type(fn).__name__)
    if isinstance(names, (set, frozenset)):
        expected = f"a dict with the keys {sorted(names)}, each a single-number tensor"
        items = list(result.items()) if isinstance(result, dict) else None
        if items is not None and not names <= set(result):
            return _step_error(fn_name, expected, f"a dict with the keys {sorted(result)}",
                               f"add {sorted(names - set(result))}")
    elif len(names) == 1:
        expected = f"one single-number tensor ({names[0]})"
        items = None if isinstance(result, (tuple, list)) else [(names[0], result)]
    else:
        expected = f"{len(names)} values ({', '.join(names)}), each a single-number tensor"
        ok = isinstance(result, (tuple, list)) and len(result) == len(names)
        items = list(zip(names, result)) if ok else None
    if items is None:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list)) else _describe(result))
        return _step_error(fn_name, expected, got, f"return {expected}")
    for name, value in items:
        problem = _scalar_problem(value)
        if problem:
            return _step_error(fn_name, expected, f"{_describe(value)} for {name}", problem)
    return result


def _step_error(fn_name, expected, got, fix):
    raise TypeError(f"{fn_name} must return {expected}; it returned {got}. Fix: {fix}.")


_LAST = {}


def last_history() -> dict | None:
    """The history of the last training run that stopped with an error (nothing is lost)."""
    return _LAST.get("history")


def _stop(history: dict, message: str, verbose: bool) -> None:
    history["stopped"] = message
    if verbose:
        print(f"\n{message}", flush=True)


def _keep_on_error(exc: BaseException, history: dict) -> None:
    """Attach the history to an exception raised during training, and say where to find it."""
    _LAST["history"] = history
    exc.history = history
    note = (f"The history so far ({history['epochs']} full epochs) is kept: "
            "history = course_utils.last_history()")
    if hasattr(exc, "add_note"):
        exc.add_note(note)


NAN_ADVICE = ("Likely causes: a learning rate too high, a loss computed from probabilities (log of 0: use "
              "BCE with logits), a step that divides by a number near 0, or a diverging D. The history up to "
              "that step is kept (history['stopped'] says why); the models' weights may already be NaN, so "
              "continue from the last checkpoint with safer settings.")


def fit(step, loader, num_epochs: int, history: dict, *, on_epoch_end=None, on_log=None, log_every: int = 50,
        progress: bool = True, desc: str = "training", verbose: bool = True, nan_ok=(),
        with_labels: bool = False, max_minutes: float | None = None) -> dict:
    """Run ``step`` over ``num_epochs`` passes of ``loader``; append to ``history`` and return it.

    ``on_epoch_end(epoch)`` runs after each epoch (1-based, counting earlier runs of the same history),
    e.g. to store samples or write a checkpoint. ``on_log(history)`` runs each time statistics reach
    the history (every ``log_every`` steps), e.g. a live dashboard. Resuming is calling ``fit`` again
    with the history. Nothing is lost: Ctrl-C returns the history so far; a NaN or infinite statistic
    stops training and returns the history up to it (``history["stopped"]``); any other error keeps
    the history on the exception (``exc.history``, :func:`last_history`). ``nan_ok`` names statistics
    that are NaN by design on some steps (e.g. ``d_grad`` when D skips a batch). ``with_labels``: pass
    ``step`` the whole ``(images, labels)`` batch (a conditional GAN, lesson 6) instead of the images.
    ``max_minutes``: a time budget for this call; before each epoch after the first, training stops if
    one more epoch (at the mean time per epoch so far) would not fit, and ``history["time_budget"]`` says so.
    """
    num_epochs = _whole_number(num_epochs, "num_epochs")
    if max_minutes is not None and not (isinstance(max_minutes, (int, float)) and max_minutes > 0):
        raise ValueError(f"max_minutes must be a positive number of minutes (or None), got {max_minutes!r}")
    steps = len(loader)
    if steps == 0 and num_epochs:
        raise ValueError(f"the loader has no batches (len 0): it holds fewer images than one batch "
                         f"(batch_size={getattr(loader, 'batch_size', '?')}) and drops incomplete ones. "
                         "Use more images or a smaller batch_size.")
    history["steps_per_epoch"] = steps
    budget = f" (budget {max_minutes:g} min)" if max_minutes is not None else ""
    buffer, bar = _Buffer(history, nan_ok), _progress(num_epochs * steps, desc + budget, progress)
    start = CLOCK()
    try:
        for done in range(num_epochs):
            if max_minutes is not None and done and _out_of_time(history, start, done, max_minutes, verbose):
                break
            epoch = history["epochs"] + 1
            for i, batch in enumerate(loader):
                buffer.add(step(_labelled(batch) if with_labels else _images(batch)))
                if (i + 1) % log_every == 0 or i + 1 == steps:
                    last = buffer.flush()
                    if bar is not None:
                        bar.set_postfix(epoch=epoch, **{k: f"{v:.3f}" for k, v in last.items()}, refresh=False)
                    if on_log is not None:
                        on_log(history)
                if bar is not None:
                    bar.update(1)
            history["epochs"] = epoch
            if on_epoch_end is not None:
                on_epoch_end(epoch)
            threads.recheck(verbose)  # the machine's load moved: 1 thread or every core, measured again
            if bar is not None and max_minutes is not None:  # the bar's end: the epochs that fit the budget
                bar.total = steps * _epochs_in_budget(CLOCK() - start, done + 1, num_epochs, max_minutes)
                bar.refresh()
    except KeyboardInterrupt:
        _flush_quietly(buffer)
        history["interrupted"] = True
        if verbose:
            print(f"\nInterrupted during epoch {history['epochs'] + 1}: returning the history so far "
                  f"({history['epochs']} full epochs). Pass it back in to continue.")
    except NonFiniteError as exc:
        _stop(history, f"Training stopped in epoch {history['epochs'] + 1}: {exc}. {NAN_ADVICE}", verbose)
    except Exception as exc:
        _flush_quietly(buffer)
        _keep_on_error(exc, history)
        raise
    finally:
        if bar is not None:
            bar.close()
        history["wall_time_s"] += CLOCK() - start
        threads.forget()  # the thread count the run started with, back
    return history


def _epochs_in_budget(spent: float, done: int, num_epochs: int, max_minutes: float) -> int:
    """The epochs a budgeted run will train, from ``done`` epochs in ``spent`` seconds (:func:`_out_of_time`'s rule)."""
    return min(num_epochs, max(done, int(max_minutes * 60 * done // spent) if spent > 0 else num_epochs))


def _out_of_time(history: dict, start: float, done: int, max_minutes: float, verbose: bool) -> bool:
    """True (and ``history["time_budget"]`` says why) if another epoch would end past ``max_minutes``."""
    spent = CLOCK() - start
    if spent * (done + 1) / done <= max_minutes * 60:
        return False
    history["time_budget"] = {"max_minutes": max_minutes, "epochs": done, "minutes": round(spent / 60, 2),
                              "reason": f"{done} epochs took {spent / 60:.1f} min; one more would pass "
                                        f"max_minutes={max_minutes:g}"}
    if verbose:
        print(f"\nTime budget: {history['time_budget']['reason']}, so training stops here "
              f"({history['epochs']} epochs in all).", flush=True)
    return True


def _flush_quietly(buffer: _Buffer) -> None:
    try:
        buffer.flush()
    except (NonFiniteError, RuntimeError, TypeError, AttributeError):
        pass  # keep what reached the history; the error being handled is the one to report
