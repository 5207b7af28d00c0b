"""WGAN-GP (lesson 5): the flowers generator, a critic without BatchNorm, the gradient penalty,
the Wasserstein losses, one training iteration with ``n_critic`` critic updates, ``train_wgan_gp``.

Conventions (Gulrajani et al., 2017, "Improved Training of Wasserstein GANs"):

* the critic ``D`` returns one unbounded score per image (no sigmoid); the course keeps the names
  ``real_logits``/``fake_logits`` for ``D(real)``/``D(fake)``, though no probability is behind them;
* ``L_D = -E[D(real)] + E[D(fake)] + lambda_gp * GP`` and ``L_G = -E[D(fake)]``;
* ``GP = E[(||grad_x D(x_hat)||_2 - 1)^2]`` with ``x_hat = eps * real + (1 - eps) * fake``,
  one ``eps ~ U[0, 1]`` per sample, the norm taken over all non-batch dimensions;
* ``D(real) - D(fake)`` (the negated critic loss without the penalty) estimates the Wasserstein
  distance up to the critic's scale; its *trend* is what to watch, not its value.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kit.loop import check_step_result
from ..kit.trainer import adam_settings, check_images, end_of_epoch, fit_with_dashboard, one_vocabulary, start_run
from ..lesson1.reference import init_weights
from ..lesson3.trainer import g_step

NORMS = ("layer", "instance", "none")


def _levels(image_size: int) -> int:
    if image_size not in (32, 64):
        raise ValueError(f"image_size must be 32 or 64, got {image_size}")
    return 3 if image_size == 32 else 4  # number of x2 steps between 4x4 and image_size


class FlowerGenerator(nn.Module):
    """DCGAN generator for RGB images of 32x32 or 64x64 (lesson 5).

    z (B, latent_dim) -> (B, latent_dim, 1, 1) -> ConvT -> (B, 8w, 4, 4) [64x64] or (B, 4w, 4, 4)
    [32x32] -> a stride-2 ConvT per doubling, halving channels -> (B, 3, S, S) in [-1, 1].
    BatchNorm is fine in G: the gradient penalty only constrains the critic.
    """

    def __init__(self, latent_dim: int = 100, width: int = 64, channels: int = 3, image_size: int = 64):
        super().__init__()
        self.latent_dim, self.width, self.channels, self.image_size = latent_dim, width, channels, image_size
        n = _levels(image_size)
        c = width * 2 ** (n - 1)  # 8w for 64x64, 4w for 32x32
        layers = [nn.ConvTranspose2d(latent_dim, c, 4, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
        for _ in range(n - 1):  # 4 -> 8 -> ... -> S/2, channels halve
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2),
                       nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]  # S/2 -> S
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.size(0), self.latent_dim, 1, 1))  # (B, C, S, S)


def _norm(kind: str, c: int) -> nn.Module:
    if kind == "layer":
        return nn.GroupNorm(1, c)  # LayerNorm over (C, H, W) of each image, per-channel scale/shift
    if kind == "instance":
        return nn.InstanceNorm2d(c, affine=True)  # per image and channel
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {NORMS}, got {kind!r}")


class Critic(nn.Module):
    """The WGAN-GP critic for 32x32 or 64x64 RGB images: one unbounded score per image (lesson 5).

    (B, 3, S, S) -> stride-2 convs doubling channels (w, 2w, 4w[, 8w]) -> (B, ., 4, 4) -> conv 4x4
    -> (B, 1). No BatchNorm: it mixes the images of a batch, so D(x_i) would depend on the other
    images and the per-sample gradient the penalty constrains would not be D's gradient at x_i.
    ``norm="layer"`` (default), ``"instance"`` or ``"none"`` normalize each image on its own.
    """

    def __init__(self, width: int = 64, channels: int = 3, image_size: int = 64, norm: str = "layer"):
        super().__init__()
        self.width, self.channels, self.image_size, self.norm = width, channels, image_size, norm
        n = _levels(image_size)
        layers, c = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)], width  # S -> S/2
        for _ in range(n - 1):  # S/2 -> ... -> 4
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1), _norm(norm, 2 * c), nn.LeakyReLU(0.2, True)]
            c *= 2
        layers.append(nn.Conv2d(c, 1, 4, 1, 0))  # (B, 1, 1, 1): no sigmoid
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1).float()  # (B, 1), float32 even under bf16 autocast


def gradient_penalty(D, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """``E[(||grad D(x_hat)||_2 - 1)^2]`` on random interpolates of real and fake images (lesson 5).

    Returns the penalty *without* lambda (the critic loss multiplies it). A zero gradient gives 1,
    a unit-norm gradient 0. ``create_graph=True`` so that the penalty can be backpropagated to D.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    eps = torch.rand(real.size(0), 1, 1, 1, device=real.device)  # (B, 1, 1, 1): one per image
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)  # (B, C, H, W)
    scores = D(x_hat)  # (B, 1)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)  # (B, C, H, W)
    norms = grad.flatten(1).norm(2, dim=1)  # (B,): over all non-batch dims
    return ((norms - 1) ** 2).mean()


def critic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, gp: torch.Tensor,
                lambda_gp: float = 10.0) -> torch.Tensor:
    """``L_D = -E[D(real)] + E[D(fake)] + lambda_gp * GP`` (lesson 5)."""
    return -real_logits.mean() + fake_logits.mean() + lambda_gp * gp


def wgan_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """``L_G = -E[D(fake)]``: G wants the critic to score its images high (lesson 5)."""
    return -fake_logits.mean()


def critic_step(D, G, real, opt_d, lambda_gp: float, latent_dim: int) -> dict:
    """One critic update on one real batch (lesson 5). Returns detached 0-dim tensors."""
    z = torch.randn(real.size(0), latent_dim, device=real.device)  # (B, latent_dim): fresh noise
    fake = G(z).detach()  # (B, C, H, W); no gradient into G in the critic step
    real_logits, fake_logits = D(real), D(fake)  # (B, 1) each
    gp = gradient_penalty(D, real, fake)
    loss = critic_loss(real_logits, fake_logits, gp, lambda_gp)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return {"d_loss": loss.detach(), "d_real": real_logits.mean().detach(),
            "d_fake": fake_logits.mean().detach(), "gp": gp.detach()}


def generator_step(D, G, opt_g, batch_size: int, latent_dim: int, device) -> torch.Tensor:
    """One generator update with ``L_G = -E[D(G(z))]`` (lesson 5): lesson 3's ``g_step``, WGAN loss.

    Returns the detached loss. ``backward`` also fills D's ``.grad``; the critic step clears them.
    """
    return g_step(D, G, opt_g, batch_size, latent_dim, device, loss_fn=wgan_generator_loss)


def wgan_step(D, G, real, opt_d, opt_g, n_critic: int = 5, lambda_gp: float = 10.0,
              latent_dim: int = 100) -> dict:
    """One generator iteration (lesson 5): ``n_critic`` critic updates, each on its own slice of
    ``real`` (``(n_critic * B, C, H, W)``), then one generator update.

    Returns the critic statistics averaged over the ``n_critic`` updates, ``g_loss`` and
    ``wasserstein = d_real - d_fake``.
    """
    if real.size(0) % n_critic:
        raise ValueError(f"real holds {real.size(0)} images, not a multiple of n_critic={n_critic}")
    stats = [critic_step(D, G, chunk, opt_d, lambda_gp, latent_dim) for chunk in real.chunk(n_critic)]
    out = {k: torch.stack([s[k] for s in stats]).mean() for k in stats[0]}
    out["wasserstein"] = out["d_real"] - out["d_fake"]
    out["g_loss"] = generator_step(D, G, opt_g, real.size(0) // n_critic, latent_dim, real.device)
    return out


class _Groups:
    """Yields ``(cat of n batches,)`` from a loader: the real images of one generator iteration."""

    def __init__(self, loader, n: int):
        if len(loader) < n:
            raise ValueError(f"the loader has {len(loader)} batches per epoch, fewer than n_critic={n}: "
                             "use more images or a smaller batch_size")
        self.loader, self.n, self.dataset = loader, n, getattr(loader, "dataset", None)

    def __len__(self) -> int:
        return len(self.loader) // self.n

    def __iter__(self):
        it = iter(self.loader)
        for _ in range(len(self)):
            yield (torch.cat([next(it)[0] for _ in range(self.n)]),)


HISTORY_KEYS = ["d_loss", "g_loss", "d_real", "d_fake", "gp", "wasserstein"]


@one_vocabulary
def train_wgan_gp(G, D, loader, num_epochs: int, device, *, lr_g: float = 1e-4, lr_d: float | None = None,
                  beta1: float = 0.0, beta2: float = 0.9, n_critic: int = 5, lambda_gp: float = 10.0,
                  checkpoint_every: int = 5, sample_every: int | None = None, verbose: bool = True,
                  step_fn=wgan_step, seed: int | None = 0,
                  amp="auto", channels_last: bool | str = "auto", eval_fn=None, checkpoint_path=None,
                  resume_from=None, history: dict | None = None, n_samples: int = 64, log_every: int = 10,
                  dashboard="auto", lr: float | None = None, betas=None, max_minutes: float | None = None) -> dict:
    """Train a WGAN-GP (lesson 5) and return its history.

    An epoch is one pass over ``loader``; every ``n_critic`` batches make one generator iteration
    (``step_fn``, default :func:`wgan_step`), so the critic sees each image once per epoch.
    History (one float per generator iteration): ``d_real``, ``d_fake`` (mean critic scores),
    ``gp`` (the penalty without lambda), ``wasserstein`` (d_real - d_fake), ``d_loss``, ``g_loss``;
    ``samples`` from fixed noise and ``metrics`` (``eval_fn(G)``) every ``sample_every`` epochs (default:
    ``checkpoint_every``); ``checkpoint_path`` (if given) is written every ``checkpoint_every`` epochs.
    ``amp``: bf16 autocast (True, False or "auto").
    ``resume_from``: a checkpoint to continue, with this call's settings (see
    ``course_utils.kit.trainer``). Ctrl-C returns the history so far. ``dashboard``: as in ``train_gan``.
    ``max_minutes``: a time budget: whole epochs, at most ``num_epochs``, while the next still fits
    (``history["time_budget"]`` says where it stopped; lesson 5's CPU setting).
    Settings use the course's one vocabulary (``lr_g``, ``lr_d``, ``beta1``, ``beta2``); ``lr``, ``betas`` and
    ``checkpoint_interval`` are the old names, still accepted with a warning.
    """
    sample_every = checkpoint_every if sample_every is None else sample_every
    settings = adam_settings("train_wgan_gp", lr_g, lr_d, beta1, beta2, lr=lr, betas=betas)
    run = start_run(G, D, device, "train_wgan_gp", settings=settings, history_keys=HISTORY_KEYS, seed=seed,
                    channels_last=channels_last, n_samples=n_samples, amp=amp, checkpoint_path=checkpoint_path,
                    resume_from=resume_from, history=history,
                    batch_size=getattr(loader, "batch_size", None), verbose=verbose,
                    record=dict(
                        n_critic=n_critic, lambda_gp=lambda_gp, batch_size=getattr(loader, "batch_size", None),
                        loss="L_D = -E[D(real)] + E[D(fake)] + lambda*GP; L_G = -E[D(fake)]"))

    def step(real):
        real = check_images(real, "train_wgan_gp").to(run.device, non_blocking=True)
        with run.autocast:
            return check_step_result(step_fn, step_fn(D, G, real, run.opt_d, run.opt_g, n_critic, lambda_gp,
                                                      run.latent_dim), set(HISTORY_KEYS))

    def on_epoch_end(epoch):
        end_of_epoch(run, epoch, sample_every=sample_every, checkpoint_every=checkpoint_every,
                     eval_fn=eval_fn, verbose=verbose, show=EPOCH_LINE)

    return fit_with_dashboard(step, _Groups(loader, n_critic), num_epochs, run, dashboard=dashboard,
                              verbose=verbose, on_epoch_end=on_epoch_end, log_every=log_every, desc="train_wgan_gp",
                              max_minutes=max_minutes)


EPOCH_LINE = {"D(real)": "d_real", "D(fake)": "d_fake", "W estimate": "wasserstein", "GP": "gp"}


def plot_wgan_history(history: dict, smooth_width: int = 25, title: str = ""):
    """D(real) and D(fake), the Wasserstein estimate and GP as recorded: signs kept, no abs() (lesson 5).

    Takes a trainer's history (one value per generator iteration) or per-epoch ``curves`` (the
    shipped generators' ``G.meta["curves"]``, which have no ``steps_per_epoch``).
    """
    import matplotlib.pyplot as plt

    from ..kit.smoothing import smooth

    steps = history.get("steps_per_epoch") or 1
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    panels = [(("d_real", "D(real)", "tab:green"), ("d_fake", "D(fake)", "tab:red")),
              (("wasserstein", "D(real) - D(fake)", "tab:blue"),), (("gp", "GP (without lambda)", "tab:purple"),)]
    for ax, keys in zip(axes, panels, strict=True):
        for key, label, color in keys:
            y = history[key]
            x = [(i + 1) / steps for i in range(len(y))]
            ax.plot(x, y, color=color, alpha=0.25 if steps > 1 else 1, lw=0.7)
            if steps > 1:
                ax.plot(x, smooth(y, smooth_width), color=color, label=f"{label} (smoothed)")
            else:
                ax.lines[-1].set_label(label)
        ax.axhline(0, color="k", lw=0.6)
        ax.set(xlabel="epoch")
        ax.legend()
    axes[0].set(title="critic scores", ylabel="mean score")
    axes[1].set(title="Wasserstein estimate")
    axes[2].set(title="gradient penalty")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
