"""Datasets for the course: Fashion-MNIST (lessons 1-4) and Oxford 102 Flowers (lesson 5).

Data policy
-----------
* With internet, the loaders use torchvision's own downloads into the data folder: the
  repository's ``data/``, or ``COURSE_DATA_HOME`` when set.
* ``COURSE_DATA_HOME``: a writable folder where the course downloads and extracts data (default:
  the repository's ``data/``). Set it when ``data/`` is read-only or on a small disk.
* ``COURSE_DATA_DIR`` names a folder of pre-fetched files in torchvision's layout
  (``FashionMNIST/raw/*.gz``, ``flowers-102/...``). That folder is only read, never written:
  the Fashion-MNIST archives are checked (md5), copied into the data folder and extracted there.
  A copy there that differs from the source (checksum) is replaced and extracted again.
* Offline with nothing found, the loaders fail fast and name the exact files and where they go;
  a corrupt file is named with its checksum and what to do about it.

Images come back as ``uint8`` tensors; :class:`TensorLoader` turns each batch into floats in
[-1, 1] with the same arithmetic as ``ToTensor()`` + ``Normalize((0.5,), (0.5,))``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .archives import archive_problem, copy_atomic, extracted_problem, same_content
from .env import REPO_ROOT, is_whole_number, probe_writable

DATA_ENV = "COURSE_DATA_DIR"
HOME_ENV = "COURSE_DATA_HOME"
DATA_DIR = REPO_ROOT / "data"
FASHION_MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
FASHION_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
FLOWERS_FILES = ["jpg/image_00001.jpg ... jpg/image_08189.jpg", "imagelabels.mat", "setid.mat"]


class DataNotFoundError(FileNotFoundError):
    """The dataset is neither downloadable nor present; the message says what to put where."""


class DataCorruptError(DataNotFoundError):
    """A data file is damaged (checksum or layout): the message names it and what to do."""


class DataFolderError(OSError):
    """The data folder cannot be written: the message names it and how to use another one."""


def _candidates(value: str) -> list[Path]:
    """A path from an environment variable: as is when absolute; a relative one from the current
    folder, else from the repository root (a Jupyter kernel starts in the notebook's folder)."""
    path = Path(value).expanduser()
    return [path] if path.is_absolute() else [Path.cwd() / path, DATA_DIR.parent / path]


def data_home() -> Path:
    """The data folder: ``COURSE_DATA_HOME`` when set, else the repository's ``data/`` (not created)."""
    value = os.environ.get(HOME_ENV)
    if not value:
        return DATA_DIR
    tried = _candidates(value)
    return next((t for t in tried if t.is_dir()), tried[0])


def writable_folder(folder: Path) -> Path:
    """``folder``, created if needed; :class:`DataFolderError` when nothing can be written there."""
    try:
        probe_writable(folder)
    except OSError as exc:
        raise DataFolderError(
            f"cannot write into the data folder {folder} ({type(exc).__name__}: {exc}); the course downloads "
            f"and extracts data there.\nSet {HOME_ENV} to a writable folder (e.g. export {HOME_ENV}=$HOME/"
            f"gan-course-data), or make {folder} writable.") from exc
    return folder


def data_root() -> Path:
    """Where downloads and extracted files go: ``COURSE_DATA_HOME``, else the repository's ``data/``."""
    return writable_folder(data_home())


def prefetched_dir() -> Path | None:
    value = os.environ.get(DATA_ENV)
    if not value:
        return None
    tried = _candidates(value)
    for candidate in tried:
        if candidate.is_dir():
            return candidate.resolve()
    raise DataNotFoundError(f"{DATA_ENV}={value!r} is not a folder (looked at: "
                            f"{', '.join(str(t) for t in tried)}). Point it at a folder holding "
                            "FashionMNIST/raw/*.gz and/or flowers-102/ (an absolute path is safest), "
                            "or unset it to download.")


def missing_message(name: str, folder: str, files: list[str], cause: Exception | None) -> str:
    listing = "\n".join(f"    {folder}/{f}" for f in files)
    return (f"{name} is not available and could not be downloaded"
            f"{f' ({type(cause).__name__}: {cause})' if cause else ''}.\n"
            f"Either connect to the internet and run again (torchvision downloads it into {data_home()}),\n"
            f"or put these files into a folder DIR and set {DATA_ENV}=DIR:\n{listing}")


def _corrupt_message(where: str, problems: dict[Path, str], fix: str) -> str:
    listing = "\n".join(f"    {p}: {why}" for p, why in problems.items())
    return f"Fashion-MNIST: corrupt file(s) {where}:\n{listing}\n{fix}"


def _check_sources(raw_src: Path) -> None:
    """The archives in ``COURSE_DATA_DIR`` are intact; only read, never repaired."""
    problems = {raw_src / f: why for f in FASHION_FILES if (why := archive_problem(raw_src / f))}
    if problems:
        urls = ", ".join(f"{FASHION_MIRROR}{p.name}" for p in problems)
        raise DataCorruptError(_corrupt_message(
            f"in {DATA_ENV}", problems,
            f"Replace each with a fresh copy (download {urls}, or copy it from a machine where the course "
            f"runs); {DATA_ENV} is only read, the course never repairs it. Or unset {DATA_ENV} to download."))


def _stage_fashion_archives(root: Path) -> None:
    """Copy the four ``.gz`` archives from ``COURSE_DATA_DIR`` into ``root`` (never extract there).

    The sources are checked first (md5, see :mod:`course_utils.kit.archives`). A copy in ``root`` that
    differs from its source (checksum) is replaced, and the file torchvision extracted from it is
    deleted: torchvision extracts only when an extracted file is missing.
    """
    src_dir = prefetched_dir()
    if src_dir is None:
        return
    raw_src = src_dir / "FashionMNIST" / "raw"
    missing = [f for f in FASHION_FILES if not (raw_src / f).is_file()]
    if missing:
        raise DataNotFoundError(missing_message("Fashion-MNIST", f"{src_dir}/FashionMNIST/raw",
                                                 missing, None))
    _check_sources(raw_src)
    raw_dst = root / "FashionMNIST" / "raw"
    raw_dst.mkdir(parents=True, exist_ok=True)
    for f in FASHION_FILES:
        dst = raw_dst / f
        if not same_content(raw_src / f, dst):
            dst.with_suffix("").unlink(missing_ok=True)  # stale: extracted from the old copy
            copy_atomic(raw_src / f, dst)


def _local_problems(root: Path) -> dict[Path, str]:
    """Damaged archives or extracted files in ``root/FashionMNIST/raw`` (after torchvision failed)."""
    raw, problems = root / "FashionMNIST" / "raw", {}
    for f in FASHION_FILES:
        archive, extracted = raw / f, raw / f.removesuffix(".gz")
        if extracted.is_file() and (why := extracted_problem(extracted)):
            problems[extracted] = why
        if archive.is_file() and (why := archive_problem(archive)):
            problems[archive] = why
    return problems


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
        problems = _local_problems(root)
        if problems:
            names = " ".join(str(p) for p in problems)
            raise DataCorruptError(_corrupt_message(
                f"in {root}", problems,
                f"Delete them (rm {names}) and run again: they are then extracted, copied from {DATA_ENV} "
                "or downloaded (internet needed) again.")) from exc
        raise DataNotFoundError(missing_message("Fashion-MNIST", "DIR/FashionMNIST/raw",
                                                 FASHION_FILES, exc)) from exc


def fashion_mnist_tensors(train: bool = True, limit: int | None = None, root: Path | None = None):
    """All of Fashion-MNIST as tensors: images ``(N, 1, 28, 28)`` uint8 and labels ``(N,)`` int64.

    ``limit`` keeps the first ``limit`` images (quick mode, tests).
    """
    check_limit(limit)
    ds = fashion_mnist_dataset(train=train, transform=None, root=root)
    images, labels = ds.data.unsqueeze(1), ds.targets.long()  # (N, 1, 28, 28) uint8, (N,)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    return images.contiguous(), labels.contiguous()


def check_limit(limit) -> None:
    """``limit`` is None (all images) or a positive whole number; else a clear error."""
    if limit is None:
        return
    if not is_whole_number(limit):
        raise TypeError(f"limit must be a whole number of images (e.g. limit=1000) or None for all of them, "
                        f"got {limit!r} ({type(limit).__name__})")
    if limit < 1:
        raise ValueError(f"limit must be at least 1 (the number of images to keep), got {limit}; "
                         "use limit=None for all of them")


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1], the same arithmetic as ToTensor() + Normalize(0.5, 0.5)."""
    if images.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images in [0, 255], got dtype {images.dtype}")
    return images.float().div(255).sub(0.5).div(0.5)


def _check_loader_input(images, labels, batch_size) -> None:
    """Clear errors for what :class:`TensorLoader` cannot use."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor (N, C, H, W), got {type(images).__name__}; "
                        "convert with torch.as_tensor(images)")
    if images.dim() != 4:
        fix = ("add the channel dimension: images.unsqueeze(1) gives (N, 1, H, W)" if images.dim() == 3
               else "reshape them to (N, C, H, W)")
        raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}: {fix}")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image: {len(labels)} labels for {len(images)} images")
    if not is_whole_number(batch_size):
        raise TypeError(f"batch_size must be a whole number (int), e.g. batch_size=64, "
                        f"got {batch_size!r} ({type(batch_size).__name__})")
    if batch_size < 1 or batch_size > len(images):
        raise ValueError(f"batch_size must be between 1 and the number of images "
                         f"({len(images)}), got {batch_size}")


class TensorLoader:
    """A DataLoader for data that fits in memory: one tensor on the device, shuffled index batches.

    Yields ``(images, labels)`` with images float in [-1, 1], shape ``(B, C, H, W)``. Much faster
    than a per-image ``Dataset`` + ``DataLoader`` for small images (the fast path of the course).
    """

    def __init__(self, images, labels=None, batch_size: int = 64, shuffle: bool = True,
                 drop_last: bool = True, device=None, seed: int = 0,
                 channels_last: bool = False):
        _check_loader_input(images, labels, batch_size)
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
