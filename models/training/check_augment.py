#!/usr/bin/python3
"""Checks of augment.py and the samplers that need no training: run after changing either.

    /usr/bin/python3 models/training/check_augment.py [--localizer-data DIR] [--refiner-data DIR]

Synthetic checks always run; with case folders, the samplers are checked on real cases too. Exits 1 on a failure.
- the slice profile's FWHM is the requested one, and its weights sum to 1;
- the tissue-contrast map is increasing and keeps air at -1000 HU;
- the in-plane rotation/scale of a crop matches scipy's general affine_transform inside the volume, and an identity
  transform is an exact crop; labels keep only codes they had;
- down-then-up resampling keeps a function linear along z unchanged (it only loses detail);
- the samplers are deterministic per seed, give finite values in the normalised range, keep padding at padValue,
  and give labels from the case's own label set.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import augment as A  # noqa: E402
import common as C  # noqa: E402
import train as T  # noqa: E402

failures = []


def check(name: str, ok: bool, detail: str = ""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    if not ok:
        failures.append(name)


def synthetic_checks():
    for fwhm in (1.0, 2.5, 5.0):
        step = 0.05
        weights = A.slice_profile_weights(fwhm, step)  # a fine grid samples the profile itself
        half = weights.max() / 2
        k = int(np.argmax(weights >= half))  # first tap at or above half maximum; interpolate the crossing
        left = (k - 1) + (half - weights[k - 1]) / (weights[k] - weights[k - 1])
        measured = 2 * ((len(weights) - 1) / 2 - left) * step
        check(f"slice profile FWHM {fwhm} mm", abs(measured - fwhm) <= 0.05 and abs(weights.sum() - 1) < 1e-5,
              f"{measured:.3f} mm, {len(weights)} taps at {step} mm")
    rng = np.random.default_rng(0)
    x = np.linspace(-1100, 2500, 20000).astype(np.float32)
    ok = True
    for _ in range(100):
        y = A.tissue_contrast(x, rng)
        ok &= bool((np.diff(y) >= -1e-3).all()) and abs(float(A.tissue_contrast(np.float32([-1000]), rng)[0]) + 1000) < 1e-3
    check("tissue contrast increasing, air fixed", ok)

    vol = rng.integers(-1000, 1500, (40, 60, 70)).astype(np.int16)
    lab = rng.integers(0, 30, (40, 60, 70)).astype(np.uint8)
    for start, size, (angle, scale) in (((3, 5, 5), (24, 40, 40), (0.15, 1.08)), ((5, 8, 9), (20, 32, 32), (-0.17, 0.9))):
        c, s = math.cos(angle), math.sin(angle)
        m = np.array([[1, 0, 0], [0, c, -s], [0, s, c]]) / scale
        centre = (np.array(size) - 1) / 2
        ref = ndimage.affine_transform(vol, m, np.array(start) + centre - m @ centre, output_shape=size, order=1,
                                       cval=-1000, output=np.float32, prefilter=False)
        got = A.affine_crop(vol, start, size, (angle, scale), 1, -1000, np.float32)
        inside = ref > -1000
        check(f"rotation {math.degrees(angle):.0f} deg x{scale}: linear = scipy inside",
              float(np.abs(ref - got)[inside].max()) < 1e-2)
        got_labels = A.affine_crop(lab, start, size, (angle, scale), 0, 0, np.uint8)
        check("rotated labels keep their codes", set(np.unique(got_labels)) <= set(np.unique(lab)) | {0})
    check("identity transform is a crop",
          np.array_equal(A.affine_crop(vol, (2, 3, 4), (10, 20, 30), (0.0, 1.0), 1, -1000, np.float32),
                         vol[2:12, 3:23, 4:34].astype(np.float32)))
    ramp = np.broadcast_to(np.arange(50, dtype=np.float32)[:, None, None] * 7, (50, 8, 8)).copy()
    out = A.resample_z_down_up(ramp, 5.0, 1.5, 1.0)
    inner = slice(2, 45)  # beyond the first/last kept slice the nearest one is used
    check("down-up resampling keeps a linear ramp", float(np.abs(out[inner] - ramp[inner]).max()) < 1e-3)


def sampler_checks(stage: str, folder: str):
    cache = T.CaseCache(stage, folder, limit=6)
    cache.rescan()
    keys = [k for k in cache.keys() if stage == "localizer" or cache.cases[k]["l1_centre"] is not None]
    sampler = T.sample_localizer if stage == "localizer" else T.sample_refiner
    pad = C.PAD_HU / C.HU_SCALE
    deterministic, finite, in_range, labels_ok = True, True, True, True
    for seed in range(12):
        item = cache.cases[keys[seed % len(keys)]]
        a = sampler(item, np.random.default_rng(seed))
        b = sampler(item, np.random.default_rng(seed))
        deterministic &= all((p is None and q is None) or np.array_equal(p, q) for p, q in zip(a, b))
        finite &= bool(np.isfinite(a[0]).all())
        in_range &= bool(a[0].min() >= pad - 1e-6 and a[0].max() <= C.HU_MAX / C.HU_SCALE + 1e-6)
        own = (set(np.unique(C.unpack_localizer_labels(item["labels"])[0])) if stage == "localizer"
               else set(np.unique(item["levels"])))
        labels_ok &= set(np.unique(a[1])) <= own | {0}
    check(f"{stage} sampler deterministic per seed", deterministic)
    check(f"{stage} sampler finite, within the normalised range", finite and in_range)
    check(f"{stage} sampler labels from the case's own codes", labels_ok)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--localizer-data")
    p.add_argument("--refiner-data")
    args = p.parse_args()
    synthetic_checks()
    if args.localizer_data:
        sampler_checks("localizer", args.localizer_data)
    if args.refiner_data:
        sampler_checks("refiner", args.refiner_data)
    print(f"{len(failures)} failed" + (f": {failures}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
