"""The checking toolkit (course_utils.kit.checking) and the lesson-4 self-checks it fixed."""

import ast
import warnings
from pathlib import Path

import course_utils.checks as checks  # lessons 1-3 (the old flat path: one module for the three)
import pytest
import torch

from course_utils.grading.worker import bound
from course_utils.kit import checking
from course_utils.lesson2.ring import mode_counts
from course_utils.lesson4 import checks as stability_checks
from course_utils.lesson4.diagnostics import count_modes
from course_utils.lesson4.stability import instance_noise
from course_utils.lesson5 import checks as wgan_checks

PACKAGE = Path(checking.__file__).parents[1]  # course_utils/


def test_checks_re_exports_the_toolkit():
    from course_utils.kit.checking import CheckReport, expect_scalar, uses_layer

    assert (CheckReport, expect_scalar, uses_layer) == (checking.CheckReport, checking.expect_scalar,
                                                        checking.uses_layer)
    assert checks.check_d_step.__globals__["probe_models"] is checking.probe_models  # one copy, not two


def test_call_student_turns_errors_into_failed_checks():
    r = checking.CheckReport("demo")

    def stub(x):
        raise NotImplementedError

    assert checking.call_student(r, "stub(1)", stub, 1) == (False, None)
    assert checking.call_student(r, "int('x')", int, "x") == (False, None)
    assert checking.call_student(r, "abs(-2)", abs, -2) == (True, 2)
    assert r.failures == [f"stub(1) {checking.NOT_IMPLEMENTED}",
                          "int('x') raised ValueError: invalid literal for int() with base 10: 'x'"]
    assert checking.describe_error("G(z)", KeyError("w")) == "G(z) raised KeyError: 'w'"


def test_no_private_name_crosses_a_module_boundary():
    crossing = []
    for path in sorted(PACKAGE.rglob("*.py")):  # every module of every room
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:  # from .module import name
                crossing += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert not crossing, crossing


# ----------------------------------------------------------------------------- instance_noise (lesson 4)

def same_noise_for_both(real, fake, std):
    noise = std * torch.randn_like(real)  # one draw, added to both: D can match the pairs
    return real + noise, fake + noise


def test_instance_noise_with_one_tensor_for_both_is_named():
    assert stability_checks.check_instance_noise(instance_noise).passed
    report = stability_checks.check_instance_noise(same_noise_for_both)
    assert len(report.failures) == 1 and "same noise tensor" in report.failures[0]
    assert "torch.randn_like(fake)" in report.failures[0]


def test_instance_noise_reports_are_not_doubled_for_other_mistakes():
    report = stability_checks.check_instance_noise(lambda r, f, s: (r, f))  # no noise at all
    assert len(report.failures) == 2 and not any("same noise" in f for f in report.failures)
    assert "expected a tuple of two tensors" in " ".join(
        stability_checks.check_instance_noise(lambda r, f, s: r + s).failures)


# ----------------------------------------------------------------------------- count_modes (lesson 4)

def test_check_count_modes_and_its_deprecated_alias():
    assert stability_checks.check_count_modes(count_modes).passed
    any_sample = lambda p, c, d: int((mode_counts(p, c, d) > 0).sum())  # noqa: E731
    assert "stray sample" in " ".join(stability_checks.check_count_modes(any_sample).failures)
    with pytest.warns(DeprecationWarning, match="check_count_modes"):
        assert stability_checks.check_modes_covered(count_modes).passed


def test_lesson_4_uses_the_new_name():
    text = (PACKAGE.parent / "solutions" / "04_failure_modes_and_stability.ipynb").read_text()
    assert "check_count_modes(count_modes)" in text and "check_modes_covered" not in text


# ----------------------------------------------------------------------------- the grader's lending

def test_bound_restores_and_removes_names_even_after_an_error():
    ns = {"a": 1}
    with pytest.raises(RuntimeError), bound(ns, {"a": 2, "b": 3}):
        assert ns == {"a": 2, "b": 3}
        raise RuntimeError
    assert ns == {"a": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with bound(ns, {}):
            pass
    assert ns == {"a": 1}


class _Stub(torch.nn.Module):
    """An exercise class as a student first meets it: ``__init__`` raises."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        raise NotImplementedError("Exercise: write your code here")


@pytest.mark.parametrize("check", [
    lambda: checks.check_generator(_Stub, 100),
    lambda: checks.check_discriminator(_Stub),
    lambda: checks.check_parameter_count(lambda m: 0, _Stub),
    lambda: wgan_checks.check_critic(_Stub, image_size=32),
], ids=["generator", "discriminator", "parameter_count", "critic"])
def test_an_unfinished_class_exercise_is_reported_not_raised(check):
    report = check()  # no traceback in the student's check cell
    assert not report.passed and "_Stub(" in str(report) and "is not implemented yet" in str(report)


def test_a_finished_class_is_built_and_checked():
    from course_utils.lesson1.reference import Generator
    from course_utils.lesson2.reference import Discriminator

    assert checks.check_generator(Generator, 100).passed and checks.check_discriminator(Discriminator).passed
    assert checks.check_parameter_count(lambda m: sum(p.numel() for p in m.parameters()), Generator).passed
