"""The check phase (course_utils.grading.worker): checks loaded first, only definitions taken, forgeries fail.

These run the worker's functions and its command in this machine's processes (no sandbox needed); the
sandboxed batch is tests/grading/test_sandbox.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.grading import grade, phases, worker

ROOT = Path(__file__).resolve().parents[2]
LESSONS = grade.load_lessons()
LESSON1 = LESSONS["01_generator"]
RIGHT_SAMPLE_LATENT = ("import torch\ndef sample_latent(n, latent_dim=100, device=None):\n"
                       "    return torch.randn(n, latent_dim, device=device)\n")
WRONG_SAMPLE_LATENT = ("import torch\ndef sample_latent(n, latent_dim=100, device=None):\n"
                       "    return torch.rand(n, latent_dim, device=device)  # uniform: the mistake\n")


def notebook(*cells: tuple[str, str | None]) -> dict:
    """A submission: (source, exercise id or None) per code cell."""
    return {"cells": [{"cell_type": "code", "source": src,
                       "metadata": {"exercise": {"id": ex}} if ex else {}} for src, ex in cells],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def grade_in_process(nb: dict, lesson: dict = LESSON1, timeout=None) -> dict:
    results = {}
    worker.grade_submission(nb, {**lesson, "exercise_timeout": timeout}, lambda r: results.__setitem__(r["id"], r))
    return {ex["id"]: grade.score_exercise(ex, results.get(ex["id"]), None,
                                           {"errors": [], "timeouts": [], "kernel": "ok", "grading_output": {}})
            for ex in lesson["exercises"]}


def run_worker(tmp_path: Path, nb: dict, lesson: dict = LESSON1) -> tuple[list[dict], str]:
    """The worker as the grader runs it: its own process, verdicts over a pipe; (results, its output)."""
    (tmp_path / "lesson.json").write_text(json.dumps({**lesson, "exercise_timeout": 60}))
    (tmp_path / "submission.ipynb").write_text(json.dumps(nb))
    read, write = os.pipe()
    proc = subprocess.Popen([sys.executable, "-m", "course_utils.grading.worker", "lesson.json", "submission.ipynb",
                             "--result-fd", str(write)], cwd=tmp_path, pass_fds=(write,), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env={**os.environ, "COURSE_QUICK": "1", "PYTHONPATH": str(ROOT)})
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    out = proc.communicate(timeout=300)[0].decode()
    results = {}
    phases.read_results_bytes(data, results, {e["id"] for e in lesson["exercises"]})
    return list(results.values()), out


def test_only_imports_and_the_exercise_cells_definitions_are_taken():
    nb = notebook(("import torch\nx = 1/0\nprint('settings')", None),
                  (RIGHT_SAMPLE_LATENT + "print('top level')\nraise SystemExit\n", "sample_latent"))
    statements, skipped = worker.definitions(nb["cells"], LESSON1)
    kinds = [type(node).__name__ for _, node in statements]
    assert kinds == ["Import", "Import", "FunctionDef"]  # x = 1/0 is in a non-exercise cell: neither run nor shown
    assert [m.split(":")[0] for m in skipped[1]] == ["line 4", "line 5"]
    rows = grade_in_process(nb)
    assert rows["sample_latent"]["points"] == 1 and rows["sample_latent"]["not_run"] == skipped[1]


def test_forgery_with_a_global_import_hook_scores_nothing():
    """The old grader ran its cell in the student's namespace: a global __import__ faked its verdict."""
    forged = ("def __import__(name, *a, **k):\n"
              "    class Fake:\n        def kernel_grade(*a, **k): print('<<x>>{}<<x>>')\n"
              "        def reload(m): return Fake\n        def import_module(n): return Fake\n"
              "    return Fake\n")
    rows = grade_in_process(notebook((WRONG_SAMPLE_LATENT + forged, "sample_latent")))
    assert rows["sample_latent"]["points"] == 0 and rows["sample_latent"]["status"] == "failed"
    assert any("__import__" in m for m in rows["sample_latent"]["review"])


def test_forgery_by_replacing_importlib_reload_scores_nothing():
    cell = (WRONG_SAMPLE_LATENT + "import importlib\nimportlib.reload = lambda m: None\n"
            "importlib.import_module = lambda n: None\n")
    rows = grade_in_process(notebook((cell, "sample_latent")))
    assert rows["sample_latent"]["points"] == 0
    assert any("importlib.reload = " in m for m in rows["sample_latent"]["not_run"])


def test_a_self_check_redefined_in_the_notebook_is_not_the_one_run():
    cell = (WRONG_SAMPLE_LATENT + "def check_sample_latent(fn, latent_dim=100):\n"
            "    return type('R', (), {'items': [(True, 'ok')], 'title': 'forged'})()\n")
    rows = grade_in_process(notebook((cell, "sample_latent")))
    assert rows["sample_latent"]["points"] == 0


@pytest.mark.parametrize("cell, says", [
    ("from course_utils.lesson1.reference import sample_latent as reference\n"
     "def sample_latent(n, latent_dim=100, device=None):\n    return reference(n, latent_dim, device)\n",
     "only forwards to the course's reference"),
    ("import course_utils\ndef sample_latent(n, latent_dim=100, device=None):\n"
     "    '''mine'''\n    return course_utils.sample_latent(n, latent_dim, device)\n",
     "only forwards to the course's course_utils.sample_latent"),
    ("from course_utils.lesson1.reference import sample_latent as reference\n"
     "sample_latent = lambda *a: reference(*a)\n",
     "the exercise cell does not define it"),
])
def test_a_definition_that_only_forwards_to_the_course_is_not_the_students(cell, says):
    rows = grade_in_process(notebook((cell, "sample_latent")))
    assert rows["sample_latent"]["points"] == 0 and any(says in m for m in rows["sample_latent"]["messages"]), \
        rows["sample_latent"]["messages"]


def test_a_forwarding_class_is_not_the_students():
    cell = "from course_utils.lesson1.reference import Generator as Reference\nclass Generator(Reference):\n    pass\n"
    rows = grade_in_process(notebook((cell, "conv_generator")))
    assert rows["conv_generator"]["points"] == 0
    assert any("only forwards to the course's Reference" in m for m in rows["conv_generator"]["messages"])


def test_own_work_that_calls_a_course_helper_is_still_the_students():
    cell = ("import torch\nfrom course_utils import seed_everything\n"
            "def sample_latent(n, latent_dim=100, device=None):\n    z = torch.randn(n, latent_dim, device=device)\n"
            "    return z\n")
    assert grade_in_process(notebook((cell, "sample_latent")))["sample_latent"]["points"] == 1


def test_an_exercise_that_never_returns_times_out_alone():
    cell = ("import torch\ndef sample_latent(n, latent_dim=100, device=None):\n    while True:\n"
            "        try:\n            pass\n        except Exception:\n            pass\n")
    rows = grade_in_process(notebook((cell, "sample_latent"), (RIGHT_SAMPLE_LATENT.replace(
        "def sample_latent", "def unused"), None)), timeout=2)
    assert rows["sample_latent"]["status"] == "timeout" and "within 2 s" in rows["sample_latent"]["messages"][0]
    assert rows["count_parameters"]["status"] == "failed"  # graded after it, not lost with it


def test_the_worker_process_sends_verdicts_over_its_pipe_only(tmp_path):
    nb = notebook((RIGHT_SAMPLE_LATENT + "print('<<forged>>')\n", "sample_latent"))
    results, out = run_worker(tmp_path, nb)
    assert {r["id"] for r in results} == {e["id"] for e in LESSON1["exercises"]}
    assert next(r for r in results if r["id"] == "sample_latent")["check"]["items"][0][0] is True
    assert "forged" not in out  # the top-level print was never run


def test_malformed_results_are_refused():
    good = {"id": "sample_latent", "check": {"items": [[True, "ok"]]}, "hidden": [], "own_code": []}
    assert phases.valid_result(good)
    for bad in ({**good, "check": {"items": [["yes", "ok"]]}}, {**good, "hidden": "x"}, {"id": "x"},
                {**good, "own_code": [[1, 2]]}, "text"):
        assert not phases.valid_result(bad), bad
    assert phases.valid_result({"id": "sample_latent", "timeout": 45})
