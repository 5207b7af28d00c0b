"""Self-checks for the exercises of lessons 1-3. Each returns a :class:`~course_utils.checking.CheckReport`.

A report lists every check with a tick or a cross and, for a cross, what is wrong and how to fix
it. In a notebook, put the call last in a cell to see it; in code, use ``report.passed``.
The grader and the tests call the same functions. The toolkit they are built with lives in
:mod:`course_utils.checking`; ``CheckReport``, ``expect_scalar`` and ``uses_layer`` are also importable
from here.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from .checking import (
    CheckReport,
    bce,
    build_model,
    call_student,
    expect_scalar,
    match_variant,
    probe_models,
    uses_layer,
)

__all__ = ["CheckReport", "expect_scalar", "uses_layer", "check_sample_latent", "check_generator",
           "check_parameter_count", "check_discriminator", "check_discriminator_loss", "check_generator_loss",
           "check_d_step", "check_g_step"]


# ----------------------------------------------------------------------------- lesson 1

def check_sample_latent(fn, latent_dim: int = 100) -> CheckReport:
    """``fn(n, latent_dim)`` must return standard normal noise of shape ``(n, latent_dim)`` (lesson 1)."""
    r = CheckReport("sample_latent")
    ok, z = call_student(r, "sample_latent(4096, latent_dim)", fn, 4096, latent_dim)
    if not ok:
        return r
    if not r.expect(isinstance(z, torch.Tensor), "returns a tensor",
                    f"expected a torch.Tensor, got {type(z).__name__}"):
        return r
    if not r.expect(tuple(z.shape) == (4096, latent_dim), f"shape (n, latent_dim) = {tuple(z.shape)}",
                    f"expected shape (4096, {latent_dim}), got {tuple(z.shape)}: one row per sample"):
        return r
    r.expect(z.dtype == torch.float32, "dtype float32", f"expected float32, got {z.dtype}")
    z = z.float()
    mean, std, neg = z.mean().item(), z.std().item(), (z < 0).float().mean().item()
    if neg < 0.01:
        r.fail(f"no negative values (mean {mean:.2f}): this looks like torch.rand (uniform on [0, 1]); "
               "use torch.randn for N(0, 1)")
    else:
        r.expect(abs(mean) < 0.02 and abs(std - 1) < 0.02, f"mean {mean:.3f}, std {std:.3f}: N(0, 1)",
                 f"mean {mean:.3f}, std {std:.3f}: expected mean 0 and std 1 (torch.randn)")
    ok, z2 = call_student(r, "a second call", fn, 4096, latent_dim)
    if ok:
        r.expect(not torch.equal(z, z2.float()), "fresh noise on every call",
                 "two calls returned the same noise: do not reseed inside the function")
    return r


def check_generator(G: nn.Module, latent_dim: int = 100, image_shape=(1, 28, 28)) -> CheckReport:
    """A generator maps ``(B, latent_dim)`` to ``(B, *image_shape)`` in [-1, 1], ending in tanh (lesson 1).

    ``G`` is a model, or a class that is then built as ``G(latent_dim)``.
    """
    r = CheckReport(f"generator {G.__name__ if isinstance(G, type) else type(G).__name__}")
    ok, G = build_model(r, G, latent_dim)
    if not ok:
        return r
    if not r.expect(isinstance(G, nn.Module), "is an nn.Module", f"expected an nn.Module, got {type(G).__name__}"):
        return r
    r.expect(getattr(G, "latent_dim", None) == latent_dim, f"G.latent_dim == {latent_dim}",
             f"G.latent_dim is {getattr(G, 'latent_dim', None)!r}: store it in __init__ "
             f"(self.latent_dim = latent_dim)")
    was_training = G.training
    G.train()
    try:
        device = next(G.parameters()).device
        z = torch.randn(16, latent_dim, generator=torch.Generator().manual_seed(0)).to(device)
        ok, x = call_student(r, f"G(z) with z of shape (16, {latent_dim})", G, z)
        if not ok:
            return r
        if not r.expect(tuple(x.shape) == (16, *image_shape), f"output shape {tuple(x.shape)}",
                        f"expected output shape (16, {', '.join(map(str, image_shape))}), got "
                        f"{tuple(x.shape)}" + (": reshape with .view(-1, 1, 28, 28)" if x.dim() == 2 else "")):
            return r
        ok, big = call_student(r, "G(10 * z)", G, 10 * z)
        lo, hi = min(x.min().item(), big.min().item()), max(x.max().item(), big.max().item())
        if hi > 1.0 + 1e-5 or lo < -1.0 - 1e-5:
            r.fail(f"outputs reach [{lo:.2f}, {hi:.2f}], outside [-1, 1]: end the generator with nn.Tanh()")
        elif lo >= 0:
            r.fail(f"outputs lie in [{lo:.2f}, {hi:.2f}], never negative: a sigmoid? The data is in "
                   "[-1, 1], so the last activation must be tanh")
        else:
            r.ok(f"outputs within [-1, 1] (seen [{lo:.2f}, {hi:.2f}])")
        r.expect(uses_layer(G, nn.Tanh, "tanh"), "ends with tanh", "no tanh found: the last layer should be nn.Tanh()")
        r.expect(x[0].sub(x[1]).abs().max().item() > 1e-4, "different z give different images",
                 "every z gives the same image: is z used in forward?")
    finally:
        G.train(was_training)
    return r


def check_parameter_count(fn, model: nn.Module) -> CheckReport:
    """``fn(model)`` must count the trainable parameters (lesson 1); ``model`` may be a class, built with ``()``."""
    r = CheckReport("count_parameters")
    ok, model = build_model(r, model)
    if not ok:
        return r
    ok, n = call_student(r, "count_parameters(model)", fn, model)
    if ok:
        want = sum(p.numel() for p in model.parameters() if p.requires_grad)
        r.expect(n == want, f"{n:,} parameters", f"got {n!r}, expected {want:,}: sum p.numel() over "
                 "model.parameters() that require grad (not len(list(...)), which counts tensors)")
    return r


# ----------------------------------------------------------------------------- lesson 2

def check_discriminator(D: nn.Module, image_shape=(1, 28, 28)) -> CheckReport:
    """A discriminator maps ``(B, *image_shape)`` to one **logit** per image, ``(B, 1)`` (lesson 2).

    ``D`` is a model, or a class that is then built as ``D()``.
    """
    r = CheckReport(f"discriminator {D.__name__ if isinstance(D, type) else type(D).__name__}")
    ok, D = build_model(r, D)
    if not ok:
        return r
    was_training = D.training
    D.train()
    try:
        device = next(D.parameters()).device
        x = torch.rand(16, *image_shape, generator=torch.Generator().manual_seed(0)).mul(2).sub(1).to(device)
        x.requires_grad_(True)
        ok, out = call_student(r, "D(x) with x of shape (16, 1, 28, 28)", D, x)
        if not ok:
            return r
        if not r.expect(tuple(out.shape) in ((16, 1), (16,)), f"output shape {tuple(out.shape)}: one per image",
                        f"expected shape (16, 1), got {tuple(out.shape)}: end with a Linear(..., 1)"):
            return r
        ends_sigmoid = isinstance(list(D.modules())[-1], nn.Sigmoid)
        inside = bool(((out > 0) & (out < 1)).all())
        ok, big = call_student(r, "D(5 * x)", D, 5 * x.detach())
        inside = inside and ok and bool(((big > 0) & (big < 1)).all())
        r.expect(not (ends_sigmoid or inside), "returns logits (any real number)",
                 "outputs look like probabilities (all in (0, 1)): remove the final sigmoid; "
                 "BCEWithLogitsLoss applies it in a numerically stable way")
        r.expect(any(isinstance(m, nn.LeakyReLU) for m in D.modules()), "uses LeakyReLU",
                 "no nn.LeakyReLU found: D should use LeakyReLU(0.2) so gradients flow for negative inputs")
        out.sum().backward()
        r.expect(x.grad is not None and x.grad.abs().sum().item() > 0, "gradient reaches the input image",
                 "no gradient reaches the input: is something detached inside D? G learns through it")
    finally:
        D.zero_grad(set_to_none=True)
        D.train(was_training)
    return r


def check_discriminator_loss(fn) -> CheckReport:
    """``fn(real_logits, fake_logits)`` must be the averaged BCE with real -> 1 and fake -> 0 (lesson 2)."""
    r = CheckReport("discriminator_loss")
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 1, generator=g) + 1, torch.randn(32, 1, generator=g) - 1
    ok, zero = call_student(r, "discriminator_loss(zeros, zeros)", fn, torch.zeros(8, 1), torch.zeros(8, 1))
    if not ok:
        return r
    if not expect_scalar(r, zero):
        return r
    ok, got = call_student(r, "discriminator_loss(real_logits, fake_logits)", fn, real, fake)
    if not ok:
        return r
    got = float(got.detach()) if torch.is_tensor(got) else float(got)
    variants = {
        "correct": (bce(real, 1) + bce(fake, 0)) / 2,
        "you summed the two terms; the course averages them: (real_loss + fake_loss) / 2":
            bce(real, 1) + bce(fake, 0),
        "fakes are labelled as real (target 1): fake images get target 0 in the D step":
            (bce(real, 1) + bce(fake, 1)) / 2,
        "the labels are swapped: real images get target 1, fakes target 0":
            (bce(real, 0) + bce(fake, 1)) / 2,
        "real images are labelled 0: they get target 1": (bce(real, 0) + bce(fake, 0)) / 2,
        "the inputs were passed through a sigmoid first: pass the raw logits to BCE-with-logits":
            (bce(torch.sigmoid(real), 1) + bce(torch.sigmoid(fake), 0)) / 2,
    }
    match_variant(r, got, variants, f"chance level: loss(0, 0) = {float(zero):.4f} = log 2")
    return r


# ----------------------------------------------------------------------------- lesson 3

def check_generator_loss(fn) -> CheckReport:
    """``fn(fake_logits)`` must be the non-saturating loss BCE(D(G(z)), 1) (lesson 3)."""
    r = CheckReport("generator_loss")
    fake = torch.randn(32, 1, generator=torch.Generator().manual_seed(1)) - 1
    ok, got = call_student(r, "generator_loss(fake_logits)", fn, fake)
    if not ok:
        return r
    if not expect_scalar(r, got):
        return r
    match_variant(r, float(got.detach()), {
        "correct": bce(fake, 1),
        "fakes are labelled 0 in the G step: G wants D to say 'real', so the target is 1": bce(fake, 0),
        "this is the saturating loss log(1 - D(G(z))): its gradient vanishes when D rejects fakes; "
        "use BCE(D(G(z)), 1)": -bce(fake, 0),
        "the input went through a sigmoid first: pass the raw logits": bce(torch.sigmoid(fake), 1),
    })
    return r


def check_d_step(fn) -> CheckReport:
    """``fn(D, G, real, opt_d, latent_dim)``: one D update with detached fakes, real -> 1, fake -> 0 (lesson 3)."""
    r = CheckReport("d_step")
    G, D, real = probe_models()
    D0 = copy.deepcopy(D)
    real_logits, fake_logits = D0(real), D0(G(torch.zeros(8, 4)).detach())
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    ok, out = call_student(r, "d_step(D, G, real, opt_d, latent_dim)", fn, D, G, real, opt_d, G.latent_dim)
    if not ok:
        return r
    if not r.expect(isinstance(out, tuple) and len(out) == 3, "returns (d_loss, D(x) mean, D(G(z)) mean)",
                    f"expected a tuple of 3 values, got {type(out).__name__}"):
        return r
    loss, d_real, d_fake = (float(v.detach()) if torch.is_tensor(v) else float(v) for v in out)
    match_variant(r, loss, {
        "correct": (bce(real_logits, 1) + bce(fake_logits, 0)) / 2,
        "fakes are labelled as real (target 1) in the D step; they get target 0":
            (bce(real_logits, 1) + bce(fake_logits, 1)) / 2,
        "labels are swapped: real -> 1, fake -> 0": (bce(real_logits, 0) + bce(fake_logits, 1)) / 2,
        "the two BCE terms are summed; average them": bce(real_logits, 1) + bce(fake_logits, 0),
    })
    r.expect(abs(d_real - torch.sigmoid(real_logits).mean().item()) < 1e-4 and
             abs(d_fake - torch.sigmoid(fake_logits).mean().item()) < 1e-4,
             "D(x) and D(G(z)) means are sigmoid(logits).mean()",
             f"D(x) mean {d_real:.4f} / D(G(z)) mean {d_fake:.4f} differ from sigmoid(logits).mean()")
    g_grad = G.pixels.grad
    r.expect(g_grad is None or g_grad.abs().sum().item() == 0, "no gradient reaches G (fakes detached)",
             "gradients flowed into G during the D step: use fake = G(z).detach() so D's loss "
             "does not backpropagate into the generator")
    changed = not torch.equal(D[1].weight, D0[1].weight)
    r.expect(changed, "D's weights were updated", "D's weights did not change: call loss.backward() "
             "and opt_d.step()")
    return r


def check_g_step(fn) -> CheckReport:
    """``fn(D, G, opt_g, batch_size, latent_dim, device)``: one G update with target 'real' (lesson 3)."""
    r = CheckReport("g_step")
    G, D, _ = probe_models()
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    fake_logits = D0(G0(torch.zeros(8, 4)))
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    ok, loss = call_student(r, "g_step(D, G, opt_g, batch_size, latent_dim, device)", fn,
                              D, G, opt_g, 8, G.latent_dim, torch.device("cpu"))
    if not ok:
        return r
    match_variant(r, float(loss.detach()) if torch.is_tensor(loss) else float(loss), {
        "correct": bce(fake_logits, 1),
        "fakes are labelled 0 in the G step: G's target is 1 ('real')": bce(fake_logits, 0),
        "this is the saturating loss log(1 - D(G(z))); use BCE(D(G(z)), 1)": -bce(fake_logits, 0),
    })
    r.expect(not torch.equal(G.pixels, G0.pixels), "G's weights were updated",
             "G's weights did not change: call loss.backward() and opt_g.step()")
    r.expect(torch.equal(D[1].weight, D0[1].weight), "D's weights untouched by the G step",
             "D's weights changed in the G step: only opt_g.step() belongs here")
    return r
