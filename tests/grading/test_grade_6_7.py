"""The grader on lessons 6 and 7: each solution full marks, lesson 7's generated lesson zero, each broken submission
its exact score (one batch per lesson). A file of its own, so that pytest-xdist's workers grade these batches and
those of tests/grading/test_grade.py at the same time; the helpers are that file's."""

import json

import pytest
from test_grade import ROOT, SANDBOX, _broken, _exercises, _solution

from course_utils.grading import grade

# name -> (notebook, {exercise: points}, {exercise: text expected in its messages}); lesson 6 in its own batch
FULL_06 = {"conditional_generator": 2, "projection_discriminator": 2, "conditional_d_step": 3, "conditional_g_step": 2,
           "class_loss_d_step": 2, "class_loss_g_step": 2}
BROKEN_06 = {
    "label_ignored_06": (lambda: _broken("06", "conditional_generator", "self.embed(y)",
                                         "self.embed(torch.zeros_like(y))"),
                         {**FULL_06, "conditional_generator": 0},
                         {"conditional_generator": "the label is ignored"}),
    "labels_not_shared_06": (lambda: _broken("06", "conditional_d_step", "D(fake, fake_labels)",
                                             "D(fake, random_labels(real.size(0), num_classes, real.device))"),
                             {**FULL_06, "conditional_d_step": 0},
                             {"conditional_d_step": "judged under other labels than G made them for"}),
    "no_detach_06": (lambda: _broken("06", "conditional_d_step", "fake = G(z, fake_labels).detach()",
                                     "fake = G(z, fake_labels)"),
                     {**FULL_06, "conditional_d_step": 0},
                     {"conditional_d_step": "gradients flowed into G during the D step"}),
}


@pytest.fixture(scope="module")
def graded_06(tmp_path_factory):
    """Grade the lesson-6 solution and its broken set (one kernel each, quick mode)."""
    folder, out = tmp_path_factory.mktemp("submissions_06"), tmp_path_factory.mktemp("grades_06")
    (folder / "solution_06.ipynb").write_text(_solution("06").read_text())
    for name, (make, *_) in BROKEN_06.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()))
    reports = grade.grade_all([str(folder)], out, cell_timeout=180, total_timeout=600, jobs=2, sandbox=SANDBOX)
    return {r["student"]: r for r in reports}


def test_lesson_6_solution_scores_full_marks(graded_06):
    r = graded_06["solution_06"]
    assert r["error"] is None and r["score"] == r["max"] == sum(FULL_06.values()), grade.format_report(r)


@pytest.mark.parametrize("name", list(BROKEN_06))
def test_lesson_6_mistakes_cost_their_own_points_once(graded_06, name):
    _, points, messages = BROKEN_06[name]
    r = graded_06[name]
    ex = _exercises(r)
    assert {i: e["points"] for i, e in ex.items()} == points, grade.format_report(r)
    for i, text in messages.items():
        assert ex[i]["status"] == "failed" and any(text in m for m in ex[i]["messages"]), ex[i]["messages"]


# lesson 7 in its own batch: the solution, the generated lesson, and one broken notebook per named mistake
FULL_07 = {"interpolate": 3, "truncated_sample": 1, "find_direction": 2, "steer": 3, "invert": 3}
BROKEN_07 = {
    "unit_sphere_slerp_07": (lambda: _broken("07", "interpolate", "return ((1 - t) * n0 + t * n1) * u", "return u"),
                             {**FULL_07, "interpolate": 0},
                             {"interpolate": "the points stay on the unit sphere"}),
    "truncation_after_g_07": (lambda: _broken("07", "truncated_sample", "return G(psi * z)", "return psi * G(z)"),
                              {**FULL_07, "truncated_sample": 0},
                              {"truncated_sample": "truncation is applied after G"}),
    "direction_not_unit_07": (lambda: _broken("07", "find_direction", "return d / d.norm()", "return d"),
                              {**FULL_07, "find_direction": 0}, {"find_direction": "not of unit length"}),
    "steer_trains_g_07": (lambda: _broken("07", "steer", "torch.optim.Adam([z], lr=lr)",
                                          "torch.optim.Adam([z, *G.parameters()], lr=lr)"),
                          {**FULL_07, "steer": 0}, {"steer": "G's weights changed"}),
    "invert_trains_g_07": (lambda: _broken("07", "invert", "torch.optim.Adam([z], lr=lr)",
                                           "torch.optim.Adam([z, *G.parameters()], lr=lr)"),
                           {**FULL_07, "invert": 0}, {"invert": "G's weights changed"}),
}


@pytest.fixture(scope="module")
def graded_07(tmp_path_factory):
    """Grade the lesson-7 solution, the generated lesson and the broken set (one kernel each, quick mode)."""
    folder, out = tmp_path_factory.mktemp("submissions_07"), tmp_path_factory.mktemp("grades_07")
    (folder / "solution_07.ipynb").write_text(_solution("07").read_text())
    (folder / "empty_07.ipynb").write_text((ROOT / "notebooks" / _solution("07").name).read_text())
    for name, (make, *_) in BROKEN_07.items():
        (folder / f"{name}.ipynb").write_text(json.dumps(make()))
    reports = grade.grade_all([str(folder)], out, cell_timeout=180, total_timeout=600, jobs=2, sandbox=SANDBOX)
    return {r["student"]: r for r in reports}


def test_lesson_7_solution_scores_full_marks_and_the_lesson_zero(graded_07):
    r = graded_07["solution_07"]
    assert r["error"] is None and r["score"] == r["max"] == sum(FULL_07.values()), grade.format_report(r)
    empty = graded_07["empty_07"]
    assert empty["error"] is None and (empty["score"], empty["max"]) == (0, sum(FULL_07.values()))
    assert all(e["status"] == "not_implemented" for e in empty["exercises"]), grade.format_report(empty)


@pytest.mark.parametrize("name", list(BROKEN_07))
def test_lesson_7_mistakes_cost_their_own_points_once(graded_07, name):
    _, points, messages = BROKEN_07[name]
    ex = _exercises(graded_07[name])
    assert {i: e["points"] for i, e in ex.items()} == points, grade.format_report(graded_07[name])
    for i, text in messages.items():
        assert ex[i]["status"] == "failed" and any(text in m for m in ex[i]["messages"]), ex[i]["messages"]
