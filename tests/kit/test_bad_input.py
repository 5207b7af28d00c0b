"""Bad input and faults against the training, checkpoint and sampling API: each gets a clear message
naming the problem and the fix, nothing runs code from a file, and no run loses its history.

(Data and the command-line tools: ``tests/test_bad_input_tools.py``.)
"""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import (
    CheckpointError,
    Discriminator,
    Generator,
    TensorLoader,
    d_step,
    export_generator,
    g_step,
    load_checkpoint,
    load_generator,
    sample,
    save_checkpoint,
    train_gan,
)
from course_utils.kit import checkpoints as ckpt_module
from course_utils.kit.checkpoints import CheckpointWriteError
from course_utils.kit.loop import last_history
from course_utils.lesson2.ring import ring_loader, toy_models
from course_utils.lesson4.stability import train_stable_gan
from course_utils.lesson5.wgan import Critic, FlowerGenerator, train_wgan_gp

FAST = dict(verbose=False, dashboard=False, checkpoint_every=1, n_samples=4)


def _models():
    torch.manual_seed(0)
    return Generator(latent_dim=8, width=4), Discriminator(width=4)


def _loader(n=64, batch_size=16):
    images = torch.randint(0, 256, (n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return TensorLoader(images, batch_size=batch_size)


# ----------------------------------------------------------------------------- a generator file is data, never code

def _malicious(tmp_path, arch, kwargs):
    path = tmp_path / "gift.pt"
    save_checkpoint(path, arch=arch, kwargs=kwargs, state_dict={}, meta={})
    return path


@pytest.mark.parametrize("arch", ["course_utils.tools.run.run_cell", "course_utils.grading.grade.main",
                                  "course_utils.tools.lessons.main",
                                  "course_utils.kit.data.fashion_mnist_tensors",
                                  "course_utils.lesson2.reference.Discriminator",
                                  "os.system", "builtins.exec", 42])
def test_load_generator_builds_only_registered_classes(tmp_path, arch):
    marker = tmp_path / "PWNED"
    source = f"open({str(marker)!r}, 'w').write('ran')"
    path = _malicious(tmp_path, arch, {"source": source, "namespace": {}, "name": "x"})
    with pytest.raises(CheckpointError, match="not one of the course's generators") as info:
        load_generator(path)
    assert "refusing to build it" in str(info.value) and not marker.exists()


@pytest.mark.parametrize("kwargs, phrase", [
    ({"latent_dim": 8, "source": "print(1)"}, "takes no setting 'source'"),
    ({"latent_dim": "8"}, "must be an int"),
    ({"latent_dim": 8.0}, "must be an int"),
    ({"latent_dim": True}, "must be an int"),
    ({"width": 10**9}, r"must be an int in \[1, 1024\]"),  # would allocate terabytes
    ([("latent_dim", 8)], "must be a dict"),
])
def test_load_generator_validates_settings(tmp_path, kwargs, phrase):
    path = _malicious(tmp_path, "course_utils.models.Generator", kwargs)
    with pytest.raises(CheckpointError, match=phrase):
        load_generator(path)


def test_pickled_code_is_refused_in_the_courses_words(tmp_path):
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.pt"
    torch.save({"arch": "course_utils.models.Generator", "payload": Evil()}, path)
    for load in (load_generator, load_checkpoint):
        with pytest.raises(CheckpointError, match="a checkpoint is data, never code") as info:
            load(path)
        assert "weights_only" not in str(info.value) and not marker.exists()


def test_weights_that_do_not_fit_and_training_checkpoints(tmp_path):
    G = Generator(latent_dim=8, width=4)
    path = export_generator(G, tmp_path / "g.pt")
    payload = load_checkpoint(path)
    payload["kwargs"]["width"] = 8
    save_checkpoint(path, **payload)
    with pytest.raises(CheckpointError, match="the weights do not fit"):
        load_generator(path)
    run = save_checkpoint(tmp_path / "run.pt", G=G, history={})
    with pytest.raises(CheckpointError, match=r"load_checkpoint\(path, G=G\)"):
        load_generator(run)


@pytest.mark.parametrize("data, phrase", [
    (lambda good: good[: len(good) // 3], "corrupted or truncated"),
    (lambda good: b"not a checkpoint at all", "corrupted or truncated"),
    (lambda good: b"", "corrupted or truncated"),
])
def test_damaged_files_are_named_not_raw_errors(tmp_path, data, phrase):
    good = (tmp_path / "good.pt")
    export_generator(Generator(latent_dim=8, width=4), good)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(data(good.read_bytes()))
    with pytest.raises(CheckpointError, match=phrase) as info:
        load_generator(bad)
    assert "Delete it" in str(info.value)


def test_load_generator_and_export_reject_the_wrong_kind_of_argument(tmp_path):
    with pytest.raises(TypeError, match="shipped name such as 'fashion_dcgan'"):
        load_generator(Generator())
    with pytest.raises(TypeError, match="save its weights with save_checkpoint"):
        export_generator(nn.Linear(2, 2), tmp_path / "x.pt")


# ----------------------------------------------------------------------------- nothing lost

def test_unwritable_checkpoint_folder_fails_before_training(tmp_path, monkeypatch):
    def no_write(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(ckpt_module.tempfile, "mkstemp", no_write)
    G, D = _models()
    before = [p.clone() for p in G.parameters()]
    with pytest.raises(CheckpointWriteError, match="cannot write checkpoints to .*choose a writable folder"):
        train_gan(G, D, _loader(), 1, "cpu", checkpoint_path=tmp_path / "run.pt", **FAST)
    assert all(torch.equal(a, b) for a, b in zip(before, G.parameters()))  # not one step was taken
    with pytest.raises(CheckpointWriteError, match="COURSE_RUNS_DIR"):
        train_stable_gan(*toy_models(), ring_loader(n=512, batch_size=128), 1, "cpu", verbose=False,
                         checkpoint_every=1, checkpoint_path=str(tmp_path / "t_{epoch}.pt"))
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    with pytest.raises(CheckpointWriteError, match="cannot write checkpoints"):
        train_wgan_gp(FlowerGenerator(latent_dim=8, width=4, image_size=32), Critic(width=4, image_size=32),
                      TensorLoader(images, batch_size=8), 1, "cpu", verbose=False, checkpoint_path=tmp_path / "w.pt")


def test_a_failed_checkpoint_write_keeps_training_and_the_history(tmp_path, monkeypatch, capsys):
    real_save = torch.save
    calls = []

    def full_disk(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the second checkpoint: the disk is full
            raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 1024 vs 512")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(ckpt_module.torch, "save", full_disk)
    G, D = _models()
    path = tmp_path / "run.pt"
    history = train_gan(G, D, _loader(), 3, "cpu", checkpoint_path=path, **FAST)
    assert history["epochs"] == 3 and len(history["d_loss"]) == 3 * 4
    assert len(history["warnings"]) == 1 and "epoch 2" in history["warnings"][0]
    assert "disk full?" in history["warnings"][0] and "MB free" in history["warnings"][0]
    assert "WARNING" in capsys.readouterr().out
    assert load_checkpoint(path)["history"]["epochs"] == 3  # the third write worked again
    assert not list(tmp_path.glob("*.tmp"))  # no half-written file left behind


@pytest.mark.parametrize("eval_fn, phrase", [
    (lambda G: 1 / 0, "ZeroDivisionError"),
    (lambda G: 31.2, "must return a dict"),
])
def test_a_failing_eval_fn_does_not_end_the_run(eval_fn, phrase):
    G, D = _models()
    history = train_gan(G, D, _loader(), 2, "cpu", eval_fn=eval_fn, **FAST)
    assert history["epochs"] == 2 and history["metrics"] == [] and len(history["samples"]) == 2
    assert len(history["warnings"]) == 2 and phrase in history["warnings"][0]


def test_an_error_in_a_students_step_keeps_the_history():
    calls = []

    def flaky_d_step(D, G, real, opt_d, latent_dim):
        calls.append(1)
        if len(calls) == 6:
            raise RuntimeError("my bug")
        return d_step(D, G, real, opt_d, latent_dim)

    G, D = _models()
    with pytest.raises(RuntimeError, match="my bug") as info:
        train_gan(G, D, _loader(), 3, "cpu", d_step_fn=flaky_d_step, log_every=1, **FAST)
    kept = info.value.history
    assert kept is last_history() and kept["epochs"] == 1 and len(kept["d_loss"]) == 5


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf")])
def test_a_non_finite_loss_stops_at_its_step_and_keeps_the_history(bad_value, capsys):
    calls = []

    def d_step_that_diverges(D, G, real, opt_d, latent_dim):
        loss, d_real, d_fake = d_step(D, G, real, opt_d, latent_dim)
        calls.append(1)
        return (loss * bad_value if len(calls) >= 7 else loss), d_real, d_fake

    G, D = _models()
    history = train_gan(G, D, _loader(), 5, "cpu", d_step_fn=d_step_that_diverges, **FAST)
    assert len(history["d_loss"]) == 7 and not np.isfinite(history["d_loss"][-1])
    assert history["epochs"] == 1  # stopped in epoch 2, at the flush that saw it
    message = history["stopped"]
    assert "d_loss became" in message and "step 7" in message and "learning rate too high" in message


# ----------------------------------------------------------------------------- training: clear errors

def test_an_empty_loader_is_an_error_not_nan():
    G, D = _models()
    loader = TensorLoader(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), batch_size=10)
    loader.images = loader.images[:5]  # fewer images than one batch, incomplete batches dropped
    with pytest.raises(ValueError, match="no batches.*smaller batch_size"):
        train_gan(G, D, loader, 1, "cpu", **FAST)


@pytest.mark.parametrize("num_epochs, error, phrase", [
    (1.5, TypeError, "whole number"), (True, TypeError, "whole number"), ("2", TypeError, "whole number"),
    (-1, ValueError, ">= 0"),
])
def test_num_epochs_must_be_a_whole_number(num_epochs, error, phrase):
    G, D = _models()
    with pytest.raises(error, match=phrase):
        train_gan(G, D, _loader(), num_epochs, "cpu", **FAST)


def test_batches_without_the_channel_dimension():
    G, D = _models()
    loader = [(torch.rand(16, 28, 28) * 2 - 1, torch.zeros(16))] * 2
    with pytest.raises(ValueError, match=r"\(B, C, H, W\).*shape \(16, 28, 28\).*unsqueeze\(1\)"):
        train_gan(G, D, loader, 1, "cpu", **FAST)


def test_bare_tensor_batches_train_like_pairs():
    G, D = _models()
    batches = [torch.rand(16, 1, 28, 28) * 2 - 1 for _ in range(3)]
    history = train_gan(G, D, batches, 1, "cpu", **FAST)
    assert len(history["d_loss"]) == 3  # three steps on whole batches, not one per image
    with pytest.raises(TypeError, match="tensor of images or an .images, labels. pair"):
        train_gan(G, D, [["not", "images"]], 1, "cpu", **FAST)


def _returns(value):
    def d_step_fn(D, G, real, opt_d, latent_dim):
        loss, d_real, d_fake = d_step(D, G, real, opt_d, latent_dim)
        return value(loss, d_real, d_fake)
    return d_step_fn


@pytest.mark.parametrize("value, phrase", [
    (lambda loss, r, f: (loss, r), "d_step_fn must return 3 values .*it returned 2 values"),
    (lambda loss, r, f: (loss.item(), r.item(), f.item()), r"a Python float .*not loss.item\(\)"),
    (lambda loss, r, f: (loss.expand(16), r, f), r"shape \(16,\) for d_loss.*\.mean\(\)"),
    (lambda loss, r, f: loss, "3 values .*it returned a tensor of shape"),
    (lambda loss, r, f: None, "it returned a NoneType"),
])
def test_a_students_d_step_returning_the_wrong_thing_is_named(value, phrase):
    G, D = _models()
    with pytest.raises(TypeError, match=phrase):
        train_gan(G, D, _loader(), 1, "cpu", d_step_fn=_returns(value), **FAST)


def test_a_students_g_step_returning_the_wrong_thing_is_named():
    def my_g_step(D, G, opt_g, batch_size, latent_dim, device):
        return g_step(D, G, opt_g, batch_size, latent_dim, device), 0.0

    G, D = _models()
    with pytest.raises(TypeError, match="my_g_step must return one single-number tensor .g_loss.; it returned 2"):
        train_gan(G, D, _loader(), 1, "cpu", g_step_fn=my_g_step, **FAST)


def test_a_wgan_step_missing_statistics_is_named():
    def my_wgan_step(D, G, real, opt_d, opt_g, n_critic, lambda_gp, latent_dim):
        return {"d_loss": torch.tensor(0.0)}

    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8)
    with pytest.raises(TypeError, match="my_wgan_step must return a dict with the keys .* add"):
        train_wgan_gp(FlowerGenerator(latent_dim=8, width=4, image_size=32), Critic(width=4, image_size=32),
                      TensorLoader(images, batch_size=8), 1, "cpu", verbose=False, step_fn=my_wgan_step)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_a_gpu():
    G, D = _models()
    with pytest.raises(RuntimeError, match="no CUDA GPU .*get_device"):
        train_gan(G, D, _loader(), 1, "cuda", **FAST)


def test_a_device_that_does_not_exist():
    G, D = _models()
    with pytest.raises(ValueError, match="'cpu', 'cuda' or 'mps'"):
        train_gan(G, D, _loader(), 1, "gpu0", **FAST)


# ----------------------------------------------------------------------------- sampling

@pytest.mark.parametrize("n, error, phrase", [
    (True, TypeError, "a bool"), (2.5, TypeError, "whole number"), ("4", TypeError, "whole number"),
    (0, ValueError, "positive"), (-3, ValueError, "positive"),
    (10**8, MemoryError, "GiB .*Ask for fewer"),
])
def test_sample_rejects_bad_counts(n, error, phrase):
    with pytest.raises(error, match=phrase):
        sample(Generator(latent_dim=8, width=4), n)


def test_sample_accepts_numpy_integers_and_other_dtypes():
    G = Generator(latent_dim=8, width=4)
    reference = sample(G, 3, seed=0)
    assert sample(G, np.int64(3), seed=0).shape == (3, 1, 28, 28)
    x64 = sample(Generator(latent_dim=8, width=4).double(), 3, seed=0)
    assert x64.dtype == torch.float32
    G.load_state_dict(Generator(latent_dim=8, width=4).state_dict())
    try:
        x16 = sample(G.half(), 3, seed=0)
    except RuntimeError as exc:  # a device without float16 kernels: the message says what to do
        assert "G.float()" in str(exc)
    else:
        assert x16.dtype == torch.float32 and x16.shape == reference.shape


@pytest.mark.parametrize("model, error, phrase", [
    (Discriminator(width=4), AttributeError, "pass the generator G, not D"),
    (Critic(width=4, image_size=32), AttributeError, "pass the generator G, not D"),
    (nn.Linear(8, 784), AttributeError, "self.latent_dim = latent_dim"),
    ("fashion_dcgan", TypeError, r"G = load_generator\('fashion_dcgan'\)"),
    (42, TypeError, "an nn.Module"),
])
def test_sample_names_a_wrong_model(model, error, phrase):
    with pytest.raises(error, match=phrase):
        sample(model, 4)
