"""Drawing images from a trained generator, with a clear error for every way the call can be wrong (lesson 3)."""

from __future__ import annotations

import operator
import os

import torch
from torch import nn

MAX_SAMPLE_BYTES = 4 * 2**30
"""Refuse a :func:`sample` call whose images alone would need more memory than this (or than half the free RAM)."""


def _check_generator(G) -> None:
    if isinstance(G, (str, os.PathLike)):
        raise TypeError(f"sample() takes a generator model, got the name/path {str(G)!r}: load it first, "
                        f"e.g. G = load_generator({str(G)!r}), then sample(G, n)")
    if not isinstance(G, nn.Module):
        raise TypeError(f"sample() takes a generator (an nn.Module), got a {type(G).__name__}")
    if not isinstance(getattr(G, "latent_dim", None), int):
        hint = (" It looks like a discriminator: pass the generator G, not D." if "discrim" in type(G).__name__.lower()
                or "critic" in type(G).__name__.lower() else "")
        raise AttributeError(f"sample() needs a generator with an int attribute latent_dim (the size of z); "
                             f"{type(G).__name__} has none.{hint} In your generator's __init__, set "
                             "self.latent_dim = latent_dim.")


def _count(n, what: str = "n") -> int:
    if isinstance(n, bool):
        raise TypeError(f"{what} must be a whole number of samples, got {n!r} (a bool)")
    try:
        n = operator.index(n)  # int, numpy integers, 0-dim integer tensors
    except TypeError:
        raise TypeError(f"{what} must be a whole number of samples (an int), got {n!r} "
                        f"({type(n).__name__}); e.g. sample(G, 64)") from None
    if n < 1:
        raise ValueError(f"{what} must be a positive int, got {n}")
    return n


def _free_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _check_memory(n: int, one: torch.Tensor) -> None:
    """Refuse ``n`` samples shaped like ``one`` (a single image) when they cannot fit in memory."""
    need = n * one.numel() * 4  # float32 on the CPU
    free = _free_bytes()
    limit = min(MAX_SAMPLE_BYTES, free // 2) if free else MAX_SAMPLE_BYTES
    if need > limit:
        shape = "x".join(map(str, one.shape))
        raise MemoryError(f"sample(G, {n:,}) would need {need / 2**30:.1f} GiB for the images ({shape} float32 "
                          f"each); the limit here is {limit / 2**30:.1f} GiB. Ask for fewer (10,000 is "
                          "plenty for FID), or call sample() in a loop and use each batch as it comes.")


def _run(G, z: torch.Tensor) -> torch.Tensor:
    try:
        return G(z)
    except RuntimeError as exc:
        if "Half" in str(exc) or "BFloat16" in str(exc) or "dtype" in str(exc).lower():
            raise RuntimeError(f"G's weights are {z.dtype}, which this device cannot run ({str(exc)[:120]}); "
                               "convert it with G.float() and sample again") from exc
        raise


@torch.no_grad()
def sample(G, n: int, seed: int | None = None, batch_size: int = 500) -> torch.Tensor:
    """``n`` samples from ``G``: a float32 CPU tensor ``(n, C, H, W)`` with values in [-1, 1] (lesson 3).

    ``seed`` makes the draw repeatable. G is run in eval mode on its own device and dtype, in batches.
    """
    _check_generator(G)
    n, batch_size = _count(n), _count(batch_size, "batch_size")
    p = next(G.parameters(), None)
    device, dtype = (p.device, p.dtype) if p is not None else (torch.device("cpu"), torch.float32)
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    was_training = G.training
    G.eval()
    try:
        chunks = []
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = torch.randn(b, G.latent_dim, generator=gen).to(device=device, dtype=dtype)  # (b, latent_dim)
            chunks.append(_run(G, z).float().cpu())  # (b, C, H, W)
            if start == 0:
                _check_memory(n, chunks[0][0])
    finally:
        G.train(was_training)
    return torch.cat(chunks).clamp_(-1, 1)
