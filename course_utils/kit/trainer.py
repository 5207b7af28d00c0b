"""The trainer kit: what every GAN trainer of the course shares (built for lesson 3, used by 3-5).

A trainer is its lesson's step plus this kit:

    run = start_run(G, D, device, "train_gan", ...)   # checks, seed, fixed noise, optimizers, resume, history
    def step(real): ...                               # the lesson's idea: one D and one G update
    def on_epoch_end(epoch):
        end_of_epoch(run, epoch, ...)                 # samples, metrics, checkpoint, the epoch line
    return fit_with_dashboard(step, loader, num_epochs, run, ...)

Settings use one vocabulary in every trainer (CONTRIBUTING.md): ``lr_g``, ``lr_d`` (``None``: the
same as ``lr_g``), ``beta1``, ``beta2``. **Resume rule** (every trainer): ``resume_from`` restores the
models, the optimizers' state (moment estimates, step counts) and the history, then applies *this
call's* learning rates and betas, so "restart from a checkpoint with new settings" does what it says;
the change is recorded in ``history["resumed"]``.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import threads
from .checkpoints import CheckpointError, CheckpointWriteError, check_writable, load_checkpoint, save_checkpoint
from .env import is_whole_number, runs_dir, seed_everything
from .graphs import GraphedStep
from .loop import autocast_context, fit, make_adam, new_history
from .speed import choose_speed
from .widgets import LiveDashboard, dashboard_enabled

# ----------------------------------------------------------------------------- checks


def check_device(device) -> torch.device:
    """``device`` as a ``torch.device``, with a clear error when this machine does not have it."""
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'cpu', 'cuda' or 'mps' (or a torch.device), got {device!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device={str(device)!r} but this machine has no CUDA GPU (torch.cuda.is_available() "
                           "is False): use device = get_device(), which picks what is there")
    mps = getattr(torch.backends, "mps", None)
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise RuntimeError("device='mps' but Apple's MPS is not available here: use device = get_device()")
    return device


def check_images(real, who: str) -> torch.Tensor:
    """A batch of images must be ``(B, C, H, W)``; otherwise say how to fix the data."""
    if real.dim() != 4:
        fix = (" Add the channel dimension: images.unsqueeze(1) (grey images have 1 channel)."
               if real.dim() == 3 else "")
        raise ValueError(f"{who} expects batches of images shaped (B, C, H, W); the loader gave shape "
                         f"{tuple(real.shape)}.{fix}")
    return real


def check_models(G, D, device, who: str = "train_gan") -> int:
    """G has an int ``latent_dim`` and both networks sit on ``device``; returns ``latent_dim``."""
    latent_dim = getattr(G, "latent_dim", None)
    if not isinstance(latent_dim, int):
        raise AttributeError(f"{who} needs generator.latent_dim (an int); set it in __init__, "
                             "e.g. self.latent_dim = latent_dim")
    for name, m in (("generator", G), ("discriminator", D)):
        p = next(m.parameters(), None)
        if p is not None and p.device != torch.device(device) and not (
                p.device.type == torch.device(device).type == "cuda"):
            raise RuntimeError(f"{name} is on {p.device} but training runs on {device}: "
                               f"call {name}.to(device) first")
    return latent_dim


# ----------------------------------------------------------------------------- settings

OLD_NAMES = {"learning_rate": "lr_g and lr_d", "lr": "lr_g and lr_d", "betas": "beta1 and beta2"}
# Every trainer's one vocabulary: an old keyword -> the new ones it sets (CONTRIBUTING.md, "Vocabulary").
OLD_ARGUMENTS = {"generator": ("G",), "discriminator": ("D",), "train_loader": ("loader",),
                 "checkpoint_interval": ("checkpoint_every", "sample_every")}


def one_vocabulary(trainer):
    """Let ``trainer`` take its old keyword names (``generator=``, ``checkpoint_interval=``...), with a warning."""
    params = inspect.signature(trainer).parameters

    @functools.wraps(trainer)
    def wrapper(*args, **kwargs):
        for old, new in OLD_ARGUMENTS.items():
            if old not in kwargs:
                continue
            value, targets = kwargs.pop(old), [n for n in new if n in params]
            clash = [n for n in targets if n in kwargs]
            if clash:
                raise TypeError(f"{trainer.__name__} got {old}= and its new name {clash[0]}=: pass only {clash[0]}=")
            warnings.warn(f"{trainer.__name__}({old}=...) is the old name: use {' and '.join(targets)} (one "
                          "vocabulary in every trainer, see CONTRIBUTING.md); the old name keeps working for now",
                          FutureWarning, stacklevel=2)
            kwargs.update(dict.fromkeys(targets, value))
        return trainer(*args, **kwargs)

    return wrapper


def adam_settings(who: str, lr_g: float, lr_d: float | None, beta1: float, beta2: float, **old) -> dict:
    """The one vocabulary: ``{"lr_g", "lr_d", "beta1", "beta2"}``; old names still work, with a warning."""
    for name, value in old.items():
        if value is None:
            continue
        if name not in OLD_NAMES:
            raise TypeError(f"{who} got an unexpected setting {name!r}")
        warnings.warn(f"{who}({name}=...) is the old name: use {OLD_NAMES[name]} (one vocabulary in every "
                      "trainer, see CONTRIBUTING.md); the old name keeps working for now", FutureWarning,
                      stacklevel=3)
        if name == "betas":
            beta1, beta2 = (float(b) for b in value)
        else:
            lr_g = lr_d = value
    lr_d = lr_g if lr_d is None else lr_d
    return {"lr_g": float(lr_g), "lr_d": float(lr_d), "beta1": float(beta1), "beta2": float(beta2)}


def apply_settings(opt, lr: float, betas) -> None:
    """Set this call's learning rate and betas on a (restored) optimizer; its moment estimates stay.

    A checkpoint from a GPU run with CUDA graphs carries ``capturable=True``; off a CUDA device it is turned
    off again (``course_utils.kit.graphs`` turns it on where a graph is captured).
    """
    for group in opt.param_groups:
        group["lr"], group["betas"] = lr, tuple(betas)
        if group.get("capturable") and not all(p.device.type == "cuda" for p in group["params"]):
            group["capturable"] = False


# ----------------------------------------------------------------------------- the run


@dataclass
class Run:
    """Everything a trainer set up: models, optimizers, fixed noise, history, autocast."""

    G: torch.nn.Module
    D: torch.nn.Module
    device: torch.device
    latent_dim: int
    fixed_z: torch.Tensor  # (n_samples, latent_dim): the same noise at every checkpoint
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    history: dict
    autocast: object
    checkpoint_path: object = None
    state: dict | None = None  # the checkpoint resumed from, if any
    fixed_labels: torch.Tensor | None = None  # (n_samples,) class ids for a conditional G (lesson 6), else None
    extra: dict = field(default_factory=dict)  # what a trainer adds to each checkpoint (e.g. RNG states)


def prepare_models(G, D, device, seed, channels_last, n_samples: int, who: str = "train_gan", *, amp=False,
                   batch_size: int = 64):
    """Checks, the speed settings (measured here where "auto": ``course_utils.kit.speed``), seeding, memory format
    and the fixed sampling noise.

    Returns ``(device, latent_dim, fixed_z, speed)`` with ``fixed_z`` of shape ``(n_samples, latent_dim)``
    and ``speed`` a :class:`~course_utils.kit.speed.SpeedChoice`.
    """
    device = check_device(device)
    latent_dim = check_models(G, D, device, who)
    speed = choose_speed(G, D, device, amp=amp, channels_last=channels_last, batch_size=batch_size)
    if seed is not None:
        seed_everything(seed)
    if speed.channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    fixed_z = torch.randn(n_samples, latent_dim, generator=torch.Generator().manual_seed(1234)).to(device)
    return device, latent_dim, fixed_z, speed


def start_run(G, D, device, who: str, *, settings: dict, history_keys, seed=0, channels_last="auto",
              n_samples: int = 64, amp=False, checkpoint_path=None, resume_from=None, history=None,
              record: dict | None = None, batch_size: int | None = None, verbose: bool = False) -> Run:
    """The shared set-up of every trainer; ``settings`` from :func:`adam_settings`.

    ``record``: more settings to keep in ``history["settings"]`` (loss, seed, ...). ``amp`` and
    ``channels_last``: True/False force, "auto" picks by timing here (``course_utils.kit.speed``; one line
    printed when ``verbose``); ``batch_size``: the loader's, for that timing.
    """
    device, latent_dim, fixed_z, speed = prepare_models(G, D, device, seed, channels_last, n_samples, who, amp=amp,
                                                        batch_size=batch_size or 64)
    if verbose and speed.source != "forced":
        print(speed.line(), flush=True)
    if checkpoint_path is not None:
        check_writable(str(checkpoint_path).format(epoch=0))  # fail now, not after an hour of training
    betas = (settings["beta1"], settings["beta2"])
    opt_g = make_adam(G.parameters(), settings["lr_g"], betas)
    opt_d = make_adam(D.parameters(), settings["lr_d"], betas)
    all_settings = {**settings, "latent_dim": latent_dim, "seed": seed, "amp": speed.amp,
                    "channels_last": speed.channels_last, "speed": speed.as_record(), **(record or {})}
    state = resume(resume_from, G, D, opt_g, opt_d, all_settings) if resume_from is not None else None
    if state is not None:
        history = state["history"]
    if history is None:
        history = new_history(history_keys, settings=all_settings)
    return Run(G, D, device, latent_dim, fixed_z, opt_g, opt_d, history, autocast_context(device, speed.amp),
               checkpoint_path, state)


def resume(path, G, D, opt_g, opt_d, settings: dict) -> dict:
    """Restore models, optimizers and history from ``path``, then apply this call's settings (the resume rule).

    Returns the checkpoint's contents; its ``history`` records the change in ``history["resumed"]``.
    """
    state = load_checkpoint(path, G=G, D=D, opt_g=opt_g, opt_d=opt_d)
    if not isinstance(state.get("history"), dict):
        raise CheckpointError(f"{path} holds no history: it was not written by a course trainer, so the run "
                              "cannot be continued (load its weights with load_checkpoint(path, G=G) instead)")
    betas = (settings["beta1"], settings["beta2"])
    apply_settings(opt_g, settings["lr_g"], betas)
    apply_settings(opt_d, settings["lr_d"], betas)
    history = state["history"]
    history.setdefault("resumed", []).append({"epoch": history["epochs"], **settings})
    return state


# ----------------------------------------------------------------------------- during training


def fit_with_dashboard(step, loader, num_epochs, run: Run, *, dashboard="auto", verbose=True, cuda_graphs=False,
                       **fit_options):
    """``loop.fit`` in training mode, with the live dashboard in Jupyter (see ``course_utils.kit.widgets``).

    ``cuda_graphs``: "auto" or True replays ``step`` as one CUDA graph on a GPU where that is measured
    faster (``course_utils.kit.graphs``; the choice lands in ``history["settings"]["cuda_graphs"]``).
    """
    run.G.train()
    run.D.train()
    live = (LiveDashboard(run.G, run.fixed_z, labels=run.fixed_labels) if verbose and dashboard_enabled(dashboard)
            else None)
    graphed = GraphedStep(step, run.device, (run.opt_d, run.opt_g), cuda_graphs, verbose=verbose)
    speed = run.history["settings"].get("speed") or {}
    choice = threads.for_run(run.G, run.D, run.device, bool(speed.get("amp")), bool(speed.get("channels_last")),
                             getattr(loader, "batch_size", None) or 64,
                             num_epochs * len(loader) if is_whole_number(num_epochs) else 0,  # fit checks it
                             fit_options.get("max_minutes") is not None, verbose)
    if choice is not None:  # a long run on a CPU: 1 thread or every core, measured (course_utils.kit.threads)
        run.history["settings"]["threads"] = choice.as_record()
    try:
        fit(graphed, loader, num_epochs, run.history, on_log=live, progress=verbose, verbose=verbose,
            **fit_options)
    finally:
        if cuda_graphs is not False and graphed.choice is not None:  # only trainers that offer graphs record it
            run.history["settings"]["cuda_graphs"] = graphed.choice
    if live is not None:
        live(run.history, force=True)
    return run.history


def end_of_epoch(run: Run, epoch: int, *, sample_every: int, checkpoint_every: int, eval_fn=None,
                 verbose: bool = False, show=()) -> None:
    """Samples and metrics every ``sample_every`` epochs, a checkpoint every ``checkpoint_every``, the epoch line."""
    if sample_every and epoch % sample_every == 0:
        record_samples(run.G, run.fixed_z, run.history, epoch, eval_fn, labels=run.fixed_labels)
    if run.checkpoint_path is not None and checkpoint_every and epoch % checkpoint_every == 0:
        extra = {k: (v() if callable(v) else v) for k, v in run.extra.items()}
        save_or_warn(str(run.checkpoint_path).format(epoch=epoch), run.history, G=run.G, D=run.D,
                     opt_g=run.opt_g, opt_d=run.opt_d, history=run.history, **extra)
    if verbose and show and not in_notebook():
        print_epoch(run.history, epoch, show)


def print_epoch(history: dict, epoch: int, show) -> None:
    """One line per epoch outside Jupyter: ``show`` maps labels to history keys, e.g. {"D loss": "d_loss"}."""
    parts = ", ".join(f"{label} {mean_last(history, key):.3f}" for label, key in show.items())
    print(f"epoch {epoch}: {parts}", flush=True)


def warn_in_history(history: dict, message: str) -> None:
    """Print ``message`` and keep it in ``history["warnings"]``."""
    history.setdefault("warnings", []).append(message)
    print(f"WARNING: {message}", flush=True)


def save_or_warn(path, history: dict, /, **objects) -> bool:
    """``save_checkpoint``; on a failed write, warn (naming the cause) and return False instead of raising."""
    try:
        save_checkpoint(path, **objects)
        return True
    except CheckpointWriteError as exc:
        warn_in_history(history, f"epoch {history['epochs']}: {exc} Training goes on; the history is kept.")
        return False


@torch.no_grad()
def record_samples(G, fixed_z, history: dict, epoch: int, eval_fn=None, labels=None) -> None:
    """Store ``G(fixed_z)`` (``G(fixed_z, labels)`` for a conditional G; on CPU, float) and ``eval_fn(G)``.

    A failing ``eval_fn`` does not end the run: it is reported and kept in ``history["warnings"]``.
    """
    was_training = G.training
    G.eval()
    try:
        images = G(fixed_z) if labels is None else G(fixed_z, labels)  # (n_samples, C, H, W)
        history["samples"].append({"epoch": epoch, "images": images.float().cpu().contiguous()})
        if eval_fn is not None:
            try:
                scores = eval_fn(G)
                if not isinstance(scores, dict):
                    raise TypeError(f"it must return a dict of scores, e.g. {{'fid': 31.2}}, not "
                                    f"{type(scores).__name__}")
                history["metrics"].append({"epoch": epoch, **scores})
            except Exception as exc:  # noqa: BLE001 - a metric must not end the run
                name = getattr(eval_fn, "__name__", "eval_fn")
                warn_in_history(history, f"epoch {epoch}: eval_fn {name} failed ({type(exc).__name__}: {exc}); "
                                "no metrics for this checkpoint, training goes on")
    finally:
        G.train(was_training)


def mean_last(history: dict, key: str) -> float:
    """The mean of ``history[key]`` over the last epoch."""
    values = history[key][-history["steps_per_epoch"]:] or [float("nan")]
    return sum(values) / len(values)


def in_notebook() -> bool:
    """True inside a Jupyter kernel."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def save_path(name: str) -> Path:
    """Where lessons write their runs: ``runs/<name>`` in the repository (git-ignored) (lesson 3).

    ``COURSE_RUNS_DIR`` moves that folder (the grader points it at each submission's temp dir).
    """
    path = runs_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
