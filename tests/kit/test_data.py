import gzip
import struct
from urllib.error import URLError

import numpy as np
import pytest
import torch

from course_utils.kit import data
from course_utils.kit.data import DataNotFoundError, TensorLoader, to_unit_range


def write_idx(folder, prefix, images, labels, compress=False):
    """Write IDX3 images and IDX1 labels as torchvision expects them."""
    folder.mkdir(parents=True, exist_ok=True)
    n = len(images)
    img = struct.pack(">IIII", 0x803, n, 28, 28) + images.astype(np.uint8).tobytes()
    lab = struct.pack(">II", 0x801, n) + labels.astype(np.uint8).tobytes()
    for name, payload in ((f"{prefix}-images-idx3-ubyte", img), (f"{prefix}-labels-idx1-ubyte", lab)):
        if compress:
            (folder / (name + ".gz")).write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)


@pytest.fixture
def tiny_root(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 28, 28))
    images[0] = 0
    images[1] = 255
    labels = np.arange(20) % 10
    raw = tmp_path / "FashionMNIST" / "raw"
    write_idx(raw, "train", images, labels)
    write_idx(raw, "t10k", images[:10], labels[:10])
    return tmp_path, images, labels


def test_loader_reads_tiny_idx_files(tiny_root, monkeypatch):
    root, images, labels = tiny_root
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    x, y = data.fashion_mnist_tensors(train=True, root=root)
    assert x.shape == (20, 1, 28, 28) and x.dtype == torch.uint8
    assert torch.equal(x[:, 0], torch.from_numpy(images.astype(np.uint8)))
    assert y.tolist() == labels.tolist()
    x_test, _ = data.fashion_mnist_tensors(train=False, root=root, limit=4)
    assert x_test.shape == (4, 1, 28, 28)


def test_to_unit_range_matches_torchvision_transform(tiny_root):
    from torchvision import transforms

    root, images, _ = tiny_root
    x, _ = data.fashion_mnist_tensors(root=root)
    ds = data.fashion_mnist_dataset(root=root)  # ToTensor + Normalize((0.5,), (0.5,))
    for i in range(3):
        assert torch.equal(to_unit_range(x[i:i + 1])[0], ds[i][0])
    y = to_unit_range(x)
    assert y.min().item() == -1.0 and y.max().item() == 1.0  # images 0 and 1 are all-black / all-white
    assert isinstance(transforms.ToTensor(), object)


def test_to_unit_range_rejects_floats():
    with pytest.raises(TypeError, match="uint8"):
        to_unit_range(torch.zeros(1, 1, 28, 28))


def test_offline_without_data_names_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)

    def no_internet(*args, **kwargs):
        raise URLError("no network")

    import torchvision.datasets

    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", no_internet)
    with pytest.raises(DataNotFoundError) as info:
        data.fashion_mnist_dataset(root=tmp_path)
    message = str(info.value)
    for name in data.FASHION_FILES:
        assert name in message
    assert "COURSE_DATA_DIR" in message and "FashionMNIST/raw" in message


def test_data_dir_missing_files_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "src" / "FashionMNIST" / "raw").mkdir(parents=True)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "src"))
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte.gz"):
        data.fashion_mnist_dataset(root=tmp_path / "dst")


def test_data_dir_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nope"))
    with pytest.raises(DataNotFoundError, match="is not a folder"):
        data.fashion_mnist_dataset(root=tmp_path)


def test_relative_data_dir_is_found_from_the_repository_root(tmp_path, monkeypatch):
    """A Jupyter kernel starts in notebooks/: a path relative to the repository root still works."""
    inside = data.DATA_DIR.parent / "runs" / "relative-data-dir-test"
    inside.mkdir(parents=True, exist_ok=True)
    try:
        monkeypatch.chdir(tmp_path)  # not the repository root
        monkeypatch.setenv("COURSE_DATA_DIR", "runs/relative-data-dir-test")
        assert data.prefetched_dir() == inside.resolve()
        (tmp_path / "here").mkdir()
        monkeypatch.setenv("COURSE_DATA_DIR", "here")  # the current folder comes first
        assert data.prefetched_dir() == (tmp_path / "here").resolve()
        monkeypatch.setenv("COURSE_DATA_DIR", "nowhere")
        with pytest.raises(DataNotFoundError, match="absolute path is safest") as err:
            data.prefetched_dir()
        assert str(tmp_path / "nowhere") in str(err.value)
    finally:
        inside.rmdir()


def test_staging_copies_and_never_writes_into_the_source(tmp_path, monkeypatch):
    src = tmp_path / "src"
    rng = np.random.default_rng(1)
    write_idx(src / "FashionMNIST" / "raw", "train", rng.integers(0, 256, (5, 28, 28)), np.arange(5), compress=True)
    write_idx(src / "FashionMNIST" / "raw", "t10k", rng.integers(0, 256, (5, 28, 28)), np.arange(5), compress=True)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in (src / "FashionMNIST" / "raw").iterdir())
    monkeypatch.setenv("COURSE_DATA_DIR", str(src))
    data._stage_fashion_archives(tmp_path / "dst")
    copied = sorted(p.name for p in (tmp_path / "dst" / "FashionMNIST" / "raw").iterdir())
    assert copied == sorted(data.FASHION_FILES)
    after = sorted((p.name, p.stat().st_mtime_ns) for p in (src / "FashionMNIST" / "raw").iterdir())
    assert before == after


def test_tensor_loader_batches_and_order():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 2, 2).contiguous()
    loader = TensorLoader(images, torch.arange(10), batch_size=4, seed=3)
    batches = list(loader)
    assert len(loader) == len(batches) == 2  # drop_last
    x, y = batches[0]
    assert x.dtype == torch.float32 and x.shape == (4, 1, 2, 2)
    assert torch.equal(x[:, 0, 0, 0], to_unit_range(y.to(torch.uint8).view(-1, 1, 1, 1))[:, 0, 0, 0])
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(3))[:4]
    assert y.tolist() == expected.tolist()
    assert list(TensorLoader(images, batch_size=4, seed=3))[0][0].shape == (4, 1, 2, 2)


def test_tensor_loader_bad_input():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        TensorLoader(torch.zeros(10, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), batch_size=8)


def test_real_fashion_mnist(real_data_dir):
    x, y = data.fashion_mnist_tensors(train=True)
    assert x.shape == (60000, 1, 28, 28)
    assert torch.bincount(y).tolist() == [6000] * 10
    assert y[0].item() == 9  # the first training image is an ankle boot
    assert abs(x.float().mean().item() - 72.94) < 0.01
    xt, _ = data.fashion_mnist_tensors(train=False)
    assert xt.shape == (10000, 1, 28, 28)
