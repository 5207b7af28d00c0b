"""Lesson 5 data and metric: Flowers102 under the data policy, the uint8 cache, SWD and its floor."""

import os
from pathlib import Path

import pytest
import torch

from course_utils.kit import flowers
from course_utils.kit.data import DataNotFoundError
from course_utils.kit.flowers import flowers_loader, flowers_tensors
from course_utils.measure.swd import laplacian_pyramid, sliced_wasserstein, swd_floor

SHARED = Path(os.environ.get("COURSE_DATA_DIR", "/nonexistent"))
needs_flowers = pytest.mark.skipif(not (SHARED / "flowers-102" / "setid.mat").is_file(),
                                   reason="COURSE_DATA_DIR has no flowers-102/")


def _snapshot(folder: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")}


@needs_flowers
def test_all_splits_resized_cached_and_source_untouched(tmp_path):
    before = _snapshot(SHARED / "flowers-102")
    images, labels = flowers_tensors(image_size=32, root=tmp_path)
    assert images.shape == (flowers.NUM_IMAGES, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.min() == 0 and labels.max() == 101
    assert (tmp_path / "flowers102_32.pt").is_file()  # the cache is in our folder, not the shared one
    assert _snapshot(SHARED / "flowers-102") == before
    again, _ = flowers_tensors(image_size=32, root=tmp_path, limit=10)  # from the cache
    assert torch.equal(again, images[:10])


@needs_flowers
def test_loader_gives_unit_range_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(flowers, "data_root", lambda: tmp_path)
    images, _ = flowers_tensors(image_size=32, root=tmp_path)
    loader = flowers_loader(batch_size=16, image_size=32, limit=64)
    x, _ = next(iter(loader))
    assert x.shape == (16, 3, 32, 32) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1 and len(loader) == 4


def test_prefetched_dir_without_flowers_names_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataNotFoundError) as err:
        flowers_tensors(image_size=32, root=tmp_path / "cache")
    message = str(err.value)
    for name in ("flowers-102", "imagelabels.mat", "setid.mat", "jpg/image_00001.jpg"):
        assert name in message
    assert list(tmp_path.iterdir()) == []  # nothing written into the pre-fetched folder


def test_offline_without_data_fails_fast(tmp_path, monkeypatch):
    from torchvision import datasets

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)

    def offline(*args, **kwargs):
        raise RuntimeError("Error downloading 102flowers.tgz")

    monkeypatch.setattr(datasets, "Flowers102", offline)
    with pytest.raises(DataNotFoundError, match="COURSE_DATA_DIR"):
        flowers_tensors(image_size=32, root=tmp_path)


def test_swd_floor_below_different_images():
    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(512, 3, 32, 32, generator=g), 3, 1, 1) * 2 - 1
    noise = torch.rand(256, 3, 32, 32, generator=g) * 2 - 1
    same = sliced_wasserstein(smooth[:256], smooth[256:], per_image=16, n_dirs=64)
    different = sliced_wasserstein(smooth[:256], noise, per_image=16, n_dirs=64)
    assert set(same) == {"swd", "swd_32", "swd_16"}
    assert same["swd"] < 0.6 * different["swd"]
    assert swd_floor(smooth, n=256, per_image=16, n_dirs=64)["swd"] < 0.6 * different["swd"]


def test_swd_input_validation_and_pyramid():
    with pytest.raises(ValueError, match="same shape"):
        sliced_wasserstein(torch.zeros(8, 3, 32, 32), torch.zeros(4, 3, 32, 32))
    levels = laplacian_pyramid(torch.rand(2, 3, 64, 64))
    assert [lv.shape[-1] for lv in levels] == [64, 32, 16]
