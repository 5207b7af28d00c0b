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
