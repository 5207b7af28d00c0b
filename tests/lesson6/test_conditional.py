"""Lesson 6: the conditional models and steps, their self-checks, the trainer, and the control measurements."""

import pytest
import torch
from torch import nn

from course_utils import TensorLoader, load_generator
from course_utils.kit.data import fashion_mnist_tensors, to_unit_range
from course_utils.lesson2.reference import discriminator_loss
from course_utils.lesson3.trainer import generator_loss
from course_utils.lesson6.checks import (
    check_conditional_d_step,
    check_conditional_g_step,
    check_conditional_generator,
    check_projection_discriminator,
)
from course_utils.lesson6.claims import control_claims, style_claims, versus_unconditional_claims
from course_utils.lesson6.conditional import (
    ClassHeadDiscriminator,
    ConditionalGenerator,
    ProjectionDiscriminator,
    class_loss_d_step,
    class_loss_g_step,
    class_loss_steps,
    class_rows,
    conditional_d_step,
    conditional_g_step,
    random_labels,
    train_conditional_gan,
)
from course_utils.lesson6.control import (
    balanced_labels,
    confusion_matrix,
    control_report,
    per_class_agreement,
    real_class_accuracy,
    within_class_diversity,
)
from course_utils.measure.claims import Claim
from course_utils.measure.records import load_levers

# ----------------------------------------------------------------------------- the self-checks name the mistake


def _d_step(fake_labels_fn=None, judge_fn=None, detach=True, real_labels_fn=None):
    """A D step with one thing changed: how fake labels are drawn (``fake_labels_fn(labels, num_classes)``),
    which labels D judges the fakes under, whether fakes are detached, which labels the real images get."""
    def step(D, G, real, labels, opt_d, latent_dim, num_classes):
        z = torch.randn(real.size(0), latent_dim)
        fake_labels = (fake_labels_fn or (lambda y, k: random_labels(len(y), k)))(labels, num_classes)
        fake = G(z, fake_labels)
        fake = fake.detach() if detach else fake
        real_logits = D(real, real_labels_fn(labels) if real_labels_fn else labels)
        fake_logits = D(fake, judge_fn(fake_labels) if judge_fn else fake_labels)
        loss = discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss.detach(), real_logits.sigmoid().mean(), fake_logits.sigmoid().mean()
    return step


D_MISTAKES = {
    "no detach": (_d_step(detach=False), "gradients flowed into G during the D step"),
    "labels not shared": (_d_step(judge_fn=lambda y: (y + 1) % 10), "judged under other labels than G made them for"),
    "fake labels copy the real ones": (_d_step(fake_labels_fn=lambda y, k: y.clone()), "copy the real batch's labels"),
    "fake labels not uniform": (_d_step(fake_labels_fn=lambda y, k: torch.randint(0, 3, y.shape)), "not uniform"),
    "real judged under other labels": (_d_step(real_labels_fn=lambda y: (y + 2) % 10),
                                       "real images under other labels than their own"),
}


def test_reference_code_passes_every_self_check():
    for report in (check_conditional_generator(ConditionalGenerator), check_projection_discriminator(
            ProjectionDiscriminator), check_conditional_d_step(conditional_d_step),
            check_conditional_g_step(conditional_g_step), check_conditional_d_step(_d_step())):
        assert report.passed, report


@pytest.mark.parametrize("mistake", list(D_MISTAKES))
def test_d_step_check_names_each_mistake(mistake):
    step, text = D_MISTAKES[mistake]
    report = check_conditional_d_step(step)
    assert not report.passed and sum(not ok for ok, _ in report.items) == 1, report
    assert any(text in m for m in report.failures), report


def test_g_step_check_names_unshared_labels_and_the_wrong_target():
    def unshared(D, G, opt_g, batch_size, latent_dim, num_classes, device):
        y = random_labels(batch_size, num_classes)
        loss = generator_loss(D(G(torch.randn(batch_size, latent_dim), y), random_labels(batch_size, num_classes)))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return loss

    def target_zero(D, G, opt_g, batch_size, latent_dim, num_classes, device):
        y = random_labels(batch_size, num_classes)
        logits = D(G(torch.randn(batch_size, latent_dim), y), y)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return loss

    assert any("judged under other labels" in m for m in check_conditional_g_step(unshared).failures)
    assert any("labelled 0 in the G step" in m for m in check_conditional_g_step(target_zero).failures)


def test_generator_check_catches_an_ignored_label_and_a_missing_tanh():
    class Ignores(ConditionalGenerator):
        def forward(self, z, y):
            return super().forward(z, torch.zeros_like(y))

    class NoTanh(ConditionalGenerator):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self.upsample[-1] = nn.Identity()

    assert any("the label is ignored" in m for m in check_conditional_generator(Ignores).failures)
    assert any("no tanh" in m for m in check_conditional_generator(NoTanh).failures)


def test_discriminator_check_catches_an_ignored_label_and_a_stub():
    class Ignores(ProjectionDiscriminator):
        def forward(self, x, y):
            return self.psi(self.features(x).flatten(1))

    class Stub(ProjectionDiscriminator):
        def forward(self, x, y):
            raise NotImplementedError

    assert any("D ignores the label" in m for m in check_projection_discriminator(Ignores).failures)
    assert any("not implemented yet" in m for m in check_projection_discriminator(Stub).failures)


# ----------------------------------------------------------------------------- the trainer


def _tiny(n=64):
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return images, torch.arange(n) % 10


def test_trainer_runs_the_students_steps_and_stores_one_row_per_class():
    images, labels = _tiny()
    seen = []

    def d_step(D, G, real, y, opt_d, latent_dim, num_classes):
        seen.append(y.clone())
        return conditional_d_step(D, G, real, y, opt_d, latent_dim, num_classes)

    G, D = ConditionalGenerator(latent_dim=8, width=4, embed_dim=4), ProjectionDiscriminator(width=4)
    history = train_conditional_gan(G, D, TensorLoader(images, labels, batch_size=16), 2, "cpu", verbose=False,
                                    dashboard=False, checkpoint_every=1, per_class=3, d_step_fn=d_step)
    assert history["epochs"] == 2 and len(history["d_loss"]) == 8 and len(seen) == 8
    assert sorted(torch.cat(seen[:4]).tolist()) == sorted(labels.tolist())  # each image with its own label
    snap = history["samples"][-1]["images"]  # (10 * 3, 1, 28, 28): row k = class k, the same z in each row
    assert snap.shape == (30, 1, 28, 28)
    assert torch.equal(class_rows(10, 3)[:6], torch.tensor([0, 0, 0, 1, 1, 1]))


def test_trainer_refuses_unconditional_models_and_unlabelled_batches():
    from course_utils import Discriminator, Generator

    images, labels = _tiny()
    with pytest.raises(AttributeError, match="conditional generator with an int num_classes"):
        train_conditional_gan(Generator(8, 4), ProjectionDiscriminator(width=4), TensorLoader(images, labels),
                              1, "cpu", verbose=False)
    with pytest.raises(AttributeError, match="conditional discriminator"):
        train_conditional_gan(ConditionalGenerator(8, width=4), Discriminator(width=4), TensorLoader(images, labels),
                              1, "cpu", verbose=False)
    with pytest.raises(ValueError, match="G draws 10 classes but D judges 3"):
        train_conditional_gan(ConditionalGenerator(8, width=4), ProjectionDiscriminator(3, width=4),
                              TensorLoader(images, labels), 1, "cpu", verbose=False)
    bad = TensorLoader(images, labels + 10, batch_size=16)
    with pytest.raises(ValueError, match="class ids in 0..9"):
        train_conditional_gan(ConditionalGenerator(8, width=4, embed_dim=4), ProjectionDiscriminator(width=4), bad,
                              1, "cpu", verbose=False, dashboard=False)
    with pytest.raises(TypeError, match=r"needs \(images, labels\) batches"):
        train_conditional_gan(ConditionalGenerator(8, width=4, embed_dim=4), ProjectionDiscriminator(width=4),
                              [images[:16].float() / 127.5 - 1], 1, "cpu", verbose=False, dashboard=False)


# ----------------------------------------------------------------------------- measuring control


def test_confusion_matrix_and_agreement_by_hand():
    requested, predicted = torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 1, 1, 0])
    m = confusion_matrix(requested, predicted, 3)
    assert m.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert per_class_agreement(m).tolist() == [0.5, 1.0, 0.0]


class _RealImages(nn.Module):
    """A stand-in conditional G that returns real test images of the requested class (or of class 0)."""

    latent_dim, num_classes = 4, 10

    def __init__(self, ignore_label=False, collapse=False):
        super().__init__()
        x, y = fashion_mnist_tensors(train=False)
        self.by_class = [to_unit_range(x[y == k]) for k in range(10)]
        self.ignore_label, self.collapse = ignore_label, collapse
        self.dummy = nn.Parameter(torch.zeros(()))
        self.count = torch.zeros(10, dtype=torch.long)

    def forward(self, z, y):
        out = []
        for k in y.tolist():
            k = 0 if self.ignore_label else k
            i = 0 if self.collapse else int(self.count[k]) % len(self.by_class[k])
            self.count[k] += 1
            out.append(self.by_class[k][i])
        return torch.stack(out)


@pytest.mark.usefixtures("real_data_dir")
def test_control_report_of_real_images_earns_what_real_data_earns():
    report = control_report(_RealImages(), per_class=200, verbose=False)
    assert report["passed"] and report["coverage"] == 10
    assert (report["relative"] > 0.85).all()  # 200 of ~1000 test images per class: close to the full accuracy
    assert abs(report["agreement"] - float(real_class_accuracy().mean())) < 0.03


@pytest.mark.usefixtures("real_data_dir")
def test_control_report_fails_a_generator_that_ignores_the_label():
    report = control_report(_RealImages(ignore_label=True), per_class=50, verbose=False)
    assert not report["passed"] and report["agreement"] < 0.2
    claims = control_claims(report, who="a label-blind G")
    by_name = {c.name: c.holds for c in claims}
    assert by_name == {"cgan_agreement": False, "cgan_every_class_at_bar": False, "cgan_overshoots": False}
    assert all(isinstance(c, Claim) for c in claims)


@pytest.mark.usefixtures("real_data_dir")
def test_within_class_diversity_is_about_one_for_real_images_and_zero_for_a_collapsed_class():
    real = within_class_diversity(_RealImages(), per_class=50)
    collapsed = within_class_diversity(_RealImages(collapse=True), per_class=50)
    assert ((real > 0.8) & (real < 1.25)).all(), real
    assert (collapsed < 0.01).all()
    assert style_claims(real)[0].holds and not style_claims(collapsed)[0].holds


def test_versus_unconditional_claims_compare_fid_and_coverage():
    good = {"fid": 10.0, "coverage": 10, "n": 1000}
    assert all(c.holds for c in versus_unconditional_claims(good, {"fid": 20.0, "coverage": 10}))
    assert not versus_unconditional_claims(good, {"fid": 5.0, "coverage": 10})[0].holds


def test_shipped_conditional_generator_loads_and_answers_labels():
    G = load_generator("fashion_cgan")
    assert G.num_classes == 10 and G.meta["epochs"] >= 1
    labels = balanced_labels(2)
    from course_utils import sample

    x = sample(G, 20, seed=0, labels=labels)
    assert x.shape == (20, 1, 28, 28) and x.abs().max() <= 1


# ----------------------------------------------------------------------------- the class term


class _Recording(ClassHeadDiscriminator):
    """A class-head D that records which batches its class head was asked about."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.asked = []

    def forward(self, x, y, with_class_logits=False):
        if with_class_logits:
            self.asked.append(x.detach().clone())
        return super().forward(x, y, with_class_logits)


def test_class_head_discriminator_is_the_projection_plus_a_head():
    torch.manual_seed(0)
    D = ClassHeadDiscriminator(width=4)
    x, y = torch.randn(5, 1, 28, 28), torch.tensor([0, 1, 2, 3, 9])
    logit, class_logits = D(x, y, with_class_logits=True)
    assert logit.shape == (5, 1) and class_logits.shape == (5, 10)
    plain = ProjectionDiscriminator(width=4)
    plain.load_state_dict({k: v for k, v in D.state_dict().items() if not k.startswith("classify")})
    assert torch.allclose(D(x, y), plain(x, y)) and torch.allclose(logit, plain(x, y))
    assert torch.allclose(class_logits, D.classify(D.features(x).flatten(1)))


def test_class_d_step_teaches_the_head_on_real_images_only():
    images, labels = _tiny()
    real, y = to_unit_range(images[:16]), labels[:16]
    torch.manual_seed(0)
    G, D = ConditionalGenerator(latent_dim=8, width=4, embed_dim=4), _Recording(width=4)
    opt_d = torch.optim.Adam(D.parameters(), 1e-3)
    head = D.classify.weight.detach().clone()
    out = class_loss_d_step(D, G, real, y, opt_d, 8, 10, class_weight=1.0)
    assert len(out) == 3 and len(D.asked) == 1 and torch.equal(D.asked[0], real)  # the head saw the real batch
    assert not torch.equal(D.classify.weight, head)  # and learned from it
    assert all(p.grad is None for p in G.parameters())  # fakes detached


def test_class_g_step_adds_the_weighted_cross_entropy_of_the_requested_labels():
    torch.manual_seed(0)
    G, D = ConditionalGenerator(latent_dim=8, width=4, embed_dim=4), ClassHeadDiscriminator(width=4)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.0)  # lr 0: G unchanged, so the loss can be recomputed by hand
    torch.manual_seed(1)
    loss = class_loss_g_step(D, G, opt_g, 12, 8, 10, "cpu", class_weight=2.5)
    torch.manual_seed(1)
    z, labels = torch.randn(12, 8), random_labels(12, 10)
    logits, class_logits = D(G(z, labels), labels, with_class_logits=True)
    plain = generator_loss(logits)
    expected = plain + 2.5 * torch.nn.functional.cross_entropy(class_logits, labels)
    assert torch.allclose(loss, expected.detach()) and not torch.allclose(loss, plain.detach())


def test_class_loss_steps_train_and_refuse_a_zero_weight():
    images, labels = _tiny()
    G, D = ConditionalGenerator(latent_dim=8, width=4, embed_dim=4), ClassHeadDiscriminator(width=4)
    history = train_conditional_gan(G, D, TensorLoader(images, labels, batch_size=16), 1, "cpu", verbose=False,
                                    dashboard=False, checkpoint_every=1, per_class=2, **class_loss_steps(0.5))
    assert history["epochs"] == 1 and all(torch.isfinite(torch.tensor(history["g_loss"])))
    with pytest.raises(ValueError, match="class_weight must be > 0"):
        class_loss_steps(0)


def test_levers_record_matches_its_runs_and_the_shipped_generator_passes():

    from course_utils.measure.records import load_record

    for r in load_levers()["runs"]:
        assert r["min_relative"] == min(r["relative"]) and len(r["relative"]) == 10
        assert f"--class-weight {r['class_weight']:g}" in r["command"].replace("1.0", "1")
    q = load_record("fashion_cgan")["quality"]
    ratios = [a / b for a, b in zip(q["per_class_agreement"], q["classifier_real_accuracy"])]
    assert q["agreement"] >= 0.90 and min(ratios) >= 0.90
