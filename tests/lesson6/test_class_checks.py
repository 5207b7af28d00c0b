"""Lesson 6's class-term exercises: the reference steps pass their checks, and each named mistake is named."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import discriminator_loss, generator_loss
from course_utils.lesson6 import check_class_loss_d_step, check_class_loss_g_step, random_labels
from course_utils.lesson6.conditional import class_loss_d_step, class_loss_g_step


def _d_step(mistake):
    def step(D, G, real, labels, opt_d, latent_dim, num_classes, class_weight=1.0):
        z = torch.randn(real.size(0), latent_dim, device=real.device)
        fake_labels = random_labels(real.size(0), num_classes, real.device)
        fake = G(z, fake_labels)
        fake = fake if mistake == "no_detach" else fake.detach()
        real_logits, real_class = D(real, labels, with_class_logits=True)
        fake_logits, fake_class = D(fake, fake_labels, with_class_logits=True)
        ce = F.cross_entropy(real_class, labels)
        term = {"missing": 0.0, "unweighted": ce, "on_fakes_too": class_weight * (ce + F.cross_entropy(
            fake_class, fake_labels)), "subtracted": -class_weight * ce}.get(mistake, class_weight * ce)
        loss = discriminator_loss(real_logits, fake_logits) + term
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss.detach(), torch.sigmoid(real_logits).mean(), torch.sigmoid(fake_logits).mean()
    return step


def _g_step(mistake):
    def step(D, G, opt_g, batch_size, latent_dim, num_classes, device, class_weight=1.0):
        z = torch.randn(batch_size, latent_dim, device=device)
        labels = random_labels(batch_size, num_classes, device)
        logits, class_logits = D(G(z, labels), labels, with_class_logits=True)
        target = (labels + 1) % num_classes if mistake == "other_labels" else labels
        ce = F.cross_entropy(class_logits, target)
        term = {"missing": 0.0, "unweighted": ce, "subtracted": -class_weight * ce}.get(mistake, class_weight * ce)
        loss = generator_loss(logits) + term
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        return loss.detach()
    return step


def test_the_reference_class_steps_pass_their_checks():
    assert check_class_loss_d_step(class_loss_d_step).passed
    assert check_class_loss_g_step(class_loss_g_step).passed
    assert check_class_loss_d_step(_d_step(None)).passed and check_class_loss_g_step(_g_step(None)).passed


@pytest.mark.parametrize("mistake, text", [
    ("missing", "the class term is missing"),
    ("unweighted", "class_weight is not applied"),
    ("on_fakes_too", "the head also learns the fakes' labels"),
    ("subtracted", "the class term is subtracted"),
    ("no_detach", "gradients flowed into G during the D step"),
])
def test_class_loss_d_step_names_each_mistake(mistake, text):
    report = check_class_loss_d_step(_d_step(mistake))
    assert not report.passed and text in str(report), str(report)


@pytest.mark.parametrize("mistake, text", [
    ("missing", "the class term is missing"),
    ("unweighted", "class_weight is not applied"),
    ("subtracted", "the class term is subtracted"),
    ("other_labels", "uses other labels than G drew the fakes for"),
])
def test_class_loss_g_step_names_each_mistake(mistake, text):
    report = check_class_loss_g_step(_g_step(mistake))
    assert not report.passed and text in str(report), str(report)
