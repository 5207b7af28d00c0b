"""Benchmark: the course's fast training path against a tutorial-style baseline, in one run.

Run by hand from the repository root (real data, e.g. ``COURSE_DATA_DIR`` set)::

    python scripts/bench/benchmark.py                 # steps/s of both paths, their ratio, the ceiling (~3 min)
    python scripts/bench/benchmark.py --ablation      # also each change of the fast path added one at a time
    python scripts/bench/benchmark.py --ttq --minutes 9 --out runs/ttq   # time to quality instead (2 x 9 min + scoring)
    python scripts/bench/benchmark.py --ttq --lesson-only --minutes 27    # only the lesson path, vs the recorded curve

Both paths train the same models (``Generator``/``Discriminator``, width 64, DCGAN init) with the
same batch size, learning rate, losses and updates (``d_step``/``g_step``); only the plumbing differs:

* **baseline** (what most tutorials write): ``torchvision.datasets.FashionMNIST`` with
  ``ToTensor()`` + ``Normalize`` per image through a ``DataLoader``, fp32, NCHW, ``torch.optim.Adam``
  with its defaults, and ``.item()`` on every loss at every step;
* **fast** (lesson 3's default): ``train_gan`` on ``fashion_mnist_loader`` (the whole data set as one
  tensor, shuffled index batches), with its defaults: ``channels_last="auto"``, ``amp="auto"`` (both
  picked by timing on this machine: ``course_utils.kit.speed``; the chosen line is printed first),
  fused Adam, the network not being updated frozen (no gradients for its weights), statistics
  kept on the device and read every ``log_every`` steps.

The **floor** rows bound what any plumbing could reach: the same steps with every module but the
convolutions and linear layers replaced by ``Identity`` and no optimizer updates (NCHW,
channels_last, and channels_last under bf16 autocast). ``ceiling`` = fastest floor / baseline: no
change that keeps the model, the batch size and the update can be faster than that on this machine.

``--ttq``: lesson 3's default path and the PyTorch tutorial's DCGAN, each trained for ``--minutes`` and
scored on a fixed schedule with the course metric, next to the tutorial's recorded 20-epoch curve on this
machine (``scripts/bench/time_to_quality.py`` says how).

Rounds alternate between the paths; the fastest round of each (and the median) is reported, because
the CPU may be shared.
Timings are printed, never asserted (a test would be flaky on a shared machine).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import itertools
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from course_utils.kit.data import fashion_mnist_dataset, fashion_mnist_loader  # noqa: E402
from course_utils.kit.env import cpu_name, get_device, seed_everything  # noqa: E402
from course_utils.kit.loop import autocast_context, frozen, make_adam  # noqa: E402
from course_utils.kit.speed import choose_speed  # noqa: E402
from course_utils.lesson1.reference import Generator, init_weights  # noqa: E402
from course_utils.lesson2.reference import Discriminator
from course_utils.lesson3.trainer import d_step, g_step, train_gan  # noqa: E402

LATENT_DIM = 100


def make_models(device, seed: int = 0):
    """The lesson-3 models, identically initialised for both paths."""
    seed_everything(seed)
    G, D = Generator(LATENT_DIM).to(device), Discriminator().to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    return G, D


def baseline_loader(batch_size: int, limit: int | None = None, seed: int = 0):
    """Tutorial style: a per-image torchvision Dataset (ToTensor + Normalize) in a DataLoader."""
    ds = fashion_mnist_dataset(train=True)  # default transform: ToTensor() + Normalize((0.5,), (0.5,))
    if limit is not None:
        ds = torch.utils.data.Subset(ds, range(limit))
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True, drop_last=True,
                                       generator=torch.Generator().manual_seed(seed))


def baseline_train(G, D, loader, steps: int, device, on_step=None) -> float:
    """The tutorial loop: fp32, NCHW, default Adam, ``.item()`` every step. Returns seconds."""
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_losses, g_losses, done = [], [], 0
    start = time.perf_counter()
    while done < steps:
        for real, _ in loader:
            real = real.to(device)
            d_loss, _, _ = d_step(D, G, real, opt_d, LATENT_DIM)
            g_loss = g_step(D, G, opt_g, real.size(0), LATENT_DIM, device)
            d_losses.append(d_loss.item())
            g_losses.append(g_loss.item())
            done += 1
            if on_step is not None:
                on_step(done)
            if done == steps:
                break
    return time.perf_counter() - start


def fast_train(G, D, loader, epochs: int, device, eval_fn=None, amp="auto") -> float:
    """Lesson 3's default path: ``train_gan`` with its defaults. Returns seconds."""
    start = time.perf_counter()
    train_gan(G, D, loader, epochs, device, verbose=False, seed=None, eval_fn=eval_fn, amp=amp,
              checkpoint_every=1 if eval_fn else 0)
    return time.perf_counter() - start


def ablation_train(G, D, loader, steps: int, device, *, fused=False, sync_every=1, freeze=False,
                   channels_last=False, strip=False, bf16=False) -> float:
    """The same step with the fast path's changes switched on one at a time. Returns seconds.

    ``strip=True`` makes a *floor*, not a trainer: every module but the convolutions and linear
    layers becomes ``Identity`` and the optimizers do not step, so what is left is the arithmetic
    no plumbing can remove.
    """
    if strip:
        G, D = _convolutions_only(G), _convolutions_only(D)
    if channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    adam = (lambda m: make_adam(m.parameters(), 2e-4, (0.5, 0.999), device)) if fused else (
        lambda m: torch.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999)))
    opt_g, opt_d = adam(G), adam(D)
    if strip:
        opt_g.step = opt_d.step = lambda: None
    pending, done = [], 0
    start = time.perf_counter()
    for real, _ in itertools.islice(itertools.cycle(loader), steps):
        real = real.to(device)
        with autocast_context(device, bf16), frozen(G) if freeze else contextlib.nullcontext():
            d_loss, _, _ = d_step(D, G, real, opt_d, LATENT_DIM)
        with autocast_context(device, bf16), frozen(D) if freeze else contextlib.nullcontext():
            g_loss = g_step(D, G, opt_g, real.size(0), LATENT_DIM, device)
        pending.append(torch.stack([d_loss, g_loss]))
        done += 1
        if done % sync_every == 0 or done == steps:
            torch.stack(pending).tolist()  # the host reads the losses (a sync on a GPU)
            pending = []
    return time.perf_counter() - start


def _convolutions_only(model):
    model = copy.deepcopy(model)
    for name, child in model.named_children():
        if isinstance(child, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)):
            continue
        setattr(model, name, torch.nn.Identity() if not list(child.children()) else _convolutions_only(child))
    return model


def paths(args, device) -> dict:
    """name -> train(G, D) -> seconds: the baseline, the fast path's changes added one by one, the
    fast path itself (``train_gan``) and the floor."""
    n = args.batch_size * args.steps
    fast_loader = fashion_mnist_loader(args.batch_size, limit=n, device=device)
    base_loader = baseline_loader(args.batch_size, limit=n)
    steps = args.steps
    table = {"baseline": lambda G, D: baseline_train(G, D, base_loader, steps, device)}
    if args.ablation:
        added = {}
        for label, option in [("+ one tensor, index batches", {}), ("+ fused Adam", {"fused": True}),
                              ("+ read stats every 50 steps", {"sync_every": 50}),
                              ("+ freeze the other network", {"freeze": True}),
                              ("+ channels_last", {"channels_last": True})]:
            added = {**added, **option}
            table[label] = functools.partial(ablation_train, loader=fast_loader, steps=steps, device=device,
                                             **added)
    table["fast (train_gan)"] = lambda G, D: fast_train(G, D, fast_loader, 1, device)
    if args.bf16:  # the fast path with bf16 autocast forced on, to check the "auto" policy
        table["fast + bf16 autocast"] = lambda G, D: fast_train(G, D, fast_loader, 1, device, amp=True)
    for layout, bf16 in (("NCHW", False), ("channels_last", False), ("channels_last", True)):
        table[f"floor: convs only, {layout}{', bf16' if bf16 else ''}"] = functools.partial(
            ablation_train, loader=fast_loader, steps=steps, device=device, fused=True, sync_every=50,
            freeze=True, channels_last=layout == "channels_last", strip=True, bf16=bf16)
    return table


def steps_per_second(args, device) -> None:
    """Alternate timed rounds of every path (after a warm-up) and print rates and ratios."""
    table = paths(args, device)
    rates = {name: [] for name in table}
    for r in range(args.rounds + 1):  # round 0 warms up every path
        for name, train in table.items():
            seconds = train(*make_models(device))
            if r > 0:
                rates[name].append(args.steps / seconds)
        if r > 0:
            print(f"round {r}: baseline {rates['baseline'][-1]:.2f} steps/s, fast {rates['fast (train_gan)'][-1]:.2f}"
                  f" steps/s, ratio {rates['fast (train_gan)'][-1] / rates['baseline'][-1]:.2f}", flush=True)
    base, best_base = statistics.median(rates["baseline"]), max(rates["baseline"])
    print(f"\nover {args.rounds} rounds of {args.steps} steps (batch {args.batch_size}); 'best' is the "
          "fastest round, the estimate least disturbed by other processes on a shared CPU:")
    for name, values in rates.items():
        med, best = statistics.median(values), max(values)
        print(f"  {name:<40} median {med:6.2f} steps/s ({1000 / med:6.1f} ms, {med / base:5.2f}x)   "
              f"best {best:6.2f} steps/s ({1000 / best:6.1f} ms, {best / best_base:5.2f}x)")
    fast = rates["fast (train_gan)"]
    ratios = [f / b for f, b in zip(fast, rates["baseline"], strict=True)]
    floor = max(max(v) for k, v in rates.items() if k.startswith("floor"))
    print(f"  ratio fast / baseline: best {max(fast) / best_base:.2f}x, "
          f"median of per-round ratios {statistics.median(ratios):.2f}x")
    gained = (max(fast) - best_base) / max(floor - best_base, 1e-9)
    print(f"  ceiling: a step that did nothing but its convolutions and matmuls would run at "
          f"{floor / best_base:.2f}x the baseline; the fast path gets {gained:.0%} of the way there")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100, help="timed steps per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bf16", action="store_true", help="also time the fast path with bf16 forced on")
    parser.add_argument("--ablation", action="store_true", help="also time each change of the fast path alone")
    parser.add_argument("--ttq", action="store_true",
                        help="time to quality: lesson 3's path vs the tutorial DCGAN, --minutes each, scored")
    parser.add_argument("--minutes", type=float, default=9.0, help="--ttq: minutes of training per path")
    parser.add_argument("--out", default="runs/ttq", help="--ttq: where generator.pt and ttq.json go")
    parser.add_argument("--score-every", type=float, default=None, help="--ttq: minutes between scores "
                        "(default: minutes / 9)")
    parser.add_argument("--ttq-n", type=int, default=10_000, help="--ttq: samples per FID score")
    parser.add_argument("--lesson-only", action="store_true", help="--ttq: train only the lesson path and "
                        "compare it with the tutorial's curve recorded on this machine")
    parser.add_argument("--device", default=None, help="e.g. cpu; default: get_device()")
    args = parser.parse_args(argv)

    device = get_device(args.device)
    print(f"device {device} ({cpu_name() if device.type == 'cpu' else torch.cuda.get_device_name()}), "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    if args.ttq:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from time_to_quality import run

        run(args.minutes, args.out, every=args.score_every, n=args.ttq_n, device=device,
            tutorial=not args.lesson_only)
        return
    choice = choose_speed(*make_models(device), device, batch_size=args.batch_size)  # what the fast path uses
    print(f"the fast path's {choice.line()}", flush=True)
    steps_per_second(args, device)


if __name__ == "__main__":
    main()
