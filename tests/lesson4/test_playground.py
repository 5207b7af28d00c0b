import pytest
import torch

from course_utils.lesson4.playground import describe, playground_settings

FAILURES = {"D dominance": dict(lr_g=2e-4, lr_d=2e-3, g_loss="saturating"), "mode collapse": dict(lr_g=1e-3),
            "oscillation": dict(lr_g=5e-3, lr_d=5e-3, beta1=0.9)}


def test_settings_apply_each_fix():
    failure = "D dominance"
    settings, d_options = playground_settings(FAILURES[failure])
    assert settings["g_loss"] == "saturating" and settings["lr_d"] == pytest.approx(2e-3)
    settings, d_options = playground_settings(FAILURES[failure], non_saturating=True, label_smoothing=0.1,
                                              instance_noise=0.2, lr_d_scale=0.1, d_every=3, d_steps=1, dropout=0.3,
                                              spectral_norm=True)
    assert settings["g_loss"] == "non_saturating" and settings["lr_d"] == pytest.approx(2e-4)
    assert settings["label_smoothing"] == 0.1 and settings["instance_noise"] == 0.2 and settings["d_every"] == 3
    assert d_options == {"dropout": 0.3, "spectral_norm": True}
    assert "d_every=3" in describe(failure, FAILURES[failure], settings, d_options)
    with pytest.raises(TypeError, match="dict of train_stable_gan settings"):
        playground_settings("nope")


def test_every_failure_is_runnable_settings():
    for failure in FAILURES.values():
        settings, _ = playground_settings(failure)
        assert settings["lr_d"] == failure.get("lr_d", failure["lr_g"])  # lr_d follows lr_g when not given


def test_playground_trains_and_keeps_the_previous_run(monkeypatch):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    from course_utils.lesson2.ring import ring_centers, ring_loader
    from course_utils.lesson4.playground import stability_playground

    torch.set_num_threads(1)
    box = stability_playground(ring_loader(n=512, batch_size=128), ring_centers(), FAILURES)
    controls = box.children[0]
    controls.children[1].children[0].children[4].value = 1  # epochs
    box.train()
    assert list(box.state["shown"]) == ["this run: D dominance"]
    controls.children[1].children[0].children[0].value = True  # non-saturating G loss
    box.train()
    shown = list(box.state["shown"])
    assert shown == ["previous: D dominance", "this run: D dominance: g_loss=non_saturating"]
    assert box.state["previous"][1]["epochs"] == 1
