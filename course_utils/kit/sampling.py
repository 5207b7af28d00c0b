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


def _run(G, z: torch.Tensor, y=None) -> torch.Tensor:
    try:
        return G(z) if y is None else G(z, y)
    except RuntimeError as exc:
        if "Half" in str(exc) or "BFloat16" in str(exc) or "dtype" in str(exc).lower():
            raise RuntimeError(f"G's weights are {z.dtype}, which this device cannot run ({str(exc)[:120]}); "
                               "convert it with G.float() and sample again") from exc
        raise


def is_conditional(G) -> bool:
    """True for a class-conditional generator ``G(z, y)``: it has an int ``num_classes`` (lesson 6)."""
    return isinstance(getattr(G, "num_classes", None), int)


def check_sample_labels(G, n: int, labels) -> torch.Tensor | None:
    """``labels`` for ``sample``: None for an unconditional G; a LongTensor ``(n,)`` in 0..K-1 for a conditional one."""
    name = type(G).__name__
    if not is_conditional(G):
        if labels is not None:
            raise TypeError(f"labels were given but {name} is unconditional (it has no num_classes): it draws "
                            "whatever class it likes. Drop labels=..., or use a conditional generator "
                            "(lesson 6, e.g. load_generator('fashion_cgan')).")
        return None
    k = G.num_classes
    if labels is None:
        raise TypeError(f"{name} is conditional: say which class each sample is, e.g. labels=torch.full(({n},), 7) "
                        f"(class 7 for all) or labels=torch.arange({n}) % {k} (every class in turn)")
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"labels must be a LongTensor of class ids, shape ({n},); got a {type(labels).__name__}. "
                        "Convert with torch.tensor(labels)")
    if labels.dtype != torch.long:
        raise TypeError(f"labels must be class ids as a LongTensor (torch.long), got dtype {labels.dtype}: "
                        "use labels.long() (class ids are whole numbers, not one-hot vectors or floats)")
    if tuple(labels.shape) != (n,):
        raise ValueError(f"labels must have shape ({n},), one class id per sample; got {tuple(labels.shape)}"
                         + (" (one-hot? pass labels.argmax(1))" if labels.dim() == 2 else ""))
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must be class ids in 0..{k - 1}; got values from {int(labels.min())} to "
                         f"{int(labels.max())}")
    return labels.cpu()


@torch.no_grad()
def sample(G, n: int, seed: int | None = None, batch_size: int = 500, labels=None) -> torch.Tensor:
    """``n`` samples from ``G``: a float32 CPU tensor ``(n, C, H, W)`` with values in [-1, 1] (lesson 3).

    ``seed`` makes the draw repeatable. G is run in eval mode on its own device and dtype, in batches.
    A conditional G (lesson 6) needs ``labels``, a LongTensor ``(n,)`` of class ids; the same ``seed``
    gives the same ``z`` whatever the labels, so changing only the labels changes only the class.
    """
    _check_generator(G)
    n, batch_size = _count(n), _count(batch_size, "batch_size")
    labels = check_sample_labels(G, n, labels)
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
            y = None if labels is None else labels[start:start + b].to(device)  # (b,)
            chunks.append(_run(G, z, y).float().cpu())  # (b, C, H, W)
            if start == 0:
                _check_memory(n, chunks[0][0])
    finally:
        G.train(was_training)
    return torch.cat(chunks).clamp_(-1, 1)
