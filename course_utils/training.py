"""BCE GAN training (lessons 2 and 3): the losses, one D step, one G step and ``train_gan``.

Loss convention used everywhere in the course: the **averaged** discriminator loss
``L_D = (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2``. A discriminator that guesses (D = 0.5 everywhere)
scores ``log 2 ~ 0.693``; so does the non-saturating generator loss ``L_G = BCE(D(G(z)), 1)``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F

from .checkpoints import CheckpointWriteError, check_writable, load_checkpoint, save_checkpoint
from .env import seed_everything
from .loop import autocast_context, check_step_result, fit, frozen, make_adam, new_history
from .widgets import LiveDashboard, dashboard_enabled

LOG2 = math.log(2.0)


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Averaged BCE: real images are labelled 1, fakes 0 (lesson 2)."""
    real_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return (real_loss + fake_loss) / 2


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: G wants D to call its fakes real, so the target is 1 (lesson 3)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def d_step(D, G, real, opt_d, latent_dim: int):
    """One discriminator update (lesson 3). Returns ``(d_loss, D(x) mean, D(G(z)) mean)``, detached."""
    z = torch.randn(real.size(0), latent_dim, device=real.device)  # (B, latent_dim): fresh noise
    fake = G(z).detach()  # (B, C, H, W); detach: this step must not compute gradients for G
    real_logits, fake_logits = D(real), D(fake)  # (B, 1) each
    loss = discriminator_loss(real_logits, fake_logits)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach(), torch.sigmoid(real_logits).mean().detach(), torch.sigmoid(fake_logits).mean().detach()


def g_step(D, G, opt_g, batch_size: int, latent_dim: int, device, loss_fn=None):
    """One generator update (lesson 3): fresh noise, fakes labelled *real*. Returns the detached loss.

    ``loss_fn(fake_logits)`` defaults to :func:`generator_loss`; lesson 5 passes the WGAN loss.
    """
    z = torch.randn(batch_size, latent_dim, device=device)  # (B, latent_dim): fresh noise
    loss = (loss_fn or generator_loss)(D(G(z)))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()  # also fills D's .grad; d_step clears them before D's next update
    opt_g.step()
    return loss.detach()


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


def _check_models(G, D, device) -> int:
    latent_dim = getattr(G, "latent_dim", None)
    if not isinstance(latent_dim, int):
        raise AttributeError("train_gan needs generator.latent_dim (an int); set it in __init__, "
                             "e.g. self.latent_dim = latent_dim")
    for name, m in (("generator", G), ("discriminator", D)):
        p = next(m.parameters(), None)
        if p is not None and p.device != torch.device(device) and not (
                p.device.type == torch.device(device).type == "cuda"):
            raise RuntimeError(f"{name} is on {p.device} but training runs on {device}: "
                               f"call {name}.to(device) first")
    return latent_dim


def train_gan(generator, discriminator, train_loader, num_epochs: int, device,
              learning_rate: float = 2e-4, beta1: float = 0.5, checkpoint_interval: int = 5,
              verbose: bool = True, *, d_step_fn=d_step, g_step_fn=g_step, seed: int | None = 0,
              amp="auto", channels_last: bool | str = "auto", eval_fn=None, checkpoint_path=None,
              resume_from=None, history: dict | None = None, n_samples: int = 64, log_every: int = 50,
              dashboard="auto"):
    """Train a GAN with BCE losses (lesson 3) and return its history.

    The seed's signature first; then options: ``d_step_fn``/``g_step_fn`` (your own steps),
    ``amp`` (bf16 autocast: True, False or "auto"), ``eval_fn(G) -> dict`` (a quality metric at each
    checkpoint), ``checkpoint_path`` (written atomically every ``checkpoint_interval`` epochs),
    ``resume_from`` (a checkpoint to continue), ``dashboard`` (live plots in Jupyter: "auto" turns them
    on in a notebook outside quick mode; see ``course_utils.widgets``). History keys: ``d_loss``, ``g_loss``, ``d_real``
    (D(x) mean), ``d_fake`` (D(G(z)) mean), one float per batch; ``samples``, a list of
    ``{"epoch", "images"}`` from fixed noise every ``checkpoint_interval`` epochs; ``metrics``.
    """
    G, D = generator, discriminator
    device, latent_dim, fixed_z = prepare_models(G, D, device, seed, channels_last, n_samples)
    if checkpoint_path is not None:
        check_writable(checkpoint_path)  # fail now, not after an hour of training
    opt_g = make_adam(G.parameters(), learning_rate, (beta1, 0.999), device)
    opt_d = make_adam(D.parameters(), learning_rate, (beta1, 0.999), device)
    if resume_from is not None:
        state = load_checkpoint(resume_from, G=G, D=D, opt_g=opt_g, opt_d=opt_d)
        history = state["history"]
    if history is None:
        history = new_history(["d_loss", "g_loss", "d_real", "d_fake"], settings=dict(
            learning_rate=learning_rate, beta1=beta1, latent_dim=latent_dim, seed=seed, amp=amp,
            loss="averaged BCE (chance = log 2)"))
    autocast = autocast_context(device, amp)

    def step(real):
        real = check_images(real, "train_gan").to(device, non_blocking=True)
        with autocast, frozen(G):  # G's weight gradients are not needed in D's step ...
            d_loss, d_real, d_fake = check_step_result(d_step_fn, d_step_fn(D, G, real, opt_d, latent_dim),
                                                       ("d_loss", "D(x) mean", "D(G(z)) mean"))
        with autocast, frozen(D):  # ... nor D's in G's step: autograd skips them
            g_loss = check_step_result(g_step_fn, g_step_fn(D, G, opt_g, real.size(0), latent_dim, device),
                                       ("g_loss",))
        return {"d_loss": d_loss, "g_loss": g_loss, "d_real": d_real, "d_fake": d_fake}

    def on_epoch_end(epoch):
        if checkpoint_interval and epoch % checkpoint_interval == 0:
            checkpoint_epoch(G, D, opt_g, opt_d, fixed_z, history, epoch, eval_fn, checkpoint_path)
        if verbose and not _in_notebook():
            print(f"epoch {epoch}: D loss {_mean_last(history, 'd_loss'):.3f}, "
                  f"G loss {_mean_last(history, 'g_loss'):.3f}, D(x) {_mean_last(history, 'd_real'):.3f}, "
                  f"D(G(z)) {_mean_last(history, 'd_fake'):.3f}", flush=True)

    return fit_with_dashboard(step, train_loader, num_epochs, history, G, D, fixed_z, dashboard=dashboard,
                              verbose=verbose, on_epoch_end=on_epoch_end, log_every=log_every, desc="train_gan")


def prepare_models(G, D, device, seed, channels_last, n_samples: int):
    """Shared set-up of the trainers: checks, seeding, memory format, and the fixed sampling noise.

    Returns ``(device, latent_dim, fixed_z)`` with ``fixed_z`` of shape ``(n_samples, latent_dim)``.
    """
    device = check_device(device)
    latent_dim = _check_models(G, D, device)
    if seed is not None:
        seed_everything(seed)
    if channels_last == "auto":
        channels_last = device.type == "cpu"
    if channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    fixed_z = torch.randn(n_samples, latent_dim, generator=torch.Generator().manual_seed(1234)).to(device)
    return device, latent_dim, fixed_z


def fit_with_dashboard(step, loader, num_epochs, history, G, D, fixed_z, *, dashboard="auto", verbose=True,
                       **fit_options):
    """``loop.fit`` in training mode, with the live dashboard in Jupyter (see ``course_utils.widgets``)."""
    G.train()
    D.train()
    live = LiveDashboard(G, fixed_z) if verbose and dashboard_enabled(dashboard) else None
    fit(step, loader, num_epochs, history, on_log=live, progress=verbose, verbose=verbose, **fit_options)
    if live is not None:
        live(history, force=True)
    return history


def checkpoint_epoch(G, D, opt_g, opt_d, fixed_z, history: dict, epoch: int, eval_fn=None,
                     checkpoint_path=None, **extra) -> None:
    """What the trainers do at a checkpoint epoch: samples (and metrics), then the checkpoint file.

    A failing ``eval_fn`` or checkpoint write does not end the run: it is reported (printed and kept
    in ``history["warnings"]``) and training goes on, so the history is never lost.
    """
    record_samples(G, fixed_z, history, epoch, eval_fn)
    if checkpoint_path is not None:
        save_or_warn(checkpoint_path, history, G=G, D=D, opt_g=opt_g, opt_d=opt_d, history=history, **extra)


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
def record_samples(G, fixed_z, history: dict, epoch: int, eval_fn=None) -> None:
    """Store ``G(fixed_z)`` (on CPU, float) and, if given, ``eval_fn(G)`` in the history."""
    was_training = G.training
    G.eval()
    try:
        images = G(fixed_z).float().cpu().contiguous()
        history["samples"].append({"epoch": epoch, "images": images})
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


def _mean_last(history: dict, key: str) -> float:
    values = history[key][-history["steps_per_epoch"]:] or [float("nan")]
    return sum(values) / len(values)


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def save_path(name: str) -> Path:
    """Where lessons write their runs: ``runs/<name>`` in the repository (git-ignored).

    ``COURSE_RUNS_DIR`` moves that folder (the grader points it at each submission's temp dir).
    """
    folder = os.environ.get("COURSE_RUNS_DIR") or Path(__file__).resolve().parent.parent / "runs"
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
