"""Self-checks for the exercises of lesson 1. Each returns a :class:`~course_utils.kit.checking.CheckReport`.

A report lists every check with a tick or a cross and, for a cross, what is wrong and how to fix
it. In a notebook, put the call last in a cell to see it; in code, use ``report.passed``.
The grader and the tests call the same functions; the toolkit lives in :mod:`course_utils.kit.checking`.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kit.checking import (
    CheckReport,
    build_model,
    call_student,
    uses_layer,
)

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


def check_generator(G: nn.Module, latent_dim: int = 100, image_shape=(1, 28, 28), parts=()) -> CheckReport:
    """A generator maps ``(B, latent_dim)`` to ``(B, *image_shape)`` in [-1, 1], ending in tanh (lesson 1).

    ``G`` is a model, or a class that is then built as ``G(latent_dim)``. ``parts``: names of submodules the
    lesson's later cells use (lesson 1's ``project`` and ``upsample``); each must be an ``nn.Module`` attribute.
    """
    r = CheckReport(f"generator {G.__name__ if isinstance(G, type) else type(G).__name__}")
    ok, G = build_model(r, G, latent_dim)
    if not ok:
        return r
    if not r.expect(isinstance(G, nn.Module), "is an nn.Module", f"expected an nn.Module, got {type(G).__name__}"):
        return r
    for part in parts:
        r.expect(isinstance(getattr(G, part, None), nn.Module), f"G.{part} is a module",
                 f"G has no module named {part!r}: build it in __init__ as self.{part} = nn.Sequential(...), "
                 "the name the exercise gives (later cells use it)")
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
