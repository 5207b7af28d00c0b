"""Interactive widgets: the latent-space explorer (lesson 3, lesson 5) and the live training dashboard.

For a class-conditional generator (lesson 6) the explorer adds a class picker, and :func:`plot_class_grid`
draws one row per class from the same latent vectors.

Widgets need a frontend (JupyterLab or Notebook with ipywidgets). Without one, :func:`latent_explorer`
and the live dashboard say so in one line (what is missing, how to get the interactive version) and
draw static figures instead: the latent walk (:func:`plot_latent_walk`; for a conditional G also the
class grid), the dashboard's figure once training ends. Whether a frontend will draw widgets cannot be
asked from the kernel, so :func:`widget_problem` guesses (its docstring lists the rules);
``COURSE_WIDGETS=1`` / ``=0`` overrides.
"""

from __future__ import annotations

import io
import operator
import os
import time

import matplotlib.pyplot as plt
import torch
from PIL import Image

from .data import FASHION_CLASSES
from .env import is_quick
from .sampling import is_conditional

WIDGETS_ENV = "COURSE_WIDGETS"
"""``COURSE_WIDGETS=1`` forces the interactive widgets, ``0`` the static figures (overrides the guess)."""


def widget_problem() -> str | None:
    """Why widgets would not show here, and how to get them; ``None`` when they should (lessons 3, 5).

    The guess, rule by rule (the first that applies decides):

    1. ``COURSE_WIDGETS`` set: ``1`` widgets, ``0`` static.
    2. ipywidgets not importable: static.
    3. Not a Jupyter kernel (a script, pytest, plain IPython): static.
    4. Google Colab: widgets need its custom widget manager; the lesson's setup cell enables it and sets
       ``COURSE_WIDGETS=1`` (rule 1), so reaching this rule on Colab means it did not run: static.
    5. A Kaggle batch run (``KAGGLE_KERNEL_RUN_TYPE=Batch``) has no frontend: static.
    6. A kernel started by a Jupyter server (JupyterLab, Notebook 7: ``JPY_SESSION_NAME`` is set), by
       VS Code (``VSCODE_*`` or ``PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING`` in its environment) or Kaggle's
       editor: widgets.
    7. Any other kernel (nbconvert, nbval, papermill, jupyter console): static.
    """
    forced = os.environ.get(WIDGETS_ENV, "").strip().lower()
    if forced:
        return None if forced in ("1", "true", "yes") else (
            f"{WIDGETS_ENV}={forced} turns widgets off (unset it, or %env {WIDGETS_ENV}=1, for the interactive one)")
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return "ipywidgets is not installed (pip install ipywidgets, then restart the kernel)"
    if not in_kernel():
        return "this is not a Jupyter notebook (open the lesson in JupyterLab: python3 course.py start)"
    return _frontend_problem(os.environ)


def _frontend_problem(env) -> str | None:
    import sys

    if "google.colab" in sys.modules:
        return "Colab's widget manager is off (run the lesson's first cell, the setup cell, then this cell again)"
    if env.get("KAGGLE_KERNEL_RUN_TYPE", "").lower() == "batch":
        return "a Kaggle batch run has no widget frontend (open the notebook in Kaggle's editor)"
    if env.get("JPY_SESSION_NAME") or env.get("KAGGLE_KERNEL_RUN_TYPE") or env.get(
            "PYDEVD_IPYTHON_COMPATIBLE_DEBUGGING") or any(k.startswith("VSCODE_") for k in env):
        return None
    return ("no widget frontend detected: this kernel was not started by JupyterLab, Jupyter Notebook, VS Code, "
            f"Colab or Kaggle (nbconvert? nbval?); if your editor shows widgets: %env {WIDGETS_ENV}=1")


def in_kernel() -> bool:
    """True inside a Jupyter kernel (IPython's ``ZMQInteractiveShell``), as opposed to a script (plumbing)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return type(get_ipython()).__name__ == "ZMQInteractiveShell"


def render_png(images: torch.Tensor, size: int = 224) -> bytes:
    """``(N, C, H, W)`` in [-1, 1] -> PNG bytes of a grid, upscaled to ``size`` pixels per image row."""
    from .plotting import to_image

    grid = to_image(images, nrow=max(1, int(len(images) ** 0.5)))  # (H', W', C) in [0, 1]
    array = (grid * 255).round().clip(0, 255).astype("uint8")
    img = Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array)
    scale = max(1, size // max(img.size))
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def latent_directions(latent_dim: int, k: int, seed: int = 0) -> torch.Tensor:
    """``k`` random orthonormal directions in latent space, shape ``(k, latent_dim)``."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(latent_dim, k, generator=g))
    return q.T.contiguous()


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation: stays at the typical norm of Gaussian z, unlike a straight line."""
    omega = torch.arccos(torch.clamp((a / a.norm()) @ (b / b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-6:
        return (1 - t) * a + t * b
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def latent_point(latent_dim: int, seed_a: int, seed_b: int, t: float, offsets, directions) -> torch.Tensor:
    """z = slerp(z_a, z_b, t) + sum_i offsets[i] * directions[i], shape ``(1, latent_dim)``."""
    z_a = torch.randn(latent_dim, generator=torch.Generator().manual_seed(seed_a))
    z_b = torch.randn(latent_dim, generator=torch.Generator().manual_seed(seed_b))
    z = slerp(z_a, z_b, t) + torch.as_tensor(offsets, dtype=torch.float32) @ directions
    return z.unsqueeze(0)


@torch.no_grad()
def _generate(G, z: torch.Tensor, labels=None) -> torch.Tensor:
    was_training = G.training
    G.eval()
    device = next(G.parameters()).device
    try:
        if labels is not None:  # a conditional G (lesson 6)
            return G(z.to(device), torch.as_tensor(labels, dtype=torch.long).to(device)).float().cpu()
        return G(z.to(device)).float().cpu()
    finally:
        G.train(was_training)


def class_names(G) -> list[str]:
    """A conditional G's class names: ``FASHION_CLASSES`` for 10 classes, else ``"class 0"``, ... (lesson 6)."""
    k = G.num_classes
    return list(FASHION_CLASSES) if k == len(FASHION_CLASSES) else [f"class {i}" for i in range(k)]


def _class_label(G, label) -> int | None:
    """``label`` checked against a conditional G's classes (an int in 0..K-1); ``None`` for an unconditional G."""
    if not is_conditional(G):
        return None
    wrong = TypeError(f"label must be a class id (an int, e.g. 7 for the 8th class), got {label!r}")
    if isinstance(label, bool):
        raise wrong
    try:
        label = operator.index(label)  # int, numpy integers, 0-dim integer tensors
    except TypeError:
        raise wrong from None
    if not 0 <= label < G.num_classes:
        raise ValueError(f"label must be a class id in 0..{G.num_classes - 1}, got {label}")
    return label


def _class_picker(G, label: int):
    """A Dropdown of G's classes, options ``(name, id)``, starting at ``label`` (lesson 6)."""
    import ipywidgets as w

    return w.Dropdown(options=list(zip(class_names(G), range(G.num_classes))), value=_class_label(G, label),
                      description="class")


def latent_explorer(G, n_directions: int = 4, seed_a: int = 0, seed_b: int = 1, size: int = 224, label: int = 0):
    """Sliders over ``n_directions`` random latent directions and a slerp slider between two seeds (lessons 3, 5).

    Every change re-renders ``G(z)`` live. Returns the ipywidgets box (display it, or make it the
    last line of a cell). For a conditional G (lesson 6) a class picker (starting at ``label``) sits
    above the sliders and ``G(z, y)`` is drawn for the picked class; ``label`` is ignored otherwise.
    Where widgets would not show (:func:`widget_problem`), prints one line saying why and how to get
    the sliders, and shows the static :func:`plot_latent_walk` instead (for a conditional G: the walk
    for class ``label``, then :func:`plot_class_grid`): displayed in a notebook (returns ``None``),
    returned as closed figures elsewhere (one figure; a tuple of two for a conditional G).
    """
    problem = widget_problem()
    if problem:
        return _static_explorer(G, problem, n_directions, seed_a, seed_b, label)
    import ipywidgets as w

    pickers = [_class_picker(G, label)] if is_conditional(G) else []  # lesson 6: above the sliders
    directions = latent_directions(G.latent_dim, n_directions)
    sliders = [w.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.25, description=f"direction {i + 1}",
                             continuous_update=True) for i in range(n_directions)]
    t = w.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="seed a → b")
    a, b = w.IntText(value=seed_a, description="seed a"), w.IntText(value=seed_b, description="seed b")
    image = w.Image(format="png", width=size, height=size)
    image.add_class("latent-explorer-image")

    def update(_change=None):
        z = latent_point(G.latent_dim, a.value, b.value, t.value, [s.value for s in sliders], directions)
        y = torch.tensor([pickers[0].value], dtype=torch.long) if pickers else None  # (1,) the picked class
        image.value = render_png(_generate(G, z, y), size)

    for control in (*pickers, *sliders, t, a, b):
        control.observe(update, names="value")
    update()
    return w.HBox([image, w.VBox([*pickers, a, b, t, *sliders])])


def _static_explorer(G, problem: str, n_directions: int, seed_a: int, seed_b: int, label: int):
    """The explorer without a widget frontend: one line saying why, then the static figures."""
    y = _class_label(G, label)
    what = "the static latent walk" + ("" if y is None else f" (class {class_names(G)[y]}) and the class grid")
    print(f"latent explorer: {problem}. Showing {what} instead.", flush=True)
    walk = show_static(plot_latent_walk(G, seed_a, seed_b, n_directions=n_directions, label=label))
    if y is None:
        return walk
    grid = show_static(plot_class_grid(G, seed=seed_a))
    return None if walk is None else (walk, grid)


def show_static(fig):
    """Display ``fig`` once in a notebook and return ``None``; elsewhere return it (closed either way) (plumbing)."""
    plt.close(fig)  # not shown a second time by the inline backend at the end of the cell
    if not in_kernel():
        return fig
    from IPython.display import display

    display(fig)
    return None


def _draw_row(axes, images: torch.Tensor, title: str) -> None:
    """``images`` ``(N, C, H, W)`` in [-1, 1] into a row of ``N`` axes, ``title`` on the first."""
    for ax, img in zip(axes, images):
        ax.imshow(((img.permute(1, 2, 0) + 1) / 2).clamp(0, 1).squeeze(-1).numpy(), cmap="gray")
        ax.axis("off")
    axes[0].set_title(title, fontsize=8, loc="left")


def plot_latent_walk(G, seed_a: int = 0, seed_b: int = 1, steps: int = 10, n_directions: int = 2, label: int = 0):
    """The static version of the explorer: a slerp from seed a to b, and walks along two directions (lessons 3, 5).

    For a conditional G (lesson 6) every image is drawn as class ``label``; ``label`` is ignored otherwise.
    """
    y = _class_label(G, label)
    labels = None if y is None else torch.full((steps,), y, dtype=torch.long)  # (steps,)
    directions = latent_directions(G.latent_dim, n_directions)
    ts = torch.linspace(0, 1, steps).tolist()
    offsets = torch.linspace(-3, 3, steps).tolist()
    fig, axes = plt.subplots(1 + n_directions, steps, figsize=(steps * 1.1, 1.2 * (1 + n_directions)))
    rows = [[latent_point(G.latent_dim, seed_a, seed_b, t, [0.0] * n_directions, directions) for t in ts]]
    for i in range(n_directions):
        rows.append([latent_point(G.latent_dim, seed_a, seed_a, 0.0,
                                  [o if j == i else 0.0 for j in range(n_directions)], directions) for o in offsets])
    for r, row in enumerate(rows):
        images = _generate(G, torch.cat(row), labels)  # (steps, C, H, W)
        _draw_row(axes[r], images, "seed a → b" if r == 0 else f"direction {r}")
    if y is not None:
        fig.suptitle(f"class: {class_names(G)[y]}", fontsize=9)
    fig.tight_layout()
    return fig


def plot_class_grid(G, per_class: int = 8, seed: int = 0):
    """A conditional G's class-by-latent grid (lesson 6): one row per class, the same ``per_class`` z in every row.

    z: ``torch.randn(per_class, latent_dim)`` from ``torch.Generator().manual_seed(seed)``; row k draws
    ``G(z, k)``, so down a column only the class changes. Row titles are the class names. Returns the figure.
    """
    if not is_conditional(G):
        raise TypeError(f"plot_class_grid needs a conditional generator G(z, y) with an int num_classes "
                        f"(lesson 6); {type(G).__name__} has none: use plot_latent_walk(G)")
    names = class_names(G)
    z = torch.randn(per_class, G.latent_dim, generator=torch.Generator().manual_seed(seed))  # (per_class, latent_dim)
    labels = torch.arange(len(names)).repeat_interleave(per_class)  # (K * per_class,): row-constant
    images = _generate(G, z.repeat(len(names), 1), labels)  # (K * per_class, C, H, W)
    fig, axes = plt.subplots(len(names), per_class, figsize=(per_class * 1.1, 1.2 * len(names)), squeeze=False)
    for k, name in enumerate(names):
        _draw_row(axes[k], images[k * per_class:(k + 1) * per_class], name)
    fig.tight_layout()
    return fig


def dashboard_enabled(setting="auto") -> bool:
    """The dashboard runs in a Jupyter kernel outside quick mode (CI, grading) (lessons 3-5).

    ``COURSE_DASHBOARD=1``/``0`` overrides. Live (redrawn) where widgets show, else drawn once at the end.
    """
    env = os.environ.get("COURSE_DASHBOARD")
    if env is not None:
        return env.strip().lower() not in ("0", "false", "no", "")
    if setting != "auto":
        return bool(setting)
    return in_kernel() and not is_quick()


class LiveDashboard:
    """One output area, redrawn in place at most every ``every_s`` seconds during training (lessons 3-5).

    Where widgets would not show (:func:`widget_problem`), it says so in one line when training starts
    and draws its figure once, when training ends.
    """

    def __init__(self, G, fixed_z, keys=("d_loss", "g_loss"), every_s: float = 5.0, labels=None):
        from IPython.display import display

        self.G, self.keys, self.every_s = G, keys, every_s
        # unconditional: 16 samples; conditional (lesson 6): every sample, one row per class
        self.fixed_z, self.labels = (fixed_z[:16], None) if labels is None else (fixed_z, labels)
        self.nrow = None if labels is None else int((labels == labels[0]).sum())
        self.out, self.last, self.problem = None, 0.0, widget_problem()
        if self.problem:
            print(f"live dashboard: {self.problem}. The losses and samples are drawn once, when training ends.",
                  flush=True)
            return
        import ipywidgets as w

        self.out = w.Output()
        display(self.out)

    def __call__(self, history: dict, force: bool = False) -> None:
        now = time.monotonic()
        if not force and (self.out is None or now - self.last < self.every_s):
            return
        self.last = now
        fig = self.figure(history)
        from IPython.display import Image as PNG
        from IPython.display import display

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)  # explicit PNG: works with any matplotlib backend
        plt.close(fig)
        if self.out is None:  # no widget frontend: the static figure, once
            display(PNG(data=buffer.getvalue()))
            return
        with self.out:
            self.out.clear_output(wait=True)
            display(PNG(data=buffer.getvalue()))

    def figure(self, history: dict):
        from .plotting import show_grid
        from .smoothing import smooth

        fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
        for key in self.keys:
            axes[0].plot(smooth(history[key], 50), label=key)
        axes[0].set(title=f"losses (epoch {history['epochs'] + 1})", xlabel="step")
        axes[0].legend()
        for key in ("d_real", "d_fake"):
            if history.get(key):
                axes[1].plot(smooth(history[key], 50), label={"d_real": "D(real)", "d_fake": "D(fake)"}[key])
        axes[1].set(title="D outputs", xlabel="step")
        axes[1].legend()
        title = "samples from fixed noise" + ("" if self.labels is None else ": one row per class")
        show_grid(_generate(self.G, self.fixed_z, self.labels), title=title, ax=axes[2], nrow=self.nrow)
        fig.tight_layout()
        return fig
