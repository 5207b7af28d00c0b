"""Score the shipped lesson-3 generator against the tutorial-style DCGAN baseline, same metric.

    python scripts/train/tutorial_dcgan.py --epochs 20 --out runs/tutorial_dcgan_samples.pt   # a GPU helps
    python scripts/bench/compare_quality.py runs/tutorial_dcgan_samples.pt
"""

from __future__ import annotations

import argparse

from course_utils import load_checkpoint, load_generator, sample
from course_utils.measure.metrics import fashion_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", help="samples written by scripts/train/tutorial_dcgan.py")
    parser.add_argument("--generator", default="fashion_dcgan")
    args = parser.parse_args()
    baseline = load_checkpoint(args.baseline)["images"].float() / 127.5 - 1  # uint8 -> [-1, 1]
    ours = sample(load_generator(args.generator), len(baseline), seed=0)
    print(f"{'':28}{'FID':>8}{'KID':>8}{'classes':>9}{'KL(unif)':>10}  shares per class")
    for name, images in ((f"tutorial DCGAN ({args.baseline})", baseline), (args.generator, ours)):
        r = fashion_scores(images)
        shares = " ".join(f"{h / len(images):.1%}" for h in r["histogram"])
        print(f"{name[:28]:28}{r['fid']:8.2f}{r['kid']:8.4f}{r['coverage']:9d}{r['kl_uniform']:10.4f}  {shares}")


if __name__ == "__main__":
    main()
