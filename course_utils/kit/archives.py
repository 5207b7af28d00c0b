"""Is a Fashion-MNIST file intact? Checksums of the ``.gz`` archives and the IDX layout of their contents.

An archive is good when its md5 is the official one (torchvision's ``FashionMNIST.resources``), or
else when it is a complete gzip of a well-formed IDX file (a re-compressed copy of the same data
has another md5). Checksums are cached per file version, so each file is read once per process.
Checking the contents decompresses in chunks and stops at ``MAX_UNCOMPRESSED`` bytes: the largest
Fashion-MNIST file is 47 MB, so a file that inflates to more (a gzip bomb) is refused early, never
held in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

IDX_DIMS = {0x801: 1, 0x803: 3}  # labels (N,), images (N, H, W)
MAX_UNCOMPRESSED = 64 * 2**20  # bytes; train-images-idx3-ubyte, the largest file, is 47,040,016
CHUNK = 2**20  # bytes decompressed at a time
_MD5: dict[tuple, str] = {}


def official_md5() -> dict[str, str]:
    """{archive name: md5} of the four Fashion-MNIST archives, as torchvision checks them."""
    from torchvision.datasets import FashionMNIST

    return {os.path.basename(name): md5 for name, md5 in FashionMNIST.resources}


def md5sum(path: Path) -> str:
    """The md5 of a file, computed once per version of the file (path, size, times, inode)."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    if key not in _MD5:
        digest = hashlib.md5()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        _MD5[key] = digest.hexdigest()
    return _MD5[key]


def idx_problem(header: bytes, size: int) -> str | None:
    """What is wrong with an IDX file of ``size`` bytes that starts with ``header`` (None: consistent)."""
    if size < 8:
        return f"only {size} bytes, shorter than an IDX header"
    magic, _ = struct.unpack(">II", header[:8])
    dims = IDX_DIMS.get(magic)
    if dims is None:
        return f"not an IDX file (magic number {magic:#x}, expected 0x801 or 0x803)"
    need = 4 + 4 * dims
    if size < need:
        return f"only {size} bytes, shorter than its IDX header"
    shape = struct.unpack(f">{dims}I", header[4:need])
    expected = need + math.prod(shape)
    if size != expected:
        what = "cut short" if size < expected else "too long"
        return f"{size} bytes where its header (shape {shape}) needs {expected}: {what}"
    return None


def extracted_problem(path: Path) -> str | None:
    """What is wrong with an extracted (``*-ubyte``) file, from its header and size alone (no hashing)."""
    with open(path, "rb") as f:
        header = f.read(16)
    return idx_problem(header, Path(path).stat().st_size)


def gzip_contents(path: Path, max_bytes: int = MAX_UNCOMPRESSED) -> tuple[bytes, int]:
    """``(first 16 bytes, size)`` of what ``path`` decompresses to, read in chunks of ``CHUNK`` bytes.

    Raises :class:`ValueError` as soon as more than ``max_bytes`` come out (the rest is never
    decompressed), and what ``gzip`` raises for damaged or truncated data.
    """
    header, size = b"", 0
    with gzip.open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            header = header if len(header) >= 16 else (header + chunk)[:16]
            size += len(chunk)
            if size > max_bytes:
                raise ValueError(f"decompresses to more than {max_bytes / 2**20:.0f} MB, more than any Fashion-MNIST "
                                 "file holds (a gzip bomb?); stopped there")
    return header, size


def archive_problem(path: Path, max_bytes: int = MAX_UNCOMPRESSED) -> str | None:
    """None for a good archive; else 'md5 GOT, expected WANT (what is wrong inside)'.

    ``max_bytes``: the most it may decompress to (:func:`gzip_contents`); it is never held in memory whole.
    """
    path = Path(path)
    expected = official_md5().get(path.name)
    got = md5sum(path)
    if got == expected:
        return None
    try:
        header, size = gzip_contents(path, max_bytes)
    except EOFError:
        inside = "cut short: the gzip data ends early"
    except ValueError as exc:  # too large
        inside = str(exc)
    except (OSError, zlib.error) as exc:  # damaged: BadGzipFile (CRC), invalid deflate data
        inside = f"damaged gzip data: {exc}"
    else:
        inside = idx_problem(header, size)
        if inside is None:
            return None
    return f"md5 {got}, expected {expected} ({inside})"


def same_content(a: Path, b: Path) -> bool:
    """Whether ``b`` exists and holds the same bytes as ``a`` (size first, then md5)."""
    return b.is_file() and a.stat().st_size == b.stat().st_size and md5sum(a) == md5sum(b)


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy under a private temporary name, then rename: several processes may stage the same file."""
    fd, tmp = tempfile.mkstemp(prefix=dst.name + ".", suffix=".part", dir=dst.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # readable like any data file, not mkstemp's private 0o600
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
