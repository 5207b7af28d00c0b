import time

import pytest
import torch

from course_utils import (
    CheckpointError,
    Discriminator,
    Generator,
    checkpoints,
    export_generator,
    load_checkpoint,
    load_generator,
    load_history,
    sample,
    save_checkpoint,
    save_history,
    shipped_generators,
)


def test_roundtrip_restores_models_and_optimizers(tmp_path):
    G = Generator(width=8)
    opt = torch.optim.Adam(G.parameters(), 1e-3)
    G(torch.randn(4, 100)).mean().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c.pt", G=G, opt_g=opt, history={"d_loss": [0.5, 0.4]})
    G2 = Generator(width=8)
    opt2 = torch.optim.Adam(G2.parameters(), 1e-3)
    payload = load_checkpoint(path, G=G2, opt_g=opt2)
    assert payload["history"]["d_loss"] == [0.5, 0.4]
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G2.state_dict().values()))
    assert opt2.state_dict()["state"][0]["step"] == 1


def test_save_is_atomic(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "c.pt", history={"v": 1})
    original = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, history={"v": 2})
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind


def test_loads_with_weights_only(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError, match="never code") as info:
        load_checkpoint(path)
    assert "weights_only=False" not in str(info.value)  # not torch's advice to turn the protection off


def test_clear_errors(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="corrupted"):
        load_checkpoint(bad)
    path = save_checkpoint(tmp_path / "c.pt", G=Generator(width=8))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path, G=Generator(width=16))
    with pytest.raises(CheckpointError, match="no entry 'D'"):
        load_checkpoint(path, D=Discriminator())


def test_export_and_load_generator(tmp_path):
    G = Generator(latent_dim=16, width=8).eval()
    path = export_generator(G, tmp_path / "g.pt", epochs=3)
    G2 = load_generator(path)
    assert G2.latent_dim == 16 and G2.meta == {"epochs": 3} and not G2.training
    z = torch.randn(4, 16)
    assert torch.equal(G(z), G2(z))
    with pytest.raises(CheckpointError, match="no shipped generator named 'nope'"):
        load_generator("nope")


def test_sample_contract():
    G = Generator(width=8)
    G.train()
    x = sample(G, 10, seed=3, batch_size=4)
    assert x.shape == (10, 1, 28, 28) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert x.min() >= -1 and x.max() <= 1
    assert torch.allclose(x, sample(G, 10, seed=3), atol=1e-5)  # same z, other batch size
    assert torch.equal(sample(G, 10, seed=3), sample(G, 10, seed=3))
    assert G.training  # mode restored
    with pytest.raises(ValueError):
        sample(G, 0)


def test_shipped_fashion_generator():
    assert "fashion_dcgan" in shipped_generators()
    G = load_generator("fashion_dcgan")
    x = sample(G, 16, seed=0)
    assert x.shape == (16, 1, 28, 28)
    assert G.meta["epochs"] == 50
    # real images are mostly background: a trained G reproduces that, an untrained one does not
    assert (x < -0.9).float().mean() > 0.3


def test_history_roundtrip(tmp_path):
    h = {"d_loss": [0.5, 0.25], "epochs": 1, "samples": [{"epoch": 1, "images": torch.zeros(2, 1, 28, 28)}]}
    h2 = load_history(save_history(h, tmp_path / "h.pt"))
    assert h2["d_loss"] == [0.5, 0.25] and h2["epochs"] == 1
    assert h2["samples"][0]["images"].dtype == torch.float32
    shipped = load_history("fashion_dcgan")
    assert shipped["epochs"] == 50 and len(shipped["d_loss"]) == 50 * shipped["steps_per_epoch"]


# ----------------------------------------------------------------------------- below torch 2.10: shipped files only

@pytest.mark.parametrize("version, safe", [("2.6.0", False), ("2.9.1+cu128", False), ("2.10.0", True),
                                           ("2.14.1+cu130", True), ("3.0", True)])
def test_which_torch_reads_any_file_safely(version, safe):
    assert checkpoints.loads_any_file_safely(version) is safe


def test_below_torch_2_10_only_shipped_files_are_read(tmp_path, monkeypatch):
    own = export_generator(Generator(latent_dim=8, width=4), tmp_path / "g.pt")
    history = save_history({"d_loss": [0.5], "samples": []}, tmp_path / "h.pt")
    run = save_checkpoint(tmp_path / "run.pt", G=Generator(width=8))
    assert load_generator(own).latent_dim == 8  # this torch (>= 2.10) reads any file
    monkeypatch.setattr(torch, "__version__", "2.9.1+cu128")  # the running torch, as load_checkpoint sees it
    for load, path in ((load_generator, own), (load_history, history), (load_checkpoint, run)):
        with pytest.raises(CheckpointError, match="refusing to read") as info:
            load(path)
        message = str(info.value)
        assert "torch 2.9.1+cu128" in message and "CVE-2026-24747" in message
        assert 'pip install -U "torch>=2.10"' in message  # how to fix it
    assert load_generator("fashion_dcgan").latent_dim == 100  # the shipped files still load
    assert load_history("fashion_dcgan")["epochs"] == 50
    assert checkpoints.is_shipped(checkpoints.PRETRAINED_DIR / "fashion_dcgan.pt")
    checkpoints.check_loadable(own, version="2.10.0")  # injectable: the same file passes on a safe torch
    outside = checkpoints.PRETRAINED_DIR / ".." / ".." / "pyproject.toml"  # a path through pretrained/, resolved
    assert not checkpoints.is_shipped(outside)
    with pytest.raises(CheckpointError, match="refusing to read"):
        checkpoints.check_loadable(outside, version="2.6.0")


# ----------------------------------------------------------------------------- shapes before allocation

def test_a_tiny_file_asking_for_a_huge_generator_is_refused_before_allocating(tmp_path, monkeypatch):
    """width 1024, latent 4096: a ~5 GB FlowerGenerator. The file holds one small tensor; the shapes are
    compared on the meta device and the model is never built for real."""
    path = save_checkpoint(tmp_path / "huge.pt", arch="course_utils.wgan.FlowerGenerator",
                           kwargs={"latent_dim": 4096, "width": 1024, "image_size": 64},
                           state_dict={"net.0.weight": torch.zeros(2, 2)}, meta={})
    built_on = []
    real_class = checkpoints._generator_class

    def spying_class(arch):
        cls = real_class(arch)

        def build(**kwargs):
            built_on.append(torch.empty(()).device.type)  # the device a factory call allocates on now
            return cls(**kwargs)
        return build

    monkeypatch.setattr(checkpoints, "_generator_class", spying_class)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"the weights do not fit FlowerGenerator\(latent_dim=4096, "
                                              r"width=1024, image_size=64\): 'net.0.weight' has shape \(2, 2\)"):
        load_generator(path)
    assert built_on == ["meta"]  # shapes only: no real-device build
    assert time.perf_counter() - start < 5


def test_the_first_missing_or_extra_tensor_is_named(tmp_path):
    G = Generator(latent_dim=8, width=4)
    state = {k: v.clone() for k, v in G.state_dict().items()}
    first = next(iter(state))
    kwargs = {"latent_dim": 8, "width": 4}
    missing = save_checkpoint(tmp_path / "missing.pt", arch="course_utils.models.Generator", kwargs=kwargs,
                              state_dict={k: v for k, v in state.items() if k != first})
    with pytest.raises(CheckpointError, match=f"it has no tensor '{first}'"):
        load_generator(missing)
    extra = save_checkpoint(tmp_path / "extra.pt", arch="course_utils.models.Generator", kwargs=kwargs,
                            state_dict={**state, "backdoor.weight": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="a tensor 'backdoor.weight' the model lacks"):
        load_generator(extra)
