"""Every bad input answered: data files, loader arguments and the course's command-line tools.

Each case checks that the error names the problem and the fix, and that nothing was written where
nothing should be.
"""

import gzip
import json
import os
import re
import shutil
import struct
import sys
import tempfile
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

from course_utils.grading import grade
from course_utils.kit import data, flowers
from course_utils.kit.archives import official_md5
from course_utils.kit.data import DataCorruptError, DataFolderError, DataNotFoundError, TensorLoader
from course_utils.tools import lessons, run

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("COURSE_DATA_DIR", "/nonexistent"))
needs_fashion = pytest.mark.skipif(not (SHARED / "FashionMNIST" / "raw" / data.FASHION_FILES[0]).is_file(),
                                   reason="COURSE_DATA_DIR has no FashionMNIST/raw/")
needs_flowers = pytest.mark.skipif(not (SHARED / "flowers-102" / "setid.mat").is_file(),
                                   reason="COURSE_DATA_DIR has no flowers-102/")


def _snapshot(folder: Path) -> dict:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def _idx(n: int, images: bool, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    if images:
        return struct.pack(">IIII", 0x803, n, 28, 28) + rng.integers(0, 256, (n, 28, 28), dtype=np.uint8).tobytes()
    return struct.pack(">II", 0x801, n) + (np.arange(n) % 10).astype(np.uint8).tobytes()


def fake_fashion(folder: Path, n: int = 6) -> Path:
    """The four archives of a tiny but well-formed Fashion-MNIST, in ``folder/FashionMNIST/raw``."""
    raw = folder / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(data.FASHION_FILES):
        (raw / name).write_bytes(gzip.compress(_idx(n, "images" in name, seed=i), mtime=0))
    return raw


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, damaged deflate data or CRC
    path.write_bytes(bytes(raw))


# ----------------------------------------------------------------------------- 1. corrupt Fashion-MNIST

@pytest.mark.parametrize("damage", [_truncate, _flip], ids=["truncated", "flipped byte"])
def test_corrupt_source_archive_is_named_with_its_md5_and_never_written(tmp_path, monkeypatch, damage):
    raw = fake_fashion(tmp_path / "src")
    bad = raw / "train-images-idx3-ubyte.gz"
    damage(bad)
    before = _snapshot(tmp_path / "src")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "src"))
    with pytest.raises(DataCorruptError, match=r"(?s)corrupt.*train-images-idx3-ubyte\.gz: md5 .*fresh copy") as err:
        data.fashion_mnist_dataset(root=tmp_path / "dst")
    assert isinstance(err.value, DataNotFoundError)
    message = str(err.value)
    assert official_md5()["train-images-idx3-ubyte.gz"] in message  # expected md5
    assert "train-labels" not in message  # only the damaged file is named
    assert _snapshot(tmp_path / "src") == before
    assert not (tmp_path / "dst" / "FashionMNIST").exists()  # nothing staged from a corrupt source


def test_corrupted_copy_in_data_is_replaced_and_its_stale_extraction_deleted(tmp_path, monkeypatch):
    src = fake_fashion(tmp_path / "src")
    dst = fake_fashion(tmp_path / "dst")
    name = "t10k-labels-idx1-ubyte.gz"
    _flip(dst / name)  # same size: a size comparison would keep it
    for f in data.FASHION_FILES:
        (dst / f.removesuffix(".gz")).write_bytes(b"extracted earlier")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "src"))
    data._stage_fashion_archives(tmp_path / "dst")
    assert (dst / name).read_bytes() == (src / name).read_bytes()
    assert not (dst / name.removesuffix(".gz")).exists()  # torchvision extracts it again
    assert (dst / "train-labels-idx1-ubyte").exists()  # the others are left alone


@needs_fashion
def test_real_archive_recopied_and_reextracted(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(SHARED))
    _, labels = data.fashion_mnist_tensors(train=False, root=tmp_path)
    raw = tmp_path / "FashionMNIST" / "raw"
    _flip(raw / "t10k-labels-idx1-ubyte.gz")
    (raw / "t10k-labels-idx1-ubyte").write_bytes(_idx(10000, images=False)[:8] + bytes(10000))  # stale: all 0
    _, again = data.fashion_mnist_tensors(train=False, root=tmp_path)
    assert torch.equal(again, labels) and torch.bincount(again).tolist() == [1000] * 10


def _offline(monkeypatch):
    import torchvision.datasets.mnist as mnist

    def no_internet(*args, **kwargs):
        raise URLError("no network")

    monkeypatch.setattr(mnist, "download_and_extract_archive", no_internet)


@pytest.mark.parametrize("which", ["archive", "extracted"])
def test_corrupt_copy_without_source_names_the_file_to_delete(tmp_path, monkeypatch, which):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    _offline(monkeypatch)
    raw = fake_fashion(tmp_path)
    if which == "extracted":  # all four extracted, one cut short
        for f in data.FASHION_FILES:
            (raw / f.removesuffix(".gz")).write_bytes(gzip.decompress((raw / f).read_bytes()))
    bad = raw / ("train-images-idx3-ubyte" + (".gz" if which == "archive" else ""))
    _truncate(bad)
    with pytest.raises(DataCorruptError, match=r"(?s)corrupt.*Delete them \(rm ") as err:
        data.fashion_mnist_dataset(root=tmp_path)
    assert f"rm {bad}" in str(err.value) and "cut short" in str(err.value)


# ----------------------------------------------------------------------------- 2. data folder not writable

def _chmod_readonly(tmp_path, monkeypatch):
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder anyway (see the simulated case)")
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.setattr(data, "DATA_DIR", folder)
    return folder


def _under_a_file(tmp_path, monkeypatch):
    (tmp_path / "a_file").write_text("")
    folder = tmp_path / "a_file" / "data"
    monkeypatch.setenv("COURSE_DATA_HOME", str(folder))
    return folder


def _simulated_permission_error(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setattr(data, "DATA_DIR", folder)
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    return folder


@pytest.mark.parametrize("make", [_chmod_readonly, _under_a_file, _simulated_permission_error],
                         ids=["chmod 555", "under a file", "PermissionError"])
def test_unwritable_data_folder_names_it_and_course_data_home(tmp_path, monkeypatch, make):
    monkeypatch.delenv("COURSE_DATA_HOME", raising=False)
    folder = make(tmp_path, monkeypatch)
    try:
        with pytest.raises(DataFolderError, match=r"(?s)cannot write into the data folder.*COURSE_DATA_HOME") as err:
            data.data_root()
    finally:
        if folder.parent.is_dir():
            folder.parent.chmod(0o755)
            if folder.is_dir():
                folder.chmod(0o755)
    assert isinstance(err.value, OSError) and str(folder) in str(err.value)
    assert "writable folder" in str(err.value)


def test_course_data_home_moves_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_HOME", str(tmp_path / "home"))
    assert data.data_root() == tmp_path / "home" and (tmp_path / "home").is_dir()
    assert list((tmp_path / "home").iterdir()) == []  # the write test leaves nothing behind
    assert "COURSE_DATA_HOME" in data.__doc__
    assert str(tmp_path / "home") in data.missing_message("X", "DIR", ["f"], None)


# ----------------------------------------------------------------------------- 3. missing flower images

def fake_flowers(folder: Path, n: int, present: list[int], empty: tuple = ()) -> Path:
    from PIL import Image
    from scipy.io import savemat

    base = folder / "flowers-102"
    (base / "jpg").mkdir(parents=True)
    ids = np.arange(1, n + 1)
    savemat(base / "setid.mat", {"trnid": ids[: n // 3], "valid": ids[n // 3: 2 * n // 3], "tstid": ids[2 * n // 3:]})
    savemat(base / "imagelabels.mat", {"labels": (ids % 102) + 1})
    for i in present:
        Image.new("RGB", (12, 10), (i, 0, 0)).save(base / "jpg" / f"image_{i:05d}.jpg")
    for i in empty:
        (base / "jpg" / f"image_{i:05d}.jpg").write_bytes(b"")
    return base


def _no_decoding(monkeypatch):
    from torchvision import datasets

    def must_not_run(*args, **kwargs):
        raise AssertionError("images were decoded before the missing ones were reported")

    monkeypatch.setattr(datasets, "Flowers102", must_not_run)


@pytest.mark.parametrize("source", ["COURSE_DATA_DIR", "download folder"])
def test_missing_flower_images_are_counted_named_and_explained(tmp_path, monkeypatch, source):
    _no_decoding(monkeypatch)
    base = fake_flowers(tmp_path / "src", n=12, present=[1, 2, 4, 9, 10, 11, 12], empty=(3,))
    if source == "COURSE_DATA_DIR":
        monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "src"))
        fix = "Copy the complete jpg/ folder again"
    else:
        monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
        fix = f"Delete the folder {base}"
    before = _snapshot(tmp_path / "src")
    with pytest.raises(DataNotFoundError, match=r"5 of the 12 images listed in setid\.mat are missing") as err:
        flowers.flowers_tensors(image_size=8, root=tmp_path / "src")
    message = str(err.value)
    assert "image_00003.jpg, image_00005.jpg, image_00006.jpg, image_00007.jpg, image_00008.jpg)" in message
    assert fix in message and str(base / "jpg") in message
    assert _snapshot(tmp_path / "src") == before


@needs_flowers
def test_real_flowers_with_few_images_reports_the_count_before_decoding(tmp_path, monkeypatch):
    _no_decoding(monkeypatch)
    base = tmp_path / "src" / "flowers-102"
    (base / "jpg").mkdir(parents=True)
    for name in ("setid.mat", "imagelabels.mat"):
        shutil.copy(SHARED / "flowers-102" / name, base / name)
    for i in (1, 2, 4):
        shutil.copy(SHARED / "flowers-102" / "jpg" / f"image_{i:05d}.jpg", base / "jpg")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "src"))
    with pytest.raises(DataNotFoundError, match=r"(?s)8186 of the 8189 images.*image_00003\.jpg, .*, \.\.\.\)"):
        flowers.flowers_tensors(image_size=8, root=tmp_path / "cache")


# ----------------------------------------------------------------------------- 4. limit and TensorLoader arguments

@pytest.fixture
def tiny_fashion(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.FASHION_FILES:
        (raw / name.removesuffix(".gz")).write_bytes(_idx(20, "images" in name))
    return tmp_path


@pytest.mark.parametrize("limit, error, words", [
    (-5, ValueError, r"at least 1.*got -5.*limit=None"),
    (0, ValueError, r"at least 1.*got 0.*limit=None"),
    (2.5, TypeError, r"whole number of images.*limit=1000.*got 2\.5 \(float\)"),
    (True, TypeError, r"whole number of images.*got True \(bool\)"),
    ("10", TypeError, r"whole number of images.*got '10' \(str\)"),
])
def test_bad_limit_is_rejected(tiny_fashion, limit, error, words):
    assert data.fashion_mnist_tensors(root=tiny_fashion, limit=np.int64(3))[0].shape == (3, 1, 28, 28)
    with pytest.raises(error, match=words):
        data.fashion_mnist_tensors(root=tiny_fashion, limit=limit)


def test_bad_flowers_limit_is_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"limit must be at least 1.*got -1"):
        flowers.flowers_tensors(image_size=32, limit=-1, root=tmp_path)


@pytest.mark.parametrize("images, kwargs, error, words", [
    (torch.zeros(10, 28, 28, dtype=torch.uint8), {}, ValueError, r"\(N, C, H, W\).*images\.unsqueeze\(1\)"),
    (torch.zeros(10, 1, 1, 28, 28, dtype=torch.uint8), {}, ValueError, r"\(10, 1, 1, 28, 28\).*reshape them"),
    (np.zeros((10, 1, 28, 28), dtype=np.uint8), {}, TypeError, r"torch\.Tensor.*ndarray.*torch\.as_tensor"),
    (torch.zeros(10, 1, 28, 28, dtype=torch.uint8), {"batch_size": 4.0}, TypeError,
     r"batch_size must be a whole number.*batch_size=64.*4\.0 \(float\)"),
    (torch.zeros(10, 1, 28, 28, dtype=torch.uint8), {"batch_size": True}, TypeError,
     r"batch_size must be a whole number.*True \(bool\)"),
    (torch.zeros(10, 1, 28, 28, dtype=torch.uint8), {"labels": torch.zeros(9)}, ValueError,
     r"one entry per image: 9 labels for 10 images"),
])
def test_tensor_loader_bad_arguments(images, kwargs, error, words):
    with pytest.raises(error, match=words):
        TensorLoader(images, **kwargs)


# ----------------------------------------------------------------------------- 5-6. grade: empty folder, --out

def _bad_submission(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "alice.ipynb"
    path.write_text("not json")  # graded without a kernel: a report that says what is wrong
    return path


@pytest.mark.parametrize("nested", [False, True], ids=["empty", "notebooks in subfolders"])
def test_grading_a_folder_without_notebooks_writes_nothing(tmp_path, nested):
    folder = tmp_path / "submissions"
    folder.mkdir()
    if nested:
        _bad_submission(folder / "alice")
    out = tmp_path / "grades"
    out.mkdir()
    (out / "gradebook.csv").write_text("student,total\nbob,3\n")
    before = _snapshot(out)
    with pytest.raises(SystemExit, match=rf"{folder}: no notebook to grade.*\*\.ipynb files directly") as err:
        grade.main([str(folder), "--out", str(out)])
    assert _snapshot(out) == before
    assert ("its subfolders (e.g. " in str(err.value.code)) == nested


def test_grading_into_a_new_empty_out_creates_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="nothing was graded or written"):
        grade.main([str(tmp_path / "empty"), "--out", str(tmp_path / "grades")])
    assert not (tmp_path / "grades").exists()


def test_an_earlier_gradebook_is_moved_aside_never_lost(tmp_path, capsys):
    sub = _bad_submission(tmp_path / "subs")
    out = tmp_path / "grades"
    out.mkdir()
    book = out / "gradebook.csv"
    book.write_text("student,total\nbob,3\n")
    os.utime(book, (1_700_000_000, 1_700_000_000))
    grade.main([str(sub), "--out", str(out)])
    backups = sorted(out.glob("gradebook.*.csv"))
    assert len(backups) == 1 and backups[0].read_text() == "student,total\nbob,3\n"
    assert f"the earlier gradebook.csv was moved to {backups[0]}" in capsys.readouterr().out
    assert book.read_text().startswith("student,lesson")
    new_text = book.read_text()
    grade.main([str(sub), "--out", str(out)])  # same gradebook again: no new backup
    assert sorted(out.glob("gradebook.*.csv")) == backups and book.read_text() == new_text
    book.write_text("student,total\ncarol,1\n")
    os.utime(book, (1_700_000_000, 1_700_000_000))  # the same time stamp as the first backup
    grade.main([str(sub), "--out", str(out)])
    texts = sorted(p.read_text() for p in out.glob("gradebook.*.csv"))
    assert texts == ["student,total\nbob,3\n", "student,total\ncarol,1\n"]


@pytest.mark.parametrize("where", ["out", "parent"])
def test_out_pointing_at_a_file_is_refused_before_grading(tmp_path, where):
    sub = _bad_submission(tmp_path / "subs")
    target = tmp_path / "grades.csv"
    target.write_text("keep me")
    out = target if where == "out" else target / "grades"
    with pytest.raises(SystemExit, match=rf"{target} is a file, not a folder.*--out grades/"):
        grade.main([str(sub), "--out", str(out)])
    assert target.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["grades.csv", "subs"]


# ----------------------------------------------------------------------------- 7. run

def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("make, words", [
    (lambda t: t / "missing.ipynb", r"missing\.ipynb: no such file.*e\.g\. notebooks/01_generator\.ipynb"),
    (lambda t: t, r"is a folder, not a notebook: give one \.ipynb file"),
    (lambda t: _write(t, "train.py", "print('hi')\n"), r"train\.py is not a notebook: invalid JSON at line 1.*python "),
    (lambda t: _write(t, "broken.ipynb", '{"cells": [\n  {"cell_type": }'),
     r"broken\.ipynb is not a notebook: invalid JSON at line 2.*saved by Jupyter"),
    (lambda t: _write(t, "list.ipynb", "[1, 2]"), r"list\.ipynb is JSON but not a Jupyter notebook \(no 'cells'"),
    (lambda t: _write(t, "cells.ipynb", '{"cells": [{"source": "x = 1"}]}'),
     r"cells\.ipynb: cell 0 is not a notebook cell.*save it in Jupyter"),
])
def test_run_checks_the_notebook_before_creating_anything(tmp_path, monkeypatch, capsys, make, words):
    runs = tmp_path / "runs"
    monkeypatch.setenv("COURSE_RUNS_DIR", str(runs))
    path = make(tmp_path)
    assert run.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert re.search(words, err, re.S), err
    assert not runs.exists()


def test_run_writes_figures_into_course_runs_dir(tmp_path, monkeypatch, capsys):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# a plot"},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": ["import matplotlib.pyplot as plt\n", "plt.plot([1, 2])\n", "1 + 1"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = _write(tmp_path, "tiny.ipynb", json.dumps(nb))
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert run.main([str(path)]) == 0
    assert (tmp_path / "elsewhere" / "tiny" / "figure_01.png").is_file()
    assert "2" in capsys.readouterr().out.split("--- cell 0 ---")[1]


def test_run_gives_a_cells_functions_to_forked_children_as_a_kernel_does(tmp_path, monkeypatch, capsys):
    """A function defined in a cell is __main__'s, as in Jupyter: lesson 4's toy runs take the student's hooks
    to their side-by-side processes (course_utils.kit.parallel), and __main__ is given back afterwards."""
    code = ("import os\nfrom course_utils.kit.parallel import run_in_processes\n"
            "def square(x):\n    return x * x, os.getpid()\n"
            "out = run_in_processes(square, [dict(x=2), dict(x=3)], workers=2)\n"
            "print('results', [r for r, _ in out], 'in children', all(p != os.getpid() for _, p in out))")
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": code}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    main_before = sys.modules["__main__"]
    assert run.main([str(_write(tmp_path, "hooks.ipynb", json.dumps(nb)))]) == 0
    assert sys.modules["__main__"] is main_before
    expected = sys.platform == "linux"  # elsewhere the jobs run here, one after another
    assert f"results [4, 9] in children {expected}" in capsys.readouterr().out


# ----------------------------------------------------------------------------- 8-9. lessons

@pytest.fixture
def course_root(tmp_path):
    """A copy of one solution in a root of its own, its lesson generated."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "solutions" / "01_generator.ipynb", tmp_path / "solutions")
    assert lessons.main([], root=tmp_path) == 0
    return tmp_path


def _edit(path: Path, text: str) -> None:
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] += text
    path.write_text(json.dumps(nb, indent=1))


def test_a_hand_edited_lesson_is_not_overwritten(course_root, capsys):
    lesson, solution = (course_root / folder / "01_generator.ipynb" for folder in ("notebooks", "solutions"))
    assert json.loads(lesson.read_text())["metadata"]["course"]["generated_sha256"]
    _edit(lesson, "\nmy notes")
    _edit(solution, "\nsolution changed")
    capsys.readouterr()
    assert lessons.main([], root=course_root) == 1
    err = capsys.readouterr().err
    assert "not overwritten: notebooks/01_generator.ipynb: its content changed since it was generated" in err
    assert "make the edits in solutions/01_generator.ipynb" in err and "--force overwrites" in err
    assert "my notes" in lesson.read_text()
    assert lessons.main(["--check"], root=course_root) == 1
    assert "edited by hand" in capsys.readouterr().out
    assert lessons.main(["--force"], root=course_root) == 0
    assert "my notes" not in lesson.read_text() and "solution changed" in lesson.read_text()
    assert lessons.main(["--check"], root=course_root) == 0


def test_an_unedited_lesson_follows_its_solution(course_root, capsys):
    lesson, solution = (course_root / folder / "01_generator.ipynb" for folder in ("notebooks", "solutions"))
    lesson.write_text(json.dumps(json.loads(lesson.read_text()), indent=4))  # re-saved, same content
    _edit(solution, "\nsolution changed")
    assert lessons.main([], root=course_root) == 0
    assert "solution changed" in lesson.read_text() and "not overwritten" not in capsys.readouterr().err


def test_a_lesson_without_a_generation_record_is_not_overwritten(course_root, capsys):
    lesson = course_root / "notebooks" / "01_generator.ipynb"
    lesson.write_text('{"cells": [], "metadata": {}}')  # written by hand
    assert lessons.main([], root=course_root) == 1
    assert "no record of being generated" in capsys.readouterr().err
    assert lesson.read_text() == '{"cells": [], "metadata": {}}'


CONFLICT = ('{\n "cells": [],\n<<<<<<< HEAD\n "metadata": {"a": 1},\n=======\n "metadata": {"a": 2},\n'
            '>>>>>>> feature\n "nbformat": 4\n}\n')


@pytest.mark.parametrize("text, words", [
    (CONFLICT, r"02_x\.ipynb: line 3 has a git merge-conflict marker \(<<<<<<<\): resolve the conflict first"),
    ('{\n "cells": [\n  {"cell_type": "code",}\n ]\n}\n',
     r"02_x\.ipynb is not valid notebook JSON: line 3, column \d+.*restore the file from git"),
])
def test_an_unreadable_solution_names_file_line_and_fix(course_root, capsys, text, words):
    (course_root / "solutions" / "02_x.ipynb").write_text(text)
    before = _snapshot(course_root / "notebooks")
    assert lessons.main([], root=course_root) == 1
    err = capsys.readouterr().err
    assert re.search(words, err, re.S), err
    assert _snapshot(course_root / "notebooks") == before
    assert lessons.main(["--check"], root=course_root) == 1

