"""The training loop every lesson shares: progress bar, buffered statistics, interrupts, checkpoints.

The lessons show *what* one training step does; this module runs steps over epochs. A step is a
function ``step(real) -> dict of 0-dim tensors`` (e.g. ``{"d_loss": ..., "g_loss": ...}``).
Statistics stay on the device and are copied to the host only every ``log_every`` steps, so a GPU
never waits for Python. Ctrl-C (or the notebook's interrupt button) stops training and returns the
history gathered so far; nothing is lost.
"""

from __future__ import annotations

import contextlib
import time

import torch

from .env import bf16_supported


def new_history(keys, settings: dict | None = None) -> dict:
    """An empty history: one list per statistic, plus bookkeeping shared by all trainers."""
    history = {k: [] for k in keys}
    history.update(epochs=0, steps_per_epoch=0, samples=[], metrics=[], interrupted=False,
                   wall_time_s=0.0, settings=dict(settings or {}))
    return history


def autocast_context(device: torch.device, amp) -> contextlib.AbstractContextManager:
    """bf16 autocast when ``amp`` is True, or ``"auto"`` and the hardware runs bf16 natively."""
    device = torch.device(device)
    use = bf16_supported(device) if amp == "auto" else bool(amp)
    if not use:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


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


def make_adam(params, lr: float, betas, device) -> torch.optim.Adam:
    """Adam with the fused kernel where this PyTorch has one for the device, else foreach."""
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


class _Buffer:
    """Per-step statistics kept as device tensors until :meth:`flush` copies them to the history."""

    def __init__(self, history: dict):
        self.history, self.pending = history, []

    def add(self, stats: dict) -> None:
        self.pending.append(stats)

    def flush(self) -> dict:
        if not self.pending:
            return {}
        keys = self.pending[0].keys()
        last = {}
        for k in keys:
            values = torch.stack([s[k].detach().float().reshape(()) for s in self.pending]).cpu().tolist()
            self.history.setdefault(k, []).extend(values)
            last[k] = values[-1]
        self.pending = []
        return last


def fit(step, loader, num_epochs: int, history: dict, *, on_epoch_end=None, on_log=None, log_every: int = 50,
        progress: bool = True, desc: str = "training", verbose: bool = True) -> dict:
    """Run ``step`` over ``num_epochs`` passes of ``loader``; append to ``history`` and return it.

    ``on_epoch_end(epoch)`` runs after each epoch (1-based, counting earlier runs of the same history),
    e.g. to store samples or write a checkpoint. ``on_log(history)`` runs each time statistics reach
    the history (every ``log_every`` steps), e.g. a live dashboard. Resuming is calling ``fit`` again
    with the history.
    """
    if num_epochs < 0:
        raise ValueError(f"num_epochs must be >= 0, got {num_epochs}")
    steps = len(loader)
    history["steps_per_epoch"] = steps
    buffer, bar = _Buffer(history), _progress(num_epochs * steps, desc, progress)
    start = time.perf_counter()
    try:
        for _ in range(num_epochs):
            epoch = history["epochs"] + 1
            for i, (real, *_rest) in enumerate(loader):
                buffer.add(step(real))
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
    except KeyboardInterrupt:
        buffer.flush()
        history["interrupted"] = True
        if verbose:
            print(f"\nInterrupted during epoch {history['epochs'] + 1}: returning the history so far "
                  f"({history['epochs']} full epochs). Pass it back in to continue.")
    finally:
        if bar is not None:
            bar.close()
        history["wall_time_s"] += time.perf_counter() - start
    return history
