#!/usr/bin/python3
"""Draw augmented training samples next to their labels, to check by eye that the augmentation looks like CT.

    /usr/bin/python3 models/training/show_augmentation.py --stage localizer --data DIR --out /tmp/aug.png

Each row: one sample drawn by train.py's sampler (sagittal and axial slices through the crop's centre of label mass,
window -400..1200 HU) with the label contours over the sagittal one, and what augment.augment_image drew for it.
"""
from __future__ import annotations

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import augment as A  # noqa: E402
import common as C  # noqa: E402
import train as T  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=["localizer", "refiner"], required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rows", type=int, default=8)
    p.add_argument("--seed", type=int, default=11)
    args = p.parse_args()
    cache = T.CaseCache(args.stage, args.data, limit=args.rows)
    cache.rescan()
    keys = [k for k in cache.keys() if args.stage == "localizer" or cache.cases[k]["l1_centre"] is not None]
    rng = np.random.default_rng(args.seed)
    fig, axes = plt.subplots(args.rows, 2, figsize=(8, 3.2 * args.rows))
    original = A.augment_image
    for row in range(args.rows):
        record = {}
        A.augment_image = lambda hu, spacing, r, record=record: original(hu, spacing, r, record)  # noqa: E731
        item = cache.cases[keys[row % len(keys)]]
        sample = (T.sample_localizer if args.stage == "localizer" else T.sample_refiner)(item, rng)
        x, levels = sample[0], sample[1]
        hu = x * C.HU_SCALE
        where = np.argwhere(levels > 0)
        cz, cy, cx = (where.mean(0).round().astype(int) if len(where) else np.array(x.shape) // 2)
        axes[row, 0].imshow(hu[:, :, cx][::-1], cmap="gray", vmin=-400, vmax=1200, aspect="equal")
        axes[row, 0].contour(levels[:, :, cx][::-1], levels=np.arange(0.5, levels.max() + 1), linewidths=0.4,
                             cmap="tab20")
        if args.stage == "localizer" and sample[3] is not None:
            axes[row, 0].contour(sample[3][:, :, cx][::-1], levels=[0.5], colors="r", linewidths=0.4)
        axes[row, 1].imshow(hu[cz], cmap="gray", vmin=-400, vmax=1200, aspect="equal")
        text = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())
        axes[row, 0].set_title(f"seed {item['seed']}", fontsize=7)
        axes[row, 1].set_title(text, fontsize=5, wrap=True)
        for ax in axes[row]:
            ax.axis("off")
    A.augment_image = original
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
