"""The hosted setup cell every lesson starts with: one template, the one declared URL at the release tag,
torch, torchvision and NumPy pinned as installed.

The cell runs here in a simulated Colab / Kaggle: a stand-in ``google.colab`` module, ``course_utils``
made unimportable, and a recording stand-in for ``subprocess.check_call`` (nothing is installed: the
recorded ``pip install git+...`` makes this checkout's ``course_utils`` importable again, as a real
install would).
"""

import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

import course_utils
from course_utils.tools import hosted, lessons

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEAVY = re.compile(r"\b(torch|torchvision|numpy)\b", re.I)
COURSE_UTILS = course_utils  # what a real pip install makes importable


def declared_url() -> str:
    """The URL as pyproject.toml declares it, read here independently of course_utils.tools.hosted."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.urls]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^Repository\s*=\s*"([^"]+)"', section, re.M).group(1)


def declared_tag() -> str:
    """``v`` + ``[project] version`` of pyproject.toml, read here independently of course_utils.tools.hosted."""
    section = (ROOT / "pyproject.toml").read_text().split("[project]", 1)[1].split("\n[", 1)[0]
    return "v" + re.search(r'^version\s*=\s*"([^"]+)"', section, re.M).group(1)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_starts_with_the_template_cell(path):
    first = json.loads(path.read_text())["cells"][0]
    assert first == hosted.setup_cell()
    assert f"REPOSITORY, REF = {declared_url()!r}, {declared_tag()!r}" in first["source"]


def test_solutions_do_not_carry_the_setup_cell():
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        assert all(c.get("id") != hosted.SETUP_CELL_ID for c in json.loads(path.read_text())["cells"]), path.name


class Recorder:
    """Stands in for subprocess.check_call: records each command and the constraints file it names (read
    while it exists); installing the course makes this checkout's ``course_utils`` importable again."""

    def __init__(self, monkeypatch):
        self.calls, self.constraints, self.monkeypatch = [], [], monkeypatch

    def __call__(self, cmd, *args, **kwargs):
        cmd = [str(a) for a in cmd]
        self.calls.append(cmd)
        if "-c" in cmd:
            self.constraints.append(Path(cmd[cmd.index("-c") + 1]).read_text())
        if any(a.startswith("git+") for a in cmd):
            self.monkeypatch.setitem(sys.modules, "course_utils", COURSE_UTILS)
        return 0


@pytest.fixture
def sandbox(monkeypatch):
    """No Colab, no Kaggle, pip recorded; the COURSE_WIDGETS the cell may set is restored afterwards."""
    pip = Recorder(monkeypatch)
    monkeypatch.setattr(subprocess, "check_call", pip)
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE", raising=False)
    for name in ("COURSE_WIDGETS", "COURSE_DATA_HOME", "COURSE_RUNS_DIR"):
        monkeypatch.delenv(name, raising=False)  # the cell may set them: restored afterwards
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import google.colab fails
    return pip


def fake_colab(monkeypatch) -> list:
    enabled = []
    colab = types.ModuleType("google.colab")
    colab.__spec__ = importlib.machinery.ModuleSpec("google.colab", None)  # as a real import gives it
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: enabled.append(True))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    return enabled


def run_cell(monkeypatch, importable: bool = False, missing=()):
    if not importable:
        monkeypatch.setitem(sys.modules, "course_utils", None)  # import course_utils fails
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing
                        else real_find_spec(name, *a))
    exec(compile(hosted.setup_cell()["source"], "setup-cell", "exec"), {"__name__": "__main__"})


def installed_pins() -> set[str]:
    return {f"{name}=={importlib.metadata.version(name)}" for name in ("torch", "torchvision", "numpy")}


def assert_course_install(pip, url):
    calls = pip.calls
    course = [c for c in calls if any(a.startswith("git+") for a in c)]
    assert len(course) == 1, calls
    assert course[0][-1] == f"git+{url}@{declared_tag()}" and "--no-deps" in course[0]  # the release, not a branch
    assert course[0][:4] == [sys.executable, "-m", "pip", "install"]
    for cmd in calls:
        assert not [a for a in cmd if HEAVY.search(a)], f"pip must never touch torch/torchvision/numpy: {cmd}"
    light = [c for c in calls if c not in course]
    for cmd in light:
        assert "-c" in cmd, f"every pip call with dependencies runs under the constraints file: {cmd}"
    assert len(pip.constraints) == len(light)
    for text in pip.constraints:  # torch==<the installed version>, etc.: pip can only keep them
        assert set(text.split()) == installed_pins()
    for cmd in light:
        assert not Path(cmd[cmd.index("-c") + 1]).exists()  # the temporary file is removed afterwards


def test_the_cell_shows_five_lines():
    source = hosted.setup_cell()["source"]
    assert len(source.splitlines()) == 5 and "--no-deps" in source


def test_colab_installs_from_the_declared_url_and_enables_widgets(sandbox, monkeypatch, capsys):
    enabled = fake_colab(monkeypatch)
    run_cell(monkeypatch, missing=("ipywidgets", "tqdm"))
    assert_course_install(sandbox, declared_url())
    assert len(sandbox.calls) == 2 and sandbox.calls[1][-2:] == ["tqdm", "ipywidgets"]
    assert enabled == [True]
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("Colab:") and "widget manager" in out[0]
    assert (os.environ["COURSE_DATA_HOME"], os.environ["COURSE_RUNS_DIR"]) == ("data", "runs")  # beside the notebook


def test_kaggle_installs_only_the_course_when_nothing_light_is_missing(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    run_cell(monkeypatch)
    assert_course_install(sandbox, declared_url())
    assert len(sandbox.calls) == 1  # every light requirement is present here
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("Kaggle:") and declared_url() in out[0]


def test_locally_it_calls_nothing_and_prints_nothing(sandbox, monkeypatch, capsys):
    run_cell(monkeypatch, importable=True)
    assert sandbox.calls == [] and capsys.readouterr().out == ""
    assert "COURSE_RUNS_DIR" not in os.environ  # local runs keep the repository's runs/


def test_colab_with_course_installed_only_enables_widgets(sandbox, monkeypatch, capsys):
    enabled = fake_colab(monkeypatch)
    run_cell(monkeypatch, importable=True)
    assert sandbox.calls == [] and enabled == [True]
    out = capsys.readouterr().out.strip()
    assert out.startswith("Colab: course_utils v") and out.endswith("; enabled the widget manager")


def _failing_line(exc: BaseException) -> str:
    """The setup cell's line that raised ``exc``: the line a student sees in the traceback, with its comment."""
    tb = exc.__traceback__
    while tb.tb_next is not None and tb.tb_frame.f_code.co_filename != "setup-cell":
        tb = tb.tb_next
    while tb.tb_next is not None and tb.tb_next.tb_frame.f_code.co_filename == "setup-cell":
        tb = tb.tb_next
    return hosted.setup_cell()["source"].splitlines()[tb.tb_lineno - 1]


def test_local_kernel_without_course_utils_says_how_to_start(sandbox, monkeypatch):
    with pytest.raises(ImportError) as err:
        run_cell(monkeypatch)
    assert sandbox.calls == []
    assert "python3 course.py start" in _failing_line(err.value)  # the traceback shows this line and its comment


def test_a_failed_pip_says_internet_is_needed(sandbox, monkeypatch):
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")

    def fail(cmd, *a, **k):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(subprocess, "check_call", fail)
    with pytest.raises(subprocess.CalledProcessError) as err:
        run_cell(monkeypatch)
    assert "internet" in _failing_line(err.value) and "git+" in _failing_line(err.value)


def test_a_failed_light_install_says_internet_is_needed(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tqdm" else real_find_spec(name, *a))

    def fail(cmd, *a, **k):
        raise subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(subprocess, "check_call", fail)
    with pytest.raises(RuntimeError, match="pip could not install tqdm: the notebook needs internet"):
        hosted.install_light_packages()


def test_colab_url_is_built_from_the_declared_repository_at_the_release_tag():
    owner_repo = declared_url().removeprefix("https://github.com/")
    expected = (f"https://colab.research.google.com/github/{owner_repo}/blob/{declared_tag()}/notebooks/"
                "03_training_a_gan.ipynb")
    assert hosted.colab_url("03_training_a_gan.ipynb") == expected
    assert hosted.colab_url("notebooks/03_training_a_gan") == expected


@pytest.mark.parametrize("bad", ["training_a_gan.ipynb", "99_no_such_lesson.ipynb"])
def test_colab_url_rejects_what_is_not_a_lesson(bad):
    with pytest.raises(ValueError, match="03_training_a_gan"):
        hosted.colab_url(bad)


def test_repository_url_errors_say_where_to_declare_it(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(hosted.RepositoryError, match=r"\[project.urls\]"):
        hosted.repository_url(tmp_path / "pyproject.toml")
    with pytest.raises(hosted.RepositoryError, match="OWNER/REPO"):
        hosted.github_slug("https://gitlab.com/someone/gan-course")


def test_the_python_310_reader_agrees_with_tomllib():
    tomllib = pytest.importorskip("tomllib")
    text = (ROOT / "pyproject.toml").read_text()
    assert hosted.parse_simple_toml(text)["project"]["urls"] == tomllib.loads(text)["project"]["urls"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lessons_hold_what_jupyterlab_would_add(path):
    """Cell ids (nbformat 4.5) and the kernel's metadata: without them JupyterLab marks a lesson modified."""
    nb = json.loads(path.read_text())
    assert (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5)
    ids = [c.get("id") for c in nb["cells"]]
    assert all(ids) and len(set(ids)) == len(ids)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    ipykernel = pytest.importorskip("ipykernel.ipkernel")
    reported = dict(ipykernel.IPythonKernel.language_info)
    assert {k: v for k, v in nb["metadata"]["language_info"].items() if k != "version"} == \
        {k: v for k, v in reported.items() if k != "version"}
    assert re.fullmatch(r"3\.\d+\.\d+", nb["metadata"]["language_info"]["version"])
    assert lessons.hand_edited(path) is None  # the hash still matches the generated content


def test_cells_without_ids_get_unique_ones():
    cells = [{"cell_type": "code", "id": "lesson-01", "source": ""}, {"cell_type": "markdown", "source": ""},
             {"cell_type": "markdown", "source": ""}]
    ids = [c["id"] for c in lessons.with_cell_ids(cells)]
    assert ids[0] == "lesson-01" and len(set(ids)) == 3


@pytest.mark.parametrize("bad", ['https://github.com/a/b"; import os; os.system("echo pwned") #',
                                 "https://github.com/a/b'+__import__('os').system('x')+'",
                                 "https://github.com/a/b\nimport os", "https://gitlab.com/a/b",
                                 "https://github.com/a/b@main", "git+https://github.com/a/b", ""])
def test_a_repository_url_that_is_not_github_owner_repo_never_reaches_the_cell(bad):
    with pytest.raises(hosted.RepositoryError, match=r"not https://github.com/OWNER/REPO.*pyproject.toml"):
        hosted.setup_cell_source(bad, "v1.0.0")


@pytest.mark.parametrize("bad", ["v1.0; rm -rf ~", "'v1'", "v1\nimport os", "-v1", "v1.0 x", ""])
def test_a_bad_release_tag_never_reaches_the_cell(bad):
    with pytest.raises(hosted.RepositoryError, match="not a plain tag name"):
        hosted.setup_cell_source("https://github.com/a/b", bad)


def test_url_and_tag_are_pasted_as_python_literals():
    source = hosted.setup_cell_source("https://github.com/some-one/my_repo.git", "v2.0.1-rc1")
    assert "REPOSITORY, REF = 'https://github.com/some-one/my_repo.git', 'v2.0.1-rc1'" in source
    compile(source, "setup-cell", "exec")
    tricky = hosted.setup_cell_source("https://github.com/__REF__/x", "v1")  # a token inside the URL stays text
    assert "REPOSITORY, REF = 'https://github.com/__REF__/x', 'v1'" in tricky


def test_the_tag_is_v_plus_the_declared_version(tmp_path):
    assert hosted.course_ref() == declared_tag()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1.2.3"\n')
    assert hosted.course_ref(tmp_path / "pyproject.toml") == "v1.2.3"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(hosted.RepositoryError, match=r"(?s)no version.*\[project\]"):
        hosted.course_ref(tmp_path / "pyproject.toml")


@pytest.mark.parametrize("host", ["colab", "kaggle", "local"])
def test_the_cell_warns_when_the_platforms_torch_is_older_than_2_6(sandbox, monkeypatch, capsys, host):
    monkeypatch.setattr(torch, "__version__", "2.5.1+cu121")
    if host == "colab":
        fake_colab(monkeypatch)
    elif host == "kaggle":
        monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Interactive")
    run_cell(monkeypatch, importable=host == "local")
    out = capsys.readouterr().out
    warning = [line for line in out.splitlines() if line.startswith("WARNING")]
    assert len(warning) == 1 and "torch 2.5.1+cu121 is older than 2.6" in warning[0] and "CVE-2025-32434" in warning[0]
    assert hosted.torch_warning("2.6.0") is None and hosted.torch_warning("2.14.1+cu130") is None
