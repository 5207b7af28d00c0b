"""A quality metric for flower samples that needs no downloaded network (lesson 5).

Sliced Wasserstein distance (SWD) between multi-scale patch descriptors, as in ProGAN
(Karras et al., 2018): build a Laplacian pyramid of each image set (finest level first, down to
16x16), take random 7x7 patches at each level, normalize each level per channel, and compare the
two clouds of patch descriptors by the average 1-D Wasserstein distance of random projections.
Fine levels measure texture and edges, the coarsest level colors and overall layout.

Lower is better. Its floor is ``swd(real_a, real_b)`` on two disjoint sets of real images:
a generator cannot be told apart from the data by this metric once it reaches the floor.
Values are reported x 1e3, like ProGAN's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def laplacian_pyramid(images: torch.Tensor, min_size: int = 16) -> list[torch.Tensor]:
    """``(N, C, S, S)`` -> band-pass levels, finest first, plus the low-pass residual at ``min_size``."""
    levels, x = [], images.float()
    while x.shape[-1] > min_size:
        down = F.avg_pool2d(x, 2)  # (N, C, S/2, S/2)
        levels.append(x - F.interpolate(down, scale_factor=2, mode="bilinear", align_corners=False))
        x = down
    levels.append(x)
    return levels


def _patch_descriptors(level: torch.Tensor, per_image: int, size: int, gen: torch.Generator):
    n, c, h, w = level.shape
    patches = level.unfold(2, size, 1).unfold(3, size, 1)  # (N, C, H', W', size, size)
    ys = torch.randint(0, h - size + 1, (n, per_image), generator=gen)
    xs = torch.randint(0, w - size + 1, (n, per_image), generator=gen)
    picked = patches.permute(0, 2, 3, 1, 4, 5)[torch.arange(n)[:, None], ys, xs]  # (N, P, C, s, s)
    d = picked.reshape(n * per_image, c, size * size)
    d = (d - d.mean(dim=(0, 2), keepdim=True)) / d.std(dim=(0, 2), keepdim=True).clamp_min(1e-8)
    return d.reshape(n * per_image, -1)  # (N * P, C * size * size), normalized per channel


def _sliced_w1(a: torch.Tensor, b: torch.Tensor, n_dirs: int, gen: torch.Generator) -> float:
    dirs = torch.randn(a.size(1), n_dirs, generator=gen)
    dirs /= dirs.norm(dim=0, keepdim=True)  # unit directions (D, n_dirs)
    pa, _ = (a @ dirs).sort(dim=0)  # (M, n_dirs)
    pb, _ = (b @ dirs).sort(dim=0)
    return (pa - pb).abs().mean().item()  # 1-D W1 between sorted projections, averaged


@torch.no_grad()
def sliced_wasserstein(real: torch.Tensor, fake: torch.Tensor, per_image: int = 64, patch: int = 7,
                       n_dirs: int = 512, seed: int = 0) -> dict:
    """SWD x 1e3 between two image sets ``(N, C, S, S)`` in [-1, 1] (uint8 is converted).

    Returns ``{"swd": mean over levels, "swd_<res>": per pyramid level}``. Both sets need the same
    number of images and size; 1,000+ images each give stable values (about +-0.3 between seeds).
    """
    real, fake = (_as_float(x) for x in (real, fake))
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape (N, C, S, S), got {tuple(real.shape)} "
                         f"and {tuple(fake.shape)}: draw as many samples as real images")
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for lr, lf in zip(laplacian_pyramid(real), laplacian_pyramid(fake), strict=True):
        state = gen.get_state()  # same patch positions for both sets
        da = _patch_descriptors(lr, per_image, patch, gen)
        gen.set_state(state)
        db = _patch_descriptors(lf, per_image, patch, gen)
        out[f"swd_{lr.shape[-1]}"] = 1e3 * _sliced_w1(da, db, n_dirs, gen)
    out["swd"] = sum(out.values()) / len(out)
    return out


def _as_float(x: torch.Tensor) -> torch.Tensor:
    if x.dim() != 4:
        raise ValueError(f"expected images (N, C, S, S), got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.float().div(127.5).sub(1)
    return x.detach().float().cpu()


def swd_floor(images: torch.Tensor, n: int = 2048, seed: int = 0, **kwargs) -> dict:
    """SWD between two disjoint random halves of real images: the best value a generator can reach."""
    if len(images) < 2 * n:
        raise ValueError(f"need at least {2 * n} images for two disjoint sets of {n}, got {len(images)}")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return sliced_wasserstein(images[order[:n]], images[order[n:2 * n]], seed=seed, **kwargs)


def swd_of_generator(G, images: torch.Tensor, n: int = 2048, seed: int = 0, **kwargs) -> dict:
    """SWD between ``n`` samples of ``G`` and ``n`` random real images (lesson 5's eval_fn)."""
    from ..kit.sampling import sample

    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    return sliced_wasserstein(images[order[:n]], sample(G, n, seed=seed), seed=seed, **kwargs)
