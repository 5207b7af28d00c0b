"""Self-checks for lesson 5 (WGAN-GP). Each returns a :class:`~course_utils.kit.checking.CheckReport`.

The gradient-penalty check uses probe critics whose input gradient is known exactly (a linear
critic ``D(x) = <a, x>`` has gradient ``a`` at every point), so the penalty has one right value,
and it reads back the interpolates the critic saw to recover each epsilon: that is how it tells
a per-pixel or normal epsilon from one uniform epsilon per image.
"""

from __future__ import annotations

import torch
from torch import nn

from ..kit.checking import CheckReport, bce, call_student, expect_scalar, match_variant, uses_layer


def _batchnorms(model: nn.Module) -> list[str]:
    return [name or type(model).__name__ for name, m in model.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)]


def check_critic(D: nn.Module, image_size: int = 64, channels: int = 3) -> CheckReport:
    """A critic maps ``(B, C, S, S)`` to one unbounded score per image, with no BatchNorm.

    ``D`` is a model, or a class that is then built as ``D(width=16, image_size=image_size)``.
    """
    r = CheckReport(f"critic {D.__name__ if isinstance(D, type) else type(D).__name__}")
    if isinstance(D, type):
        ok, D = call_student(r, f"{D.__name__}(width=16, image_size={image_size})",
                             lambda: D(width=16, image_size=image_size))
        if not ok:
            return r
    if not r.expect(isinstance(D, nn.Module), "is an nn.Module",
                    f"expected an nn.Module, got {type(D).__name__}"):
        return r
    bns = _batchnorms(D)
    r.expect(not bns, "no BatchNorm layers",
             f"BatchNorm found ({', '.join(bns)}): it makes each image's score depend on the rest of the "
             "batch, so the per-image gradient the penalty constrains is wrong; use nn.GroupNorm(1, C) "
             "(layer norm), nn.InstanceNorm2d(C, affine=True) or no normalization")
    was_training = D.training
    D.train()
    try:
        device = next(D.parameters()).device
        x = torch.rand(8, channels, image_size, image_size, generator=torch.Generator().manual_seed(0))
        x = x.mul(2).sub(1).to(device).requires_grad_(True)
        ok, out = call_student(r, f"D(x) with x of shape (8, {channels}, {image_size}, {image_size})", D, x)
        if not ok:
            return r
        if not r.expect(tuple(out.shape) in ((8, 1), (8,)),
                        f"output shape {tuple(out.shape)}: one score per image",
                        f"expected shape (8, 1), got {tuple(out.shape)}: end with a conv/linear to 1 "
                        "channel and flatten"):
            return r
        ok, alone = call_student(r, "D(x[:2])", D, x[:2].detach())
        if ok:
            same = torch.allclose(alone.reshape(-1).float(), out[:2].reshape(-1).float(),
                                  atol=1e-4, rtol=1e-3)
            r.expect(same, "each image's score is independent of the rest of the batch",
                     "D(x[:2]) differs from D(x)[:2]: something mixes images across the batch "
                     "(BatchNorm or batch statistics); the gradient penalty needs per-image scores")
        r.expect(not uses_layer(D, nn.Sigmoid, "sigmoid"), "outputs are unbounded scores (no sigmoid)",
                 "D applies a sigmoid: a critic has no sigmoid; its raw score enters the "
                 "Wasserstein loss directly")
        out.sum().backward()
        r.expect(x.grad is not None and x.grad.abs().sum().item() > 0, "gradient reaches the input image",
                 "no gradient reaches the input: the penalty and G both need d D(x) / dx")
    finally:
        D.zero_grad(set_to_none=True)
        D.train(was_training)
    return r


class _LinearCritic(nn.Module):
    """``D(x) = <a, x>`` per image: its gradient is ``a`` everywhere. Remembers what it was fed."""

    def __init__(self, a: torch.Tensor):
        super().__init__()
        self.a = nn.Parameter(a.clone())
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return (x * self.a).flatten(1).sum(1, keepdim=True)  # (B, 1)


def _probe_batch(n=256, shape=(3, 8, 8)):
    g = torch.Generator().manual_seed(3)
    real = torch.rand(n, *shape, generator=g) * 0.5 + 0.5  # in [0.5, 1]
    fake = -torch.rand(n, *shape, generator=g) * 0.5 - 0.5  # in [-1, -0.5]: real - fake >= 1
    return real, fake


def _gp_variants(a: torch.Tensor, batch: int) -> dict:
    norm = a.norm()
    per_pixel = a.norm(dim=0)  # (H, W): norm over channels only
    per_channel = a.flatten(1).norm(dim=1)  # (C,): norm over H, W only
    return {
        "correct": (norm - 1) ** 2,
        "the norm is over the channel dim only (dim=1); take it over all non-batch dims: "
        "grad.flatten(1).norm(2, dim=1)": ((per_pixel - 1) ** 2).mean(),
        "the norm is over the spatial dims only; take it over all non-batch dims: "
        "grad.flatten(1).norm(2, dim=1)": ((per_channel - 1) ** 2).mean(),
        "the norm is over the whole batch; take one norm per image: grad.flatten(1).norm(2, dim=1)":
            (norm * batch ** 0.5 - 1) ** 2,
        "the squared norm was used; the penalty is (||grad|| - 1)^2 with the plain 2-norm":
            (norm ** 2 - 1) ** 2,
        "(||grad|| - 1) is not squared": norm - 1,
        "lambda (10) is already applied: return the plain penalty; critic_loss multiplies by lambda":
            10 * (norm - 1) ** 2,
    }


def check_gradient_penalty(fn) -> CheckReport:
    """``fn(D, real, fake)``: ``E[(||grad D(x_hat)||_2 - 1)^2]``, one ``eps ~ U[0, 1]`` per image."""
    r = CheckReport("gradient_penalty")
    real, fake = _probe_batch()
    shape = real.shape[1:]
    unit = torch.ones(shape) / shape.numel() ** 0.5
    for i, (label, a, want) in enumerate((("zero gradient", torch.zeros(shape), 1.0),
                                          ("unit-norm gradient", unit, 0.0))):
        ok, gp = call_student(r, f"gradient_penalty on a critic with {label}", fn, _LinearCritic(a), real, fake)
        if not ok:
            return r
        if i == 0 and not expect_scalar(r, gp, "average over the batch with .mean()"):
            return r
        match_variant(r, float(gp.detach()), {**_gp_variants(a, len(real)), "correct": torch.tensor(want)},
               f"{label}: {want:g} by hand")
    a = torch.randn(shape, generator=torch.Generator().manual_seed(5))
    a = a * torch.tensor([0.2, 1.0, 2.0]).view(3, 1, 1)  # channels differ: wrong-dim norms differ
    a = 3 * a / a.norm()  # ||a|| = 3 -> penalty exactly (3 - 1)^2 = 4
    D = _LinearCritic(a)
    ok, gp = call_student(r, "gradient_penalty(D, real, fake)", fn, D, real, fake)
    if not ok:
        return r
    match_variant(r, float(gp.detach()), _gp_variants(a, len(real)), "norm over all non-batch dims")
    value_ok = r.items[-1][0]
    r.expect(gp.requires_grad, "the penalty can be backpropagated to D (create_graph=True)",
             "the penalty has no gradient: pass create_graph=True to torch.autograd.grad so that "
             "the penalty's own gradient can train D")
    if gp.requires_grad and value_ok:
        gp.backward()
        want = 2 * (a.norm() - 1) * a / a.norm()  # d/da (||a|| - 1)^2
        r.expect(D.a.grad is not None and torch.allclose(D.a.grad, want, atol=1e-4),
                 "its gradient with respect to D's weights is right",
                 "the penalty's gradient with respect to D's weights is wrong: is x_hat or the "
                 "gradient detached somewhere?")
    _check_epsilon(r, D.seen, real, fake)
    return r


def _check_epsilon(r: CheckReport, seen: list, real, fake) -> None:
    x_hat = next((x for x in reversed(seen) if x.shape == real.shape), None)
    if x_hat is None:
        r.fail("D was never called on a batch of interpolates shaped like real")
        return
    eps = (x_hat - fake) / (real - fake)  # (B, C, H, W): the epsilon of every pixel
    if eps.flatten(2).std(dim=2).max() > 1e-4:
        r.fail("epsilon differs between pixels of one image (per-pixel epsilon): draw one per image, "
               "torch.rand(B, 1, 1, 1), so x_hat lies on the line between a real and a fake image")
        return
    if eps.flatten(1).std(dim=1).max() > 1e-4:
        r.fail("epsilon differs between channels of one image: draw one per image, shape (B, 1, 1, 1)")
        return
    r.ok("one epsilon per image: x_hat = eps * real + (1 - eps) * fake")
    e = eps.flatten(1).mean(1)  # (B,)
    if e.min() < -1e-4 or e.max() > 1 + 1e-4:
        r.fail(f"epsilon ranges over [{e.min():.2f}, {e.max():.2f}], outside [0, 1]: normal instead of "
               "uniform? use torch.rand, not torch.randn")
    elif e.std() < 1e-4:
        r.fail(f"every image got the same epsilon ({e[0]:.3f}): draw one per image, torch.rand(B, 1, 1, 1)")
    elif ((e < 1e-4) | (e > 1 - 1e-4)).float().mean() > 0.5:
        r.fail("x_hat is the real or the fake batch itself: interpolate between them")
    else:
        r.expect(abs(e.mean() - 0.5) < 0.08 and abs(e.std() - 12 ** -0.5) < 0.06,
                 f"epsilon ~ U[0, 1] (mean {e.mean():.2f}, std {e.std():.2f})",
                 f"epsilon has mean {e.mean():.2f} and std {e.std():.2f}; U[0, 1] has 0.5 and 0.29: "
                 "use torch.rand")


def check_critic_loss(fn, lambda_gp: float = 10.0) -> CheckReport:
    """``fn(real_logits, fake_logits, gp, lambda_gp)`` = ``-E[D(real)] + E[D(fake)] + lambda_gp * gp``."""
    r = CheckReport("critic_loss")
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(32, 1, generator=g) + 2, torch.randn(32, 1, generator=g) - 1
    gp = torch.tensor(0.1)
    ok, hand = call_student(r, "critic_loss(zeros, zeros, gp=1)", fn, torch.zeros(8, 1), torch.zeros(8, 1),
                            torch.tensor(1.0), lambda_gp)
    if not ok:
        return r
    if not expect_scalar(r, hand, "average the scores over the batch"):
        return r
    r.expect(abs(float(hand) - lambda_gp) < 1e-5, f"critic_loss(0, 0, gp=1) = lambda = {lambda_gp:g}",
             f"critic_loss(0, 0, gp=1) = {float(hand):.4f}, expected lambda_gp * 1 = {lambda_gp:g}")
    ok, got = call_student(r, "critic_loss(real_logits, fake_logits, gp, lambda_gp)", fn, real, fake, gp, lambda_gp)
    if not ok:
        return r
    w = real.mean() - fake.mean()
    averaged_bce = (bce(real, 1) + bce(fake, 0)) / 2  # lessons 2-3's D loss
    match_variant(r, float(got), {
        "correct": -w + lambda_gp * gp,
        "the signs are swapped: the critic should score real images high, so L_D = -E[D(real)] + "
        "E[D(fake)] + lambda * GP": w + lambda_gp * gp,
        "the penalty is subtracted: it is added, + lambda * GP": -w - lambda_gp * gp,
        "lambda is missing: + lambda_gp * gp": -w + gp,
        "abs() hides the loss's sign: write the loss as it is": (-w + lambda_gp * gp).abs(),
        "this is the BCE loss of lessons 2-3; the critic's raw scores enter the loss directly":
            averaged_bce + lambda_gp * gp,
        "the scores are summed: take the mean over the batch": -(real.sum() - fake.sum()) + lambda_gp * gp,
    }, "L_D = -E[D(real)] + E[D(fake)] + lambda * GP")
    return r


def check_wgan_generator_loss(fn) -> CheckReport:
    """``fn(fake_logits)`` = ``-E[D(fake)]``."""
    r = CheckReport("wgan_generator_loss")
    fake = torch.randn(32, 1, generator=torch.Generator().manual_seed(1)) - 1
    ok, got = call_student(r, "wgan_generator_loss(fake_logits)", fn, fake)
    if not ok:
        return r
    if not expect_scalar(r, got):
        return r
    match_variant(r, float(got), {
        "correct": -fake.mean(),
        "the sign is wrong: G wants high critic scores, so L_G = -E[D(fake)]": fake.mean(),
        "this is the BCE generator loss of lesson 3; WGAN uses the raw score: -E[D(fake)]":
            bce(fake, 1),
        "abs() hides the sign: L_G = -E[D(fake)]": fake.mean().abs(),
        "the scores are summed: take the mean": -fake.sum(),
    }, "L_G = -E[D(fake)]")
    return r


class _CountingSGD(torch.optim.SGD):
    def __init__(self, params, watch=()):
        super().__init__(params, lr=1e-3)
        self.steps, self.watch, self.leaks = 0, list(watch), 0

    def step(self, closure=None):
        self.steps += 1
        self.leaks += any(p.grad is not None and p.grad.abs().sum() > 0 for p in self.watch)
        return super().step(closure)


class _TinyG(nn.Module):
    latent_dim = 4

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 3 * 8 * 8), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 3, 8, 8)


def check_wgan_step(fn, n_critic: int = 5) -> CheckReport:
    """``fn(D, G, real, opt_d, opt_g, n_critic, lambda_gp, latent_dim)``: one generator iteration."""
    r = CheckReport("wgan_step")
    torch.manual_seed(0)
    G = _TinyG()
    D = _LinearCritic(torch.randn(3, 8, 8, generator=torch.Generator().manual_seed(2)) * 0.1)
    batch = 4
    real = torch.rand(n_critic * batch, 3, 8, 8, generator=torch.Generator().manual_seed(4)).mul(2).sub(1)
    opt_d, opt_g = _CountingSGD(D.parameters(), watch=G.parameters()), _CountingSGD(G.parameters())
    ok, out = call_student(r, "wgan_step(D, G, real, opt_d, opt_g, n_critic, lambda_gp, latent_dim)", fn,
                           D, G, real, opt_d, opt_g, n_critic, 10.0, G.latent_dim)
    if not ok:
        return r
    r.expect(opt_d.steps == n_critic, f"{n_critic} critic updates",
             f"opt_d.step() ran {opt_d.steps} times; expected n_critic = {n_critic}")
    r.expect(opt_g.steps == 1, "one generator update", f"opt_g.step() ran {opt_g.steps} times; expected 1")
    r.expect(opt_d.leaks == 0, "no gradient reaches G in the critic updates",
             "G had gradients during a critic update: detach the fakes, fake = G(z).detach()")
    sizes = {len(x) for x in D.seen}
    seen_real = torch.cat([x for x in D.seen if len(x) <= batch])
    used = sum(bool((seen_real == row).flatten(1).all(1).any()) for row in real)
    r.expect(max(sizes) <= batch and used == len(real),
             f"each critic update uses its own slice of real (all {len(real)} images used once)",
             f"the critic saw batches of sizes {sorted(sizes)} and {used}/{len(real)} of the real images: "
             "give update i its own chunk, for chunk in real.chunk(n_critic)")
    keys = {"d_loss", "g_loss", "d_real", "d_fake", "gp", "wasserstein"}
    if r.expect(isinstance(out, dict) and keys <= set(out),
                "returns the statistics " + ", ".join(sorted(keys)),
                f"expected a dict with keys {sorted(keys)}, got "
                f"{sorted(out) if isinstance(out, dict) else type(out).__name__}"):
        w = float(out["d_real"]) - float(out["d_fake"])
        r.expect(abs(float(out["wasserstein"]) - w) < 1e-5, "wasserstein = d_real - d_fake (sign kept)",
                 f"wasserstein is {float(out['wasserstein']):.4f}, d_real - d_fake is {w:.4f}")
    return r
