"""Lessons are generated from solutions and never drift; no solution leaks into a lesson."""

import json
from pathlib import Path

import pytest

from course_utils.tools import lessons

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def test_generated_lessons_are_in_sync():
    assert lessons.main(["--check"]) == 0, "run: python -m course_utils.lessons"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_lesson_has_no_solution_and_a_stub_per_block(solution):
    lesson = ROOT / "notebooks" / solution.name
    text = lesson.read_text()
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    n_blocks = solution.read_text().count(lessons.BEGIN)
    assert n_blocks > 0, "every lesson has exercises"
    assert text.count("NotImplementedError") >= n_blocks


@pytest.mark.parametrize("path", SOLUTIONS + sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    ids = [cell.get("id") for cell in nb["cells"]]  # nbformat 4.5: without them nbval warns, JupyterLab edits the file
    assert None not in ids and len(set(ids)) == len(ids), f"{path.name}: cells without a unique id"


def test_markers_are_stripped_with_indentation():
    src = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert lessons.strip_solution_code(src) == f"def f():\n    {lessons.STUB}\n"


@pytest.mark.parametrize("bad", ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n"])
def test_unbalanced_markers_are_errors(bad):
    with pytest.raises(lessons.MarkerError):
        lessons.strip_solution_code(bad)


def test_markdown_blocks_and_solution_only_cells_are_dropped():
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "keep <!-- BEGIN SOLUTION -->answer<!-- END SOLUTION -->"},
        {"cell_type": "code", "metadata": {"tags": ["solution-only"]}, "source": "secret = 1",
         "outputs": [], "execution_count": None},
    ]}
    out = lessons.make_lesson(nb)
    assert [c["source"] for c in out["cells"]] == ["keep "]


def test_checked_cells_have_expected_output():
    for path in SOLUTIONS:
        for cell in json.loads(path.read_text())["cells"]:
            if "NBVAL_CHECK_OUTPUT" in cell["source"]:
                assert "expected_output" in cell["metadata"], path.name


def test_lessons_are_written_atomically(tmp_path, monkeypatch, capsys):
    """A lesson is written under a temporary name and renamed into place: a write that fails (disk full,
    interrupted) leaves the previous lesson whole and no temporary file behind."""
    import shutil

    from course_utils.kit import files

    for folder in ("solutions", "notebooks"):
        (tmp_path / folder).mkdir()
    shutil.copy(ROOT / "solutions" / "01_generator.ipynb", tmp_path / "solutions")
    assert lessons.main([], root=tmp_path) == 0
    lesson, solution = tmp_path / "notebooks" / "01_generator.ipynb", tmp_path / "solutions" / "01_generator.ipynb"
    before = lesson.read_text()
    nb = json.loads(solution.read_text())
    nb["cells"][1]["source"] += "\n# changed"
    solution.write_text(lessons.dumps(nb))

    def failing_replace(src, dst):
        raise OSError("No space left on device")

    monkeypatch.setattr(files.os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left"):
        lessons.main([], root=tmp_path)
    assert lesson.read_text() == before  # the old lesson, whole
    assert sorted(p.name for p in (tmp_path / "notebooks").iterdir()) == ["01_generator.ipynb"]
    monkeypatch.undo()
    assert lessons.main([], root=tmp_path) == 0 and "# changed" in lesson.read_text()
    assert lessons.main(["--check"], root=tmp_path) == 0
