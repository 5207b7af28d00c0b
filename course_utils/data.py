"""Datasets for the course: Fashion-MNIST (lessons 1-4) and Oxford 102 Flowers (lesson 5).

Data policy
-----------
* With internet, the loaders use torchvision's own downloads into the repository's ``data/``.
* ``COURSE_DATA_DIR`` names a folder of pre-fetched files in torchvision's layout
  (``FashionMNIST/raw/*.gz``, ``flowers-102/...``). That folder is only read, never written:
  the Fashion-MNIST archives are copied into ``data/`` and extracted there.
* Offline with nothing found, the loaders fail fast and name the exact files and where they go.

Images come back as ``uint8`` tensors; :class:`TensorLoader` turns each batch into floats in
[-1, 1] with the same arithmetic as ``ToTensor()`` + ``Normalize((0.5,), (0.5,))``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch

DATA_ENV = "COURSE_DATA_DIR"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
FLOWERS_FILES = ["jpg/image_00001.jpg ... jpg/image_08189.jpg", "imagelabels.mat", "setid.mat"]


class DataNotFoundError(FileNotFoundError):
    """The dataset is neither downloadable nor present; the message says what to put where."""


def data_root() -> Path:
    """Where downloads and extracted files go: the repository's ``data/`` folder."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return DATA_DIR


def _prefetched_dir() -> Path | None:
    value = os.environ.get(DATA_ENV)
    if not value:
        return None
    path = Path(value).expanduser()
    # a relative path: from the current folder, else from the repository root (a Jupyter kernel
    # starts in the notebook's folder, not where the variable was set)
    tried = [path] if path.is_absolute() else [Path.cwd() / path, DATA_DIR.parent / path]
    for candidate in tried:
        if candidate.is_dir():
            return candidate.resolve()
    raise DataNotFoundError(f"{DATA_ENV}={value!r} is not a folder (looked at: "
                            f"{', '.join(str(t) for t in tried)}). Point it at a folder holding "
                            "FashionMNIST/raw/*.gz and/or flowers-102/ (an absolute path is safest), "
                            "or unset it to download.")


def _missing_message(name: str, folder: str, files: list[str], cause: Exception | None) -> str:
    listing = "\n".join(f"    {folder}/{f}" for f in files)
    return (f"{name} is not available and could not be downloaded"
            f"{f' ({type(cause).__name__}: {cause})' if cause else ''}.\n"
            f"Either connect to the internet and run again (torchvision downloads it into {DATA_DIR}),\n"
            f"or put these files into a folder DIR and set {DATA_ENV}=DIR:\n{listing}")


def _stage_fashion_archives(root: Path) -> None:
    """Copy the four ``.gz`` archives from ``COURSE_DATA_DIR`` into ``root`` (never extract there)."""
    src_dir = _prefetched_dir()
    if src_dir is None:
        return
    raw_src = src_dir / "FashionMNIST" / "raw"
    missing = [f for f in FASHION_FILES if not (raw_src / f).is_file()]
    if missing:
        raise DataNotFoundError(_missing_message("Fashion-MNIST", f"{src_dir}/FashionMNIST/raw",
                                                 missing, None))
    raw_dst = root / "FashionMNIST" / "raw"
    raw_dst.mkdir(parents=True, exist_ok=True)
    for f in FASHION_FILES:
        dst = raw_dst / f
        if not dst.exists() or dst.stat().st_size != (raw_src / f).stat().st_size:
            # a private temporary name: several processes may stage the same file at once
            fd, tmp = tempfile.mkstemp(prefix=f + ".", suffix=".part", dir=raw_dst)
            os.close(fd)
            shutil.copyfile(raw_src / f, tmp)
            os.replace(tmp, dst)


def fashion_mnist_dataset(train: bool = True, transform=None, root: Path | None = None):
    """The torchvision ``FashionMNIST`` dataset under the course's data policy (lesson 1).

    ``transform`` defaults to ``ToTensor()`` + ``Normalize((0.5,), (0.5,))``: images in [-1, 1].
    """
    from torchvision import datasets, transforms

    root = Path(root) if root is not None else data_root()
    if transform is None:
        transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    _stage_fashion_archives(root)
    try:
        return datasets.FashionMNIST(root=str(root), train=train, download=True, transform=transform)
    except DataNotFoundError:
        raise
    except Exception as exc:  # offline: URLError, RuntimeError("Error downloading ...")
        raise DataNotFoundError(_missing_message("Fashion-MNIST", "DIR/FashionMNIST/raw",
                                                 FASHION_FILES, exc)) from exc


def fashion_mnist_tensors(train: bool = True, limit: int | None = None, root: Path | None = None):
    """All of Fashion-MNIST as tensors: images ``(N, 1, 28, 28)`` uint8 and labels ``(N,)`` int64.

    ``limit`` keeps the first ``limit`` images (quick mode, tests).
    """
    ds = fashion_mnist_dataset(train=train, transform=None, root=root)
    images, labels = ds.data.unsqueeze(1), ds.targets.long()  # (N, 1, 28, 28) uint8, (N,)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.contiguous(), labels.contiguous()


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1], the same arithmetic as ToTensor() + Normalize(0.5, 0.5)."""
    if images.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images in [0, 255], got dtype {images.dtype}")
    return images.float().div(255).sub(0.5).div(0.5)


class TensorLoader:
    """A DataLoader for data that fits in memory: one tensor on the device, shuffled index batches.

    Yields ``(images, labels)`` with images float in [-1, 1], shape ``(B, C, H, W)``. Much faster
    than a per-image ``Dataset`` + ``DataLoader`` for small images (the fast path of the course).
    """

    def __init__(self, images, labels=None, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = True, device=None, seed: int = 0,
                 channels_last: bool = False):
        if images.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        if batch_size < 1 or batch_size > len(images):
            raise ValueError(f"batch_size must be between 1 and the number of images "
                             f"({len(images)}), got {batch_size}")
        device = torch.device(device) if device is not None else images.device
        self.images = images.to(device)
        self.labels = (labels if labels is not None else torch.zeros(len(images), dtype=torch.long)).to(device)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.channels_last = channels_last
        self.generator = torch.Generator().manual_seed(seed)
        self.dataset = self.images  # so len(loader.dataset) works as with a DataLoader

    def __len__(self) -> int:
        n = len(self.images)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.images)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.images.device)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            x = self.images[idx]
            x = to_unit_range(x) if x.dtype == torch.uint8 else x
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            yield x, self.labels[idx]


def fashion_mnist_loader(batch_size: int = 64, train: bool = True, limit: int | None = None,
                         device=None, seed: int = 0, channels_last: bool = False) -> TensorLoader:
    """Fashion-MNIST as a :class:`TensorLoader` of images in [-1, 1] (lesson 3's fast path)."""
    images, labels = fashion_mnist_tensors(train=train, limit=limit)
    return TensorLoader(images, labels, batch_size=batch_size, device=device, seed=seed,
                        channels_last=channels_last)
