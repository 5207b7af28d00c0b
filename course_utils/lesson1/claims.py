"""What lesson 1 claims about its runs, computed. The notebook calls these where it makes a claim;
``python -m course_utils.claims --lesson 1`` re-checks them through ``lesson1`` (the provider).

Each function returns a list of :class:`~course_utils.measure.claims.Claim` and prints one ``PASS``/``FAIL``
line per claim. A claim about a run takes the run as its argument, so the notebook's statement is about the run
it just made; the provider makes the same runs, or reads the shipped records (:mod:`course_utils.measure.records`).
"""

from __future__ import annotations

import torch

from ..measure.claims import claim

# ----------------------------------------------------------------------------- lesson 1


def lesson1_facts() -> list:
    """The data's class names and the [-1, 1] convention (lesson 1)."""
    from torchvision.datasets import FashionMNIST
    from torchvision.transforms import Normalize

    from ..kit.data import FASHION_CLASSES
    from .reference import Generator

    ends = Normalize((0.5,), (0.5,))(torch.tensor([0.0, 1.0]).view(2, 1, 1)).flatten().tolist()
    torch.manual_seed(0)
    with torch.no_grad():
        out = Generator().eval()(torch.randn(16, 100))
    return [
        claim("fashion_classes", "the course's class names are torchvision's FashionMNIST.classes, in order",
              list(FASHION_CLASSES) == list(FashionMNIST.classes), ", ".join(FASHION_CLASSES)),
        claim("normalize_range", "Normalize((0.5,), (0.5,)) maps ToTensor's [0, 1] to [-1, 1]",
              ends == [-1.0, 1.0], f"0 -> {ends[0]:g}, 1 -> {ends[1]:g}"),
        claim("generator_range", "the reference Generator turns z (16, 100) into (16, 1, 28, 28) in [-1, 1]",
              tuple(out.shape) == (16, 1, 28, 28) and out.abs().max().item() <= 1.0,
              f"shape {tuple(out.shape)}, max |x| {out.abs().max().item():.3f}"),
    ]


# ----------------------------------------------------------------------------- registry

def lesson1(quick: bool = False) -> list:
    return lesson1_facts()
