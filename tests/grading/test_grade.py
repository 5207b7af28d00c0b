"""The grader: solution = full marks, empty lesson = 0, each broken submission = its exact score.

Broken submissions are made here from the solution notebooks by replacing one exercise cell with a
typical mistake (and ending at the last exercise cell: see :func:`_up_to_last_exercise`). One batch run
(each submission in its sandbox, quick mode, two at once) feeds most tests; the checks themselves are also
run in this process (:func:`_grade_code`) where a kernel is not needed.
"""

import ast
import csv
import importlib
import json
from pathlib import Path

import pytest

from course_utils.grading import grade, worker
from course_utils.grading.hidden import REFERENCES
from course_utils.lesson3.checks import check_g_step

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
LESSONS = grade.load_lessons()
SANDBOX = grade.sandboxing.why_unavailable() is None  # CI installs bubblewrap; elsewhere the same checks run bare
CELL_TIMEOUT = 45  # seconds; lesson 1's setup cell (the doctor's short report) took 16.3 s single-threaded,
# as the grader runs it, on an idle 2-core AMD EPYC: 15 s timed it out in a CI run


def _solution(prefix: str) -> Path:
    found = [p for p in SOLUTIONS if p.name.startswith(prefix)]
    assert found, f"no solutions/{prefix}_*.ipynb"
    return found[0]


def _up_to_last_exercise(nb: dict) -> dict:
    """``nb`` without the cells after its last exercise cell: a student who stopped there.

    The points come from the check phase, which reads only the exercise cells' definitions (the run phase feeds
    the report's notes), so a broken submission's later cells (a lesson's training and analysis, minutes each)
    would cost time and prove nothing that the solution's whole, graded run does not.
    """
    last = max(i for i, c in enumerate(nb["cells"]) if c.get("metadata", {}).get("exercise"))
    return {**nb, "cells": nb["cells"][:last + 1]}


def _exercises_only(nb: dict) -> dict:
    """``nb`` as one cell of its imports followed by its exercise cells: the smallest notebook graded as that
    lesson (what the check phase reads of any submission). Lessons 3-7's broken sets use it: their cells between
    the exercises train and measure for minutes; lessons 1 and 2's keep their cells, whose run the tests read."""
    imports = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not cell.get("metadata", {}).get("exercise"):
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            imports += [ast.get_source_segment(src, node) for node in ast.parse(src).body
                        if isinstance(node, ast.Import | ast.ImportFrom)]
    head = {"cell_type": "code", "id": "imports", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "\n".join(dict.fromkeys(imports))}
    return {**nb, "cells": [head] + [c for c in nb["cells"] if c.get("metadata", {}).get("exercise")]}


def _broken(prefix: str, exercise: str, old: str, new: str) -> dict:
    """The solution notebook, up to its last exercise cell (lessons 1-2) or as its imports and exercise cells
    (lessons 3-7), with ``old`` replaced by ``new`` in one exercise cell."""
    nb = json.loads(_solution(prefix).read_text())
    nb = _up_to_last_exercise(nb) if prefix in ("01", "02") else _exercises_only(nb)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("exercise", {}).get("id") == exercise:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            assert old in src, f"{exercise}: {old!r} not in the solution cell"
            cell["source"] = src.replace(old, new)
            return nb
    raise AssertionError(f"no exercise {exercise} in {prefix}")


# name -> (notebook, {exercise: points}, {exercise: text expected in its messages}, {exercise: status})
BROKEN = {
    "wrong_shape_01": (lambda: _broken("01", "fc_generator", ".view(-1, 1, 28, 28)", ""),
                       {"sample_latent": 1, "fc_generator": 0, "conv_generator": 3, "count_parameters": 1},
                       {"fc_generator": "expected output shape (16, 1, 28, 28), got (16, 784)"},
                       {"fc_generator": "failed"}),
    "missing_tanh_01": (lambda: _broken("01", "conv_generator", "nn.Tanh(),", ""),
                        {"sample_latent": 1, "fc_generator": 2, "conv_generator": 0, "count_parameters": 1},
                        {"conv_generator": "no tanh found: the last layer should be nn.Tanh()"},
                        {"conv_generator": "failed"}),
    "while_true_01": (lambda: _broken("01", "fc_generator", "return self.net(z).view(",
                                      "out = self.net(z)\n        while True:  # meant to retry until in range\n"
                                      "            if out.abs().max() > 1:\n                break\n"
                                      "        return out.view("),
                      {"sample_latent": 1, "fc_generator": 0, "conv_generator": 3, "count_parameters": 1},
                      {"fc_generator": f"did not finish within {CELL_TIMEOUT} s"},
                      {"fc_generator": "timeout"}),
    "swapped_labels_02": (lambda: _broken_swapped(),
                          {"discriminator": 3, "discriminator_loss": 0},
                          {"discriminator_loss": "the labels are swapped"},
                          {"discriminator_loss": "failed"}),
    "exception_02": (lambda: _broken("02", "discriminator", "return self.classify(h)", "return self.clasify(h)"),
                     {"discriminator": 0, "discriminator_loss": 2},
                     {"discriminator": "raised AttributeError: 'Discriminator' object has no attribute 'clasify'"},
                     {"discriminator": "failed"}),
    "no_detach_03": (lambda: _broken("03", "d_step", "fake = G(z).detach()", "fake = G(z)"),
                     {"generator_loss": 1, "d_step": 0, "g_step": 2},
                     {"d_step": "gradients flowed into G during the D step"},
                     {"d_step": "failed"}),
    # g_step calls the notebook's generator_loss: it is graded with the reference one, so keeps its points
    "fake_target_g_loss_03": (lambda: _broken("03", "generator_loss", "torch.ones_like(fake_logits)",
                                              "torch.zeros_like(fake_logits)"),
                              {"generator_loss": 0, "d_step": 3, "g_step": 2},
                              {"generator_loss": "fakes are labelled 0 in the G step"},
                              {"generator_loss": "failed", "g_step": "passed"}),
}


def _broken_swapped() -> dict:
    nb = _broken("02", "discriminator_loss", "torch.ones_like(real_logits)", "torch.zeros_like(real_logits)")
    cell = next(c for c in nb["cells"] if c["metadata"].get("exercise", {}).get("id") == "discriminator_loss")
    cell["source"] = cell["source"].replace("torch.zeros_like(fake_logits)", "torch.ones_like(fake_logits)")
    return nb


ISOLATION_CELL = "open('written_by_student.txt', 'w').write('x')\nprint(__import__('os').getcwd())"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade a folder with the lesson 1 solution, the empty lesson 1, the broken set and two non-lessons."""
    folder, out = tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("grades")
    sol = json.loads(_solution("01").read_text())
    sol["cells"].append({"cell_type": "code", "metadata": {}, "source": ISOLATION_CELL, "outputs": [],
                         "execution_count": None})
    (folder / "solution_01.ipynb").write_text(json.dumps(sol))
    (folder / "empty_01.ipynb").write_text((ROOT / "notebooks" / _solution("01").name).read_text())
    for name, (make, *_) in BROKEN.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()))
    (folder / "not_json.ipynb").write_text('{"cells": [')
    other = {"cells": [{"cell_type": "code", "metadata": {}, "source": "print(1)", "outputs": [],
                        "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "some_other_course.ipynb").write_text(json.dumps(other))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    reports = grade.grade_all([str(folder)], out, cell_timeout=CELL_TIMEOUT, total_timeout=300, jobs=2,
                              sandbox=SANDBOX)
    with open(out / "gradebook.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return {"reports": {r["student"]: r for r in reports}, "rows": rows, "out": out, "folder": folder,
            "before": before}


def _exercises(report):
    return {e["id"]: e for e in report["exercises"]}


def test_solution_scores_full_marks(graded):
    r = graded["reports"]["solution_01"]
    assert r["error"] is None and r["score"] == r["max"] == 7, grade.format_report(r)
    assert all(e["status"] == "passed" and not e["messages"] for e in r["exercises"])


def test_empty_lesson_scores_zero_without_crashing(graded):
    r = graded["reports"]["empty_01"]
    assert r["error"] is None and r["lesson"] == "01_generator" and (r["score"], r["max"]) == (0, 7)
    for e in r["exercises"]:
        assert e["status"] == "not_implemented", e
        assert any("NotImplementedError" in m for m in e["messages"])


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_submission_scores_and_messages(graded, name):
    _, points, messages, statuses = BROKEN[name]
    r = graded["reports"][name]
    ex = _exercises(r)
    assert {i: e["points"] for i, e in ex.items()} == points, grade.format_report(r)
    for i, text in messages.items():
        assert any(text in m for m in ex[i]["messages"]), (text, ex[i]["messages"])
    for i, status in statuses.items():
        assert ex[i]["status"] == status
    assert all(e["status"] == "passed" for i, e in ex.items() if points[i] == e["max_points"])


def test_infinite_loop_hits_the_cell_time_limit_and_is_reported(graded):
    r = graded["reports"]["while_true_01"]
    assert r["error"] is None and r["cells"]["kernel"] == "ok"
    cells = json.loads(_solution("01").read_text())["cells"]
    check = next(i for i, c in enumerate(cells) if "".join(c["source"]).startswith("check_generator(FCGenerator"))
    assert [t["cell"] for t in r["cells"]["timeouts"]] == [check]  # the self-check cell calling forward
    assert f"Cell {check} hit the per-cell time limit ({CELL_TIMEOUT} s)" in grade.format_report(r)


def test_cell_errors_are_reported_and_later_cells_still_run(graded):
    r = graded["reports"]["exception_02"]
    errors = {e["cell"]: e["error"] for e in r["cells"]["errors"]}
    assert min(errors) == 7 and errors[7].startswith("AttributeError")  # D(x) in the next cells
    assert _exercises(r)["discriminator_loss"]["status"] == "passed"  # graded after the failing cell


def test_gradebook_matches_expected_scores_exactly(graded):
    rows = graded["rows"]
    expected = {"solution_01": ("7", "7"), "empty_01": ("0", "7"), "not_json": ("0", ""),
                "some_other_course": ("0", "")}
    for name, (_, points, _, _) in BROKEN.items():
        lesson_max = sum(e["points"] for e in LESSONS[_lesson(name)]["exercises"])
        expected[name] = (str(sum(points.values())), str(lesson_max))
    assert {s: (r["total"], r["max"]) for s, r in rows.items()} == expected
    for name, (_, points, _, _) in BROKEN.items():
        assert {i: rows[name][i] for i in points} == {i: str(p) for i, p in points.items()}
    assert rows["wrong_shape_01"]["conv_generator"] == "3" and rows["wrong_shape_01"]["d_step"] == ""
    assert "invalid JSON" in rows["not_json"]["error"]
    assert "matches no lesson" in rows["some_other_course"]["error"]
    assert list(rows["solution_01"])[:2] == ["student", "lesson"]
    assert list(rows["solution_01"])[-5:] == ["total", "max", "runtime_s", "error", "review"]


def _lesson(name: str) -> str:
    return next(n for n in LESSONS if n[:2] == name[-2:])


def test_reports_are_written_per_student(graded):
    out = graded["out"]
    for student in graded["reports"]:
        data = json.loads((out / f"{student}.json").read_text())
        assert data["student"] == student
        assert (out / f"{student}.txt").read_text().startswith(f"Grade report: {student}")
    text = (out / "no_detach_03.txt").read_text()
    assert "0/3" in text and "use fake = G(z).detach()" in text and grade.RULE in text


def test_submissions_cannot_touch_the_grader_or_each_other(graded):
    folder, out = graded["folder"], graded["out"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == graded["before"]
    for where in (folder, out, ROOT, Path.cwd()):
        assert not (where / "written_by_student.txt").exists()


PER_IMAGE_EPS = "torch.rand(real.size(0), 1, 1, 1, device=real.device)"
# name -> (notebook, {exercise: points}, {exercise: text expected in its messages}); lesson 5 in its own batch
BROKEN_05 = {
    "per_pixel_eps_05": (lambda: _broken("05", "gradient_penalty", PER_IMAGE_EPS, "torch.rand_like(real)"),
                         {"critic": 2, "gradient_penalty": 0, "critic_loss": 2, "wgan_generator_loss": 1,
                          "wgan_step": 3},
                         {"gradient_penalty": "per-pixel epsilon"}),
    # wgan_step calls the notebook's gradient_penalty, which raises: graded with the reference, it keeps its points
    "gp_of_a_batch_05": (lambda: _broken("05", "gradient_penalty", "D(x_hat).sum()", "D(x_hat)"),
                         {"critic": 2, "gradient_penalty": 0, "critic_loss": 2, "wgan_generator_loss": 1,
                          "wgan_step": 3},
                         {"gradient_penalty": "grad can be implicitly created only for scalar outputs"}),
}


@pytest.fixture(scope="module")
def graded_05(tmp_path_factory):
    """Grade the lesson-5 broken set (lesson 5's cells take longer than the batch's cell limit)."""
    if not any(name.startswith("05") for name in LESSONS):
        pytest.skip("solutions/05_*.ipynb declares no exercises, so lesson 5 cannot be graded")
    folder, out = tmp_path_factory.mktemp("submissions_05"), tmp_path_factory.mktemp("grades_05")
    for name, (make, *_) in BROKEN_05.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()))
    reports = grade.grade_all([str(folder)], out, cell_timeout=120, total_timeout=480, jobs=2, sandbox=SANDBOX)
    return {r["student"]: r for r in reports}


@pytest.mark.parametrize("name", list(BROKEN_05))
def test_lesson_5_mistakes_cost_their_own_points_once(graded_05, name):
    _, points, messages = BROKEN_05[name]
    r = graded_05[name]
    ex = _exercises(r)
    assert {i: e["points"] for i, e in ex.items()} == points, grade.format_report(r)
    assert r["score"] == r["max"] - 3 and r["error"] is None, grade.format_report(r)
    for i, text in messages.items():
        assert ex[i]["status"] == "failed" and any(text in m for m in ex[i]["messages"]), ex[i]["messages"]
    assert ex["wgan_step"]["status"] == "passed" and not ex["wgan_step"]["messages"]


# ----------------------------------------------------------------------------- without a kernel

def test_invalid_and_foreign_notebooks_get_clear_errors(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json at all")
    r = grade.grade_notebook(bad, LESSONS)
    assert r["lesson"] is None and "is not a valid notebook: invalid JSON at line 1" in r["error"]
    lesson2 = tmp_path / "alice_01.ipynb"  # named like lesson 1, holds lesson 2
    lesson2.write_text(_solution("02").read_text())
    r = grade.grade_notebook(lesson2, LESSONS, lesson="01_generator")
    assert r["error"] == "this notebook is for lesson 02_discriminator, not 01_generator"
    assert grade.main([str(bad), "--out", str(tmp_path / "out")]) == 1
    assert (tmp_path / "out" / "gradebook.csv").exists()


def test_lesson_is_found_by_metadata_or_by_exercise_names():
    nb = grade.read_submission(_solution("03"))
    assert grade.identify_lesson(nb, LESSONS, "alice")["name"] == "03_training_a_gan"
    for cell in nb.cells:
        cell.metadata.pop("exercise", None)  # some editors drop cell metadata
    assert grade.identify_lesson(nb, LESSONS, "bob_work")["name"] == "03_training_a_gan"


def _exercise(exercise_id: str) -> tuple[dict, dict]:
    lesson = next(lesson for lesson in LESSONS.values() for e in lesson["exercises"] if e["id"] == exercise_id)
    return lesson, next(e for e in lesson["exercises"] if e["id"] == exercise_id)


_TAKEN = {}  # id(namespace) -> (the AST nodes of its definitions, failed definitions, statements not run)


def _namespace(code: str) -> dict:
    """``code`` as one exercise cell, taken as the check phase takes it (imports, def, class; nothing else)."""
    cells = [{"cell_type": "code", "metadata": {"exercise": {"id": "cell"}}, "source": code}]
    statements, skipped = worker.definitions(cells, {"exercises": [{"id": "cell", "names": []}]})
    ns, failed = worker.build_namespace(statements)
    _TAKEN[id(ns)] = ({n.name: n for _, n in statements if hasattr(n, "name")}, failed, skipped.get(0, []))
    return ns


def _kernel_grade(ns: dict, exercise_id: str) -> dict:
    """Run the check phase's grading of one exercise in this process, on ``ns``, and score it."""
    lesson, ex = _exercise(exercise_id)
    nodes, failed, not_run = _TAKEN.get(id(ns), ({}, {}, []))
    result = worker.grade_exercise(ex, lesson, ns, failed, nodes, *worker.load_trusted(lesson), list(nodes.values()))
    result["not_run"] = not_run
    run = {"errors": [], "timeouts": [], "kernel": "ok", "grading_output": {}}
    return grade.score_exercise(ex, result, None, run)


def _grade_code(code: str, exercise_id: str) -> dict:
    return _kernel_grade(_namespace(code), exercise_id)


def test_copying_the_course_utils_reference_scores_zero():
    row = _grade_code("from course_utils.models import Generator\nfrom course_utils.checks import check_generator\n"
                      "latent_dim = 100\n", "conv_generator")
    assert row["points"] == 0 and row["status"] == "failed"
    assert any("imported rather than written in the notebook" in m for m in row["messages"])


def test_a_redefined_self_check_is_ignored():
    row = _grade_code("import torch\ndef discriminator_loss(r, f):\n    return torch.tensor(0.0)\n"
                      "check_discriminator_loss = lambda fn: type('R', (), {'items': [(True, 'ok')]})()\n",
                      "discriminator_loss")
    assert row["points"] == 0 and any("instead of" in m for m in row["messages"])
    assert any("check_discriminator_loss = lambda" in m for m in row["not_run"])  # reported, never run


def test_hidden_seeded_run_catches_what_the_self_check_misses():
    # two optimizer steps per call: the returned loss and "D changed" satisfy the self-check
    ns = _namespace("import torch\nfrom course_utils import discriminator_loss\n"
                    "from course_utils.checks import check_d_step\n"
                    "def d_step(D, G, real, opt_d, latent_dim):\n"
                    "    fake = G(torch.randn(real.size(0), latent_dim)).detach()\n"
                    "    real_logits, fake_logits = D(real), D(fake)\n"
                    "    loss = discriminator_loss(real_logits, fake_logits)\n"
                    "    opt_d.zero_grad(); loss.backward(); opt_d.step(); opt_d.step()\n"
                    "    return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()\n")
    row = _kernel_grade(ns, "d_step")
    assert row["checks"][0]["items"] and all(ok for ok, _ in row["checks"][0]["items"])  # self-check passes
    assert row["points"] == 0 and any("each call must do exactly one D update" in m for m in row["messages"])


STUDENT_G_STEP = ("import torch\nimport torch.nn.functional as F\n"
                  "def g_step(D, G, opt_g, batch_size, latent_dim, device):\n"
                  "    loss = generator_loss(D(G(torch.randn(batch_size, latent_dim, device=device))))\n"
                  "    opt_g.zero_grad(); loss.backward(); opt_g.step()\n"
                  "    return loss.detach()\n")
FAKE_TARGET_G_LOSS = ("def generator_loss(fake_logits):  # target 0: the mistake\n"
                      "    return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n")


def test_each_exercise_is_graded_with_the_reference_of_the_others():
    ns = _namespace(STUDENT_G_STEP + FAKE_TARGET_G_LOSS)
    own_loss = ns["generator_loss"]
    assert "G's target is 1" in " ".join(check_g_step(ns["g_step"]).failures)  # with its own loss, g_step fails
    row = _kernel_grade(ns, "g_step")
    assert (row["points"], row["status"]) == (2, "passed"), row["messages"]
    assert ns["generator_loss"] is own_loss  # the notebook's own function is back
    row = _kernel_grade(ns, "generator_loss")  # the mistake costs its own point
    assert row["points"] == 0 and any("target is 1" in m for m in row["messages"])


def test_a_missing_dependency_is_lent_and_taken_back():
    ns = _namespace(STUDENT_G_STEP)  # generator_loss's cell never ran
    assert _kernel_grade(ns, "g_step")["points"] == 2
    assert "generator_loss" not in ns


def test_instance_noise_with_one_draw_for_both_scores_zero():
    ns = _namespace("import torch\nfrom course_utils.lesson4.checks import check_instance_noise\n"
                    "def instance_noise(real, fake, std):\n"
                    "    noise = std * torch.randn_like(real)\n"
                    "    return real + noise, fake + noise\n")
    row = _kernel_grade(ns, "instance_noise")
    assert (row["points"], row["status"]) == (0, "failed")
    assert len(row["messages"]) == 1 and "same noise tensor was added to real and fake" in row["messages"][0]


@pytest.mark.parametrize("name", list(LESSONS))
def test_every_exercise_has_a_reference_that_passes_its_self_check(name):
    """The grader lends these references to the other exercises, so each must be right."""
    for ex in LESSONS[name]["exercises"]:
        missing = set(ex["names"]) - set(REFERENCES)
        assert not missing, f"{ex['id']}: add {missing} to course_utils.grading.hidden.REFERENCES"
        checks = {n: getattr(importlib.import_module(m), n) for n, m in ex["trusted"].items()}
        report = eval(ex["check"], {**checks, **REFERENCES, "latent_dim": 100, "image_size": 32})  # noqa: S307
        assert report.passed, report


# ----------------------------------------------------------------------------- every exercise is graded

def _check_function(check: str) -> str:
    node = ast.parse(check, mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name), f"{check!r}: expected f(...)"
    return node.func.id


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_exercise_has_points_and_a_grading_check(solution):
    nb = json.loads(solution.read_text())
    cells, ids = nb["cells"], []
    for i, cell in enumerate(cells):
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or "### BEGIN SOLUTION" not in src:
            continue
        meta = cell["metadata"].get("exercise")
        assert isinstance(meta, dict), f"cell {i}: an exercise cell needs metadata 'exercise' {{id, points, check}}"
        assert isinstance(meta.get("id"), str) and meta["id"], f"cell {i}: exercise.id"
        assert isinstance(meta.get("points"), int) and meta["points"] > 0, f"cell {i}: exercise.points"
        fn = _check_function(meta.get("check", ""))
        nxt = next((c for c in cells[i + 1:] if c["cell_type"] == "code"), None)
        nxt_src = "" if nxt is None else "".join(nxt["source"]) if isinstance(nxt["source"], list) else nxt["source"]
        assert fn in nxt_src, f"cell {i}: the check {fn} is not the self-check of the next code cell"
        ids.append(meta["id"])
    assert ids, "no exercises"
    assert len(ids) == len(set(ids)), f"duplicate exercise ids {ids}"
    lesson = json.loads((ROOT / "notebooks" / solution.name).read_text())
    assert [c["metadata"]["exercise"]["id"] for c in lesson["cells"] if "exercise" in c["metadata"]] == ids


DIAGNOSE_IMPORTS = ("from course_utils.lesson4.diagnostics import balance, sample_motion, DOMINANT_D_FAKE, "
                    "D_DOMINANT_LOSS, "
                    "MAX_MOTION, MIN_NORM_ENTROPY\nfrom course_utils.lesson4.checks import check_diagnose\n")
DIAGNOSE_BODY = '''
def diagnose(history):
    m = balance(history)
    motion = sample_motion(history)
    last = history["metrics"][-1]
    if m["d_fake"] < DOMINANT_D_FAKE or {loss} < D_DOMINANT_LOSS:
        return "dominance", f"D(G(z)) {{m['d_fake']:.2f}}"
    if motion > MAX_MOTION:
        return "oscillation", f"moves {{motion:.2f}}"
    if {collapse}:
        return "mode collapse", f"{{last['modes']}} modes"
    return "healthy", f"D(G(z)) {{m['d_fake']:.2f}}"
'''


MODES_OR_ENTROPY = 'last["modes"] < len(last["counts"]) or last["norm_entropy"] < MIN_NORM_ENTROPY'


def test_diagnose_is_graded_with_its_hidden_edge_cases_and_held_out_runs():
    right = _kernel_grade(_namespace(DIAGNOSE_IMPORTS + DIAGNOSE_BODY.format(loss='m["d_loss"] - m["floor"]',
                                                                             collapse=MODES_OR_ENTROPY)), "diagnose")
    assert (right["points"], right["status"]) == (2, "passed"), right
    # ignoring label smoothing's floor passes the recorded runs (the self-check) but not the hidden edge case
    no_floor = _kernel_grade(_namespace(DIAGNOSE_IMPORTS + DIAGNOSE_BODY.format(loss='m["d_loss"]',
                                                                                collapse=MODES_OR_ENTROPY)), "diagnose")
    assert no_floor["points"] == 0 and any("d_loss - floor" in m for m in no_floor["messages"]), no_floor
    # entropy alone, at the edge of the recorded collapse (0.83): the four recorded runs pass, other seeds do not
    edge = _kernel_grade(_namespace(DIAGNOSE_IMPORTS + DIAGNOSE_BODY.format(loss='m["d_loss"] - m["floor"]',
                                                                            collapse='last["norm_entropy"] < 0.85')),
                         "diagnose")
    assert edge["points"] == 0 and any("held-out runs labelled" in m and "collapse_seed1" in m
                                       for m in edge["messages"]), edge
    from course_utils.lesson4.checks import check_diagnose
    assert check_diagnose(_namespace(DIAGNOSE_IMPORTS + DIAGNOSE_BODY.format(
        loss='m["d_loss"] - m["floor"]', collapse='last["norm_entropy"] < 0.85'))["diagnose"]).passed
