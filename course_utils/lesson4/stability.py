"""A GAN trainer with a flag for each stabilising fix, checkpoints and resume (lesson 4).

Which way each flag is meant to move the balance between D and G (lesson 4 measures what each
does):

==========================  ======================================================  =============
flag                        what it does                                            D becomes
==========================  ======================================================  =============
lower ``lr_d``              separate lrs; D's lower than before                      weaker
``label_smoothing=0.1``     real targets 0.9, fake targets stay 0 (one-sided)        weaker
``instance_noise=0.1``      N(0, std^2) added to real *and* fake inputs of D         weaker
``d_every=2``               D is updated on every 2nd batch only                     weaker
``d_steps=2``               2 D updates per G update                                 **stronger**
``dropout`` / ``spectral``  (model options of D) dropout; Lipschitz-bounded layers   weaker
``g_loss="non_saturating"`` G minimises BCE(D(G(z)), 1): strong gradient when D wins (G learns)
==========================  ======================================================  =============

Loss convention: averaged BCE for D, ``(BCE(D(x), t_real) + BCE(D(G(z)), 0)) / 2``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..kit.checkpoints import CheckpointError
from ..kit.loop import fit  # noqa: F401 - the old flat module exposed it
from ..kit.trainer import adam_settings, end_of_epoch, fit_with_dashboard, start_run
from ..lesson3.trainer import generator_loss
from .diagnostics import grad_norm

HISTORY_KEYS = ["d_loss", "g_loss", "d_real", "d_fake", "d_grad", "g_grad", "noise_std"]


def smoothed_real_targets(real_logits: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Targets for real images: ``1 - label_smoothing`` (one-sided: fakes keep target 0) (lesson 4)."""
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing}; 0.1 is usual")
    return torch.full_like(real_logits, 1.0 - label_smoothing)


def add_instance_noise(x: torch.Tensor, std: float) -> torch.Tensor:
    """``x + N(0, std^2)`` elementwise; apply it to real and fake inputs of D alike (lesson 4)."""
    if std < 0:
        raise ValueError(f"instance noise std must be >= 0, got {std}")
    return x + std * torch.randn_like(x) if std > 0 else x


def instance_noise(real: torch.Tensor, fake: torch.Tensor, std: float):
    """``(real + noise, fake + other noise)``, independent N(0, std^2) for each (lesson 4)."""
    return add_instance_noise(real, std), add_instance_noise(fake, std)


def instance_noise_std(initial: float, epoch: int, decay_epochs: int | None) -> float:
    """Std of instance noise in (1-based) ``epoch``: linear decay from ``initial`` to 0 over
    ``decay_epochs`` epochs (``None``: constant)."""
    if not decay_epochs:
        return float(initial)
    return float(initial) * max(0.0, 1.0 - (epoch - 1) / decay_epochs)


def smoothed_d_loss(real_logits, fake_logits, label_smoothing: float = 0.0) -> torch.Tensor:
    """Averaged BCE with one-sided smoothing: real -> ``1 - label_smoothing``, fake -> 0 (lesson 4)."""
    real_loss = F.binary_cross_entropy_with_logits(real_logits,
                                                   smoothed_real_targets(real_logits, label_smoothing))
    fake_loss = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return (real_loss + fake_loss) / 2


def stable_g_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """``"non_saturating"``: BCE(D(G(z)), 1). ``"saturating"``: log(1 - D(G(z))) = -BCE(D(G(z)), 0),
    the original minimax loss, whose gradient vanishes when D confidently rejects the fakes."""
    if kind == "non_saturating":
        return generator_loss(fake_logits)  # lesson 3's loss
    if kind == "saturating":
        return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    raise ValueError(f"g_loss must be 'non_saturating' or 'saturating', got {kind!r}")


def stable_d_step(D, G, real, opt_d, latent_dim: int, *, label_smoothing=0.0, noise_std=0.0,
                  update: bool = True, d_loss_fn=None, noise_fn=None) -> dict:
    """One D step with the fixes; ``update=False`` only measures. Returns detached 0-dim tensors.

    ``d_loss_fn(real_logits, fake_logits, label_smoothing)`` and ``noise_fn(real, fake, std)`` replace
    :func:`smoothed_d_loss` and :func:`instance_noise` (lesson 4 passes the student's versions).
    """
    d_loss_fn, noise_fn = d_loss_fn or smoothed_d_loss, noise_fn or instance_noise
    z = torch.randn(real.size(0), latent_dim, device=real.device)  # (B, latent_dim)
    with torch.set_grad_enabled(update):
        fake = G(z).detach()  # no gradient into G from D's step
        noisy_real, noisy_fake = noise_fn(real, fake, noise_std) if noise_std else (real, fake)  # both, never one
        real_logits, fake_logits = D(noisy_real), D(noisy_fake)  # (B, 1) each
        loss = _scalar(d_loss_fn(real_logits, fake_logits, label_smoothing), "d_loss_fn")
    norm = torch.tensor(float("nan"))
    if update:
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.tensor(grad_norm(D))
        opt_d.step()
    return {"d_loss": loss.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
            "d_fake": torch.sigmoid(fake_logits).mean().detach(), "d_grad": norm}


def stable_g_step(D, G, opt_g, batch_size: int, latent_dim: int, device, *, g_loss="non_saturating",
                  noise_std=0.0, noise_fn=None) -> dict:
    """One G step: fresh noise, the chosen G loss, D sees the fakes with the same instance noise."""
    z = torch.randn(batch_size, latent_dim, device=device)  # (B, latent_dim)
    fake = G(z)  # (B, ...)
    if noise_std:
        fake = (noise_fn or instance_noise)(fake, fake, noise_std)[1]  # the fake half of the noise function
    loss = stable_g_loss(D(fake), g_loss)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    norm = grad_norm(G)
    opt_g.step()
    return {"g_loss": loss.detach(), "g_grad": torch.tensor(norm)}


def _scalar(loss, name: str) -> torch.Tensor:
    if not (torch.is_tensor(loss) and loss.dim() == 0 and loss.is_floating_point()):
        what = f"a tensor of shape {tuple(loss.shape)}" if torch.is_tensor(loss) else type(loss).__name__
        raise TypeError(f"{name} returned {what}: it must return one loss, a 0-dim float tensor (average over the "
                        "batch, e.g. with F.binary_cross_entropy_with_logits)")
    return loss


def _options(**kw) -> dict:
    return {k: v for k, v in kw.items() if v is None or isinstance(v, (bool, int, float, str))}


def _restore_position(run, path, loader) -> None:
    """After a resume: the RNG states, so the continued run equals an uninterrupted one."""
    missing = [k for k in ("torch_rng", "loader_rng") if k not in run.state]
    if missing:
        raise CheckpointError(f"{path} lacks {missing}: it was not written by train_stable_gan, "
                              "so the run cannot be continued exactly")
    if run.history.get("steps_per_epoch") not in (0, len(loader)):
        raise CheckpointError(f"{path} was trained with {run.history['steps_per_epoch']} batches per epoch, "
                              f"this loader has {len(loader)}: use the same data and batch_size")
    torch.set_rng_state(run.state["torch_rng"])
    loader.generator.set_state(run.state["loader_rng"])


def train_stable_gan(G, D, loader, num_epochs: int, device, *, lr_g: float = 2e-4, lr_d: float | None = None,
                     beta1: float = 0.5, beta2: float = 0.999, label_smoothing: float = 0.0,
                     instance_noise: float = 0.0, instance_noise_decay: int | None = None, d_every: int = 1,
                     d_steps: int = 1, g_loss: str = "non_saturating", checkpoint_every: int = 0,
                     checkpoint_path=None, resume_from=None, seed: int | None = 0, sample_every: int = 1,
                     eval_fn=None, n_samples: int = 64, amp=False, log_every: int = 50, verbose: bool = True,
                     desc: str = "train_stable_gan", d_loss_fn=None, noise_fn=None, max_minutes: float | None = None,
                     dashboard=False) -> dict:
    """Train a GAN with the lesson-4 fixes as flags; return the history (lesson 4).

    ``lr_g``/``lr_d``: the learning rates of G and D (``lr_d=None``: the same as ``lr_g``); two rates
    are a two time-scale update rule (TTUR, Heusel et al. 2017, who usually give D the larger one).
    ``label_smoothing``: real targets ``1 - label_smoothing``. ``instance_noise``: std of the noise added to
    D's inputs, decayed linearly to 0 over ``instance_noise_decay`` epochs.
    ``d_every=N``: update D on every N-th batch (weaker D). ``d_steps=N``: N D updates per batch
    (stronger D). ``g_loss``: "non_saturating" or "saturating". Every ``sample_every`` epochs:
    fixed-noise samples and ``eval_fn(G)`` into the history; every ``checkpoint_every`` epochs: a
    checkpoint at ``checkpoint_path`` (``{epoch}`` in it, e.g. ``"runs/x_{epoch:03d}.pt"``, keeps one
    file per checkpoint). ``resume_from``: continue a checkpoint for ``num_epochs`` more epochs with
    *this* call's settings (the course's resume rule, see ``course_utils.kit.trainer``). History keys:
    ``d_loss, g_loss, d_real, d_fake, d_grad, g_grad, noise_std`` per batch (``d_grad`` is NaN on
    batches where D was not updated). ``d_loss_fn(real_logits, fake_logits, label_smoothing)`` and
    ``noise_fn(real, fake, std)``: your ``smoothed_d_loss`` and ``instance_noise`` (lesson 4's exercises)
    in place of the course's, as ``d_step_fn`` in lesson 3: a wrong one changes the run. ``max_minutes``: a
    time budget, as in every trainer. Its step changes from batch to batch (``d_every``), so it is never
    replayed as a CUDA graph; ``dashboard`` is off by default (the toy's samples are points, not images).
    """
    if d_every < 1 or d_steps < 1:
        raise ValueError(f"d_every and d_steps must be >= 1, got d_every={d_every}, d_steps={d_steps}")
    if checkpoint_every and checkpoint_path is None:
        raise ValueError("checkpoint_every is set but checkpoint_path is None: say where to save")
    if not hasattr(loader, "generator"):
        raise TypeError("the loader needs a .generator (TensorLoader, PointLoader) so runs can be resumed")
    stable_g_loss(torch.zeros(1, 1), g_loss)  # validate early
    settings = adam_settings("train_stable_gan", lr_g, lr_d, beta1, beta2)
    options = _options(label_smoothing=label_smoothing, instance_noise=instance_noise,
                       instance_noise_decay=instance_noise_decay, d_every=d_every, d_steps=d_steps, g_loss=g_loss)
    if seed is not None:
        loader.generator.manual_seed(seed)
    run = start_run(G, D, device, "train_stable_gan", settings=settings, history_keys=HISTORY_KEYS, seed=seed,
                    channels_last=False, n_samples=n_samples, amp=amp,
                    checkpoint_path=checkpoint_path if checkpoint_every else None, resume_from=resume_from,
                    batch_size=getattr(loader, "batch_size", None), verbose=verbose,
                    record=options)
    if resume_from is not None:
        _restore_position(run, resume_from, loader)
    run.extra.update(torch_rng=torch.get_rng_state, loader_rng=loader.generator.get_state)
    step = _make_step(run, len(loader), {**settings, **options}, d_loss_fn, noise_fn)

    def on_epoch_end(epoch):
        end_of_epoch(run, epoch, sample_every=sample_every, checkpoint_every=checkpoint_every, eval_fn=eval_fn)

    return fit_with_dashboard(step, loader, num_epochs, run, dashboard=dashboard, verbose=verbose,
                              on_epoch_end=on_epoch_end, log_every=log_every, desc=desc, nan_ok=("d_grad",),
                              max_minutes=max_minutes)


def _make_step(run, steps_per_epoch, s, d_loss_fn=None, noise_fn=None):
    """The per-batch step for :func:`fit`, closing over the run and the settings ``s``."""
    G, D, opt_g, opt_d, latent_dim, device = run.G, run.D, run.opt_g, run.opt_d, run.latent_dim, run.device
    counter = [run.history["epochs"] * steps_per_epoch]  # batches seen so far, also across a resume

    def step(real):
        real = real.to(device, non_blocking=True)
        epoch = counter[0] // steps_per_epoch + 1
        noise = instance_noise_std(s["instance_noise"], epoch, s["instance_noise_decay"])
        update_d = counter[0] % s["d_every"] == 0
        counter[0] += 1
        with run.autocast:
            for _ in range(s["d_steps"] if update_d else 1):
                d_stats = stable_d_step(D, G, real, opt_d, latent_dim, label_smoothing=s["label_smoothing"],
                                        noise_std=noise, update=update_d, d_loss_fn=d_loss_fn,
                                        noise_fn=noise_fn)
            g_stats = stable_g_step(D, G, opt_g, real.size(0), latent_dim, device, g_loss=s["g_loss"],
                                    noise_std=noise, noise_fn=noise_fn)
        return {**d_stats, **g_stats, "noise_std": torch.tensor(noise)}

    return step
