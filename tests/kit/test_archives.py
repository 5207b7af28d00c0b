"""Checking an archive's contents never holds them whole: chunks, and a cap (``course_utils.kit.archives``)."""

import gzip
import struct
import time
import tracemalloc

import pytest

from course_utils.kit import archives, data
from course_utils.kit.data import DataCorruptError

MB = 2**20


def gzip_bomb(path, megabytes: int = 200):
    """``megabytes`` MB of zeros behind a valid IDX header, gzip-compressed (about 200 KB on disk), written
    in 1 MB chunks so that the test itself never holds it."""
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(struct.pack(">IIII", 0x803, 60000, 28, 28))
        zeros = bytes(MB)
        for _ in range(megabytes):
            f.write(zeros)
    return path


def test_a_gzip_bomb_is_refused_early_with_low_peak_memory(tmp_path):
    bomb = gzip_bomb(tmp_path / "train-images-idx3-ubyte.gz")
    assert bomb.stat().st_size < 2 * MB
    archives.official_md5()  # imports torchvision first: its allocations are not the check's
    tracemalloc.start()
    start = time.perf_counter()
    try:
        why = archives.archive_problem(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert why is not None and f"expected {archives.official_md5()[bomb.name]}" in why
    assert "more than 64 MB" in why and "gzip bomb" in why
    assert peak < 16 * MB, f"peak {peak / MB:.0f} MB: the contents were held in memory"
    assert time.perf_counter() - start < 30


def test_the_cap_is_a_parameter_and_legit_sizes_pass(tmp_path):
    small = tmp_path / "train-labels-idx1-ubyte.gz"
    small.write_bytes(gzip.compress(struct.pack(">II", 0x801, 3 * MB) + bytes(3 * MB)))
    assert archives.archive_problem(small) is None  # a well-formed re-compressed copy: good
    assert "more than 2 MB" in archives.archive_problem(small, max_bytes=2 * MB)
    assert archives.gzip_contents(small) == (struct.pack(">II", 0x801, 3 * MB) + bytes(8), 8 + 3 * MB)  # 16 bytes
    assert archives.MAX_UNCOMPRESSED >= 47_040_016  # the largest real file (train-images) fits


def test_a_bomb_in_course_data_dir_is_a_clear_error(tmp_path, monkeypatch):
    raw = tmp_path / "src" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.FASHION_FILES:
        n = 4
        header = struct.pack(">IIII", 0x803, n, 28, 28) if "images" in name else struct.pack(">II", 0x801, n)
        (raw / name).write_bytes(gzip.compress(header + bytes(n * (784 if "images" in name else 1))))
    gzip_bomb(raw / "train-images-idx3-ubyte.gz", megabytes=100)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "src"))
    with pytest.raises(DataCorruptError, match=r"(?s)train-images-idx3-ubyte\.gz: md5 .*more than 64 MB.*gzip bomb"):
        data.fashion_mnist_dataset(root=tmp_path / "dst")
