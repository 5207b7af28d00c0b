"""The yardstick for lesson 3: a tutorial-style DCGAN at 28x28, trained the tutorial's way.

Architecture and recipe of the PyTorch DCGAN tutorial, scaled to 28x28 (ConvTranspose 7 -> 14 -> 28,
a D that ends in a 7x7 conv and a sigmoid, BCELoss, batch 128, Adam 2e-4, beta1 0.5, N(0, 0.02)
init), fed by a torchvision Dataset + DataLoader. It writes 10,000 samples (uint8) so that
``scripts/compare_quality.py`` can score them against the shipped lesson-3 generator.

    python scripts/tutorial_dcgan.py --epochs 20 --out runs/tutorial_dcgan_samples.pt
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch.utils.data import DataLoader

from course_utils import fashion_mnist_dataset, get_device, init_weights, save_checkpoint, seed_everything


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


def train(epochs: int, device, seed: int = 0, batch_size: int = 128):
    seed_everything(seed)
    loader = DataLoader(fashion_mnist_dataset(train=True), batch_size=batch_size, shuffle=True, num_workers=2)
    G, D = tutorial_generator().to(device), tutorial_discriminator().to(device)
    G.apply(init_weights)
    D.apply(init_weights)
    criterion = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for epoch in range(epochs):
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
        print(f"epoch {epoch + 1}: loss_D {loss_d.item():.3f} loss_G {loss_g.item():.3f}", flush=True)
    return G


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--out", default="runs/tutorial_dcgan_samples.pt")
    args = parser.parse_args()
    device = get_device()
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
