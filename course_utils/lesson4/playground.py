"""The stability playground of lesson 4: pick a failure and fixes, train, compare with the last run.

Widgets choose the settings; :func:`playground_settings` turns them into ``train_stable_gan``
arguments (pure, tested); each run is drawn next to the previous one with the same diagnostics
the lesson uses (D outputs, G's gradient norm, modes covered, the samples, the health report).
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from ..lesson2.ring import plot_ring_samples, ring_eval_fn, toy_models
from .diagnostics import comparison_table, plot_traces
from .stability import train_stable_gan

BASELINE = "baseline (no failure)"


def playground_settings(base: dict, *, non_saturating=False, label_smoothing=0.0, instance_noise=0.0,
                        lr_d_scale=1.0, d_every=1, d_steps=1, dropout=0.0, spectral_norm=False):
    """``(train_stable_gan kwargs, D options)`` for a failure's settings ``base`` plus the chosen fixes."""
    if not isinstance(base, dict):
        raise TypeError(f"base must be a dict of train_stable_gan settings (e.g. the lesson's `dominance`), "
                        f"got {type(base).__name__}")
    settings = dict(base)
    if non_saturating:
        settings["g_loss"] = "non_saturating"
    settings["lr_d"] = settings.get("lr_d", settings.get("lr_g", 2e-4)) * lr_d_scale  # relative to the failure's
    settings.update(label_smoothing=label_smoothing, instance_noise=instance_noise, d_every=d_every,
                    d_steps=d_steps)
    return settings, dict(dropout=dropout, spectral_norm=spectral_norm)


def describe(name: str, base: dict, settings: dict, d_options: dict) -> str:
    """The run's name: the failure and the settings changed from it."""
    changed = {k: v for k, v in {**settings, **d_options}.items() if base.get(k) != v and v not in
               (0, 0.0, 1, False, None)}
    return name + (": " + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in changed.items()) if changed else "")


def stability_playground(loader, centers, failures: dict, latent_dim: int = 8, ring_std: float = 0.05,
                         seed: int = 0, device="cpu"):
    """Widgets to run the lesson-4 toy GAN with any failure and fixes; shows this run beside the last.

    ``failures`` maps a name to the failure's ``train_stable_gan`` settings: the lesson's settings cell
    is their one source (a baseline with the defaults is added).
    """
    import ipywidgets as w

    failures = {**failures, BASELINE: {}}
    failure = w.Dropdown(options=list(failures), description="failure", layout=w.Layout(width="420px"))
    ns = w.Checkbox(description="non-saturating G loss")
    smooth = w.FloatSlider(0.0, min=0.0, max=0.3, step=0.05, description="label smooth")
    noise = w.FloatSlider(0.0, min=0.0, max=0.3, step=0.05, description="inst. noise")
    lr_scale = w.FloatLogSlider(1.0, base=10, min=-1.5, max=0.5, step=0.25, description="lr_d ×")
    d_every = w.IntSlider(1, min=1, max=4, description="D every N")
    d_steps = w.IntSlider(1, min=1, max=4, description="D steps")
    dropout = w.FloatSlider(0.0, min=0.0, max=0.5, step=0.1, description="D dropout")
    sn = w.Checkbox(description="spectral norm in D")
    epochs = w.IntSlider(10, min=1, max=50, description="epochs")
    button, out = w.Button(description="Train", button_style="primary"), w.Output()
    state = {"previous": None, "shown": {}}  # the last run (name, history) and what is on screen

    def train(_=None):
        base = failures[failure.value]
        settings, d_options = playground_settings(
            base, non_saturating=ns.value, label_smoothing=smooth.value, instance_noise=noise.value,
            lr_d_scale=lr_scale.value, d_every=d_every.value, d_steps=d_steps.value, dropout=dropout.value,
            spectral_norm=sn.value)
        name = describe(failure.value, base, settings, d_options)
        G, D = toy_models(seed=seed, latent_dim=latent_dim, **d_options)
        with out:
            out.clear_output(wait=True)
            history = train_stable_gan(G.to(device), D.to(device), loader, epochs.value, device, seed=seed,
                                       eval_fn=ring_eval_fn(centers, ring_std), n_samples=1000, desc=name,
                                       **settings)
            show = {f"previous: {state['previous'][0]}": state["previous"][1]} if state["previous"] else {}
            show[f"this run: {name}"] = history
            state["previous"], state["shown"] = (name, history), show
            comparison_table(show)
            plot_traces(show, keys=("d_real", "d_fake", "g_grad", "modes"))
            plot_ring_samples(show, centers)
            plt.show()

    button.on_click(train)
    controls = w.VBox([failure, w.HBox([w.VBox([ns, smooth, noise, lr_scale, epochs]),
                                        w.VBox([d_every, d_steps, dropout, sn, button])])])
    box = w.VBox([controls, out])
    box.train, box.state = train, state  # for tests and scripted use
    return box
