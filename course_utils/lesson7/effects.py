"""Lesson 7: what each kind of control does, measured on the shipped generator, one dict per seed.

Each ``*_measurements`` function takes the generator, the seeds, sizes, and the function that does the
control (the student's, or the reference by default), so the lesson measures the code it just wrote. The claims
(:mod:`course_utils.lesson7.claims`) read these dicts; every number is a plain float.

* walks: the norm of the midpoints of linear and spherical walks against the prior's shell, and the FID of the
  midpoints' images;
* truncation: FID, class coverage and a precision/recall pair (Kynkäänniemi et al. 2019: k-nearest-neighbour
  balls in the course classifier's features) over a grid of ``psi``;
* directions: how often an edit along a found direction turns source-class samples into the target class,
  against a random direction of the same length and the found one made orthogonal to a third class's, and where
  the rest land;
* steering: how often the classifier that was optimised, and an independent judge, name the target class;
* inversion: pixel error of inverted real test images, of inverted samples of G, and of the nearest sample.
"""

from __future__ import annotations

import torch

from ..lesson6.control import real_test_features
from ..lesson6.judge import judge_images
from ..measure.metrics import classify, frechet_distance, gaussian_stats, load_classifier, scores_from_features
from .latent import (
    class_latents,
    edit,
    find_direction,
    generate,
    interpolate,
    orthogonalize,
    predict,
    prior_shell,
    truncated_sample,
)
from .optimize import invert, reconstruction_error, steer

PSIS = (1.0, 0.8, 0.6, 0.4, 0.2)
"""The truncation grid: from no truncation down to a fifth of every ``z``."""
K_NEIGHBOURS = 3  # Kynkäänniemi et al.'s k for the k-NN balls that approximate each manifold


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def real_features(n: int, seed: int = 0) -> torch.Tensor:
    """The course classifier's features of ``n`` random real test images, ``(n, 128)`` float64 (plumbing)."""
    feats = real_test_features()[0]
    return feats[torch.randperm(len(feats), generator=_gen(seed))[:n]]


def fid_to_test(images: torch.Tensor) -> float:
    """FID of ``images`` against all 10,000 real test images, in the course classifier's features (plumbing)."""
    return frechet_distance(gaussian_stats(classify(images)[0]), gaussian_stats(real_test_features()[0]))


def walk_measurements(G, seeds, pairs: int = 256, interpolate_fn=interpolate) -> list[dict]:
    """Per seed: the norms of the midpoints of ``pairs`` linear and slerp walks, the prior's shell, and the FID of
    the midpoints' images (lesson 7)."""
    lo, hi = prior_shell(G.latent_dim)
    out = []
    for seed in seeds:
        g = _gen(seed)
        z0, z1 = torch.randn(pairs, G.latent_dim, generator=g), torch.randn(pairs, G.latent_dim, generator=g)
        row = {"seed": seed, "pairs": pairs, "shell": (lo, hi)}
        for mode in ("linear", "slerp"):
            mid = interpolate_fn(z0, z1, 3, mode)[1]  # (pairs, latent_dim): t = 0.5
            norms = mid.norm(dim=1)
            row[mode] = {"median_norm": float(norms.median()), "below": float((norms < lo).double().mean()),
                         "inside": float(((norms >= lo) & (norms <= hi)).double().mean()),
                         "fid": fid_to_test(generate(G, mid))}
        out.append(row)
    return out


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = K_NEIGHBOURS) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of features ``fake`` against ``real`` (lesson 7).

    Each set's manifold is the union of balls around its points, each reaching the point's k-th nearest
    neighbour in the same set. Precision: the share of fakes inside the real manifold (are samples realistic?);
    recall: the share of real points inside the fake manifold (is the data's variety covered?).
    """
    real, fake = real.double(), fake.double()
    r_real = torch.cdist(real, real).kthvalue(k + 1, dim=1).values  # (R,): +1 skips the point itself
    r_fake = torch.cdist(fake, fake).kthvalue(k + 1, dim=1).values  # (F,)
    d = torch.cdist(fake, real)  # (F, R)
    precision = (d <= r_real.view(1, -1)).any(1).double().mean()
    recall = (d.T <= r_fake.view(1, -1)).any(1).double().mean()
    return float(precision), float(recall)


def truncation_sweep(G, seeds, n: int = 2000, psis=PSIS, truncated_sample_fn=truncated_sample) -> list[dict]:
    """Per seed: one row per ``psi`` with FID, class coverage, the class histogram, precision and recall of ``n``
    samples ``truncated_sample_fn(G, z, psi)`` (the same ``z`` for every ``psi``) (lesson 7)."""
    out = []
    for seed in seeds:
        z = torch.randn(n, G.latent_dim, generator=_gen(seed))  # (n, latent_dim)
        real = real_features(n, seed)
        rows = []
        for psi in psis:
            feats, probs = classify(_truncated_images(G, z, psi, truncated_sample_fn))
            scores = scores_from_features(feats, probs, seed=seed)
            precision, recall = precision_recall(real, feats)
            rows.append({"psi": float(psi), "fid": scores["fid"], "coverage": scores["coverage"],
                         "histogram": torch.bincount(probs.argmax(1), minlength=10).tolist(),
                         "precision": precision, "recall": recall})
        out.append({"seed": seed, "n": n, "rows": rows})
    return out


@torch.no_grad()
def _truncated_images(G, z: torch.Tensor, psi: float, fn) -> torch.Tensor:
    """``fn(G, z, psi)`` in eval mode, in batches of 500, clamped to [-1, 1]: ``(n, 1, 28, 28)``."""
    was_training = G.training
    G.eval()
    try:
        return torch.cat([fn(G, chunk, psi).float().cpu() for chunk in z.split(500)]).clamp_(-1, 1)
    finally:
        G.train(was_training)


def direction_measurements(G, seeds, source: int, target: int, alpha: float = 4.0, n_find: int = 4000,
                           n_test: int = 2000, find_direction_fn=find_direction,
                           avoid: int | None = None) -> list[dict]:
    """Per seed: find the direction on ``n_find`` samples, then edit the held-out samples of class ``source`` among
    ``n_test`` others by ``alpha``; the share the classifier then calls ``target`` (``flip``), still ``source``
    (``stay``), each class (``shares``), and the same for a random unit direction (lesson 7).

    With ``avoid`` (a third class), also the found direction made orthogonal to the ``source -> avoid`` direction
    (``orthogonal``, with ``avoided``: the share landing in ``avoid``; ``cosine``: the two directions' cosine)."""
    out = []
    for seed in seeds:
        z, classes = class_latents(G, n_find, seed=seed)
        direction = find_direction_fn(z, classes, source, target)  # (latent_dim,)
        held_z, held = class_latents(G, n_test, seed=1000 + seed)
        src = held_z[held == source]  # (m, latent_dim): held-out samples of the source class
        rand = torch.randn(G.latent_dim, generator=_gen(2000 + seed))
        row = {"seed": seed, "source": source, "target": target, "alpha": alpha, "n": len(src),
               "direction": direction}
        edits = [("found", direction), ("random", rand)]
        if avoid is not None:
            other = find_direction_fn(z, classes, source, avoid)  # (latent_dim,): source -> avoid
            row.update(avoid=avoid, cosine=float(direction @ other / (direction.norm() * other.norm())))
            edits.append(("orthogonal", orthogonalize(direction, other)))
        for name, d in edits:
            pred = predict(generate(G, edit(src, d, alpha)))  # (m,)
            shares = torch.bincount(pred, minlength=10).double() / max(1, len(pred))
            row[name] = {"flip": float(shares[target]), "stay": float(shares[source]), "shares": shares.tolist()}
            if avoid is not None:
                row[name]["avoided"] = float(shares[avoid])
        out.append(row)
    return out


def steer_measurements(G, seeds, n: int = 100, steps: int = 80, lr: float = 0.1, prior_weights=(0.0, 0.1),
                       steer_fn=steer, prior_n: int = 20) -> list[dict]:
    """Per seed: ``n`` random ``z`` steered towards the classes in turn (``arange(n) % 10``) under the course
    classifier, once per prior weight (the first ``prior_n`` of them for a weight above 0: their mean ``|z|`` is
    what is measured there); the share each judge gives the target class, before and after, and the mean ``|z|``
    (lesson 7)."""
    classifier = load_classifier()
    targets = torch.arange(n) % 10  # (n,)
    out = []
    for seed in seeds:
        z = torch.randn(n, G.latent_dim, generator=_gen(seed))
        row = {"seed": seed, "n": n, "steps": steps, "before": _agreement(generate(G, z), targets), "after": {}}
        for w in prior_weights:
            m = n if w == 0 else min(n, prior_n)
            z_new = steer_fn(G, z[:m], targets[:m], classifier, steps, lr, w)
            row["after"][float(w)] = {**_agreement(generate(G, z_new), targets[:m]),
                                      "norm": float(z_new.norm(dim=1).mean())}
        out.append(row)
    return out


def _agreement(images: torch.Tensor, targets: torch.Tensor) -> dict:
    by_classifier = predict(images)
    by_judge = judge_images(images)[1]
    return {"classifier": float((by_classifier == targets).double().mean()),
            "judge": float((by_judge == targets).double().mean())}


def inversion_measurements(G, seeds, images: torch.Tensor, steps: int = 200, restarts: int = 3, lr: float = 0.1,
                           pool: int = 2000, invert_fn=invert) -> list[dict]:
    """Per seed: the mean pixel MSE of ``images`` (real test images in [-1, 1]) inverted by ``invert_fn``, of as many
    samples of G inverted the same way (G's own range: what a perfect inversion reaches), and of the nearest of
    ``pool`` random samples (no optimisation) (lesson 7)."""
    out = []
    for seed in seeds:
        torch.manual_seed(seed)
        z_real = invert_fn(G, images, steps, restarts, lr)
        own = generate(G, torch.randn(len(images), G.latent_dim, generator=_gen(3000 + seed)))
        torch.manual_seed(seed)
        z_own = invert_fn(G, own, steps, restarts, lr)
        samples = generate(G, torch.randn(pool, G.latent_dim, generator=_gen(4000 + seed)))
        nearest = torch.cdist(images.flatten(1), samples.flatten(1)).pow(2).min(1).values / images[0].numel()
        out.append({"seed": seed, "n": len(images), "real": float(reconstruction_error(G, z_real, images).mean()),
                    "own": float(reconstruction_error(G, z_own, own).mean()), "nearest": float(nearest.mean()),
                    "z": z_real})
    return out
