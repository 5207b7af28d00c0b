"""The grader's hidden checks for lesson 6's exercises (see :mod:`course_utils.grading.hidden`)."""

from __future__ import annotations

import torch

from ..kit.checking import CheckReport, call_student
from ..lesson6.checks import check_conditional_generator, check_projection_discriminator, probe_conditional


def conditional_generator_other_sizes(ns: dict) -> CheckReport:
    """``ConditionalGenerator(16, 3, width=8, embed_dim=4)``: every size is used, not hard-coded."""
    r = CheckReport("hidden: ConditionalGenerator(16, num_classes=3, width=8, embed_dim=4)")
    ok, G = call_student(r, "ConditionalGenerator(16, 3, width=8, embed_dim=4)",
                         lambda: ns["ConditionalGenerator"](16, 3, width=8, embed_dim=4))
    if ok:
        r.items += [(o, f"3 classes: {m}") for o, m in check_conditional_generator(G, 16, 3).items]
    return r


def projection_discriminator_other_sizes(ns: dict) -> CheckReport:
    """``ProjectionDiscriminator(3, width=8)``: the number of classes and the width are used."""
    r = CheckReport("hidden: ProjectionDiscriminator(num_classes=3, width=8)")
    torch.manual_seed(0)  # the same weights whatever ran before: the logits-not-probabilities check must not be luck
    ok, D = call_student(r, "ProjectionDiscriminator(3, width=8)", lambda: ns["ProjectionDiscriminator"](3, width=8))
    if ok:
        r.items += [(o, f"3 classes: {m}") for o, m in check_projection_discriminator(D, 3).items]
    return r


def _labels_in_range(r: CheckReport, G, num_classes: int) -> None:
    got = G.labels_seen()
    got = got if got is not None else torch.empty(0, dtype=torch.long)
    r.expect(len(got) > 0 and int(got.max()) < num_classes and len(got.unique()) == num_classes,
             f"with num_classes={num_classes} the fake labels cover 0..{num_classes - 1}",
             f"with num_classes={num_classes} the fake labels were {sorted(got.unique().tolist())[:12]}: draw them "
             "with torch.randint(0, num_classes, ...), not a hard-coded 10")


def conditional_d_step_num_classes(ns: dict) -> CheckReport:
    """The D step draws fake labels from ``num_classes``, not a hard-coded 10."""
    r = CheckReport("hidden: conditional_d_step with num_classes=3")
    G, D, real, labels = probe_conditional()
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    ok, _ = call_student(r, "conditional_d_step(..., num_classes=3)", ns["conditional_d_step"], D, G, real,
                         labels % 3, opt_d, G.latent_dim, 3)
    if ok:
        _labels_in_range(r, G, 3)
    return r


def conditional_g_step_num_classes(ns: dict) -> CheckReport:
    """The G step draws labels from ``num_classes``, not a hard-coded 10."""
    r = CheckReport("hidden: conditional_g_step with num_classes=3")
    G, D, _, _ = probe_conditional()
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    ok, _ = call_student(r, "conditional_g_step(..., num_classes=3)", ns["conditional_g_step"], D, G, opt_g, 300,
                         G.latent_dim, 3, torch.device("cpu"))
    if ok:
        _labels_in_range(r, G, 3)
    return r
