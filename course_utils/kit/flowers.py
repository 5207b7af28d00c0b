"""Oxford 102 Flowers for lesson 5, under the data policy of :mod:`course_utils.kit.data`.

* With ``COURSE_DATA_DIR`` set, ``<dir>/flowers-102`` is read with ``download=False`` (never written).
* Otherwise torchvision downloads the dataset into the repository's ``data/``.
* Offline with nothing found: :class:`DataNotFoundError` naming the exact files and where they go.
* Images that ``setid.mat`` lists but ``jpg/`` lacks (or holds empty) are reported before decoding:
  how many, the first few names, and what to do.

A generative model needs no held-out images, so all three official splits are used:
train 1,020 + val 1,020 + test 6,149 = 8,189 images. Each is resized (shorter side) and
center-cropped to ``image_size`` and kept as ``uint8``; the decoded tensor is cached in ``data/``
(``flowers102_<size>.pt``) so later runs start in a second.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from .data import (
    FLOWERS_FILES,
    DataNotFoundError,
    TensorLoader,
    check_limit,
    data_home,
    data_root,
    missing_message,
    prefetched_dir,
)

SPLITS = ("train", "val", "test")
NUM_IMAGES = 8189


def _listed_images(setid: Path) -> list[str] | None:
    """The image files the three splits of ``setid.mat`` list (None when it cannot be read)."""
    from scipy.io import loadmat

    try:
        ids = loadmat(setid, squeeze_me=True)
        numbers = [int(i) for key in ("trnid", "valid", "tstid") for i in ids[key].ravel()]
    except Exception:  # noqa: BLE001 - torchvision's own check then reports the file
        return None
    return [f"image_{i:05d}.jpg" for i in sorted(numbers)]


def check_images(base: Path, fix: str) -> None:
    """Every image ``base/setid.mat`` lists is a non-empty file in ``base/jpg`` (checked before decoding)."""
    folder = base / "jpg"
    listed = _listed_images(base / "setid.mat") if folder.is_dir() and (base / "setid.mat").is_file() else None
    if not listed:
        return  # no dataset here: torchvision's check and the missing-files message say what to put where
    present = {e.name for e in os.scandir(folder) if e.is_file() and e.stat().st_size > 0}
    missing = [name for name in listed if name not in present]
    if missing:
        first = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise DataNotFoundError(f"Oxford 102 Flowers in {base} is incomplete: {len(missing)} of the {len(listed)} "
                                f"images listed in setid.mat are missing or empty in {folder} ({first}).\n{fix}")


def flowers_datasets(image_size: int = 64, root: Path | None = None) -> list:
    """The three torchvision ``Flowers102`` splits, each yielding ``(uint8 (3, S, S), label)`` (lesson 5)."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.Resize(image_size), transforms.CenterCrop(image_size),
                                    transforms.PILToTensor()])
    src = prefetched_dir()
    if src is not None:
        check_images(src / "flowers-102", f"Copy the complete jpg/ folder again (102flowers.tgz holds all "
                                          f"{NUM_IMAGES:,} images), or unset COURSE_DATA_DIR to download the "
                                          f"dataset into {data_home()}.")
        try:
            return [datasets.Flowers102(root=str(src), split=s, transform=transform, download=False)
                    for s in SPLITS]
        except RuntimeError as exc:  # "Dataset not found or corrupted"
            raise DataNotFoundError(missing_message("Oxford 102 Flowers", f"{src}/flowers-102",
                                                     FLOWERS_FILES, exc)) from exc
    root = Path(root) if root is not None else data_root()
    check_images(root / "flowers-102", f"Delete the folder {root / 'flowers-102'} and run again to download the "
                                       "dataset anew (internet needed), or set COURSE_DATA_DIR to a complete copy.")
    try:
        return [datasets.Flowers102(root=str(root), split=s, transform=transform, download=True)
                for s in SPLITS]
    except Exception as exc:  # offline: URLError, RuntimeError("Error downloading ...")
        raise DataNotFoundError(missing_message("Oxford 102 Flowers", "DIR/flowers-102",
                                                 FLOWERS_FILES, exc)) from exc


def flowers_tensors(image_size: int = 64, limit: int | None = None, root: Path | None = None,
                    cache: bool = True):
    """All 8,189 flowers as ``uint8`` images ``(N, 3, S, S)`` and labels ``(N,)`` (0-101) (lesson 5).

    ``limit`` keeps the first ``limit`` images (quick mode, tests); the cache always holds all.
    """
    if image_size < 8:
        raise ValueError(f"image_size must be at least 8, got {image_size}")
    check_limit(limit)
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
