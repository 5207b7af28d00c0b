import pytest
import torch

from course_utils import (
    Discriminator,
    FCGenerator,
    Generator,
    count_parameters,
    get_device,
    init_weights,
    quick,
    sample_latent,
    seed_everything,
)
from course_utils.kit.env import is_quick, quick_banner


@pytest.mark.parametrize("cls", [FCGenerator, Generator])
def test_generators_shape_and_range(cls):
    G = cls(latent_dim=100)
    x = G(sample_latent(8, 100))
    assert x.shape == (8, 1, 28, 28)
    assert x.min() >= -1 and x.max() <= 1


def test_discriminator_logits_shape():
    D = Discriminator()
    out = D(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 1)


def test_parameter_counts():
    assert count_parameters(Generator()) == 771_969
    assert count_parameters(Discriminator()) == 138_817
    frozen = Generator()
    for p in frozen.project.parameters():
        p.requires_grad_(False)
    assert count_parameters(frozen) < 771_969


def test_spectral_norm_bounds_largest_singular_value():
    D = Discriminator(spectral_norm=True)
    D.train()
    for _ in range(20):  # power iterations run in training-mode forward passes
        D(torch.randn(4, 1, 28, 28))
    w = D.classify.weight
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_init_weights_dcgan_scale():
    G = Generator()
    G.apply(init_weights)
    w = G.upsample[0].weight
    assert abs(w.std().item() - 0.02) < 0.002
    assert abs(G.project[1].weight.mean().item() - 1.0) < 0.01


def test_init_weights_skips_a_batchnorm_without_weights():
    """A BatchNorm with affine=False (e.g. under a class-conditional scale and shift) has nothing to set."""
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4, affine=False))
    net.apply(init_weights)
    assert net[1].weight is None and abs(net[0].weight.std().item() - 0.02) < 0.01


def test_seed_everything_repeats():
    seed_everything(5)
    a = torch.randn(3)
    seed_everything(5)
    assert torch.equal(a, torch.randn(3))
    with pytest.raises(TypeError):
        seed_everything(1.5)


def test_quick_mode_switch(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert is_quick() and quick(50, 1) == 1
    quick_banner()
    assert "QUICK MODE" in capsys.readouterr().out
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert not is_quick() and quick(50, 1) == 50
    quick_banner()
    assert capsys.readouterr().out == ""


def test_get_device(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else None
    device = get_device()
    if expected:
        assert device.type == expected
    assert get_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            get_device("cuda")


def test_use_threads_is_capped_by_the_cores_this_process_may_use():
    from course_utils.kit.env import available_cpus, use_threads

    before = torch.get_num_threads()
    try:
        assert use_threads(10_000) == available_cpus() == torch.get_num_threads()
        assert use_threads(1) == 1 == torch.get_num_threads()
        assert use_threads(0) == 1  # never zero threads
    finally:
        torch.set_num_threads(before)
