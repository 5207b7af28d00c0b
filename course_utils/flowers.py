"""Oxford 102 Flowers for lesson 5, under the data policy of :mod:`course_utils.data`.

* With ``COURSE_DATA_DIR`` set, ``<dir>/flowers-102`` is read with ``download=False`` (never written).
* Otherwise torchvision downloads the dataset into the repository's ``data/``.
* Offline with nothing found: :class:`DataNotFoundError` naming the exact files and where they go.

A generative model needs no held-out images, so all three official splits are used:
train 1,020 + val 1,020 + test 6,149 = 8,189 images. Each is resized (shorter side) and
center-cropped to ``image_size`` and kept as ``uint8``; the decoded tensor is cached in ``data/``
(``flowers102_<size>.pt``) so later runs start in a second.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from .data import (
    FLOWERS_FILES,
    DataNotFoundError,
    TensorLoader,
    _missing_message,
    _prefetched_dir,
    data_root,
)

SPLITS = ("train", "val", "test")
NUM_IMAGES = 8189


def flowers_datasets(image_size: int = 64, root: Path | None = None) -> list:
    """The three torchvision ``Flowers102`` splits, each yielding ``(uint8 (3, S, S), label)`` (lesson 5)."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.Resize(image_size), transforms.CenterCrop(image_size),
                                    transforms.PILToTensor()])
    src = _prefetched_dir()
    if src is not None:
        try:
            return [datasets.Flowers102(root=str(src), split=s, transform=transform, download=False)
                    for s in SPLITS]
        except RuntimeError as exc:  # "Dataset not found or corrupted"
            raise DataNotFoundError(_missing_message("Oxford 102 Flowers", f"{src}/flowers-102",
                                                     FLOWERS_FILES, exc)) from exc
    root = Path(root) if root is not None else data_root()
    try:
        return [datasets.Flowers102(root=str(root), split=s, transform=transform, download=True)
                for s in SPLITS]
    except Exception as exc:  # offline: URLError, RuntimeError("Error downloading ...")
        raise DataNotFoundError(_missing_message("Oxford 102 Flowers", "DIR/flowers-102",
                                                 FLOWERS_FILES, exc)) from exc


def flowers_tensors(image_size: int = 64, limit: int | None = None, root: Path | None = None,
                    cache: bool = True):
    """All 8,189 flowers as ``uint8`` images ``(N, 3, S, S)`` and labels ``(N,)`` (0-101) (lesson 5).

    ``limit`` keeps the first ``limit`` images (quick mode, tests); the cache always holds all.
    """
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8, got {image_size}")
    root = Path(root) if root is not None else data_root()
    path = root / f"flowers102_{image_size}.pt"
    images = labels = None
    if cache and path.is_file():
        try:
            payload = load_checkpoint(path)
            images, labels = payload["images"], payload["labels"]
        except (CheckpointError, KeyError):
            images = None  # unreadable cache: decode again
    if images is None:
        parts = flowers_datasets(image_size, root)
        images = torch.stack([img for ds in parts for img, _ in ds])  # (N, 3, S, S) uint8
        labels = torch.tensor([lab for ds in parts for lab in ds._labels], dtype=torch.long)
        if cache:
            save_checkpoint(path, images=images, labels=labels)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.contiguous(), labels.contiguous()


def flowers_loader(batch_size: int = 64, image_size: int = 64, limit: int | None = None, device=None,
                   seed: int = 0, channels_last: bool = False) -> TensorLoader:
    """Oxford 102 Flowers as a :class:`TensorLoader` of ``(B, 3, S, S)`` images in [-1, 1] (lesson 5)."""
    images, labels = flowers_tensors(image_size=image_size, limit=limit)
    return TensorLoader(images, labels, batch_size=batch_size, device=device, seed=seed,
                        channels_last=channels_last)
