"""The fast path (TensorLoader + train_gan) trains exactly like the plain tutorial path in fp32.

Plain path: torchvision's FashionMNIST (ToTensor + Normalize per image) in a DataLoader, the default
``torch.optim.Adam`` and ``.item()`` after every step. Fast path: the whole set as one tensor,
shuffled index batches, fused Adam, statistics read every ``log_every`` steps. Same seed, same
data, same order -> the same losses. Timings are measured by ``scripts/bench/benchmark.py``, never here.
"""

from __future__ import annotations

import copy

import pytest
import torch

from course_utils.kit.data import DataNotFoundError, TensorLoader, fashion_mnist_dataset, fashion_mnist_tensors
from course_utils.kit.env import seed_everything
from course_utils.lesson1.reference import Generator, init_weights
from course_utils.lesson2.reference import Discriminator
from course_utils.lesson3.trainer import d_step, g_step, train_gan

N, BATCH, LATENT, SEED = 6 * 32, 32, 16, 7  # 6 steps of 32 images


@pytest.fixture(scope="module")
def data():
    try:
        dataset = fashion_mnist_dataset(train=True)  # ToTensor() + Normalize((0.5,), (0.5,))
        images, labels = fashion_mnist_tensors(train=True, limit=N)  # (N, 1, 28, 28) uint8
    except DataNotFoundError as exc:
        pytest.skip(f"Fashion-MNIST not available: {exc}")
    return torch.utils.data.Subset(dataset, range(N)), images, labels


def plain_loader(subset, seed):
    return torch.utils.data.DataLoader(subset, batch_size=BATCH, shuffle=True, drop_last=True,
                                       generator=torch.Generator().manual_seed(seed))


def fast_loader(images, labels, seed):
    """A TensorLoader that shuffles like ``plain_loader(seed)`` for its first epoch.

    A DataLoader first draws one int64 (its workers' base seed) from its generator, then
    ``torch.randperm(n, generator)``; TensorLoader draws only the randperm, so advance it by one draw.
    """
    loader = TensorLoader(images, labels, batch_size=BATCH, seed=seed)
    torch.empty((), dtype=torch.int64).random_(generator=loader.generator)
    return loader


def make_models():
    seed_everything(0)
    G, D = Generator(LATENT, width=8), Discriminator(width=8)
    G.apply(init_weights)
    D.apply(init_weights)
    return G, D


def plain_train(G, D, loader, seed):
    """The tutorial loop: default Adam, ``.item()`` every step."""
    seed_everything(seed)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    history = {"d_loss": [], "g_loss": [], "d_real": [], "d_fake": []}
    for real, _ in loader:
        d_loss, d_real, d_fake = d_step(D, G, real, opt_d, LATENT)
        g_loss = g_step(D, G, opt_g, real.size(0), LATENT, real.device)
        for key, value in zip(history, (d_loss, g_loss, d_real, d_fake), strict=True):
            history[key].append(value.item())
    return history


def fast_train(G, D, loader, seed, channels_last=False):
    return train_gan(G, D, loader, 1, "cpu", seed=seed, amp=False, channels_last=channels_last,
                     checkpoint_every=0, verbose=False, log_every=4)


def test_tensor_loader_yields_the_dataloader_batches(data):
    subset, images, labels = data
    plain = list(plain_loader(subset, SEED))
    fast = list(fast_loader(images, labels, SEED))
    assert len(plain) == len(fast) == N // BATCH
    for (x_plain, y_plain), (x_fast, y_fast) in zip(plain, fast, strict=True):
        assert x_fast.shape == x_plain.shape == (BATCH, 1, 28, 28)
        assert torch.equal(y_fast, y_plain)
        torch.testing.assert_close(x_fast, x_plain, rtol=0, atol=1e-6)  # same arithmetic, same order


def test_fast_and_plain_paths_give_the_same_losses_in_fp32(data):
    subset, images, labels = data
    G, D = make_models()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    plain = plain_train(G, D, plain_loader(subset, SEED), seed=3)
    fast = fast_train(G2, D2, fast_loader(images, labels, SEED), seed=3)
    for key in plain:
        assert len(fast[key]) == len(plain[key]) == N // BATCH
        torch.testing.assert_close(torch.tensor(fast[key]), torch.tensor(plain[key]), rtol=1e-5, atol=1e-6,
                                   msg=lambda m, k=key: f"{k} differs between the paths: {m}")
    torch.testing.assert_close(G2.state_dict(), G.state_dict(), rtol=1e-3, atol=1e-4)  # fused vs plain Adam


def test_channels_last_matches_nchw_within_float_noise(data):
    _, images, labels = data
    G, D = make_models()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    nchw = fast_train(G, D, TensorLoader(images, labels, batch_size=BATCH, seed=SEED), seed=3)
    cl = fast_train(G2, D2, TensorLoader(images, labels, batch_size=BATCH, seed=SEED, channels_last=True),
                    seed=3, channels_last=True)
    for key in ("d_loss", "g_loss"):
        torch.testing.assert_close(torch.tensor(cl[key]), torch.tensor(nchw[key]), rtol=1e-4, atol=1e-5)


def test_a_different_seed_gives_different_losses(data):
    """Guards the two tests above against passing vacuously (e.g. losses that ignore the data)."""
    _, images, labels = data
    G, D = make_models()
    G2, D2 = copy.deepcopy(G), copy.deepcopy(D)
    a = fast_train(G, D, TensorLoader(images, labels, batch_size=BATCH, seed=SEED), seed=3)
    b = fast_train(G2, D2, TensorLoader(images, labels, batch_size=BATCH, seed=SEED + 1), seed=3)
    assert a["d_loss"][0] != b["d_loss"][0]  # same noise, different batch
