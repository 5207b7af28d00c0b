"""Self-checks of lesson 6 (a conditional GAN). Each returns a :class:`~course_utils.kit.checking.CheckReport`.

They name the usual mistakes: the label is ignored (changing ``y`` changes nothing), wrong shape or
range, D ignores the label, fake labels that are not uniform or not the same for G and D, real images
judged under other labels than their own, and fakes not detached in the D step. The steps are
checked on probe models that record what they were given, so a check can say which label went where.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..kit.checking import CheckReport, bce, build_model, call_student, match_variant, uses_layer

PROBE_BATCH = 1000  # big enough to tell uniform labels (about 100 per class) from skewed ones
PROBE_REAL_CLASS = 3  # every probe real image is a Dress: fake labels copied from the real batch are all 3


# ----------------------------------------------------------------------------- the models

def _inputs(latent_dim: int, num_classes: int, device):
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, latent_dim, generator=g).to(device)  # (16, latent_dim)
    y = (torch.arange(16) % num_classes).to(device)  # (16,) every class
    return z, y, ((y + 1) % num_classes)


def check_conditional_generator(G, latent_dim: int = 100, num_classes: int = 10) -> CheckReport:
    """``G(z, y)``: ``(B, 1, 28, 28)`` in [-1, 1], tanh, and the label changes the image (lesson 6).

    ``G`` is a model, or a class built as ``G(latent_dim, num_classes)``.
    """
    r = CheckReport(f"conditional generator {G.__name__ if isinstance(G, type) else type(G).__name__}")
    ok, G = build_model(r, G, latent_dim, num_classes)
    if not ok:
        return r
    r.expect(getattr(G, "latent_dim", None) == latent_dim and getattr(G, "num_classes", None) == num_classes,
             f"G.latent_dim == {latent_dim}, G.num_classes == {num_classes}",
             "store both sizes in __init__: self.latent_dim = latent_dim; self.num_classes = num_classes")
    was_training = G.training
    G.eval()  # BatchNorm's running statistics: each image depends on its own z and y only
    try:
        z, y, other = _inputs(latent_dim, num_classes, next(G.parameters()).device)
        ok, x = call_student(r, f"G(z, y) with z (16, {latent_dim}) and y (16,) class ids", G, z, y)
        if not ok:
            return r
        if not r.expect(tuple(x.shape) == (16, 1, 28, 28), f"output shape {tuple(x.shape)}",
                        f"expected output shape (16, 1, 28, 28), got {tuple(x.shape)}"):
            return r
        lo, hi = x.min().item(), x.max().item()
        r.expect(lo >= -1 - 1e-5 and hi <= 1 + 1e-5 and lo < 0, f"outputs within [-1, 1] (seen [{lo:.2f}, {hi:.2f}])",
                 f"outputs span [{lo:.2f}, {hi:.2f}]: the data is in [-1, 1], so end with nn.Tanh()")
        r.expect(uses_layer(G, nn.Tanh, "tanh"), "ends with tanh", "no tanh found: the last layer should be nn.Tanh()")
        ok, x2 = call_student(r, "G(z, other labels)", G, z, other)
        if ok:
            change = (x - x2).abs().max().item()
            r.expect(change > 1e-4, f"the label changes the image (max change {change:.3f})",
                     "the label is ignored: G(z, y) is the same for every y. Turn y into maps, "
                     "self.label_map(self.embed(y)).view(-1, c, 7, 7), and join them to the projected noise "
                     "with torch.cat([x, m], dim=1) before upsampling")
        r.expect((x[0] - x[num_classes]).abs().max().item() > 1e-4, "different z give different images",
                 "every z gives the same image for one class: is z used in forward?")
    finally:
        G.train(was_training)
    return r


def check_projection_discriminator(D, num_classes: int = 10) -> CheckReport:
    """``D(x, y)``: one logit per image, an embedding per class, and the label changes the logit (lesson 6).

    ``D`` is a model, or a class built as ``D(num_classes)``.
    """
    r = CheckReport(f"projection discriminator {D.__name__ if isinstance(D, type) else type(D).__name__}")
    ok, D = build_model(r, D, num_classes)
    if not ok:
        return r
    was_training = D.training
    D.eval()
    try:
        device = next(D.parameters()).device
        _, y, other = _inputs(1, num_classes, device)
        x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0)).mul(2).sub(1).to(device)
        x.requires_grad_(True)
        ok, out = call_student(r, "D(x, y) with x (16, 1, 28, 28) and y (16,)", D, x, y)
        if not ok:
            return r
        if not r.expect(tuple(out.shape) == (16, 1), f"output shape {tuple(out.shape)}: one logit per image",
                        f"expected shape (16, 1), got {tuple(out.shape)}: psi(phi) + the projection, "
                        "summed over the feature dimension with keepdim=True"):
            return r
        r.expect(not bool(((out > 0) & (out < 1)).all()) or out.std().item() > 0.5, "returns logits",
                 "outputs look like probabilities (all in (0, 1)): no sigmoid at the end; the loss applies it")
        r.expect(any(isinstance(m, nn.Embedding) for m in D.modules()), "has an nn.Embedding (one vector per class)",
                 "no nn.Embedding found: the projection needs a learned vector embed(y) per class")
        ok, out2 = call_student(r, "D(x, other labels)", D, x.detach(), other)
        if ok:
            change = (out.detach() - out2.detach()).abs().max().item()
            r.expect(change > 1e-6, f"the label changes the logit (max change {change:.2e})",
                     "D ignores the label: D(x, y) is the same for every y. Add the projection "
                     "(self.embed(y) * phi).sum(dim=1, keepdim=True) to psi(phi)")
        out.sum().backward()
        r.expect(x.grad is not None and x.grad.abs().sum().item() > 0, "gradient reaches the input image",
                 "no gradient reaches the input: is something detached inside D? G learns through it")
    finally:
        D.zero_grad(set_to_none=True)
        D.train(was_training)
    return r


# ----------------------------------------------------------------------------- probes for the steps

class ProbeConditionalG(nn.Module):
    """Images depend on the label (not on z); records every ``(z, y)`` it is given."""

    latent_dim, num_classes = 4, 10

    def __init__(self):
        super().__init__()
        self.pixels = nn.Parameter(torch.linspace(-1.0, 1.0, 28 * 28).view(1, 1, 28, 28))
        self.calls = []

    def forward(self, z, y):
        self.calls.append((z.detach().clone(), y.detach().clone()))
        shift = 0.1 * y.float().view(-1, 1, 1, 1)  # (B, 1, 1, 1): each class its own image
        return torch.tanh(self.pixels + shift) + 0.0 * z.sum(1).view(-1, 1, 1, 1)

    def labels_seen(self) -> torch.Tensor | None:
        """Every label G was asked for, in call order, ``(N,)``; ``None`` if G was never called."""
        return torch.cat([y for _, y in self.calls]) if self.calls else None


class ProbeConditionalD(nn.Module):
    """A linear D plus one learned bias per class; records every ``(x, y)`` it is given."""

    num_classes = 10

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(28 * 28, 1)
        self.embed = nn.Embedding(10, 1)
        with torch.no_grad():
            self.linear.weight.copy_(torch.linspace(-0.004, 0.006, 28 * 28).view(1, -1))
            self.linear.bias.fill_(0.3)
            self.embed.weight.copy_(torch.linspace(-0.5, 0.5, 10).view(10, 1))
        self.calls = []

    def forward(self, x, y):
        self.calls.append((x.detach().clone(), y.detach().clone()))
        return self.logits(x, y)

    def logits(self, x, y) -> torch.Tensor:
        """D's logits ``(B, 1)`` without recording the call (e.g. with the weights before an update)."""
        return self.linear(x.flatten(1)) + self.embed(y)  # (B, 1)


def probe_conditional():
    """``(G, D, real, labels)``: probe models and ``PROBE_BATCH`` real images, all labelled ``PROBE_REAL_CLASS``."""
    torch.manual_seed(0)
    real = torch.rand(PROBE_BATCH, 1, 28, 28, generator=torch.Generator().manual_seed(2)).mul(2).sub(1)
    return ProbeConditionalG(), ProbeConditionalD(), real, torch.full((PROBE_BATCH,), PROBE_REAL_CLASS)


def check_uniform_labels(r: CheckReport, labels, where: str) -> bool:
    """The labels G was given are ``PROBE_BATCH`` uniform draws over 0..9 (each class 60-140 times)."""
    if labels is None:
        r.fail(f"G was never called with labels in the {where}")
        return False
    counts = torch.bincount(labels.flatten().long().clamp(0, 9), minlength=10)
    if bool((labels == PROBE_REAL_CLASS).all()):
        return r.expect(False, "", f"the fake labels copy the real batch's labels (all class {PROBE_REAL_CLASS} "
                        "in this probe): draw them uniformly, torch.randint(0, num_classes, (B,))")
    return r.expect(bool((counts >= 60).all() and (counts <= 140).all()),
                    f"fake labels uniform over the 10 classes ({int(counts.min())}-{int(counts.max())} "
                    f"per class in {PROBE_BATCH})",
                    f"fake labels are not uniform (per-class counts {counts.tolist()} in {PROBE_BATCH} draws): "
                    "use torch.randint(0, num_classes, (B,), device=...)")


def is_probe_fake(G, x) -> torch.Tensor:
    """``(N,)`` True where a row of ``x`` is one of the probe G's ten class images (a fake)."""
    with torch.no_grad():
        classes = torch.tanh(G.pixels + 0.1 * torch.arange(10.0).view(10, 1, 1, 1)).flatten(1)  # (10, 784)
    distance = torch.cdist(x.flatten(1).float(), classes, compute_mode="donot_use_mm_for_euclid_dist")  # (N, 10)
    return distance.min(1).values < 1e-4


def d_inputs(D):
    """Everything D was given, stacked: ``(x (N, 1, 28, 28), y (N,))``."""
    if not D.calls:
        return None, None
    return torch.cat([x for x, _ in D.calls]), torch.cat([y for _, y in D.calls])


def _fake_judged_with_g_labels(r: CheckReport, G, x, y, is_real) -> None:
    g_labels = G.labels_seen()
    fake_y = y[~is_real]
    r.expect(g_labels is not None and fake_y.shape == g_labels.shape and torch.equal(fake_y, g_labels),
             "D judged each fake under the label G drew it for",
             "the fakes were judged under other labels than G made them for: pass the same fake_labels to "
             "G(z, fake_labels) and D(fake, fake_labels)")


def check_conditional_d_step(fn) -> CheckReport:
    """``fn(D, G, real, labels, opt_d, latent_dim, num_classes)``: one conditional D update (lesson 6)."""
    r = CheckReport("conditional_d_step")
    G, D, real, labels = probe_conditional()
    D0 = copy.deepcopy(D)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    ok, out = call_student(r, "d_step(D, G, real, labels, opt_d, latent_dim, num_classes)", fn,
                           D, G, real, labels, opt_d, G.latent_dim, 10)
    if not ok:
        return r
    if not r.expect(isinstance(out, tuple) and len(out) == 3, "returns (d_loss, D(x, y) mean, D(G(z, y'), y') mean)",
                    f"expected a tuple of 3 values, got {type(out).__name__}"):
        return r
    check_uniform_labels(r, G.labels_seen(), "D step")
    x, y = d_inputs(D)
    if x is None:
        r.fail("D was never called")
        return r
    is_real = ~is_probe_fake(G, x)  # (N,): rows that are not one of the probe G's ten class images
    r.expect(int(is_real.sum()) == PROBE_BATCH and bool((y[is_real] == PROBE_REAL_CLASS).all()),
             "real images judged under their own labels",
             "D judged the real images under other labels than their own: use D(real, labels)")
    _fake_judged_with_g_labels(r, G, x, y, is_real)
    with torch.no_grad():
        logits = D0.logits(x, y)  # (N, 1) before the update
    real_logits, fake_logits = logits[is_real], logits[~is_real]
    loss = float(out[0].detach()) if torch.is_tensor(out[0]) else float(out[0])
    match_variant(r, loss, {
        "correct": (bce(real_logits, 1) + bce(fake_logits, 0)) / 2,
        "fakes are labelled as real (target 1) in the D step; they get target 0":
            (bce(real_logits, 1) + bce(fake_logits, 1)) / 2,
        "labels are swapped: real -> 1, fake -> 0": (bce(real_logits, 0) + bce(fake_logits, 1)) / 2,
        "the two BCE terms are summed; average them (discriminator_loss)": bce(real_logits, 1) + bce(fake_logits, 0),
    })
    grad = G.pixels.grad
    r.expect(grad is None or grad.abs().sum().item() == 0, "no gradient reaches G (fakes detached)",
             "gradients flowed into G during the D step: use fake = G(z, fake_labels).detach()")
    r.expect(not torch.equal(D.linear.weight, D0.linear.weight), "D's weights were updated",
             "D's weights did not change: call loss.backward() and opt_d.step()")
    return r


def check_conditional_g_step(fn) -> CheckReport:
    """``fn(D, G, opt_g, batch_size, latent_dim, num_classes, device)``: one conditional G update (lesson 6)."""
    r = CheckReport("conditional_g_step")
    G, D, _, _ = probe_conditional()
    G0, D0 = copy.deepcopy(G), copy.deepcopy(D)
    opt_g = torch.optim.SGD(G.parameters(), lr=0.1)
    ok, loss = call_student(r, "g_step(D, G, opt_g, batch_size, latent_dim, num_classes, device)", fn,
                            D, G, opt_g, PROBE_BATCH, G.latent_dim, 10, torch.device("cpu"))
    if not ok:
        return r
    check_uniform_labels(r, G.labels_seen(), "G step")
    x, y = d_inputs(D)
    if x is None:
        r.fail("D was never called: the G step needs D's judgement of the fakes, D(fake, labels)")
        return r
    _fake_judged_with_g_labels(r, G, x, y, torch.zeros(len(y), dtype=torch.bool))
    with torch.no_grad():
        fake_logits = D0.logits(x, y)  # (B, 1)
    match_variant(r, float(loss.detach()) if torch.is_tensor(loss) else float(loss), {
        "correct": bce(fake_logits, 1),
        "fakes are labelled 0 in the G step: G's target is 1 ('real')": bce(fake_logits, 0),
        "this is the saturating loss log(1 - D(G(z, y), y)); use BCE(D(G(z, y), y), 1)": -bce(fake_logits, 0),
    })
    r.expect(not torch.equal(G.pixels, G0.pixels), "G's weights were updated",
             "G's weights did not change: call loss.backward() and opt_g.step()")
    r.expect(torch.equal(D.linear.weight, D0.linear.weight), "D's weights untouched by the G step",
             "D's weights changed in the G step: only opt_g.step() belongs here")
    return r
