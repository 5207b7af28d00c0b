"""Lesson 7's claims: each PASSes on measurements like the real ones and FAILs on a doctored copy where its
sentence is false. The measurements are plain dicts (:mod:`course_utils.lesson7.effects`), so no data is needed."""

import copy
import json
from pathlib import Path

import pytest

from course_utils.lesson7 import claims as c7

SHELL = (8.35, 11.65)


def _walks():
    return [{"seed": s, "pairs": 256, "shell": SHELL,
             "linear": {"median_norm": 7.05, "below": 0.996, "inside": 0.004, "fid": 60.0 + s},
             "slerp": {"median_norm": 9.98, "below": 0.0, "inside": 1.0, "fid": 45.0 + s}} for s in range(3)]


PSIS = (1.0, 0.8, 0.6, 0.4, 0.2)


def _sweeps():
    rows = lambda: [{"psi": p, "fid": 30.0 / p, "coverage": 10 if p > 0.3 else 8, "histogram": [200] * 10,
                     "precision": 1.0 - 0.3 * p, "recall": 0.75 * p} for p in PSIS]
    return [{"seed": s, "n": 2000, "rows": rows()} for s in range(3)]


def _edits():
    shares = lambda flip: [0.0] * 9 + [flip]
    return [{"seed": s, "source": 7, "target": 9, "alpha": 4.0, "n": 200, "avoid": 5, "cosine": 0.46,
             "found": {"flip": 0.85, "stay": 0.0, "shares": shares(0.85), "avoided": 0.036},
             "random": {"flip": 0.01, "stay": 0.78, "shares": shares(0.01), "avoided": 0.0},
             "orthogonal": {"flip": 0.88, "stay": 0.0, "shares": shares(0.88), "avoided": 0.0}} for s in range(3)]


def _steering():
    return [{"seed": s, "n": 100, "steps": 80, "before": {"classifier": 0.1, "judge": 0.1},
             "after": {0.0: {"classifier": 0.83, "judge": 0.66, "norm": 12.2},
                       0.1: {"classifier": 0.88, "judge": 0.8, "norm": 3.4}}} for s in range(3)]


def _inversions():
    return [{"seed": s, "n": 32, "real": 0.025, "own": 0.01, "nearest": 0.125} for s in range(3)]


def _set(rows, path, value, seed=1):
    """A copy of ``rows`` with ``rows[seed][path...] = value``: one seed doctored."""
    rows = copy.deepcopy(rows)
    node = rows[seed]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return rows


def test_every_claim_passes_on_measurements_like_the_real_ones(must_pass):
    found = (c7.walk_claims(_walks()) + c7.truncation_claims(_sweeps()) + c7.direction_claims(_edits())
             + c7.orthogonal_claims(_edits()) + c7.steer_claims(_steering(), SHELL[0])
             + c7.inversion_claims(_inversions()))
    assert len(found) == 15
    for claim in found:
        must_pass(found, claim.name)


def test_walk_claims_fail_when_their_sentence_is_false(must_fail):
    must_fail(c7.walk_claims(_set(_walks(), ["linear", "below"], 0.5)), "linear_midpoint_leaves_shell")
    must_fail(c7.walk_claims(_set(_walks(), ["slerp", "inside"], 0.6)), "slerp_stays_on_shell")
    must_fail(c7.walk_claims(_set(_walks(), ["linear", "fid"], 40.0)), "linear_midpoints_look_worse")


def _row(sweeps, psi_index, key, value, seed=2):
    sweeps = copy.deepcopy(sweeps)
    sweeps[seed]["rows"][psi_index][key] = value
    return sweeps


def test_truncation_claims_fail_when_their_sentence_is_false(must_fail):
    must_fail(c7.truncation_claims(_row(_sweeps(), 3, "precision", 0.5)), "truncation_raises_precision")
    must_fail(c7.truncation_claims(_row(_sweeps(), 4, "recall", 0.9)), "truncation_lowers_recall")
    must_fail(c7.truncation_claims(_row(_sweeps(), 4, "coverage", 10)), "truncation_loses_classes")
    must_fail(c7.truncation_claims(_row(_sweeps(), 0, "coverage", 9)), "truncation_loses_classes")
    must_fail(c7.truncation_claims(_row(_sweeps(), 2, "fid", 20.0)), "truncation_costs_fid")


def test_direction_claims_fail_when_their_sentence_is_false(must_fail):
    must_fail(c7.direction_claims(_set(_edits(), ["found", "flip"], 0.4)), "direction_flips_class")
    must_fail(c7.direction_claims(_set(_edits(), ["random", "flip"], 0.3)), "random_direction_does_not")


def test_orthogonal_claims_fail_when_their_sentence_is_false(must_fail):
    must_fail(c7.orthogonal_claims(_set(_edits(), ["orthogonal", "avoided"], 0.03)), "orthogonal_edit_avoids_class")
    must_fail(c7.orthogonal_claims(_set(_set(_edits(), ["found", "avoided"], 0.0), ["orthogonal", "avoided"], 0.0)),
              "orthogonal_edit_avoids_class")  # nothing to avoid: the sentence's "the found one sends some" is false
    must_fail(c7.orthogonal_claims(_set(_edits(), ["orthogonal", "flip"], 0.45)), "orthogonal_edit_still_flips")


def test_steer_claims_fail_when_their_sentence_is_false(must_fail):
    must_fail(c7.steer_claims(_set(_steering(), ["after", 0.0, "judge"], 0.82), SHELL[0]),
              "steering_fools_its_classifier")
    must_fail(c7.steer_claims(_set(_steering(), ["after", 0.1, "norm"], 9.5), SHELL[0]), "prior_pulls_inside_shell")


def test_inversion_claims_fail_when_their_sentence_is_false(must_fail):
    must_fail(c7.inversion_claims(_set(_inversions(), ["real"], 0.08)), "inversion_beats_nearest_sample")
    must_fail(c7.inversion_claims(_set(_inversions(), ["own"], 0.03)), "real_images_outside_range")


def test_the_prior_claim_is_left_out_without_a_prior_run():
    rows = [{**r, "after": {0.0: r["after"][0.0]}} for r in _steering()]
    assert [c.name for c in c7.steer_claims(rows, SHELL[0])] == ["steering_fools_its_classifier"]


SOLUTION = Path(__file__).resolve().parents[2] / "solutions" / "07_controllable_generation.ipynb"
NOTEBOOK_NAMES = {"seeds": "seeds", "pairs": "walk_pairs", "n": "n_samples", "n_find": "n_find", "n_test": "n_test",
                  "steer_n": "steer_n", "steer_steps": "steer_steps", "images": "invert_images",
                  "inv_steps": "invert_steps", "restarts": "restarts", "pool": "pool"}


@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_the_settings_cell_measures_what_the_claims_command_checks(quick):
    """``python -m course_utils.claims --lesson 7 [--quick]`` re-checks the lesson at the notebook's own sizes."""
    import ast

    cells = json.loads(SOLUTION.read_text())["cells"]
    source = next(c["source"] for c in cells if c["cell_type"] == "code" and "walk_pairs =" in c["source"])
    values = {}
    for node in ast.parse(source).body:
        value = node.value
        if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "quick":
            value = value.args[1 if quick else 0]
        values[node.targets[0].id] = ast.literal_eval(value)
    assert {key: values[name] for key, name in NOTEBOOK_NAMES.items()} == c7.SETTINGS[quick]
