"""Lesson 1's claims: each PASSes on the course's code and FAILs when its sentence is made false."""

from course_utils.kit import data
from course_utils.lesson1 import claims, reference


def test_the_facts_hold(must_pass):
    found = claims.lesson1_facts()
    for name in ("fashion_classes", "normalize_range", "generator_range"):
        must_pass(found, name)


def test_swapped_class_names_fail(monkeypatch, must_fail):
    names = list(data.FASHION_CLASSES)
    names[0], names[1] = names[1], names[0]
    monkeypatch.setattr(data, "FASHION_CLASSES", tuple(names))
    must_fail(claims.lesson1_facts(), "fashion_classes")


def test_a_normalize_to_0_1_fails(monkeypatch, must_fail):
    import torchvision.transforms as T

    monkeypatch.setattr(T, "Normalize", lambda mean, std: T.Lambda(lambda x: x))  # [0, 1] stays [0, 1]
    must_fail(claims.lesson1_facts(), "normalize_range")


def test_a_generator_without_tanh_fails(monkeypatch, must_fail):
    class Doubled(reference.Generator):
        def forward(self, z):
            return 2 * super().forward(z)  # outside [-1, 1]

    monkeypatch.setattr(reference, "Generator", Doubled)
    must_fail(claims.lesson1_facts(), "generator_range")
