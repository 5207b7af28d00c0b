"""``sample`` with class labels for a conditional G (lesson 6), and conditional generator files."""

import pytest
import torch
from test_widgets import RecordingConditionalG, conditional_g  # the same stand-ins as the widget tests

from course_utils.kit.checkpoints import CheckpointError, export_generator, load_generator, save_checkpoint
from course_utils.kit.sampling import sample
from course_utils.lesson1.reference import Generator
from course_utils.lesson6.conditional import ConditionalGenerator

ARCH = "course_utils.conditional.ConditionalGenerator"


def test_sample_with_labels_shape_and_range():
    x = sample(conditional_g(), 12, seed=0, labels=torch.arange(12) % 10)
    assert x.shape == (12, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1


def test_same_seed_same_z_whatever_the_labels_and_labels_reach_G_in_order():
    a, b = torch.arange(7) % 10, torch.tensor([9, 8, 7, 6, 5, 4, 3])
    G_a, G_b = RecordingConditionalG(), RecordingConditionalG()
    sample(G_a, 7, seed=3, batch_size=3, labels=a)
    sample(G_b, 7, seed=3, batch_size=3, labels=b)
    assert [len(z) for z, _ in G_a.calls] == [3, 3, 1]  # across batch boundaries
    z_a, z_b = torch.cat([z for z, _ in G_a.calls]), torch.cat([z for z, _ in G_b.calls])
    assert torch.equal(z_a, z_b)
    assert torch.equal(torch.cat([y for _, y in G_a.calls]), a) and torch.equal(torch.cat([y for _, y in G_b.calls]), b)
    G_other = RecordingConditionalG()
    sample(G_other, 7, seed=4, batch_size=3, labels=a)
    assert not torch.equal(torch.cat([z for z, _ in G_other.calls]), z_a)


def test_a_real_conditional_G_changes_only_with_the_labels():
    G = conditional_g()
    same = torch.full((6,), 7)
    assert torch.equal(sample(G, 6, seed=1, labels=same), sample(G, 6, seed=1, labels=same))
    assert not torch.equal(sample(G, 6, seed=1, labels=same), sample(G, 6, seed=1, labels=torch.full((6,), 1)))


@pytest.mark.parametrize("labels, error, phrase", [
    (None, TypeError, "is conditional"),
    (torch.zeros(4), TypeError, "LongTensor"),  # float32
    (torch.zeros(5, dtype=torch.long), ValueError, r"shape \(4,\)"),
    (torch.nn.functional.one_hot(torch.arange(4), 10), ValueError, "one-hot"),
    (torch.tensor([0, 1, 2, 10]), ValueError, r"0\.\.9"),
    (torch.tensor([0, -1, 2, 3]), ValueError, r"0\.\.9"),
    ([0, 1, 2, 3], TypeError, "got a list"),
])
def test_bad_labels_for_a_conditional_G_are_refused(labels, error, phrase):
    with pytest.raises(error, match=phrase):
        sample(conditional_g(), 4, seed=0, labels=labels)


def test_labels_for_an_unconditional_G_are_refused():
    with pytest.raises(TypeError, match="unconditional"):
        sample(Generator(latent_dim=8, width=8), 4, labels=torch.zeros(4, dtype=torch.long))


def test_conditional_generator_file_round_trip(tmp_path):
    G = conditional_g()
    G2 = load_generator(export_generator(G, tmp_path / "cgan.pt", epochs=1))
    assert isinstance(G2, ConditionalGenerator) and not G2.training
    assert (G2.latent_dim, G2.num_classes, G2.width, G2.embed_dim) == (8, 10, 8, 50)
    labels = torch.arange(20) % 10
    assert torch.equal(sample(G, 20, seed=5, labels=labels), sample(G2, 20, seed=5, labels=labels))


@pytest.mark.parametrize("kwargs, phrase", [
    ({"latent_dim": 8, "width": 8, "num_classes": 0}, "num_classes=0"),
    ({"latent_dim": 8, "width": 8, "num_classes": "10"}, "num_classes='10'"),
    ({"latent_dim": 8, "width": 8, "num_classes": 10.0}, "num_classes=10.0"),
    ({"latent_dim": 8, "width": 8, "labels": 10}, "no setting 'labels'"),
])
def test_a_conditional_generator_file_with_a_bad_setting_is_refused(tmp_path, kwargs, phrase):
    path = save_checkpoint(tmp_path / "bad.pt", arch=ARCH, kwargs=kwargs, state_dict=conditional_g().state_dict(),
                           meta={})
    with pytest.raises(CheckpointError, match=phrase):
        load_generator(path)
