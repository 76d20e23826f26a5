#!/usr/bin/python3
"""Measure how fast train.py draws training samples (crop + augmentation), without the network.

    nice -n 10 /usr/bin/python3 models/training/bench_sampling.py --localizer-data DIR --refiner-data DIR

Why: augmentation runs on the CPU between optimizer steps, single-threaded, on the same two cores as the network.
Training runs at about 1.6 samples/s (0.6 s per sample for forward + backward), so sampling must stay a small
fraction of that; this script reports samples/s of sample_localizer and sample_refiner alone, over the same cases
and seeds every run, so a before/after comparison is like for like. Run it on an otherwise idle machine, or at
least compare runs made under the same load.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402


def bench(stage: str, folder: str, cases: int, samples: int, seed: int) -> dict:
    """Samples/s of the stage's sampler on the first `cases` cases of `folder` (loading excluded)."""
    cache = T.CaseCache(stage, folder, limit=cases)
    cache.rescan()
    keys = [k for k in cache.keys() if stage == "localizer" or cache.cases[k]["l1_centre"] is not None]
    if not keys:
        return {"stage": stage, "error": f"no usable cases in {folder}"}
    sampler = T.sample_localizer if stage == "localizer" else T.sample_refiner
    rng = np.random.default_rng(seed)
    sampler(cache.cases[keys[0]], rng)  # warm-up (imports, caches)
    rng = np.random.default_rng(seed)
    times = []
    for k in range(samples):
        item = cache.cases[keys[k % len(keys)]]
        t = time.perf_counter()
        sampler(item, rng)
        times.append(time.perf_counter() - t)
    times = np.array(times)
    return {"stage": stage, "cases": len(keys), "samples": samples, "samples_per_s": round(1 / times.mean(), 1),
            "ms_mean": round(1000 * times.mean(), 1), "ms_median": round(1000 * float(np.median(times)), 1),
            "ms_p95": round(1000 * float(np.percentile(times, 95)), 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--localizer-data", help="a 4 mm case folder (e.g. $QCT_TRAINING_DATA/loc-4mm-val)")
    p.add_argument("--refiner-data", help="a 1.5 mm cropped case folder (e.g. $QCT_TRAINING_DATA/ref-1.5mm-val)")
    p.add_argument("--cases", type=int, default=12)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    torch.set_num_threads(2)
    for stage, folder in (("localizer", args.localizer_data), ("refiner", args.refiner_data)):
        if folder:
            print(bench(stage, folder, args.cases, args.samples, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
