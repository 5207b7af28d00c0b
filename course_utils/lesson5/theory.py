"""Why Wasserstein, shown numerically (lesson 5).

Between two distributions with disjoint supports the Jensen-Shannon divergence is stuck at log 2 whatever the
distance, so it gives no gradient; W1 grows with the distance. And why a gradient penalty replaced weight
clipping: a clipped critic's slope is far below 1, so its "distance" is scaled by an unknown factor, while a
GP critic's slope is ~1.
"""

from __future__ import annotations

import torch
from torch import nn

# ----------------------------------------------------------------------------- lesson 5: JS vs W1

def uniform_js_w1(shift: float, width: float = 1.0, bins: int = 20_000) -> tuple[float, float]:
    """JS (nats, on a fine grid) and W1 between U[0, width] and U[shift, shift + width] (lesson 5)."""
    lo, hi = min(0.0, shift) - 1.0, max(width, shift + width) + 1.0
    x = torch.linspace(lo, hi, bins, dtype=torch.float64)
    p = ((x >= 0) & (x < width)).double()
    q = ((x >= shift) & (x < shift + width)).double()
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    kl = lambda a: float((a[a > 0] * (a[a > 0] / m[a > 0]).log()).sum())  # noqa: E731
    w1 = float((p.cumsum(0) - q.cumsum(0)).abs().sum() * (x[1] - x[0]))  # W1 = integral of |F_p - F_q|
    return (kl(p) + kl(q)) / 2, w1


def _square(n: int, shift: float = 0.0) -> torch.Tensor:
    """``n`` points ``(n, 2)`` uniform on the unit square moved ``shift`` along x."""
    return torch.rand(n, 2) + torch.tensor([shift, 0.0])


def _critic(hidden: int = 64) -> nn.Module:
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def train_critic(shift: float, mode: str, steps: int = 800, seed: int = 0, clip: float = 0.01,
                 gp_weight: float = 10.0, batch_size: int = 256) -> dict:
    """A WGAN critic between the unit square (real) and the same square moved ``shift`` along x (fake),
    so W1 = ``shift``, made Lipschitz by ``mode``:
    ``"clip"`` (weights clipped to [-clip, clip], with the original WGAN's RMSProp at lr 5e-5) or ``"gp"`` (gradient
    penalty, Adam).
    (2-D, not 1-D: on a line the penalty ``(|f'| - 1)^2`` walls a critic that starts with the wrong
    slope into it; in the plane its gradient can turn.)

    Returns the critic's W1 estimate ``E f(real) - E f(fake)`` on fresh samples, its mean slope
    ``|grad f(x)|`` between the two, and the share of weights sitting at the clipping bounds.
    """
    if mode not in ("clip", "gp"):
        raise ValueError(f"mode must be 'clip' or 'gp', got {mode!r}")
    torch.manual_seed(seed)
    f = _critic()
    if mode == "clip":  # the original WGAN's optimizer and rate (Arjovsky et al. 2017): small steps, no momentum
        with torch.no_grad():  # start inside the box, so only training can push a weight to a bound
            for p in f.parameters():
                p.uniform_(-clip / 2, clip / 2)
        opt = torch.optim.RMSprop(f.parameters(), lr=5e-5)
    else:
        opt = torch.optim.Adam(f.parameters(), lr=1e-3, betas=(0.5, 0.9))
    for _ in range(steps):
        real, fake = _square(batch_size), _square(batch_size, shift)
        loss = f(fake).mean() - f(real).mean()
        if mode == "gp":
            t = torch.rand(batch_size, 1)
            x = (t * real + (1 - t) * fake).requires_grad_(True)  # (B, 2) between the two
            (g,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
            loss = loss + gp_weight * ((g.norm(dim=1) - 1) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if mode == "clip":
            with torch.no_grad():
                for p in f.parameters():
                    p.clamp_(-clip, clip)
    real, fake = _square(10_000), _square(10_000, shift)
    t = torch.rand(10_000, 1)
    x = (t * real + (1 - t) * fake).requires_grad_(True)
    (g,) = torch.autograd.grad(f(x).sum(), x)  # (N, 2)
    weights = torch.cat([p.detach().flatten() for name, p in f.named_parameters() if name.endswith("weight")])
    with torch.no_grad():
        estimate = float(f(real).mean() - f(fake).mean())
    return {"estimate": estimate, "w1": abs(shift), "slope": float(g.norm(dim=1).mean()),
            "at_bounds": float((weights.abs() >= 0.99 * clip).float().mean()) if mode == "clip" else float("nan")}
