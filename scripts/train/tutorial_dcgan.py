"""The yardstick for lesson 3: a tutorial-style DCGAN at 28x28, trained the tutorial's way.

Architecture and recipe of the PyTorch DCGAN tutorial, scaled to 28x28 (ConvTranspose 7 -> 14 -> 28,
a D that ends in a 7x7 conv and a sigmoid, BCELoss, batch 128, Adam 2e-4, beta1 0.5, N(0, 0.02)
init), fed by a torchvision Dataset + DataLoader. It writes 10,000 samples (uint8) so that
``scripts/bench/compare_quality.py`` can score them against the shipped lesson-3 generator.

    python scripts/train/tutorial_dcgan.py --epochs 20 --out runs/tutorial_dcgan_samples.pt
    python scripts/train/tutorial_dcgan.py --record     # also the curve: FID after each epoch, scoring off the clock

``--record`` writes ``course_utils/pretrained/records/tutorial_dcgan_curve.json`` (the machine's name, the 20
epochs' training time, epoch -> minutes -> FID): the yardstick of ``scripts/bench/benchmark.py --ttq``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from course_utils import fashion_mnist_dataset, get_device, init_weights, save_checkpoint, seed_everything
from course_utils.kit.env import cpu_name
from course_utils.kit.sampling import sample
from course_utils.measure.metrics import fashion_scores
from course_utils.measure.records import record_path

RECORD = record_path("tutorial_dcgan_curve")


def tutorial_generator(latent_dim: int = 100, ngf: int = 64) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(latent_dim, ngf * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),  # 7x7
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),  # 14x14
        nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False), nn.Tanh(),  # 28x28
    )


def tutorial_discriminator(ndf: int = 64) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # 14x14
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid(),  # 1x1 probability
    )


class SampleableG(nn.Module):
    """The tutorial's G behind the course's interface: ``latent_dim`` and z of shape (B, latent_dim)."""

    def __init__(self, net: nn.Module, latent_dim: int = 100):
        super().__init__()
        self.net, self.latent_dim = net, latent_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.size(0), self.latent_dim, 1, 1))  # (B, 1, 28, 28)


def train(epochs: int | None, device, seed: int = 0, batch_size: int = 128, on_step=None, on_epoch=None):
    """The tutorial's loop for ``epochs`` (None: until ``on_step(G)`` or ``on_epoch(epoch, G)`` raises)."""
    seed_everything(seed)
    loader = DataLoader(fashion_mnist_dataset(train=True), batch_size=batch_size, shuffle=True, num_workers=2)
    G, D = tutorial_generator().to(device), tutorial_discriminator().to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    criterion = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    epoch = 0
    while epochs is None or epoch < epochs:
        epoch += 1
        for real, _ in loader:
            real = real.to(device)
            b = real.size(0)
            ones, zeros = torch.ones(b, device=device), torch.zeros(b, device=device)
            D.zero_grad()
            fake = G(torch.randn(b, 100, 1, 1, device=device))
            loss_d = criterion(D(real).view(-1), ones) + criterion(D(fake.detach()).view(-1), zeros)
            loss_d.backward()
            opt_d.step()
            G.zero_grad()
            loss_g = criterion(D(fake).view(-1), ones)
            loss_g.backward()
            opt_g.step()
            if on_step is not None:
                on_step(G)
        print(f"epoch {epoch}: loss_D {loss_d.item():.3f} loss_G {loss_g.item():.3f}", flush=True)
        if on_epoch is not None:
            on_epoch(epoch, G)
    return G


def fid_of(G, n: int) -> float:
    """The course metric: FID of ``n`` samples of G (features of the course classifier), latent seed 0."""
    return round(fashion_scores(sample(G, n, seed=0), strict_range=False)["fid"], 2)


def record_curve(epochs: int, device, n: int, path) -> dict:
    """Train ``epochs`` epochs, scoring FID (``n`` samples, the course metric) after each, off the clock."""
    rows, clock = [], {"start": time.perf_counter(), "scoring": 0.0}

    def on_epoch(epoch, G):
        t0 = time.perf_counter()
        trained = t0 - clock["start"] - clock["scoring"]
        rows.append({"epoch": epoch, "minutes": round(trained / 60, 3), "fid": fid_of(SampleableG(G), n)})
        print("  " + json.dumps(rows[-1]), flush=True)
        clock["scoring"] += time.perf_counter() - t0

    train(epochs, device, on_epoch=on_epoch)
    machine = cpu_name() if device.type == "cpu" else torch.cuda.get_device_name(device)
    record = {"what": "the PyTorch tutorial's DCGAN at 28x28 (scripts/train/tutorial_dcgan.py), FID after each epoch",
              "command": f"python scripts/train/tutorial_dcgan.py --record --epochs {epochs} --n {n}",
              "machine": machine, "threads": torch.get_num_threads(), "torch": str(torch.__version__),
              "epochs": epochs, "train_s": round(rows[-1]["minutes"] * 60, 1), "fid_samples": n,
              "scoring_s": round(clock["scoring"], 1), "curve": rows}
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}: {epochs} epochs in {record['train_s']:.0f} s of training on {machine}")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--out", default="runs/tutorial_dcgan_samples.pt")
    parser.add_argument("--record", nargs="?", const=str(RECORD), default=None,
                        help="record the FID-per-epoch curve (scored with --n samples) to this JSON file")
    args = parser.parse_args()
    device = get_device()
    if args.record:
        record_curve(args.epochs, device, args.n, args.record)
        return
    start = time.perf_counter()
    G = train(args.epochs, device).eval()
    with torch.no_grad():
        z = torch.randn(args.n, 100, 1, 1, generator=torch.Generator().manual_seed(0)).to(device)
        images = torch.cat([G(c) for c in z.split(1000)]).float().cpu()  # (n, 1, 28, 28) in [-1, 1]
    as_uint8 = ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    save_checkpoint(args.out, images=as_uint8, epochs=args.epochs, seconds=time.perf_counter() - start)
    print(f"wrote {args.n} samples to {args.out} in {time.perf_counter() - start:.0f} s on {device}")


if __name__ == "__main__":
    main()
