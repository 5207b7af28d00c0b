"""BCE GAN training (lesson 3): the non-saturating G loss, one D step, one G step and ``train_gan``.

Loss convention used everywhere in the course: the **averaged** discriminator loss
``L_D = (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2`` (lesson 2's :func:`~course_utils.lesson2.reference.discriminator_loss`).
A discriminator that guesses (D = 0.5 everywhere) scores ``log 2 ~ 0.693``; so does the non-saturating generator
loss ``L_G = BCE(D(G(z)), 1)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..kit.loop import check_step_result, frozen
from ..kit.trainer import (  # noqa: F401 - re-exported (the old flat module had them)
    adam_settings,
    check_images,
    end_of_epoch,
    fit_with_dashboard,
    one_vocabulary,
    save_path,
    start_run,
)
from ..lesson2.reference import discriminator_loss


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


@one_vocabulary
def train_gan(G, D, loader, num_epochs: int, device, lr_g: float = 2e-4,
              beta1: float = 0.5, checkpoint_every: int = 5, verbose: bool = True, *, lr_d: float | None = None,
              beta2: float = 0.999, sample_every: int | None = None, max_minutes: float | None = None,
              d_step_fn=d_step, g_step_fn=g_step, seed: int | None = 0, amp="auto",
              channels_last: bool | str = "auto", eval_fn=None, checkpoint_path=None, resume_from=None,
              history: dict | None = None, n_samples: int = 64, log_every: int = 50, dashboard="auto",
              learning_rate: float | None = None, cuda_graphs="auto"):
    """Train a GAN with BCE losses (lesson 3) and return its history.

    The seed's signature first; then options: ``lr_d`` (D's learning rate, default: the same as
    ``lr_g``), ``d_step_fn``/``g_step_fn`` (your own steps), ``amp`` (bf16 autocast: True, False or
    "auto"), ``eval_fn(G) -> dict`` (a quality metric at each checkpoint), ``checkpoint_path``
    (written atomically every ``checkpoint_every`` epochs), ``resume_from`` (a checkpoint to
    continue, with this call's settings: see ``course_utils.kit.trainer``), ``dashboard`` (live plots in
    Jupyter: "auto" turns them on in a notebook outside quick mode). History keys: ``d_loss``,
    ``g_loss``, ``d_real`` (D(x) mean), ``d_fake`` (D(G(z)) mean), one float per batch; ``samples``, a
    list of ``{"epoch", "images"}`` from fixed noise every ``sample_every`` epochs (default: ``checkpoint_every``);
    ``metrics``. ``max_minutes``: a time budget (whole epochs while the next still fits, ``history["time_budget"]``).
    Old names still accepted, with a warning: ``learning_rate`` (``lr_g`` and ``lr_d``), ``generator``,
    ``discriminator``, ``train_loader``, ``checkpoint_interval`` (``checkpoint_every`` and ``sample_every``).
    ``cuda_graphs``: on a GPU, "auto" replays each step as one CUDA graph when that is measured faster
    (``course_utils.kit.graphs``; your steps must do the same work on every call); False turns it off.
    """
    sample_every = checkpoint_every if sample_every is None else sample_every
    settings = adam_settings("train_gan", lr_g, lr_d, beta1, beta2, learning_rate=learning_rate)
    run = start_run(G, D, device, "train_gan", settings=settings, history_keys=HISTORY_KEYS, seed=seed,
                    channels_last=channels_last, n_samples=n_samples, amp=amp, checkpoint_path=checkpoint_path,
                    resume_from=resume_from, history=history,
                    batch_size=getattr(loader, "batch_size", None), verbose=verbose,
                    record={"loss": "averaged BCE (chance = log 2)"})
    device, latent_dim, opt_g, opt_d = run.device, run.latent_dim, run.opt_g, run.opt_d

    def step(real):
        real = check_images(real, "train_gan").to(device, non_blocking=True)
        with run.autocast, frozen(G):  # G's weight gradients are not needed in D's step ...
            d_loss, d_real, d_fake = check_step_result(d_step_fn, d_step_fn(D, G, real, opt_d, latent_dim),
                                                       ("d_loss", "D(x) mean", "D(G(z)) mean"))
        with run.autocast, frozen(D):  # ... nor D's in G's step: autograd skips them
            g_loss = check_step_result(g_step_fn, g_step_fn(D, G, opt_g, real.size(0), latent_dim, device),
                                       ("g_loss",))
        return {"d_loss": d_loss, "g_loss": g_loss, "d_real": d_real, "d_fake": d_fake}

    def on_epoch_end(epoch):
        end_of_epoch(run, epoch, sample_every=sample_every, checkpoint_every=checkpoint_every,
                     eval_fn=eval_fn, verbose=verbose, show=EPOCH_LINE)

    return fit_with_dashboard(step, loader, num_epochs, run, dashboard=dashboard, verbose=verbose,
                              on_epoch_end=on_epoch_end, log_every=log_every, desc="train_gan",
                              cuda_graphs=cuda_graphs, max_minutes=max_minutes)


HISTORY_KEYS = ["d_loss", "g_loss", "d_real", "d_fake"]
EPOCH_LINE = {"D loss": "d_loss", "G loss": "g_loss", "D(x)": "d_real", "D(G(z))": "d_fake"}
