"""The package's layout: rooms that show the roles, imports that only go down, old paths that keep working."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "course_utils"
FLAT_API = json.loads((Path(__file__).parent / "data" / "flat_api.json").read_text())
# Floors, lowest first: a module may import its own room and rooms on lower floors only.
FLOORS = {"kit": 0, "measure": 1, **{f"lesson{n}": 1 + n for n in range(1, 10)}, "tools": 20, "grading": 21}
MAX_LINES = 350
MAX_TOP_ENTRIES = 13  # the rooms of the table in CONTRIBUTING.md (one per lesson) and __init__.py


def rooms() -> list[str]:
    return sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def imported_rooms(path: Path) -> set[str]:
    """The rooms that module ``path`` imports from (relative imports, absolute ``course_utils.*`` too)."""
    room = path.parent.name
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(room)
        elif isinstance(node, ast.ImportFrom) and node.level == 2:
            found.add((node.module or "").split(".")[0] or "<package>")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils."):
            found.add(node.module.split(".")[1])
    return found


def test_top_level_shows_the_rooms():
    entries = sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    assert len(entries) <= MAX_TOP_ENTRIES, entries
    assert {"kit", "measure", "grading", "tools", "pretrained"} <= set(entries)
    assert {f"lesson{n}" for n in range(1, 8)} <= set(entries)


@pytest.mark.parametrize("room", ["kit", "measure", *[f"lesson{n}" for n in range(1, 8)], "grading", "tools"])
def test_imports_only_go_down(room):
    wrong = []
    for path in sorted((PACKAGE / room).glob("*.py")):
        for other in imported_rooms(path):
            if other not in FLOORS or FLOORS[other] > FLOORS[room] or (other != room and FLOORS[other] == FLOORS[room]):
                wrong.append(f"{path.relative_to(ROOT)} imports {other}")
    assert not wrong, "imports that run up or sideways: " + "; ".join(wrong)


def test_the_layout_check_catches_an_arrow_up(tmp_path):
    bad = tmp_path / "kit" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("from ..lesson3.trainer import train_gan\n")
    assert imported_rooms(bad) == {"lesson3"}  # and FLOORS puts lesson3 above kit: the test above would fail


def test_no_module_is_too_long():
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by role): {long}"


NOTEBOOK_IMPORT = re.compile(r"^\s*(?:from\s+(course_utils[\w.]*)\s+import|import\s+(course_utils[\w.]*))", re.M)


@pytest.mark.parametrize("folder", ["solutions", "notebooks"])
def test_each_notebook_imports_from_two_places(folder):
    for path in sorted((ROOT / folder).glob("[0-9][0-9]_*.ipynb")):
        lesson = int(path.name[:2])
        modules = set()
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                modules |= {a or b for a, b in NOTEBOOK_IMPORT.findall(source)}
        assert modules <= {"course_utils", f"course_utils.lesson{lesson}"}, f"{path.name} imports {sorted(modules)}"


# Removed on purpose: the grader's in-kernel path, which let a submission forge its own score (the checks now run in
# a separate sandboxed process, course_utils.grading.worker).
REMOVED = {"grade_kernel": {"SPEC_KEYS", "kernel_cell", "kernel_grade", "kernel_spec", "read_result"},
           "grade": {"kernel_cell", "read_result"}}


@pytest.mark.parametrize("old", sorted(FLAT_API))
def test_every_flat_name_still_imports(old):
    module = course_utils if old == "__init__" else importlib.import_module(f"course_utils.{old}")
    missing = [name for name in FLAT_API[old] if not hasattr(module, name) and name not in REMOVED.get(old, ())]
    assert not missing, f"course_utils.{old} lost {missing}"


def test_an_old_path_is_the_new_module_itself():
    import course_utils.loop

    import course_utils.kit.loop

    assert course_utils.loop is course_utils.kit.loop
    assert course_utils.kit.loop.__spec__.name == "course_utils.kit.loop"  # reloads keep working
    importlib.reload(course_utils.kit.loop)
    from course_utils.models import Discriminator, Generator

    from course_utils.lesson1.reference import Generator as G1
    from course_utils.lesson2.reference import Discriminator as D2
    assert (Generator, Discriminator) == (G1, D2)


@pytest.mark.parametrize("command", ["doctor", "grade", "lessons", "run", "claims"])
def test_the_five_commands_run_from_their_old_names(command):
    out = subprocess.run([sys.executable, "-m", f"course_utils.{command}", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage" in out.stdout.lower()


def test_a_non_command_old_path_says_so():
    out = subprocess.run([sys.executable, "-m", "course_utils.models"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode != 0 and "not a command" in out.stderr


def test_shipped_generators_load_by_their_stable_ids():
    from course_utils.kit.checkpoints import GENERATOR_HOMES, load_generator, shipped_generators

    for name in shipped_generators():
        G = load_generator(name)
        home = f"{type(G).__module__}.{type(G).__qualname__}"
        assert home in GENERATOR_HOMES.values(), (name, home)


def test_export_writes_the_stable_id(tmp_path):
    import torch

    from course_utils.kit.checkpoints import export_generator, load_generator
    from course_utils.lesson1.reference import Generator

    path = export_generator(Generator(8, width=4), tmp_path / "g.pt")
    assert torch.load(path, weights_only=True)["arch"] == "course_utils.models.Generator"
    assert isinstance(load_generator(path), Generator)
