"""Students anywhere: the setup cell every generated lesson starts with, and the lessons' Colab links.

The course's repository URL is declared once, in ``pyproject.toml`` (``[project.urls] Repository``);
a fork changes it there and regenerates the lessons (``python -m course_utils.lessons``). Everything
hosted reads it from there: the setup cell installs ``course_utils`` from it on Google Colab and
Kaggle, and :func:`colab_url` builds each lesson's "Open in Colab" link from it.

The setup cell runs *before* ``course_utils`` exists, so it is self-contained source (the template
below). Run locally (``python3 course.py start``), it finds ``course_utils`` and does nothing. On Colab
or Kaggle it installs ``course_utils`` with ``pip install --no-deps git+URL`` plus only the light
packages that are missing; it never installs, reinstalls or upgrades PyTorch, torchvision or NumPy
(the platforms ship them, built for their hardware). On Colab it also turns on the custom widget
manager, which the latent explorer and the live dashboard need there. On both it points
``COURSE_DATA_HOME`` and ``COURSE_RUNS_DIR`` at ``data/`` and ``runs/`` in the working folder (Colab:
``/content``), not inside the installed package.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..kit.env import REPO_ROOT

PYPROJECT = REPO_ROOT / "pyproject.toml"
DISTRIBUTION = "gan-course"  # [project] name in pyproject.toml
BRANCH = "main"
URL_TOKEN = "__REPOSITORY__"
SETUP_CELL_ID = "course-setup"

SETUP_CELL_TEMPLATE = '''\
# Setup. On Google Colab or Kaggle this installs the course's helper package, course_utils, from the
# course's repository. On your own machine (python3 course.py start) it is installed: nothing happens.
import importlib.util
import os
import subprocess
import sys

REPOSITORY = "__REPOSITORY__"  # declared in the course's pyproject.toml
LIGHT = {"tqdm": "tqdm", "scipy": "scipy", "matplotlib": "matplotlib", "PIL": "pillow", "ipywidgets": "ipywidgets"}

try:
    from google.colab import output as colab_output  # exists only on Google Colab
except ImportError:
    colab_output = None
hosted = colab_output is not None or "KAGGLE_KERNEL_RUN_TYPE" in os.environ  # Kaggle sets this variable
try:
    import course_utils  # found: installed locally, or by an earlier run of this cell
    installed = True
except ImportError:
    installed = False
done = []  # what this cell did, printed in one line
if hosted and not installed:
    # PyTorch, torchvision and NumPy come with Colab and Kaggle, built for their GPUs: never reinstall
    # them. --no-deps keeps pip away from them; the light packages are installed only when missing.
    pip = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    missing = [package for module, package in LIGHT.items() if importlib.util.find_spec(module) is None]
    try:
        subprocess.check_call(pip + ["--no-deps", f"git+{REPOSITORY}"])
        if missing:
            subprocess.check_call(pip + missing)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError("pip could not install course_utils: the notebook needs internet (on Kaggle: "
                           "Settings > Internet on), then run this cell again") from exc
    importlib.invalidate_caches()
    done.append(f"installed course_utils from {REPOSITORY}" + (f" and {', '.join(missing)}" if missing else ""))
if hosted:  # downloads and saved models go next to the notebook (Colab: /content), where you can see them
    os.environ.setdefault("COURSE_DATA_HOME", "data")
    os.environ.setdefault("COURSE_RUNS_DIR", "runs")
if colab_output is not None:
    colab_output.enable_custom_widget_manager()  # the sliders and the live dashboard need it on Colab
    os.environ["COURSE_WIDGETS"] = "1"  # tells course_utils.kit.widgets that widgets will show
    done.append("enabled the widget manager")
if done:
    print(("Colab" if colab_output is not None else "Kaggle") + ": " + "; ".join(done))
elif not installed and not hosted:
    print("course_utils is not installed for this kernel: start the course with python3 course.py start, "
          "or choose the kernel of the course's .venv")
'''


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


def repository_url(pyproject: Path | None = None) -> str:
    """The course's repository, from ``pyproject.toml`` ``[project.urls] Repository`` (plumbing).

    Without the file (``course_utils`` installed from git), the installed package's metadata holds it.
    """
    path = Path(pyproject) if pyproject is not None else PYPROJECT
    if path.is_file():
        url = _toml_table(path.read_text(encoding="utf-8")).get("project", {}).get("urls", {}).get("Repository")
    else:
        url = _installed_url()
    if not url:
        raise RepositoryError(f"no repository URL: add to {path}\n[project.urls]\nRepository = "
                              '"https://github.com/OWNER/REPO"\n(the one place it is declared), then run '
                              "python -m course_utils.lessons")
    return url.strip().rstrip("/")


def _installed_url() -> str | None:
    from importlib import metadata

    try:
        urls = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    return next((u.split(",", 1)[1].strip() for u in urls if u.split(",", 1)[0].strip() == "Repository"), None)


def github_slug(url: str | None = None) -> str:
    """``"owner/repo"`` of the repository URL (plumbing); Colab opens notebooks from GitHub only."""
    url = url or repository_url()
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url)
    if not match:
        raise RepositoryError(f"the repository URL {url!r} is not https://github.com/OWNER/REPO: Colab links "
                              "need a GitHub repository; fix [project.urls] Repository in pyproject.toml")
    return f"{match.group(1)}/{match.group(2)}"


def colab_url(notebook_name: str) -> str:
    """The "Open in Colab" link of a lesson, e.g. ``colab_url("03_training_a_gan.ipynb")`` (lessons 1-5).

    ``notebook_name``: the lesson's file name (``NN_name.ipynb``; ``notebooks/`` and the suffix are
    optional). Built from the one declared repository URL: ``https://colab.research.google.com/github/
    OWNER/REPO/blob/main/notebooks/NN_name.ipynb``.
    """
    name = Path(str(notebook_name)).name
    name = name if name.endswith(".ipynb") else f"{name}.ipynb"
    if not re.fullmatch(r"\d\d_\w+\.ipynb", name):
        raise ValueError(f"expected a lesson's file name such as '03_training_a_gan.ipynb', got {notebook_name!r}")
    lessons = REPO_ROOT / "notebooks"
    if lessons.is_dir() and not (lessons / name).is_file():
        known = ", ".join(sorted(p.name for p in lessons.glob("[0-9][0-9]_*.ipynb")))
        raise ValueError(f"there is no lesson notebooks/{name}; the lessons are: {known}")
    return f"https://colab.research.google.com/github/{github_slug()}/blob/{BRANCH}/notebooks/{name}"


def setup_cell_source(url: str | None = None) -> str:
    """The setup cell's source: the template with the repository URL filled in (plumbing)."""
    return SETUP_CELL_TEMPLATE.replace(URL_TOKEN, url or repository_url()).rstrip("\n")


def setup_cell(url: str | None = None) -> dict:
    """The first cell of every generated lesson, as a notebook cell (plumbing for ``course_utils.tools.lessons``)."""
    return {"cell_type": "code", "execution_count": None, "id": SETUP_CELL_ID,
            "metadata": {"tags": [SETUP_CELL_ID]}, "outputs": [], "source": setup_cell_source(url)}
