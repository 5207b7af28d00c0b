"""The trainer kit: one vocabulary and one resume rule in every trainer (lessons 3, 4, 5 and 6)."""

import pytest
import torch

from course_utils import Discriminator, Generator, TensorLoader, load_checkpoint, train_gan
from course_utils.kit.trainer import adam_settings
from course_utils.lesson2.ring import ring_loader, toy_models
from course_utils.lesson4.stability import train_stable_gan
from course_utils.lesson5.wgan import Critic, FlowerGenerator, train_wgan_gp
from course_utils.lesson6.conditional import ConditionalGenerator, ProjectionDiscriminator, train_conditional_gan

TRAINERS = ["train_gan", "train_wgan_gp", "train_stable_gan", "train_conditional_gan"]


def _gan(tmp_path, name, epochs, **kw):
    torch.manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    G, D = Generator(latent_dim=8, width=4), Discriminator(width=4)
    path = tmp_path / name
    train_gan(G, D, TensorLoader(images, batch_size=16), epochs, "cpu", verbose=False, dashboard=False,
              checkpoint_every=1, n_samples=4, checkpoint_path=path, **kw)
    return path


def _wgan(tmp_path, name, epochs, **kw):
    torch.manual_seed(0)
    images = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    G, D = FlowerGenerator(latent_dim=8, width=4, image_size=32), Critic(width=4, image_size=32)
    path = tmp_path / name
    train_wgan_gp(G, D, TensorLoader(images, batch_size=8), epochs, "cpu", verbose=False, dashboard=False,
                  checkpoint_every=1, n_samples=4, checkpoint_path=path, **kw)
    return path


def _cgan(tmp_path, name, epochs, **kw):
    torch.manual_seed(0)
    images = torch.randint(0, 256, (64, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(64) % 10
    G, D = ConditionalGenerator(latent_dim=8, width=4, embed_dim=4), ProjectionDiscriminator(width=4)
    path = tmp_path / name
    train_conditional_gan(G, D, TensorLoader(images, labels, batch_size=16), epochs, "cpu", verbose=False,
                          dashboard=False, checkpoint_every=1, per_class=1, checkpoint_path=path, **kw)
    return path


def _stable(tmp_path, name, epochs, **kw):
    G, D = toy_models(seed=0)
    path = tmp_path / name
    train_stable_gan(G, D, ring_loader(n=512, batch_size=128, seed=0), epochs, "cpu", verbose=False,
                     checkpoint_every=1, checkpoint_path=str(path), **kw)
    return path


@pytest.mark.parametrize("train", [_gan, _wgan, _stable, _cgan], ids=TRAINERS)
def test_resume_applies_this_calls_settings_and_keeps_the_optimizer_state(tmp_path, train):
    first = train(tmp_path, "first.pt", 1, lr_g=2e-4, lr_d=2e-4, beta1=0.5)
    before = load_checkpoint(first)
    second = train(tmp_path, "second.pt", 1, lr_g=5e-4, lr_d=1e-3, beta1=0.9, resume_from=first)
    after = load_checkpoint(second)
    groups_g, groups_d = after["opt_g"]["param_groups"][0], after["opt_d"]["param_groups"][0]
    assert groups_g["lr"] == 5e-4 and groups_d["lr"] == 1e-3  # this call's settings, not the checkpoint's
    assert groups_d["betas"][0] == 0.9
    steps = [s["step"] for s in before["opt_d"]["state"].values()]
    steps_after = [s["step"] for s in after["opt_d"]["state"].values()]
    assert all(b > a for a, b in zip(steps, steps_after))  # the moments and step counts were kept
    history = after["history"]
    assert history["epochs"] == 2 and history["resumed"][-1]["lr_d"] == 1e-3 and history["resumed"][-1]["epoch"] == 1


@pytest.mark.parametrize("train", [_gan, _wgan, _stable, _cgan], ids=TRAINERS)
def test_lr_d_defaults_to_lr_g(tmp_path, train):
    state = load_checkpoint(train(tmp_path, "c.pt", 1, lr_g=3e-4))
    assert state["opt_d"]["param_groups"][0]["lr"] == state["opt_g"]["param_groups"][0]["lr"] == 3e-4
    assert state["history"]["settings"]["lr_d"] == 3e-4


def test_old_names_still_work_with_a_warning(tmp_path):
    with pytest.warns(FutureWarning, match="learning_rate=.... is the old name: use lr_g and lr_d"):
        state = load_checkpoint(_gan(tmp_path, "a.pt", 1, learning_rate=1e-3))
    assert state["opt_d"]["param_groups"][0]["lr"] == 1e-3 and state["opt_g"]["param_groups"][0]["lr"] == 1e-3
    with pytest.warns(FutureWarning, match="betas=.... is the old name"):
        state = load_checkpoint(_wgan(tmp_path, "b.pt", 1, lr=3e-4, betas=(0.0, 0.99)))
    assert state["opt_g"]["param_groups"][0]["betas"] == (0.0, 0.99)
    assert state["opt_g"]["param_groups"][0]["lr"] == 3e-4


def test_adam_settings_names_an_unknown_setting():
    with pytest.raises(TypeError, match="unexpected setting 'lr_x'"):
        adam_settings("train_gan", 2e-4, None, 0.5, 0.999, lr_x=1.0)
    assert adam_settings("t", 1e-4, None, 0.0, 0.9) == {"lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0, "beta2": 0.9}


def test_a_gpu_checkpoint_with_capturable_adam_resumes_on_a_cpu(tmp_path):
    """A run whose step was a CUDA graph saves Adam with capturable=True; resuming off the GPU turns it off."""
    from course_utils.kit.checkpoints import save_checkpoint

    first = _gan(tmp_path, "first.pt", 1)
    state = load_checkpoint(first)
    for opt in ("opt_g", "opt_d"):
        for group in state[opt]["param_groups"]:
            group["capturable"] = True  # as course_utils.kit.graphs.make_capturable leaves it on a GPU
    save_checkpoint(tmp_path / "gpu.pt", **{k: v for k, v in state.items()})
    after = load_checkpoint(_gan(tmp_path, "second.pt", 1, resume_from=tmp_path / "gpu.pt"))
    assert after["history"]["epochs"] == 2
    assert not after["opt_g"]["param_groups"][0]["capturable"] and not after["opt_d"]["param_groups"][0]["capturable"]


class _FakeClock:
    """A clock that each training step moves by ``per_step`` seconds."""

    def __init__(self, per_step: float):
        self.now, self.per_step = 0.0, per_step

    def __call__(self):
        return self.now


def test_max_minutes_trains_whole_epochs_while_the_next_fits_and_says_where_it_stopped(monkeypatch, capsys):
    from course_utils.kit import loop

    clock = _FakeClock(per_step=10.0)
    monkeypatch.setattr(loop, "CLOCK", clock)

    def step(real):
        clock.now += clock.per_step  # 4 batches per epoch: 40 s of "training" per epoch
        return {"d_loss": torch.tensor(0.5)}

    loader = TensorLoader(torch.zeros(32, 1, 28, 28, dtype=torch.uint8), batch_size=8)
    history = loop.fit(step, loader, 10, loop.new_history(["d_loss"]), progress=False, max_minutes=2.5)
    assert history["epochs"] == 3  # 3 x 40 s = 120 s; a 4th would end at 160 s > 150 s
    assert history["time_budget"]["epochs"] == 3 and "max_minutes=2.5" in history["time_budget"]["reason"]
    assert len(history["d_loss"]) == 12 and not history["interrupted"]
    assert "Time budget" in capsys.readouterr().out
    clock.now = 0.0
    plenty = loop.fit(step, loader, 2, loop.new_history(["d_loss"]), progress=False, max_minutes=60)
    assert plenty["epochs"] == 2 and "time_budget" not in plenty  # num_epochs still caps it
    with pytest.raises(ValueError, match="max_minutes"):
        loop.fit(step, loader, 1, loop.new_history(["d_loss"]), progress=False, max_minutes=0)


def test_the_progress_bar_of_a_budgeted_run_ends_where_the_budget_will_stop_it(monkeypatch):
    from course_utils.kit import loop

    clock, bars = _FakeClock(per_step=10.0), []
    monkeypatch.setattr(loop, "CLOCK", clock)

    class Bar:
        def __init__(self, total, desc):
            self.total, self.desc, self.totals = total, desc, []
            bars.append(self)

        def update(self, n):
            pass

        def set_postfix(self, **kwargs):
            pass

        def refresh(self):
            self.totals.append(self.total)

        def close(self):
            pass

    monkeypatch.setattr(loop, "_progress", lambda total, desc, enabled: Bar(total, desc))

    def step(real):
        clock.now += clock.per_step  # 40 s an epoch
        return {"d_loss": torch.tensor(0.5)}

    loader = TensorLoader(torch.zeros(32, 1, 28, 28, dtype=torch.uint8), batch_size=8)
    history = loop.fit(step, loader, 10, loop.new_history(["d_loss"]), max_minutes=2.5)
    bar = bars[0]
    assert bar.desc == "training (budget 2.5 min)" and history["epochs"] == 3
    assert bar.totals == [3 * 4] * 3  # after each epoch: 3 epochs (12 steps) fit 150 s, not the 10 asked for
    assert loop._epochs_in_budget(100.0, 2, 50, 20) == 24 and loop._epochs_in_budget(100.0, 2, 5, 20) == 5


def test_train_wgan_gp_passes_its_time_budget_to_the_loop(monkeypatch):
    from course_utils.kit import loop

    seen = {}
    real_fit = loop.fit

    def spy(*args, **kwargs):
        seen["max_minutes"] = kwargs.get("max_minutes")
        return real_fit(*args, **kwargs)

    monkeypatch.setattr("course_utils.kit.trainer.fit", spy)
    loader = TensorLoader(torch.zeros(40, 3, 32, 32, dtype=torch.uint8), batch_size=8)
    train_wgan_gp(FlowerGenerator(latent_dim=8, width=4, image_size=32), Critic(width=4, image_size=32), loader, 1,
                  "cpu", verbose=False, max_minutes=5)
    assert seen["max_minutes"] == 5


# ----------------------------------------------------------------------------- one vocabulary in every trainer

TRAINERS = [train_gan, train_stable_gan, train_wgan_gp, train_conditional_gan]
VOCABULARY = ("G", "D", "loader", "num_epochs", "device", "lr_g", "lr_d", "beta1", "beta2", "checkpoint_every",
              "sample_every", "max_minutes", "checkpoint_path", "resume_from", "seed", "amp", "eval_fn",
              "verbose", "dashboard", "log_every")


@pytest.mark.parametrize("trainer", TRAINERS, ids=lambda t: t.__name__)
def test_every_trainer_takes_the_same_names(trainer):
    import inspect

    names = list(inspect.signature(trainer).parameters)
    assert names[:5] == ["G", "D", "loader", "num_epochs", "device"]
    assert not [n for n in VOCABULARY if n not in names], f"{trainer.__name__} lacks part of the vocabulary"
    assert not {"generator", "discriminator", "train_loader", "checkpoint_interval"} & set(names)


def _tiny_gan(seed=0):
    torch.manual_seed(seed)
    return Generator(8, width=4), Discriminator(width=4)


def test_old_keyword_names_still_work_with_a_warning_and_give_the_same_run():
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    G1, D1 = _tiny_gan()
    same = dict(verbose=False, dashboard=False, n_samples=4, amp=False, channels_last=False)  # no speed choice
    new = train_gan(G1, D1, TensorLoader(images, batch_size=8, seed=0), 2, "cpu", checkpoint_every=2, **same)
    G2, D2 = _tiny_gan()
    with pytest.warns(FutureWarning, match=r"train_gan\(checkpoint_interval=\.\.\.\) is the old name: use "
                                           r"checkpoint_every and sample_every"):
        old = train_gan(generator=G2, discriminator=D2, train_loader=TensorLoader(images, batch_size=8, seed=0),
                        num_epochs=2, device="cpu", checkpoint_interval=2, **same)
    assert old["d_loss"] == new["d_loss"]
    assert [s["epoch"] for s in old["samples"]] == [s["epoch"] for s in new["samples"]] == [2]


def test_an_old_name_beside_its_new_name_is_refused():
    G, D = _tiny_gan()
    loader = TensorLoader(torch.zeros(8, 1, 28, 28, dtype=torch.uint8), batch_size=8)
    with pytest.raises(TypeError, match="pass only checkpoint_every"):
        train_gan(G, D, loader, 1, "cpu", checkpoint_every=1, checkpoint_interval=1, verbose=False)


def test_sample_every_and_checkpoint_every_are_separate(tmp_path):
    G, D = _tiny_gan()
    loader = TensorLoader(torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8), batch_size=8)
    history = train_gan(G, D, loader, 4, "cpu", checkpoint_every=4, sample_every=1, verbose=False, dashboard=False,
                        n_samples=4, checkpoint_path=tmp_path / "c.pt")
    assert [s["epoch"] for s in history["samples"]] == [1, 2, 3, 4]
    assert load_checkpoint(tmp_path / "c.pt")["history"]["epochs"] == 4


def test_train_stable_gan_goes_through_the_kits_fit_path(monkeypatch):
    seen = []
    from course_utils.kit import trainer as kit_trainer

    real = kit_trainer.fit_with_dashboard
    monkeypatch.setattr("course_utils.lesson4.stability.fit_with_dashboard",
                        lambda *a, **kw: seen.append(kw) or real(*a, **kw))
    G, D = toy_models(seed=0, latent_dim=2, hidden=8)
    train_stable_gan(G, D, ring_loader(n=64, batch_size=32), 1, "cpu", verbose=False, max_minutes=5)
    assert seen and seen[0]["max_minutes"] == 5
