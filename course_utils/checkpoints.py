"""Checkpoints (written atomically, read with ``weights_only=True``), shipped generators and sampling."""

from __future__ import annotations

import importlib
import os
import pickle
import tempfile
from pathlib import Path

import torch

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or does not fit the model it is loaded into."""


def save_checkpoint(path, **objects) -> Path:
    """Save models/optimizers (their ``state_dict``) and plain values (e.g. a history) to ``path``.

    The file is written to a temporary name in the same folder and renamed into place, so an
    interrupted save never leaves a half-written checkpoint behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {k: (v.state_dict() if hasattr(v, "state_dict") else v) for k, v in objects.items()}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path, map_location="cpu", **objects) -> dict:
    """Load ``path`` with ``weights_only=True``; restore each given model/optimizer from its entry.

    ``load_checkpoint(p, G=G, opt_g=opt_g)`` restores ``G`` and ``opt_g`` and returns the whole dict.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}: check the path, or train first to create it")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable checkpoint (corrupted or truncated file?): "
                              f"{exc}") from exc
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path} holds a {type(payload).__name__}, expected a dict of states")
    for key, obj in objects.items():
        if key not in payload:
            raise CheckpointError(f"{path} has no entry {key!r}; it has {sorted(payload)}")
        try:
            obj.load_state_dict(payload[key])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"checkpoint entry {key!r} in {path} does not fit the "
                                  f"{type(obj).__name__} you passed (different architecture or "
                                  f"settings?): {str(exc).splitlines()[0]}") from exc
    return payload


def export_generator(G, path, **meta) -> Path:
    """Write a self-describing generator file that :func:`load_generator` can rebuild."""
    kwargs = {k: getattr(G, k) for k in ("latent_dim", "width", "channels", "image_size") if hasattr(G, k)}
    state = {k: v.float().cpu() for k, v in G.state_dict().items()}
    arch = f"{type(G).__module__}.{type(G).__qualname__}"
    return save_checkpoint(path, arch=arch, kwargs=kwargs, state_dict=state, meta=meta)


def load_generator(path_or_name, device="cpu"):
    """Load a generator: a name shipped with the course (e.g. ``"fashion_dcgan"``) or a file path.

    Returns the model in eval mode on ``device``. Shipped names: see :func:`shipped_generators`.
    """
    path = Path(path_or_name)
    if not path.suffix:
        path = PRETRAINED_DIR / f"{path_or_name}.pt"
        if not path.is_file():
            raise CheckpointError(f"no shipped generator named {path_or_name!r}; available: "
                                  f"{shipped_generators()} (or pass a path to a .pt file)")
    payload = load_checkpoint(path)
    try:
        module_name, cls_name = payload["arch"].rsplit(".", 1)
    except (KeyError, AttributeError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a generator file written by export_generator") from exc
    if not module_name.startswith("course_utils."):
        raise CheckpointError(f"{path} names architecture {payload['arch']!r}, outside course_utils")
    cls = getattr(importlib.import_module(module_name), cls_name)
    G = cls(**payload["kwargs"])
    G.load_state_dict(payload["state_dict"])
    G.meta = payload.get("meta", {})
    return G.to(device).eval()


def shipped_generators() -> list[str]:
    """Names accepted by :func:`load_generator`."""
    return sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))


@torch.no_grad()
def sample(G, n: int, seed: int | None = None, batch_size: int = 500) -> torch.Tensor:
    """``n`` samples from ``G``: a float32 CPU tensor ``(n, C, H, W)`` with values in [-1, 1].

    ``seed`` makes the draw repeatable. G is run in eval mode on its own device, in batches.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    p = next(G.parameters())
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    was_training = G.training
    G.eval()
    try:
        chunks = []
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            z = torch.randn(b, G.latent_dim, generator=gen).to(p.device)
            chunks.append(G(z).float().cpu())
    finally:
        G.train(was_training)
    return torch.cat(chunks).clamp_(-1, 1)


HISTORY_DIR = PRETRAINED_DIR / "histories"


def save_history(history: dict, path) -> Path:
    """Save a training history compactly (per-step lists as float32 tensors), atomically."""
    packed = {k: (torch.tensor(v, dtype=torch.float32) if isinstance(v, list) and v
                  and isinstance(v[0], float) else v) for k, v in history.items()}
    packed["samples"] = [{"epoch": s["epoch"], "images": s["images"].half()} for s in history["samples"]]
    return save_checkpoint(path, history=packed)


def load_history(path_or_name) -> dict:
    """Load a history saved by :func:`save_history`: a file path or a shipped name (e.g. ``"fashion_dcgan"``)."""
    path = Path(path_or_name)
    if not path.suffix:
        path = HISTORY_DIR / f"{path_or_name}.pt"
    history = load_checkpoint(path)["history"]
    for k, v in history.items():
        if isinstance(v, torch.Tensor) and v.dim() == 1:
            history[k] = v.tolist()
    history["samples"] = [{"epoch": s["epoch"], "images": s["images"].float()} for s in history["samples"]]
    return history
