"""Lesson 7's optimisations on a probe G: z changes, G never does."""

import copy

import torch
import torch.nn.functional as F

from course_utils.lesson7.checks import ProbeClassifier, ProbeLatentG, probe_z
from course_utils.lesson7.optimize import invert, reconstruction_error, steer


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_steer_raises_the_target_log_probability_and_leaves_g_and_its_mode_alone():
    G, C, z = ProbeLatentG(), ProbeClassifier(), probe_z(6)
    G.train()
    G0 = copy.deepcopy(G)
    out = steer(G, z, 4, C, steps=20, lr=0.1)
    assert out.shape == z.shape and not out.requires_grad
    assert _same(G, G0) and G.training  # weights, BatchNorm statistics and the mode
    G.eval()
    before = F.log_softmax(C(G(z)), 1)[:, 4]
    after = F.log_softmax(C(G(out)), 1)[:, 4]
    assert bool((after > before).all())


def test_the_prior_pulls_steered_z_towards_the_centre_and_targets_can_differ_per_sample():
    G, C, z = ProbeLatentG(), ProbeClassifier(), probe_z(6) * 3
    free = steer(G, z, torch.arange(6), C, steps=30, lr=0.1, prior_weight=0.0)
    pulled = steer(G, z, torch.arange(6), C, steps=30, lr=0.1, prior_weight=1.0)
    assert pulled.norm(dim=1).mean() < free.norm(dim=1).mean()


def test_invert_recovers_g_s_own_images_keeps_the_best_restart_and_leaves_g_alone():
    G = ProbeLatentG()
    with torch.no_grad():
        images = G(probe_z(4, 3))
    G0 = copy.deepcopy(G)
    torch.manual_seed(0)
    one = invert(G, images, steps=60, restarts=1, lr=0.1)
    torch.manual_seed(0)
    three = invert(G, images, steps=60, restarts=3, lr=0.1)
    assert three.shape == (4, G.latent_dim) and _same(G, G0)
    e1, e3 = reconstruction_error(G, one, images), reconstruction_error(G, three, images)
    assert bool((e3 <= e1 + 1e-7).all())  # restart 0 of the three is the single run: the best is no worse
    start = reconstruction_error(G, torch.randn(4, G.latent_dim, generator=torch.Generator().manual_seed(0)), images)
    assert float(e3.mean()) < 0.5 * float(start.mean())
