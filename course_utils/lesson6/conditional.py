"""A class-conditional GAN on Fashion-MNIST (lesson 6): ``G(z, y)``, a projection ``D(x, y)``, their steps.

Lesson 3's game with one change: both players see a class label ``y`` (0..9, ``FASHION_CLASSES``).

* G joins a learned **label embedding** to the projected ``z`` and draws an image of class ``y``.
* D is a **projection discriminator** (Miyato & Koyama 2018): features ``phi(x)``, then
  ``logit = psi(phi(x)) + <embed(y), phi(x)>``. The inner product asks "do these features look like
  class ``y``?" directly; a one-hot label glued to the image as extra channels leaves D to discover
  that question through its first convolution, and it often learns to ignore the label.
* D step: real images with **their own** labels (target 1), fakes made for labels drawn
  **uniformly** at random (target 0), judged under **the same** labels G drew them for; fakes detached.
* G step: fresh noise and fresh uniform labels; G wants D to call ``(G(z, y), y)`` real.
* The class term (AC-GAN's auxiliary classifier, Odena et al. 2017): :class:`ClassHeadDiscriminator` also
  names the class of what it sees; the D step teaches that head on real images, the G step rewards fakes
  the head files under the class they were drawn for. Measured here: it lifts the classes the projection
  game leaves ambiguous (coats, shirts) past the bar (``pretrained/records/fashion_cgan_levers.json``).

``train_conditional_gan`` is lesson 3's ``train_gan`` with labels: the same kit (progress bar,
interrupts keep the history, checkpoints, the live dashboard, here one row per class).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..kit.loop import check_step_result, frozen
from ..kit.trainer import adam_settings, check_images, end_of_epoch, fit_with_dashboard, one_vocabulary, start_run
from ..lesson2.reference import discriminator_loss
from ..lesson3.trainer import generator_loss

NUM_CLASSES = 10


def random_labels(n: int, num_classes: int = NUM_CLASSES, device=None) -> torch.Tensor:
    """``n`` class ids drawn uniformly from 0..num_classes-1, a LongTensor ``(n,)`` (lesson 6)."""
    return torch.randint(0, num_classes, (n,), device=device)


def class_rows(num_classes: int = NUM_CLASSES, per_class: int = 8) -> torch.Tensor:
    """Labels for a grid with one row per class: ``[0]*per_class + [1]*per_class + ...``, shape ``(K*per_class,)``."""
    return torch.arange(num_classes).repeat_interleave(per_class)


class ConditionalGenerator(nn.Module):
    """``G(z, y)``: lesson 1's DCGAN generator with the label joined to the projected noise (lesson 6).

    z (B, latent_dim) -> Linear -> BatchNorm -> (B, 2w, 7, 7); y (B,) -> embed -> Linear -> (B, c, 7, 7)
    with c = ``label_channels``; joined along the channels -> (B, 2w + c, 7, 7) -> ConvT -> (B, w, 14, 14)
    -> ConvT -> (B, 1, 28, 28) in [-1, 1]. The label joins *after* z's BatchNorm: joined before it
    (``torch.cat([z, embed(y)])`` into the first layer), BatchNorm normalises the class signal and z
    together, and a class signal that grows can crowd z out (few pictures per class).
    """

    def __init__(self, latent_dim: int = 100, num_classes: int = NUM_CLASSES, width: int = 64,
                 embed_dim: int = 50, label_channels: int = 8, channels: int = 1):
        super().__init__()
        self.latent_dim, self.num_classes, self.width = latent_dim, num_classes, width
        self.embed_dim, self.label_channels, self.channels = embed_dim, label_channels, channels
        self.project = nn.Sequential(
            nn.Linear(latent_dim, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU(),
        )
        self.embed = nn.Embedding(num_classes, embed_dim)  # one learned vector per class
        self.label_map = nn.Linear(embed_dim, label_channels * 7 * 7)  # the class as c maps of 7x7
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(2 * width + label_channels, width, 4, stride=2, padding=1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, stride=2, padding=1),  # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(-1, 2 * self.width, 7, 7)  # (B, 2w, 7, 7): the noise
        m = self.label_map(self.embed(y)).view(-1, self.label_channels, 7, 7)  # (B, c, 7, 7): the class
        return self.upsample(torch.cat([x, m], dim=1))  # (B, 2w + c, 7, 7) -> (B, C, 28, 28)


class ProjectionDiscriminator(nn.Module):
    """``D(x, y)``: lesson 2's features ``phi(x)``, then ``psi(phi) + <embed(y), phi>``, logits (B, 1) (lesson 6)."""

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 64, channels: int = 1):
        super().__init__()
        self.num_classes, self.width, self.channels = num_classes, width, channels
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),  # 28 -> 14
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.BatchNorm2d(2 * width),  # 14 -> 7
            nn.LeakyReLU(0.2),
        )
        feature_dim = 2 * width * 7 * 7
        self.psi = nn.Linear(feature_dim, 1)  # "is this a real image?" whatever the class
        self.embed = nn.Embedding(num_classes, feature_dim)  # "does it look like class y?"
        nn.init.normal_(self.embed.weight, 0.0, 0.02)  # like psi's weights: PyTorch's N(0, 1) would swamp psi

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(x).flatten(1), y)  # (B, 1) logits

    def score(self, phi: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, 1)`` of features ``phi`` ``(B, F)`` under labels ``y``: ``psi(phi) + <embed(y), phi>``."""
        projection = (self.embed(y) * phi).sum(dim=1, keepdim=True)  # (B, 1): <embed(y), phi(x)>
        return self.psi(phi) + projection


class ClassHeadDiscriminator(ProjectionDiscriminator):
    """The projection D plus a class head: ``classify(phi)``, ``(B, K)`` class logits (lesson 6, the class term).

    ``D(x, y)`` is the projection D's logit ``(B, 1)``; ``D(x, y, with_class_logits=True)`` returns
    ``(logit, class_logits)`` from one pass through the features.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, width: int = 64, channels: int = 1):
        super().__init__(num_classes, width, channels)
        self.classify = nn.Linear(2 * width * 7 * 7, num_classes)  # phi (B, F) -> (B, K): "which class is it?"

    def forward(self, x: torch.Tensor, y: torch.Tensor, with_class_logits: bool = False):
        phi = self.features(x).flatten(1)  # (B, F)
        logit = self.score(phi, y)  # (B, 1): the projection D
        return (logit, self.classify(phi)) if with_class_logits else logit


def conditional_d_step(D, G, real, labels, opt_d, latent_dim: int, num_classes: int):
    """One conditional D update (lesson 6). Returns ``(d_loss, D(x, y) mean, D(G(z, y'), y') mean)``, detached.

    ``real`` (B, 1, 28, 28) with ``labels`` (B,); fakes for uniform labels ``y'``, judged under ``y'``.
    """
    z = torch.randn(real.size(0), latent_dim, device=real.device)  # (B, latent_dim)
    fake_labels = random_labels(real.size(0), num_classes, real.device)  # (B,) uniform
    fake = G(z, fake_labels).detach()  # (B, 1, 28, 28); detach: no gradient into G
    real_logits, fake_logits = D(real, labels), D(fake, fake_labels)  # (B, 1) each; the SAME labels as G's
    loss = discriminator_loss(real_logits, fake_logits)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach(), torch.sigmoid(real_logits).mean().detach(), torch.sigmoid(fake_logits).mean().detach()


def conditional_g_step(D, G, opt_g, batch_size: int, latent_dim: int, num_classes: int, device):
    """One conditional G update (lesson 6): fresh z and uniform labels, D judges under those labels."""
    z = torch.randn(batch_size, latent_dim, device=device)  # (B, latent_dim)
    labels = random_labels(batch_size, num_classes, device)  # (B,)
    loss = generator_loss(D(G(z, labels), labels))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return loss.detach()


def class_loss_d_step(D, G, real, labels, opt_d, latent_dim: int, num_classes: int, class_weight: float = 1.0):
    """:func:`conditional_d_step` plus ``class_weight`` x the cross-entropy of D's class head on the REAL images.

    D must have a class head (:class:`ClassHeadDiscriminator`). Fakes teach the head nothing: a head taught
    G's blurry coats as coats would reward them. Returns ``(d_loss, D(x, y) mean, D(G(z, y'), y') mean)``.
    """
    z = torch.randn(real.size(0), latent_dim, device=real.device)  # (B, latent_dim)
    fake_labels = random_labels(real.size(0), num_classes, real.device)  # (B,) uniform
    fake = G(z, fake_labels).detach()  # (B, 1, 28, 28); detach: no gradient into G
    real_logits, real_class_logits = D(real, labels, with_class_logits=True)  # (B, 1), (B, K)
    fake_logits = D(fake, fake_labels)  # (B, 1), judged under G's labels
    loss = discriminator_loss(real_logits, fake_logits) + class_weight * F.cross_entropy(real_class_logits, labels)
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return loss.detach(), torch.sigmoid(real_logits).mean().detach(), torch.sigmoid(fake_logits).mean().detach()


def class_loss_g_step(D, G, opt_g, batch_size: int, latent_dim: int, num_classes: int, device,
                      class_weight: float = 1.0):
    """:func:`conditional_g_step` plus ``class_weight`` x the cross-entropy of D's class head on the fakes."""
    z = torch.randn(batch_size, latent_dim, device=device)  # (B, latent_dim)
    labels = random_labels(batch_size, num_classes, device)  # (B,)
    logits, class_logits = D(G(z, labels), labels, with_class_logits=True)  # (B, 1), (B, K)
    loss = generator_loss(logits) + class_weight * F.cross_entropy(class_logits, labels)
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return loss.detach()


def class_loss_steps(class_weight: float = 1.0) -> dict:
    """``{"d_step_fn", "g_step_fn"}`` for ``train_conditional_gan`` with the class term at ``class_weight``."""
    if not class_weight > 0:
        raise ValueError(f"class_weight must be > 0 (got {class_weight}); for the plain projection game "
                         "pass no steps (the defaults are conditional_d_step / conditional_g_step)")

    def d_step(D, G, real, labels, opt_d, latent_dim, num_classes):
        return class_loss_d_step(D, G, real, labels, opt_d, latent_dim, num_classes, class_weight)

    def g_step(D, G, opt_g, batch_size, latent_dim, num_classes, device):
        return class_loss_g_step(D, G, opt_g, batch_size, latent_dim, num_classes, device, class_weight)

    return {"d_step_fn": d_step, "g_step_fn": g_step}


def check_conditional_models(G, D) -> int:
    """G and D must both take labels: an int ``num_classes`` on each, and the same one; returns it."""
    k_g, k_d = getattr(G, "num_classes", None), getattr(D, "num_classes", None)
    if not isinstance(k_g, int) or not isinstance(k_d, int):
        who = "generator" if not isinstance(k_g, int) else "discriminator"
        raise AttributeError(f"train_conditional_gan needs a conditional {who} with an int num_classes "
                             f"(set self.num_classes = num_classes in __init__); lesson 3's unconditional "
                             "models train with train_gan")
    if k_g != k_d:
        raise ValueError(f"G draws {k_g} classes but D judges {k_d}: build both with the same num_classes")
    return k_g


def check_labels(labels, num_classes: int, n: int) -> torch.Tensor:
    """A batch's labels: a LongTensor ``(n,)`` of class ids in 0..num_classes-1 (lesson 6)."""
    if not isinstance(labels, torch.Tensor) or labels.dtype != torch.long or tuple(labels.shape) != (n,):
        got = (f"{labels.dtype} tensor of shape {tuple(labels.shape)}" if isinstance(labels, torch.Tensor)
               else type(labels).__name__)
        raise ValueError(f"train_conditional_gan needs (images, labels) batches with labels a LongTensor ({n},) of "
                         f"class ids; got {got}. Use fashion_mnist_loader(...), which yields both.")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be class ids in 0..{num_classes - 1}; got {int(labels.min())}.."
                         f"{int(labels.max())}")
    return labels


@one_vocabulary
def train_conditional_gan(G, D, loader, num_epochs: int, device, lr_g: float = 2e-4,
                          beta1: float = 0.5, checkpoint_every: int = 5, verbose: bool = True, *,
                          lr_d: float | None = None, beta2: float = 0.999, sample_every: int | None = None,
                          max_minutes: float | None = None, d_step_fn=conditional_d_step,
                          g_step_fn=conditional_g_step, seed: int | None = 0, amp="auto",
                          channels_last: bool | str = "auto", eval_fn=None, checkpoint_path=None,
                          resume_from=None, history: dict | None = None, per_class: int = 8,
                          log_every: int = 50, dashboard="auto"):
    """Train a conditional GAN (lesson 6); the settings and history are ``train_gan``'s (lesson 3).

    The loader yields ``(images, labels)``. Fixed noise: ``per_class`` latent vectors, the same in every
    class row, so the stored samples (``history["samples"]``) and the dashboard show one row per class.
    """
    sample_every = checkpoint_every if sample_every is None else sample_every
    num_classes = check_conditional_models(G, D)
    settings = adam_settings("train_conditional_gan", lr_g, lr_d, beta1, beta2)
    run = start_run(G, D, device, "train_conditional_gan", settings=settings, history_keys=HISTORY_KEYS,
                    seed=seed, channels_last=channels_last, n_samples=per_class, amp=amp,
                    checkpoint_path=checkpoint_path, resume_from=resume_from, history=history,
                    batch_size=getattr(loader, "batch_size", None), verbose=verbose,
                    record={"loss": "averaged BCE (chance = log 2)", "num_classes": num_classes})
    run.fixed_z = run.fixed_z.repeat(num_classes, 1)  # (K * per_class, latent_dim): same z in every row
    run.fixed_labels = class_rows(num_classes, per_class).to(run.device)  # (K * per_class,)
    device, latent_dim, opt_g, opt_d = run.device, run.latent_dim, run.opt_g, run.opt_d

    def step(batch):
        real, labels = batch
        real = check_images(real, "train_conditional_gan").to(device, non_blocking=True)
        labels = check_labels(labels, num_classes, real.size(0)).to(device, non_blocking=True)
        with run.autocast, frozen(G):
            d_loss, d_real, d_fake = check_step_result(
                d_step_fn, d_step_fn(D, G, real, labels, opt_d, latent_dim, num_classes),
                ("d_loss", "D(x, y) mean", "D(G(z, y'), y') mean"))
        with run.autocast, frozen(D):
            g_loss = check_step_result(
                g_step_fn, g_step_fn(D, G, opt_g, real.size(0), latent_dim, num_classes, device), ("g_loss",))
        return {"d_loss": d_loss, "g_loss": g_loss, "d_real": d_real, "d_fake": d_fake}

    def on_epoch_end(epoch):
        end_of_epoch(run, epoch, sample_every=sample_every, checkpoint_every=checkpoint_every,
                     eval_fn=eval_fn, verbose=verbose, show=EPOCH_LINE)

    return fit_with_dashboard(step, loader, num_epochs, run, dashboard=dashboard, verbose=verbose,
                              on_epoch_end=on_epoch_end, log_every=log_every, desc="train_conditional_gan",
                              with_labels=True, max_minutes=max_minutes)


HISTORY_KEYS = ["d_loss", "g_loss", "d_real", "d_fake"]
EPOCH_LINE = {"D loss": "d_loss", "G loss": "g_loss", "D(x, y)": "d_real", "D(G(z, y'), y')": "d_fake"}
