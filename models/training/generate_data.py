#!/usr/bin/python3
"""Generate training cases with the project's phantom generator (the ONLY source of training data).

Idempotent and resumable: seeds whose ``case-NNNNNN/case.npz`` already exists are skipped; missing seeds are
generated in chunks into a temporary folder and moved into place, so a killed run leaves no half-written case.
A ``manifest.json`` in the output folder records the generator (sha256 of its assemblies), the exact options,
the seed ranges generated and, for cropped sets, how the crop was made.

Examples::

    # localizer data: whole scans on a 4 mm grid
    /usr/bin/python3 models/training/generate_data.py --set loc-4mm --spacing 4 --seeds 100000:101500
    /usr/bin/python3 models/training/generate_data.py --set loc-4mm-val --spacing 4 --seeds 900000:900060
    # refiner data: 1.5 mm, cropped around L1 (the full 1.5 mm volume is ~22 MB and is discarded)
    /usr/bin/python3 models/training/generate_data.py --set ref-1.5mm --spacing 1.5 --seeds 200000:200400 --crop-l1
"""
from __future__ import annotations

import argparse
import datetime as _dt
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

DEFAULT_ROOT = os.environ.get("QCT_TRAINING_DATA", "/work/qct-training-data")
DEFAULT_GENERATOR = os.environ.get("QCT_GENERATOR", "/tmp/h-train/qct-snapshot/qct.dll")

# Crop kept around L1 for the refiner sets, in mm (z, y, x) of the canonical grid; the refiner's own crop
# (models/training/common.py REFINER_CROP) plus room for the simulated localizer error and augmentation.
L1_CROP_MM = (180.0, 150.0, 150.0)


def generator_hash(generator: str) -> str:
    """sha256 over the generator's assemblies (qct.dll, QctPipeline.dll, ...) in name order."""
    folder = os.path.dirname(os.path.abspath(generator))
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(folder, "*.dll"))):
        digest.update(os.path.basename(path).encode())
        with open(path, "rb") as handle:
            digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()


def case_dir(out: str, seed: int) -> str:
    return os.path.join(out, f"case-{seed:06d}")


def crop_case_around_l1(folder: str, spacing: float) -> bool:
    """Rewrite case.npz in the canonical orientation, cropped to L1_CROP_MM around the L1 body. False if no L1."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import canonicalize  # noqa: E402

    path = os.path.join(folder, "case.npz")
    data = dict(np.load(path))
    arrays = {k: v for k, v in data.items() if k != "affine_lps"}
    arrays, affine = canonicalize(arrays, data["affine_lps"])
    bodies = arrays["vertebral_bodies"]
    where = np.argwhere(bodies == 21)
    if len(where) == 0:
        return False
    centre = where.mean(0)
    shape = np.array(bodies.shape)
    half = (np.array(L1_CROP_MM) / spacing / 2).round().astype(int)
    lo = np.clip(np.round(centre).astype(int) - half, 0, shape)
    hi = np.clip(np.round(centre).astype(int) + half, 0, shape)
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    out = {k: np.ascontiguousarray(v[sl]) for k, v in arrays.items()}
    shift = np.eye(4)
    shift[:3, 3] = [lo[2], lo[1], lo[0]]  # voxel (x, y, z) offset
    out["affine_lps"] = affine @ shift
    out["canonical"] = np.array(1, dtype=np.uint8)  # marks: already in the canonical orientation
    tmp = os.path.join(folder, ".case.crop.tmp.npz")
    np.savez_compressed(tmp, **out)
    os.replace(tmp, path)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=DEFAULT_ROOT, help="data root outside the repo (default %(default)s)")
    parser.add_argument("--set", required=True, help="name of the data set folder under --root, e.g. loc-4mm")
    parser.add_argument("--generator", default=DEFAULT_GENERATOR, help="qct.dll of a built QctPipeline")
    parser.add_argument("--spacing", type=float, required=True, help="isotropic grid spacing, mm")
    parser.add_argument("--seeds", required=True, help="A:B (B exclusive)")
    parser.add_argument("--chunk", type=int, default=10, help="cases per generator call")
    parser.add_argument("--crop-l1", action="store_true", help="keep only a canonical crop around L1 (refiner sets)")
    parser.add_argument("--nice", type=int, default=0, help="nice increment for the generator processes")
    args = parser.parse_args()

    start, stop = (int(x) for x in args.seeds.split(":"))
    out = os.path.join(args.root, args.set)
    os.makedirs(out, exist_ok=True)
    gen_hash = generator_hash(args.generator)
    options = {"format": "npz", "spacing": args.spacing, "cropL1": args.crop_l1,
               "cropL1Mm": list(L1_CROP_MM) if args.crop_l1 else None}

    manifest_path = os.path.join(out, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {
        "description": "QctPipeline phantom training cases (synthetic only)",
        "generator": {"path": os.path.abspath(args.generator), "sha256": gen_hash},
        "options": options,
        "command": "dotnet qct.dll phantom --out DIR --format npz --spacing S --cases N --seed SEED",
        "seedRanges": [],
    }
    if manifest["generator"]["sha256"] != gen_hash or manifest["options"] != options:
        print(f"error: {out} was made with another generator or options; use another --set", file=sys.stderr)
        return 2

    def save():
        manifest["skippedNoL1"] = sorted(set(skipped_no_l1))
        manifest["updated"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        tmp = manifest_path + ".tmp"
        with open(tmp, "w") as handle:
            json.dump(manifest, handle, indent=1)
        os.replace(tmp, manifest_path)

    skipped_no_l1 = manifest.get("skippedNoL1", [])
    if [start, stop] not in manifest["seedRanges"]:
        manifest["seedRanges"].append([start, stop])
    save()
    missing = [s for s in range(start, stop) if not os.path.exists(os.path.join(case_dir(out, s), "case.npz"))]
    print(f"{out}: {stop - start - len(missing)} present, {len(missing)} to generate", flush=True)
    t0 = time.time()
    done = 0
    # contiguous runs of missing seeds, cut into chunks
    runs, run = [], []
    for seed in missing:
        if run and (seed != run[-1] + 1 or len(run) >= args.chunk):
            runs.append(run)
            run = []
        run.append(seed)
    if run:
        runs.append(run)
    for run in runs:
        tmp = os.path.join(out, f".tmp-{run[0]}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = ["dotnet", args.generator, "phantom", "--out", tmp, "--format", "npz",
               "--spacing", repr(args.spacing), "--cases", str(len(run)), "--seed", str(run[0])]
        if args.nice:
            cmd = ["nice", "-n", str(args.nice)] + cmd
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            print(result.stdout, file=sys.stderr)
            shutil.rmtree(tmp, ignore_errors=True)
            return 1
        for seed in run:
            src = case_dir(tmp, seed)
            if args.crop_l1 and not crop_case_around_l1(src, args.spacing):
                skipped_no_l1.append(seed)  # no L1 in the scan: useless for the refiner; keep a marker
                os.makedirs(case_dir(out, seed), exist_ok=True)
                shutil.copy(os.path.join(src, "truth.json"), case_dir(out, seed))
                open(os.path.join(case_dir(out, seed), "case.npz"), "wb").close()
                continue
            dst = case_dir(out, seed)
            shutil.rmtree(dst, ignore_errors=True)
            os.replace(src, dst)
        shutil.rmtree(tmp, ignore_errors=True)
        done += len(run)
        rate = (time.time() - t0) / done
        print(f"  {done}/{len(missing)} generated, {rate:.2f} s/case", flush=True)
        if args.crop_l1:
            save()

    save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
