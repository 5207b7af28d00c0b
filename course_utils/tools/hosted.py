"""Students anywhere: the setup cell every generated lesson starts with, and the lessons' Colab links.

The course's repository URL is declared once, in ``pyproject.toml`` (``[project.urls] Repository``),
and so is its release: ``[project] version``, whose git tag ``v<version>`` (e.g. ``v0.1.0``) is the ref
everything hosted uses. A fork changes the URL there and regenerates the lessons (``python -m
course_utils.lessons``); a release bumps the version, regenerates, and pushes the tag. The setup cell
installs ``course_utils`` from that tag on Google Colab and Kaggle (never from the moving default
branch), and :func:`colab_url` builds each lesson's "Open in Colab" link at that tag.

The setup cell runs *before* ``course_utils`` exists, so it is five self-contained lines (the template
below): run locally (``python3 course.py start``), it finds ``course_utils`` and installs nothing. On Colab
or Kaggle it installs ``course_utils`` with ``pip install --no-deps git+URL@TAG``: no dependency at all, so
pip never touches the platform's torch, torchvision and NumPy (built for its hardware). The URL and the tag
are validated (:func:`checked_url`, :func:`checked_ref`) and pasted as Python literals (``repr``). The rest,
:func:`finish_setup`, runs from the installed package: it installs only the light packages that are missing,
under a constraints file that pins the installed torch, torchvision and NumPy (``torch==<its version>``),
so pip can only keep them; on Colab it turns on the custom widget manager,
which the latent explorer and the live dashboard need there; on both platforms it points
``COURSE_DATA_HOME`` and ``COURSE_RUNS_DIR`` at ``data/`` and ``runs/`` in the working folder (Colab:
``/content``), not inside the installed package; everywhere it warns when torch is older than 2.6.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..kit.env import REPO_ROOT, version_tuple

PYPROJECT = REPO_ROOT / "pyproject.toml"
DISTRIBUTION = "gan-course"  # [project] name in pyproject.toml
URL_TOKEN, REF_TOKEN = "__REPOSITORY__", "__REF__"
SETUP_CELL_ID = "course-setup"
GITHUB_URL = re.compile(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", re.ASCII)
"""The one rule for the repository URL: Colab links need it, the setup cell installs from it."""
GIT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A tag such as ``v0.1.0``: letters, digits, ``.``, ``_``, ``-``."""

SETUP_CELL_TEMPLATE = "\n".join([  # five lines; the long ones end in noqa, as ruff checks the notebooks
    "import importlib.util, os, subprocess, sys  # noqa: E401 - Setup: on Colab or Kaggle, installs course_utils, the",
    "REPOSITORY, REF = __REPOSITORY__, __REF__  # course's helper package, at a fixed release  # noqa: E501",
    'if not importlib.util.find_spec("course_utils") and (importlib.util.find_spec("google.colab") '
    'or "KAGGLE_KERNEL_RUN_TYPE" in os.environ):  # noqa: E501',
    '    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-deps", f"git+{REPOSITORY}@{REF}"])'
    "  # fails? no internet: Kaggle: Settings > Internet on, run again  # noqa: E501",
    "from course_utils import finish_setup; finish_setup()  # noqa: E702 - not found here? python3 course.py start",
]) + "\n"


def __getattr__(name: str):
    """``BRANCH``, the old name of the ref hosted lessons use: now the release tag (:func:`course_ref`)."""
    if name == "BRANCH":
        return course_ref()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class RepositoryError(ValueError):
    """The repository URL is not declared (or not a GitHub URL): the message says where to declare it."""


def _toml_table(text: str) -> dict:
    """``tomllib`` where Python has it (3.11+), else ``tomli``, else a reader for flat tables of strings."""
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return parse_simple_toml(text)
    return tomllib.loads(text)


def parse_simple_toml(text: str) -> dict:
    """``[table.sub]`` headers and ``key = "string"`` lines: ``[project.urls]`` on Python 3.10 (plumbing)."""
    data, table = {}, {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        header = re.fullmatch(r"\[([A-Za-z0-9_.-]+)\]", line)
        pair = re.fullmatch(r'"?([A-Za-z0-9_ .-]+?)"?\s*=\s*"([^"]*)"', line)
        if header:
            table = data
            for part in header.group(1).split("."):
                table = table.setdefault(part, {})
        elif pair:
            table[pair.group(1)] = pair.group(2)
    return data


def _pyproject(pyproject: Path | None) -> tuple[Path, dict]:
    path = Path(pyproject) if pyproject is not None else PYPROJECT
    return path, (_toml_table(path.read_text(encoding="utf-8")) if path.is_file() else {})


def repository_url(pyproject: Path | None = None) -> str:
    """The course's repository, from ``pyproject.toml`` ``[project.urls] Repository`` (plumbing).

    Without the file (``course_utils`` installed from git), the installed package's metadata holds it.
    """
    path, table = _pyproject(pyproject)
    url = table.get("project", {}).get("urls", {}).get("Repository") if path.is_file() else _installed_url()
    if not url:
        raise RepositoryError(f"no repository URL: add to {path}\n[project.urls]\nRepository = "
                              '"https://github.com/OWNER/REPO"\n(the one place it is declared), then run '
                              "python -m course_utils.lessons")
    return url.strip().rstrip("/")


def course_ref(pyproject: Path | None = None) -> str:
    """The git tag hosted lessons install and open: ``v`` + ``[project] version`` of ``pyproject.toml`` (plumbing).

    Without the file (``course_utils`` installed from git), the installed package's version.
    """
    from importlib import metadata

    path, table = _pyproject(pyproject)
    if path.is_file():
        version = table.get("project", {}).get("version")
    else:
        try:
            version = metadata.version(DISTRIBUTION)
        except metadata.PackageNotFoundError:
            version = None
    if not isinstance(version, str) or not version.strip():
        raise RepositoryError(f"no version: add to {path}\n[project]\nversion = \"0.1.0\"\n(the release whose tag "
                              "v<version> the setup cells install), then run python -m course_utils.lessons")
    return checked_ref(f"v{version.strip()}")


def _installed_url() -> str | None:
    from importlib import metadata

    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    return next((u.split(",", 1)[1].strip() for u in urls if u.split(",", 1)[0].strip() == "Repository"), None)


def checked_url(url: str) -> str:
    """``url`` if it is ``https://github.com/OWNER/REPO`` (the rule :func:`github_slug` applies), else
    :class:`RepositoryError`: only such a URL is pasted into the setup cell (plumbing)."""
    if not isinstance(url, str) or not GITHUB_URL.fullmatch(url):
        raise RepositoryError(f"the repository URL {url!r} is not https://github.com/OWNER/REPO (letters, digits, "
                              "'.', '_', '-'): the setup cell installs from it and the Colab links point at it; fix "
                              "[project.urls] Repository in pyproject.toml, then run python -m course_utils.lessons")
    return url


def checked_ref(ref: str) -> str:
    """``ref`` if it is a plain git tag name (``v0.1.0``), else :class:`RepositoryError` (plumbing)."""
    if not isinstance(ref, str) or not GIT_REF.fullmatch(ref):
        raise RepositoryError(f"the release tag {ref!r} is not a plain tag name (letters, digits, '.', '_', '-'): fix "
                              "[project] version in pyproject.toml, then run python -m course_utils.lessons")
    return ref


def github_slug(url: str | None = None) -> str:
    """``"owner/repo"`` of the repository URL (plumbing); Colab opens notebooks from GitHub only."""
    match = GITHUB_URL.fullmatch(checked_url(url or repository_url()))
    return f"{match.group(1)}/{match.group(2)}"


def colab_url(notebook_name: str) -> str:
    """The "Open in Colab" link of a lesson, e.g. ``colab_url("03_training_a_gan.ipynb")`` (every lesson).

    ``notebook_name``: the lesson's file name (``NN_name.ipynb``; ``notebooks/`` and the suffix are
    optional). Built from the one declared repository URL, at the release tag (:func:`course_ref`):
    ``https://colab.research.google.com/github/OWNER/REPO/blob/v0.1.0/notebooks/NN_name.ipynb``.
    """
    name = Path(str(notebook_name)).name
    name = name if name.endswith(".ipynb") else f"{name}.ipynb"
    if not re.fullmatch(r"\d\d_\w+\.ipynb", name):
        raise ValueError(f"expected a lesson's file name such as '03_training_a_gan.ipynb', got {notebook_name!r}")
    lessons = REPO_ROOT / "notebooks"
    if lessons.is_dir() and not (lessons / name).is_file():
        known = ", ".join(sorted(p.name for p in lessons.glob("[0-9][0-9]_*.ipynb")))
        raise ValueError(f"there is no lesson notebooks/{name}; the lessons are: {known}")
    return f"https://colab.research.google.com/github/{github_slug()}/blob/{course_ref()}/notebooks/{name}"


def setup_cell_source(url: str | None = None, ref: str | None = None) -> str:
    """The setup cell's source: the template with the checked repository URL and release tag pasted in as
    Python string literals (plumbing)."""
    url, ref = repository_url() if url is None else url, course_ref() if ref is None else ref
    values = {URL_TOKEN: repr(checked_url(url)), REF_TOKEN: repr(checked_ref(ref))}
    return re.sub("|".join(values), lambda m: values[m.group(0)], SETUP_CELL_TEMPLATE).rstrip("\n")


def setup_cell(url: str | None = None, ref: str | None = None) -> dict:
    """The first cell of every generated lesson, as a notebook cell (plumbing for ``course_utils.tools.lessons``)."""
    return {"cell_type": "code", "execution_count": None, "id": SETUP_CELL_ID,
            "metadata": {"tags": [SETUP_CELL_ID]}, "outputs": [], "source": setup_cell_source(url, ref)}


def torch_warning(version: str | None = None) -> str | None:
    """A warning when torch ``version`` (default: the running one) is older than the course's minimum, else None."""
    import torch

    from ..kit.checkpoints import MIN_TORCH

    version = torch.__version__ if version is None else version
    if version_tuple(version) >= version_tuple(MIN_TORCH):
        return None
    return (f"WARNING: this platform's torch {version} is older than {MIN_TORCH}: loading a checkpoint with "
            "weights_only=True could execute code from a crafted file (CVE-2025-32434). Load no checkpoint from "
            "elsewhere, and use a newer runtime (Colab: Runtime > Change runtime type, the latest version; Kaggle: "
            f"Settings > Environment, the latest) or a torch >= {MIN_TORCH} of your own.")


LIGHT = {"tqdm": "tqdm", "scipy": "scipy", "matplotlib": "matplotlib", "PIL": "pillow", "ipywidgets": "ipywidgets"}
"""module -> package: what the lessons need besides torch, torchvision and NumPy (the platforms' own)."""
PINNED = ("torch", "torchvision", "numpy")


def on_colab() -> bool:
    import importlib.util

    return importlib.util.find_spec("google.colab") is not None


def install_light_packages() -> list[str]:
    """On a hosted platform, pip-install the light packages that are missing, under a constraints file pinning the
    installed torch, torchvision and NumPy (pip may only keep them); returns what was installed (plumbing)."""
    import importlib.metadata
    import importlib.util
    import subprocess
    import sys
    import tempfile

    missing = [package for module, package in LIGHT.items() if importlib.util.find_spec(module) is None]
    if not missing:
        return []
    with tempfile.NamedTemporaryFile("w", prefix="course-pins-", suffix=".txt", delete=False) as pins:
        pins.writelines(f"{name}=={importlib.metadata.version(name)}\n" for name in PINNED
                        if importlib.util.find_spec(name) is not None)
    try:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               "-c", pins.name, *missing])
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"pip could not install {', '.join(missing)}: the notebook needs internet (on Kaggle: "
                           "Settings > Internet on), then run this cell again") from exc
    finally:
        os.remove(pins.name)
    importlib.invalidate_caches()
    return missing


def _which_course() -> str:
    """``course_utils v0.1.0 from https://github.com/...``: the release this notebook runs (for the setup line)."""
    try:
        return f"course_utils {course_ref()} from {repository_url()}"
    except (RepositoryError, OSError):
        return "course_utils"


def finish_setup(hosted: bool | None = None, colab: bool | None = None, installed: list | None = None) -> None:
    """The setup cell's rest, run once ``course_utils`` imports (plumbing for the setup cell).

    On Colab or Kaggle (``hosted``, detected when not given) it installs the missing light packages (torch,
    torchvision and NumPy pinned as installed), points downloads and saved models next to the notebook and, on
    Colab, enables the widget manager. Prints one line saying what was done (nothing locally), and a warning
    when torch is older than the course's minimum. ``installed``: what an older setup cell installed itself.
    """
    colab = on_colab() if colab is None else colab
    hosted = (colab or "KAGGLE_KERNEL_RUN_TYPE" in os.environ) if hosted is None else hosted
    installed = list(installed or [])
    if hosted:
        installed += install_light_packages()
    done = [f"installed {', '.join(installed)}"] if installed else []
    if hosted:  # downloads and saved models go next to the notebook (Colab: /content), where you can see them
        os.environ.setdefault("COURSE_DATA_HOME", "data")
        os.environ.setdefault("COURSE_RUNS_DIR", "runs")
    if colab:
        from google.colab import output

        output.enable_custom_widget_manager()  # the sliders and the live dashboard need it on Colab
        os.environ["COURSE_WIDGETS"] = "1"  # tells course_utils.kit.widgets that widgets will show
        done.append("enabled the widget manager")
    if hosted:
        done.insert(0, _which_course())
        print(("Colab" if colab else "Kaggle") + ": " + "; ".join(done))
    warning = torch_warning()
    if warning:
        print(warning)
