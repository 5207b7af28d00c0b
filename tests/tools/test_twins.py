"""The reference code once: each solution-notebook definition that has a same-named twin in
``course_utils`` must behave exactly like it.

For every twin, the notebook's definition is cut out of its code cell (``ast.get_source_segment``) and
exec'd in a namespace holding the notebook's imports and its earlier twins; then both versions run on the
same seeded inputs. Modules: the same ``state_dict`` keys and shapes, then the library's weights loaded into
the notebook's, outputs compared in eval and train mode. Steps: identical model copies and optimisers,
two steps each (with stale gradients left on every parameter, as the other player's step leaves them), the
returned values and the resulting weights compared. Functions: called on the same seeded tensors.
"""

from __future__ import annotations

import ast
import copy
import json
import math
from functools import cache
from pathlib import Path

import pytest
import torch

import course_utils.lesson1.reference as l1
import course_utils.lesson2.reference as l2
import course_utils.lesson3.trainer as l3
import course_utils.lesson4.diagnostics as l4d
import course_utils.lesson4.stability as l4s
import course_utils.lesson5.wgan as l5
import course_utils.lesson6.conditional as l6
import course_utils.lesson7.latent as l7
import course_utils.lesson7.optimize as l7o
from course_utils.kit.checkpoints import load_history

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"

TWINS = {  # notebook -> (library module, names in notebook order)
    "01_generator.ipynb": [(l1, ["sample_latent", "FCGenerator", "Generator", "count_parameters"])],
    "02_discriminator.ipynb": [(l2, ["Discriminator", "discriminator_loss"])],
    "03_training_a_gan.ipynb": [(l3, ["generator_loss", "d_step", "g_step"])],
    "04_failure_modes_and_stability.ipynb": [(l4d, ["count_modes", "grad_norm", "diagnose"]),
                                             (l4s, ["smoothed_d_loss", "instance_noise"])],
    "05_wgan_gp_flowers.ipynb": [(l5, ["Critic", "gradient_penalty", "critic_loss", "wgan_generator_loss",
                                       "wgan_step"])],
    "06_conditional_gan.ipynb": [(l6, ["ConditionalGenerator", "ProjectionDiscriminator", "conditional_d_step",
                                       "conditional_g_step", "class_loss_d_step", "class_loss_g_step"])],
    "07_controllable_generation.ipynb": [(l7, ["interpolate", "truncated_sample", "find_direction"]),
                                         (l7o, ["steer", "invert"])],
}
LIBRARY = {(nb, name): module for nb, groups in TWINS.items() for module, names in groups for name in names}
PAIRS = sorted(LIBRARY)
ATOL = RTOL = 1e-6


# ----------------------------------------------------------------------------- the notebook's definitions

def _cell_tree(src: str) -> ast.Module:
    """Parse a code cell; IPython magics (``%``, ``!``) become blank lines so offsets stay put."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in src.split("\n")]
    return ast.parse("\n".join(lines))


@cache
def _notebook(nb: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """``(import statements, {name: source of its last top-level definition})`` of a notebook's code cells."""
    cells = json.loads((SOLUTIONS / nb).read_text())["cells"]
    imports, defs = [], {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        for node in _cell_tree(src).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(ast.get_source_segment(src, node))
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defs[node.name] = ast.get_source_segment(src, node)  # the last one wins, as in Jupyter
    return tuple(imports), defs


def notebook_source(nb: str, name: str) -> str:
    defs = _notebook(nb)[1]
    assert name in defs, f"{nb} defines no top-level {name}: the twin of {LIBRARY[nb, name].__name__}.{name} is gone"
    return defs[name]


def notebook_object(nb: str, name: str, source: str | None = None):
    """``name`` as the notebook defines it (``source``: a doctored definition to use instead)."""
    imports, _ = _notebook(nb)
    ns: dict = {"__name__": f"notebook_{nb.split('_')[0]}"}
    for line in imports:
        try:
            exec(line, ns)
        except Exception:  # an import the notebook can do without here
            pass
    sources = {n: notebook_source(nb, n) for _, names in TWINS[nb] for n in names}
    order = sorted(sources, key=list(_notebook(nb)[1]).index)  # as the notebook defines them
    for earlier in order[:order.index(name)]:
        exec(sources[earlier], ns)
    exec(source if source is not None else sources[name], ns)
    return ns[name]


# ----------------------------------------------------------------------------- comparing values

def compare(what: str, a, b) -> list[str]:
    """Differences between ``a`` (notebook) and ``b`` (library), recursively; [] when equal."""
    if isinstance(b, torch.Tensor):
        if not isinstance(a, torch.Tensor):
            return [f"{what}: notebook gives {type(a).__name__}, library a tensor"]
        if a.shape != b.shape:
            return [f"{what}: shape {tuple(a.shape)} (notebook) vs {tuple(b.shape)} (library)"]
        if a.dtype != b.dtype:
            return [f"{what}: dtype {a.dtype} (notebook) vs {b.dtype} (library)"]
        if a.is_floating_point():
            if not torch.allclose(a, b, atol=ATOL, rtol=RTOL, equal_nan=True):
                gap = (a - b).abs().nan_to_num(float("inf")).max().item()
                shown = f"{a.item():.6g} vs {b.item():.6g}" if a.numel() == 1 else f"max |diff| {gap:.3g}"
                return [f"{what}: values differ ({shown})"]
        elif not torch.equal(a, b):
            return [f"{what}: values differ"]
        return []
    if isinstance(b, dict):
        if not isinstance(a, dict) or set(a) != set(b):
            keys = sorted(a) if isinstance(a, dict) else type(a).__name__
            return [f"{what}: keys {keys} (notebook) vs {sorted(b)} (library)"]
        return [d for k in b for d in compare(f"{what}[{k!r}]", a[k], b[k])]
    if isinstance(b, (tuple, list)):
        if not isinstance(a, (tuple, list)) or len(a) != len(b):
            return [f"{what}: {a!r:.80} (notebook) vs a {type(b).__name__} of {len(b)} (library)"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in compare(f"{what}[{i}]", x, y)]
    if isinstance(b, float) and isinstance(a, (float, int)) and not isinstance(a, bool):
        close = math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
        return [] if close else [f"{what}: {a!r} (notebook) vs {b!r} (library)"]
    if type(a) is not type(b) or a != b:
        return [f"{what}: {a!r} (notebook) vs {b!r} (library)"]
    return []


def compare_state(what: str, a: torch.nn.Module, b: torch.nn.Module) -> list[str]:
    """The same state_dict keys and shapes."""
    sa, sb = a.state_dict(), b.state_dict()
    if set(sa) != set(sb):
        only_nb, only_lib = sorted(set(sa) - set(sb)), sorted(set(sb) - set(sa))
        return [f"{what}: state_dict keys differ: only in the notebook {only_nb}, only in the library {only_lib}"]
    shapes = [f"{what}: {k} has shape {tuple(sa[k].shape)} (notebook) vs {tuple(sb[k].shape)} (library)"
              for k in sb if sa[k].shape != sb[k].shape]
    return shapes


def call(fn, args, kwargs, seed: int):
    torch.manual_seed(seed)
    return fn(*args, **kwargs)


def seeded(seed: int, *shape) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def seeded_labels(seed: int, n: int, k: int = 10) -> torch.Tensor:
    return torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- probes: modules

def module_probe(configs, inputs):
    """Construct both with each config (kwargs both signatures take), then compare weights' layout and outputs.

    ``inputs(config) -> [(args, kwargs), ...]``: forward calls to compare.
    """
    def probe(nb_cls, lib_cls):
        diffs = []
        for config in configs:
            tag = f"{lib_cls.__name__}(**{config})"
            torch.manual_seed(0)
            a = nb_cls(**config)
            torch.manual_seed(0)
            b = lib_cls(**config)
            layout = compare_state(tag, a, b)
            if layout:
                diffs += layout
                continue
            a.load_state_dict(b.state_dict())
            for mode in ("eval", "train"):
                a.train(mode == "train")
                b.train(mode == "train")
                for i, (args, kwargs) in enumerate(inputs(config)):
                    shown = ", ".join([*(f"{tuple(x.shape)}" for x in args), *(f"{k}={v}" for k, v in kwargs.items())])
                    with torch.no_grad():
                        diffs += compare(f"{tag}.{mode}()({shown}) call {i}", call(a, args, kwargs, 1),
                                         call(b, args, kwargs, 1))
            diffs += [d.replace(": values", " after the train() forwards: values") for k, v in b.state_dict().items()
                      for d in compare(f"{tag} state {k}", a.state_dict()[k], v)]  # BatchNorm running stats
        return diffs
    return probe


def _images(channels, size, n=4):
    return lambda config, seed=3: seeded(seed, n, channels, size, size).clamp(-1, 1)


def _latent(n=4):
    return lambda config: [((seeded(3, n, config.get("latent_dim", 100)),), {})]


def _conditional_g_inputs(config):
    z = seeded(3, 4, config.get("latent_dim", 100))
    return (z, seeded_labels(4, 4, config.get("num_classes", 10))), {}


def _conditional_d_inputs(config, heads=False):
    x, y = _images(1, 28)(config), seeded_labels(4, 4, config.get("num_classes", 10))
    calls = [((x, y), {})]
    if heads:
        calls += [((x, y), {"with_class_logits": False}), ((x, y), {"with_class_logits": True})]
    return calls


# ----------------------------------------------------------------------------- probes: functions

def function_probe(cases):
    """``cases: [(label, args, kwargs), ...]``: both called with a fresh seed per case."""
    def probe(nb_fn, lib_fn):
        return [d for i, (label, args, kwargs) in enumerate(cases())
                for d in compare(f"{lib_fn.__name__}({label})", call(nb_fn, args, kwargs, 10 + i),
                                 call(lib_fn, args, kwargs, 10 + i))]
    return probe


def _logit_cases():
    return [("seeded (8, 1)", seeded(5, 8, 1), seeded(6, 8, 1)),
            ("large (4, 1)", torch.tensor([[30.0], [-30.0], [0.0], [8.0]]),
             torch.tensor([[-25.0], [40.0], [0.0], [-9.0]]))]


def _two_logits(extra=()):
    return lambda: [(f"{label}{', ' if extra else ''}{', '.join(map(repr, e))}", (r, f, *e), {})
                    for label, r, f in _logit_cases() for e in (extra or [()])]


def _ring(n_modes=8, radius=2.0):
    angles = torch.arange(n_modes) * (2 * math.pi / n_modes)
    return torch.stack([radius * angles.cos(), radius * angles.sin()], dim=1)  # (n_modes, 2)


def _count_modes_cases():
    centers, g = _ring(), torch.Generator().manual_seed(7)
    near = lambda modes, per: torch.cat([centers[m] + 0.05 * torch.randn(per, 2, generator=g) for m in modes])
    junk = 3 * torch.randn(40, 2, generator=g)
    far = torch.full((2, 2), 9.0)  # near no mode
    exact = torch.cat([near(range(7), 11), centers[7:].repeat(2, 1), far[:1]])  # 80 points: mode 7 holds 2.0 =
    below = torch.cat([near(range(7), 11), centers[7:], far])  # 20% of a fair share; then one point below it
    return [("all 8 modes", (near(range(8), 25), centers, 0.15), {}),
            ("3 modes", (near([0, 3, 5], 30), centers, 0.15), {}),
            ("modes plus junk", (torch.cat([near(range(5), 20), junk]), centers, 0.15), {}),
            ("a mode at exactly the share", (exact, centers, 0.15), {}),
            ("a mode just below the share", (below, centers, 0.15), {}),
            ("points on the radius", (centers + torch.tensor([0.1, 0.0]), centers, 0.1), {}),
            ("nothing near", (junk + 20, centers, 0.15), {})]


def _grad_norm_cases():
    torch.manual_seed(0)
    model = l1.Generator(latent_dim=8, width=4)
    fresh = copy.deepcopy(model)
    model(seeded(1, 4, 8)).pow(2).mean().backward()
    model.project[0].weight.grad = None  # a parameter without a gradient
    return [("a model with gradients", (model,), {}), ("a model without any", (fresh,), {})]


def _diagnose_cases():
    return [(label, (load_history(name),), {}) for label, name in l4d.RECORDED.items()]


def _count_parameters_cases():
    torch.manual_seed(0)
    g = l1.Generator(latent_dim=8, width=4)
    frozen = copy.deepcopy(g)
    frozen.project.requires_grad_(False)
    return [("Generator", (g,), {}), ("Generator, project frozen", (frozen,), {}),
            ("Discriminator", (l2.Discriminator(width=4),), {})]


def _gradient_penalty_probe(nb_fn, lib_fn):
    """The penalty's value and the gradient it sends to D's weights (it must backpropagate)."""
    torch.manual_seed(0)
    D = l5.Critic(width=8, image_size=32)
    real, fake = _images(3, 32)({}, 1), _images(3, 32)({}, 2)
    diffs = []
    for label, D_ in (("Critic(width=8, image_size=32)", D), ("a linear critic", _LinearCritic())):
        Da, Db = copy.deepcopy(D_), copy.deepcopy(D_)
        a, b = call(nb_fn, (Da, real, fake), {}, 11), call(lib_fn, (Db, real, fake), {}, 11)
        diffs += compare(f"gradient_penalty({label})", a, b)
        a.backward()
        b.backward()
        diffs += [d for (k, pa), pb in zip(Da.named_parameters(), Db.parameters())
                  for d in compare(f"gradient_penalty({label}) d/d {k}", pa.grad, pb.grad)]
    return diffs


class _LinearCritic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(4)
        self.w = torch.nn.Linear(3 * 32 * 32, 1)

    def forward(self, x):
        return self.w(x.flatten(1)) ** 2  # a gradient that depends on x


def _critic_loss_cases():
    gp = torch.tensor(0.37)
    return [(f"{label}, gp, lambda={lam}", (r, f, gp, *(() if lam is None else (lam,))), {})
            for label, r, f in _logit_cases() for lam in (None, 5.0)]


# ----------------------------------------------------------------------------- probes: training steps

def step_probe(build, run_step, n_steps: int = 2):
    """``build() -> (models, optimisers, extra)``; ``run_step(fn, models, opts, extra)``: one step's result.

    Both versions start from deep copies, with the same stale gradient on every parameter before each
    step (the other player's step leaves some; a step must clear them) and the same seed. Compared: what
    each step returns, then the weights, buffers and ``.grad`` of both models after the last step.
    """
    def probe(nb_fn, lib_fn):
        torch.manual_seed(0)
        models, make_opts, extra = build()
        copies = {}
        for who, fn in (("notebook", nb_fn), ("library", lib_fn)):
            ms = copy.deepcopy(models)
            opts = make_opts(ms)
            results = []
            for step in range(n_steps):
                for i, p in enumerate(q for m in ms.values() for q in m.parameters()):
                    p.grad = seeded(100 * step + i, *p.shape)
                torch.manual_seed(20 + step)
                results.append(run_step(fn, ms, opts, extra))
            copies[who] = (ms, results)
        (ma, ra), (mb, rb) = copies["notebook"], copies["library"]
        name = lib_fn.__name__
        diffs = [d for s, (a, b) in enumerate(zip(ra, rb)) for d in compare(f"{name} step {s + 1} returned", a, b)]
        for m in mb:
            diffs += compare_state(f"{name}: {m}", ma[m], mb[m])
            diffs += [d for k, v in mb[m].state_dict().items()
                      for d in compare(f"{name}: {m}'s {k} after {n_steps} steps", ma[m].state_dict()[k], v)]
            for (k, pa), pb in zip(ma[m].named_parameters(), mb[m].parameters()):  # e.g. a fake not detached
                if (pa.grad is None) != (pb.grad is None):
                    diffs.append(f"{name}: {m}'s {k}.grad is {'None' if pa.grad is None else 'set'} (notebook) "
                                 f"vs {'None' if pb.grad is None else 'set'} (library) after {n_steps} steps")
                elif pa.grad is not None:
                    diffs += compare(f"{name}: {m}'s {k}.grad after {n_steps} steps", pa.grad, pb.grad)
        return diffs
    return probe


def _adam(lr, betas):
    return lambda ms: {k: torch.optim.Adam(m.parameters(), lr=lr, betas=betas) for k, m in ms.items()}


LATENT = 16


def _dcgan_models():
    return ({"D": l2.Discriminator(width=8), "G": l1.Generator(latent_dim=LATENT, width=8)}, _adam(2e-4, (0.5, 0.999)),
            {"real": _images(1, 28)({}, 5)})


def _wgan_models():
    G = l5.FlowerGenerator(latent_dim=LATENT, width=8, image_size=32)
    return ({"D": l5.Critic(width=8, image_size=32), "G": G}, _adam(1e-4, (0.0, 0.9)),
            {"real": _images(3, 32, n=2 * 4)({}, 5)})


def _conditional_models(D=l6.ProjectionDiscriminator):
    G = l6.ConditionalGenerator(latent_dim=LATENT, width=8, embed_dim=6, label_channels=2)
    return ({"D": D(width=8), "G": G}, _adam(2e-4, (0.5, 0.999)),
            {"real": _images(1, 28)({}, 5), "labels": seeded_labels(6, 4)})


def _frozen_g():
    torch.manual_seed(0)
    return l1.Generator(latent_dim=LATENT, width=8).eval()


def _ten_class_classifier():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10)).eval()


def _interpolate_cases():
    a, b = seeded(1, 8), seeded(2, 8) * 2
    return [(f"(8,) x2, 5, {mode}", (a, b, 5, mode), {}) for mode in ("linear", "slerp")] + [
        ("(4, 8) x2, 3, slerp", (seeded(3, 4, 8), seeded(4, 4, 8), 3, "slerp"), {}),
        ("the same direction, slerp", (a, 3 * a, 4, "slerp"), {}),
        ("(100,) x2, 9, slerp", (seeded(5, 100), seeded(6, 100), 9, "slerp"), {})]


def _direction_cases():
    z, classes = seeded(7, 50, 8), seeded_labels(8, 50, 4)
    return [("source 0, target 3", (z, classes, 0, 3), {}), ("source 2, target 1", (z, classes, 2, 1), {})]


PROBES = {
    "sample_latent": function_probe(lambda: [("4, 100", (4, 100), {}), ("5, 16", (5, 16), {}),
                                             ("3, 8, device='cpu'", (3, 8), {"device": "cpu"})]),
    "FCGenerator": module_probe([{}, {"latent_dim": LATENT}], _latent()),
    "Generator": module_probe([{}, {"latent_dim": LATENT, "width": 8}], _latent()),
    "count_parameters": function_probe(_count_parameters_cases),
    "Discriminator": module_probe([{}, {"width": 8, "dropout": 0.3}], lambda c: [((_images(1, 28)(c),), {})]),
    "discriminator_loss": function_probe(_two_logits()),
    "generator_loss": function_probe(lambda: [(label, (f,), {}) for label, _, f in _logit_cases()]),
    "d_step": step_probe(_dcgan_models, lambda fn, m, o, x: fn(m["D"], m["G"], x["real"], o["D"], LATENT)),
    "g_step": step_probe(_dcgan_models, lambda fn, m, o, x: fn(m["D"], m["G"], o["G"], 4, LATENT, "cpu")),
    "count_modes": function_probe(_count_modes_cases),
    "grad_norm": function_probe(_grad_norm_cases),
    "diagnose": function_probe(_diagnose_cases),
    "smoothed_d_loss": function_probe(_two_logits(extra=[(0.0,), (0.1,), (0.3,)])),
    "instance_noise": function_probe(lambda: [(f"(4, 1, 28, 28) x2, std={s}", (seeded(1, 4, 1, 28, 28),
                                                                              seeded(2, 4, 1, 28, 28), s), {})
                                              for s in (0.0, 0.1, 1.0)]),
    "Critic": module_probe([{}, {"width": 8, "image_size": 32}],
                           lambda c: [((_images(3, c.get("image_size", 64))(c),), {})]),
    "gradient_penalty": _gradient_penalty_probe,
    "critic_loss": function_probe(_critic_loss_cases),
    "wgan_generator_loss": function_probe(lambda: [(label, (f,), {}) for label, _, f in _logit_cases()]),
    "wgan_step": step_probe(_wgan_models, lambda fn, m, o, x: fn(m["D"], m["G"], x["real"], o["D"], o["G"], 2,
                                                                 10.0, LATENT)),
    "ConditionalGenerator": module_probe([{}, {"latent_dim": LATENT, "width": 8, "embed_dim": 6,
                                               "label_channels": 2}], lambda c: [_conditional_g_inputs(c)]),
    "ProjectionDiscriminator": module_probe([{}, {"width": 8}], _conditional_d_inputs),
    "conditional_d_step": step_probe(_conditional_models, lambda fn, m, o, x: fn(m["D"], m["G"], x["real"],
                                                                                 x["labels"], o["D"], LATENT, 10)),
    "conditional_g_step": step_probe(_conditional_models, lambda fn, m, o, x: fn(m["D"], m["G"], o["G"], 4, LATENT,
                                                                                 10, "cpu")),
    "class_loss_d_step": step_probe(lambda: _conditional_models(l6.ClassHeadDiscriminator),
                                    lambda fn, m, o, x: fn(m["D"], m["G"], x["real"], x["labels"], o["D"], LATENT,
                                                           10, 0.5)),
    "class_loss_g_step": step_probe(lambda: _conditional_models(l6.ClassHeadDiscriminator),
                                    lambda fn, m, o, x: fn(m["D"], m["G"], o["G"], 4, LATENT, 10, "cpu", 0.5)),
    "interpolate": function_probe(_interpolate_cases),
    "truncated_sample": function_probe(lambda: [(f"psi {psi}", (_frozen_g(), seeded(9, 4, LATENT), psi), {})
                                                for psi in (1.0, 0.5, 0.0)]),
    "find_direction": function_probe(_direction_cases),
    "steer": function_probe(lambda: [(f"target {t!r}, prior {w}", (_frozen_g(), seeded(10, 4, LATENT), t,
                                                                  _ten_class_classifier(), 3, 0.1, w), {})
                                     for t, w in ((3, 0.0), (torch.arange(4), 0.5))]),
    "invert": function_probe(lambda: [("4 images, 3 steps, 2 restarts", (_frozen_g(), _images(1, 28)({}, 11), 3, 2,
                                                                         0.1), {})]),
}


def twin_differences(nb: str, name: str, source: str | None = None) -> list[str]:
    """What differs between the notebook's ``name`` (or a doctored ``source`` of it) and the library's."""
    return PROBES[name](notebook_object(nb, name, source), getattr(LIBRARY[nb, name], name))


# ----------------------------------------------------------------------------- the tests

@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_twin_has_a_probe():
    assert set(PROBES) == {name for _, name in PAIRS} and len(PAIRS) == 30


@pytest.mark.parametrize(("nb", "name"), PAIRS, ids=[f"{nb[:2]}-{name}" for nb, name in PAIRS])
def test_notebook_twin_matches_library(nb, name):
    diffs = twin_differences(nb, name)
    module = LIBRARY[nb, name].__name__
    assert not diffs, (f"{name}: solutions/{nb} and {module}.{name} no longer behave alike (fix one to match "
                       f"the other):\n  " + "\n  ".join(diffs[:12]))


DOCTORED = [  # (notebook, name, text in the definition, replacement): each must be caught
    ("02_discriminator.ipynb", "discriminator_loss", "/ 2", "/ 3"),
    ("02_discriminator.ipynb", "discriminator_loss", "torch.zeros_like(fake_logits)", "torch.ones_like(fake_logits)"),
    ("03_training_a_gan.ipynb", "d_step", "opt_d.zero_grad()", "None"),
    ("04_failure_modes_and_stability.ipynb", "count_modes", "counts >= 0.2", "counts > 0.2"),
    ("05_wgan_gp_flowers.ipynb", "Critic", "nn.GroupNorm(1, 2 * c)", "nn.GroupNorm(2, 2 * c)"),
    ("01_generator.ipynb", "Generator", "bias=False", "bias=True"),
    ("07_controllable_generation.ipynb", "interpolate", "((1 - t) * n0 + t * n1) * u", "u"),
]


@pytest.mark.parametrize(("nb", "name", "old", "new"), DOCTORED, ids=[f"{d[1]}: {d[2]} -> {d[3]}" for d in DOCTORED])
def test_the_check_catches_a_doctored_definition(nb, name, old, new):
    source = notebook_source(nb, name)
    assert old in source, f"{nb} {name} no longer contains {old!r}: pick another edit for this test"
    assert not twin_differences(nb, name)  # the honest definition passes ...
    assert twin_differences(nb, name, source.replace(old, new, 1)), f"{name} with {old!r} -> {new!r} went unnoticed"
