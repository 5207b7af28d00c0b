"""Hostile submissions, graded in their sandboxes: each is graded correctly and changes nothing outside it.

One batch (two at once) holds a submission that rewrites course files, one that reads an environment variable
the instructor set, one that floods its output, one that leaves a ``setsid`` child, one that writes into
another student's report and into the data folder, and the student it attacks. Then: a grading run killed in
the middle loses no finished row, and a rerun keeps what did not change.
"""

import csv
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from course_utils.grading import grade, sandbox
from course_utils.kit.data import data_home

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_01 = ROOT / "solutions" / "01_generator.ipynb"
NEEDS_SANDBOX = pytest.mark.skipif(sandbox.why_unavailable() is not None,
                                   reason=f"no sandbox here: {sandbox.why_unavailable()}")
SECRET = "GRADER_SECRET_TOKEN"
COURSE_FILES = [ROOT / "course_utils" / "grading" / "hidden.py", ROOT / "course_utils" / "lesson1" / "checks.py"]


def lesson1(*extra_cells: str, wrong: bool = False) -> dict:
    """Lesson 1's solution without its slow cells (setup, doctor, data): imports + exercises (+ ``extra_cells``)."""
    nb = json.loads(SOLUTION_01.read_text())
    keep = []
    for cell in nb["cells"]:
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "code" and ("exercise" in cell["metadata"] or src.lstrip().startswith(
                ("import ", "from torch", "import torch"))):
            if wrong and cell["metadata"].get("exercise", {}).get("id") == "sample_latent":
                src = src.replace("torch.randn(", "torch.rand(")
            keep.append({**cell, "source": src, "outputs": [], "execution_count": None})
    keep += [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
             for c in extra_cells]
    return {**nb, "cells": keep}


def with_exercise_body(nb: dict, exercise: str, line: str) -> dict:
    """``line`` added as the first statement of the exercise's function: it runs when the checks call it."""
    for cell in nb["cells"]:
        if cell["metadata"].get("exercise", {}).get("id") == exercise:
            head, sep, rest = cell["source"].partition("):\n")
            cell["source"] = f"{head}{sep}    {line}\n{rest}"
    return nb


def digest(paths) -> dict:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder, out = tmp_path_factory.mktemp("hostile"), tmp_path_factory.mktemp("hostile_grades")
    planted = [ROOT / "data" / "planted.txt", data_home() / "planted.txt"]
    write_course = "\n".join(f"open({str(p)!r}, 'a').write('# pwned')" for p in COURSE_FILES)
    subs = {
        "victim": lesson1(),
        "rewrites_course": with_exercise_body(lesson1(write_course), "sample_latent",
                                              f"open({str(COURSE_FILES[0])!r}, 'a').write('# pwned')"),
        "reads_env": with_exercise_body(
            lesson1(f"import os\nif os.environ.get({SECRET!r}): raise RuntimeError('saw the token')"),
            "sample_latent", f"assert not __import__('os').environ.get({SECRET!r}), 'saw the token'"),
        "floods": lesson1("for _ in range(300_000):\n    print('x' * 1000)"),
        "setsid_child": with_exercise_body(
            lesson1("import subprocess\nsubprocess.Popen(['setsid', 'sleep', '4242.5'])"),
            "sample_latent", "__import__('subprocess').Popen(['setsid', 'sleep', '4243.5'])"),
        "writes_elsewhere": lesson1(
            f"for p in [{str(out / 'victim.json')!r}, {str(out / 'victim.txt')!r}, {str(out / 'gradebook.csv')!r}]:\n"
            "    open(p, 'w').write('forged')",
            "\n".join(f"open({str(p)!r}, 'w').write('planted')" for p in planted)),
        "=HYPERLINK(1)": lesson1(wrong=True),
    }
    for name, nb in subs.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(nb))
    before = digest(COURSE_FILES)
    os.environ[SECRET] = "s3cret"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        reports = grade.grade_all([str(folder)], out, cell_timeout=60, total_timeout=240, jobs=2)
    finally:
        os.environ.pop(SECRET)
    left = subprocess.run(["pgrep", "-f", "sleep 424[23].5"], capture_output=True, text=True).stdout.split()
    with open(out / "gradebook.csv", newline="") as f:
        rows = list(csv.reader(f))
    return {"reports": {r["student"]: r for r in reports}, "out": out, "before": before, "planted": planted,
            "left": left, "rows": rows, "rss_growth_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss}


def _full(r) -> bool:
    return r["score"] == r["max"] == 7


@NEEDS_SANDBOX
def test_course_files_cannot_be_changed(hostile):
    assert digest(COURSE_FILES) == hostile["before"]
    r = hostile["reports"]["rewrites_course"]
    assert any("Read-only file system" in e["error"] or "Permission denied" in e["error"]
               for e in r["cells"]["errors"]), r["cells"]
    assert r["exercises"][0]["points"] == 0  # its sample_latent raises when it tries: its own loss only
    assert [e["points"] for e in r["exercises"][1:]] == [2, 3, 1]


@NEEDS_SANDBOX
def test_the_instructors_environment_is_not_seen(hostile):
    r = hostile["reports"]["reads_env"]
    assert _full(r), grade.format_report(r)
    assert not any("saw the token" in e["error"] for e in r["cells"]["errors"])


@NEEDS_SANDBOX
def test_an_output_flood_is_cut_and_graded(hostile):
    r = hostile["reports"]["floods"]
    assert _full(r), grade.format_report(r)
    assert hostile["rss_growth_kb"] < 300_000  # the flood (300 MB) never reached the grader's memory


@NEEDS_SANDBOX
def test_every_process_a_submission_started_ends_with_it(hostile):
    assert hostile["left"] == []
    assert hostile["reports"]["setsid_child"]["exercises"][0]["points"] == 1  # and it was graded normally


@NEEDS_SANDBOX
def test_nobody_writes_another_students_report_or_the_data(hostile):
    victim = json.loads((hostile["out"] / "victim.json").read_text())
    assert victim["student"] == "victim" and _full(victim)
    assert (hostile["out"] / "victim.txt").read_text().startswith("Grade report: victim")
    assert not any(p.exists() for p in hostile["planted"])
    r = hostile["reports"]["writes_elsewhere"]
    assert _full(r) and len(r["cells"]["errors"]) == 2, r["cells"]


@NEEDS_SANDBOX
def test_gradebook_cells_cannot_become_formulas(hostile):
    names = [row[0] for row in hostile["rows"][1:]]
    assert "'=HYPERLINK(1)" in names and "=HYPERLINK(1)" not in names
    assert hostile["reports"]["=HYPERLINK(1)"]["score"] == 6  # its wrong sample_latent costs 1 point


def test_without_a_sandbox_the_grader_refuses_unless_told(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(sandbox, "why_unavailable", lambda: "bubblewrap is not installed")
    (tmp_path / "a.ipynb").write_text(json.dumps(lesson1()))
    with pytest.raises(grade.SandboxUnavailable, match="--no-sandbox"):
        grade.grade_all([str(tmp_path / "a.ipynb")], tmp_path / "out")
    assert grade.main([str(tmp_path / "a.ipynb"), "--out", str(tmp_path / "out")]) == 2
    assert "bubblewrap is not installed" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_no_sandbox_still_grades_with_limits(tmp_path):
    (tmp_path / "a.ipynb").write_text(json.dumps(lesson1()))
    r = grade.grade_all([str(tmp_path / "a.ipynb")], tmp_path / "out", cell_timeout=60, total_timeout=240,
                        sandbox=False)[0]
    assert _full(r) and r["sandbox"] is False, grade.format_report(r)


def test_a_killed_run_loses_no_finished_row_and_a_rerun_keeps_them(tmp_path):
    folder, out = tmp_path / "subs", tmp_path / "out"
    folder.mkdir()
    for i in range(3):
        (folder / f"s{i}.ipynb").write_text(json.dumps(lesson1(f"print({i})")))
    cmd = [sys.executable, "-m", "course_utils.grade", str(folder), "--out", str(out), "--timeout", "240"]
    if sandbox.why_unavailable():
        cmd.append("--no-sandbox")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    rows, start = [], time.monotonic()
    while time.monotonic() - start < 300 and len(rows) < 2:
        time.sleep(0.5)
        if (out / "gradebook.csv").exists():
            with open(out / "gradebook.csv", newline="") as f:
                rows = list(csv.reader(f))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(rows) >= 2, "no row was written before the kill"
    with open(out / "gradebook.csv", newline="") as f:
        kept = list(csv.DictReader(f))
    assert kept and all(r["total"] == "7" for r in kept)
    assert all((out / f"{r['student']}.json").exists() for r in kept)
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(kept)} submission(s) unchanged since their last grading" in done.stdout
    with open(out / "gradebook.csv", newline="") as f:
        assert sorted(r["student"] for r in csv.DictReader(f)) == ["s0", "s1", "s2"]
