import pytest
import torch

from course_utils.playground import FAILURES, describe, playground_settings


def test_settings_apply_each_fix():
    failure = "D dominance (saturating G loss, lr_d 10x)"
    settings, d_options = playground_settings(failure)
    assert settings["g_loss"] == "saturating" and settings["lr_d"] == pytest.approx(2e-3)
    settings, d_options = playground_settings(failure, non_saturating=True, label_smoothing=0.1, instance_noise=0.2,
                                              lr_d_scale=0.1, d_every=3, d_steps=1, dropout=0.3, spectral_norm=True)
    assert settings["g_loss"] == "non_saturating" and settings["lr_d"] == pytest.approx(2e-4)
    assert settings["label_smoothing"] == 0.1 and settings["instance_noise"] == 0.2 and settings["d_every"] == 3
    assert d_options == {"dropout": 0.3, "spectral_norm": True}
    assert "d_every=3" in describe(failure, settings, d_options)
    with pytest.raises(ValueError, match="unknown failure"):
        playground_settings("nope")


def test_every_failure_is_runnable_settings():
    for failure in FAILURES:
        settings, _ = playground_settings(failure)
        assert settings["lr_d"] > 0


def test_playground_trains_and_keeps_the_previous_run(monkeypatch):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    from course_utils.playground import stability_playground
    from course_utils.toy import ring_centers, ring_loader

    torch.set_num_threads(1)
    box = stability_playground(ring_loader(n=512, batch_size=128), ring_centers())
    controls = box.children[0]
    controls.children[1].children[0].children[4].value = 1  # epochs
    box.train()
    assert list(box.state["shown"]) == ["this run: D dominance"]
    controls.children[1].children[0].children[0].value = True  # non-saturating G loss
    box.train()
    shown = list(box.state["shown"])
    assert shown == ["previous: D dominance", "this run: D dominance: g_loss=non_saturating"]
    assert box.state["previous"][1]["epochs"] == 1
