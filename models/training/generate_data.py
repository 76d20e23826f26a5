#!/usr/bin/python3
"""Generate training cases with the project's phantom generator (the ONLY source of training data).

Idempotent and resumable: seeds whose ``case-NNNNNN/case.npz`` already exists are skipped; missing seeds are
generated in chunks into a temporary folder and moved into place, so a killed run leaves no half-written case.
A ``manifest.json`` in the output folder records the generator (sha256 of its assemblies), the exact options,
the seed ranges generated and, for cropped sets, how the crop was made.

A folder holds cases of one generator build and one set of options only (the manifest's sha256 and options must
match, or the run stops): data regenerated with a new generator go to a new --set, and train.py records the change
of data as a new data phase. When done, the manifest also gets a "variation" summary: for each acquisition/anatomy
descriptor the generator wrote into truth.json (kernel, kVp, slice thickness, and whatever new options it draws,
e.g. degeneration; common.case_descriptors), how many cases have each value.

Examples (the sets and sizes of models/README.md; --preset fills spacing, seeds, crop and chunk)::

    /usr/bin/python3 models/training/generate_data.py --preset loc-4mm           --set loc-4mm-g2
    /usr/bin/python3 models/training/generate_data.py --preset loc-4mm-cov-val   --set loc-4mm-cov-val-g2
    /usr/bin/python3 models/training/generate_data.py --preset ref-1.5mm         --set ref-1.5mm-g2
    /usr/bin/python3 models/training/generate_data.py --preset ref-1.5mm-val     --set ref-1.5mm-val-g2
    # or explicitly; refiner data are cropped around L1 (the full 1.5 mm volume is ~22 MB and is discarded)
    /usr/bin/python3 models/training/generate_data.py --set ref-1.5mm --spacing 1.5 --seeds 200000:200400 --crop-l1

Options the generator may gain later can be passed through verbatim with --generator-args "..." (recorded in the
manifest's options); nothing here depends on them.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import glob
import hashlib
import json
import os
import shlex
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

# The data sets of models/README.md ("Seed ranges"): spacing, seeds [A, B), crop around L1, cases per generator call.
# Evaluation (qct eval-model) uses seeds 300000 and up, never these.
PRESETS = {
    "loc-4mm": {"spacing": 4.0, "seeds": "100000:102000", "crop_l1": False, "chunk": 10},
    "loc-4mm-cov-val": {"spacing": 4.0, "seeds": "920000:920060", "crop_l1": False, "chunk": 10},
    "ref-1.5mm": {"spacing": 1.5, "seeds": "200000:200400", "crop_l1": True, "chunk": 5},
    "ref-1.5mm-val": {"spacing": 1.5, "seeds": "910000:910030", "crop_l1": True, "chunk": 5},
}


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


def variation_summary(out: str) -> dict:
    """For each descriptor (common.case_descriptors) of the cases in `out`: {value: count}, values sorted; keys with
    more than 12 distinct values (continuous draws such as kVp-independent noise) are given as min/max instead."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from common import case_descriptors  # noqa: E402

    values: dict[str, list] = {}
    for truth_path in sorted(glob.glob(os.path.join(out, "case-*", "truth.json"))):
        try:
            with open(truth_path) as handle:
                descriptors = case_descriptors(json.load(handle))
        except (OSError, ValueError):
            continue
        for key, value in descriptors.items():
            values.setdefault(key, []).append(value)
    def label(v):
        return v if isinstance(v, str) else json.dumps(v)

    summary = {}
    for key, vals in sorted(values.items()):
        distinct = sorted({label(v) for v in vals})
        if len(distinct) <= 12:
            summary[key] = {d: sum(label(v) == d for v in vals) for d in distinct}
        else:
            numeric = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
            summary[key] = {"distinct": len(distinct), "min": min(numeric) if numeric else None,
                            "max": max(numeric) if numeric else None}
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=DEFAULT_ROOT, help="data root outside the repo (default %(default)s)")
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="a data set of models/README.md: spacing, seeds, crop and chunk (explicit options win)")
    parser.add_argument("--set", help="name of the data set folder under --root (default: the preset's name)")
    parser.add_argument("--generator", default=DEFAULT_GENERATOR, help="qct.dll of a built QctPipeline")
    parser.add_argument("--spacing", type=float, help="isotropic grid spacing, mm")
    parser.add_argument("--seeds", help="A:B (B exclusive)")
    parser.add_argument("--chunk", type=int, help="cases per generator call (default 10)")
    parser.add_argument("--crop-l1", action="store_true", default=None,
                        help="keep only a canonical crop around L1 (refiner sets)")
    parser.add_argument("--generator-args", default="",
                        help="extra arguments for 'qct phantom', verbatim (e.g. options a newer generator offers)")
    parser.add_argument("--nice", type=int, default=0, help="nice increment for the generator processes")
    args = parser.parse_args()
    preset = PRESETS.get(args.preset, {})
    args.set = args.set or args.preset
    args.spacing = args.spacing if args.spacing is not None else preset.get("spacing")
    args.seeds = args.seeds or preset.get("seeds")
    args.chunk = args.chunk or preset.get("chunk", 10)
    args.crop_l1 = bool(args.crop_l1 if args.crop_l1 is not None else preset.get("crop_l1", False))
    if not (args.set and args.spacing and args.seeds):
        parser.error("give --preset, or --set, --spacing and --seeds")
    extra = shlex.split(args.generator_args)

    start, stop = (int(x) for x in args.seeds.split(":"))
    out = os.path.join(args.root, args.set)
    os.makedirs(out, exist_ok=True)
    gen_hash = generator_hash(args.generator)
    options = {"format": "npz", "spacing": args.spacing, "cropL1": args.crop_l1,
               "cropL1Mm": list(L1_CROP_MM) if args.crop_l1 else None}
    if extra:  # only when used, so folders made before this option existed still match
        options["generatorArgs"] = extra

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
               "--spacing", repr(args.spacing), "--cases", str(len(run)), "--seed", str(run[0])] + extra
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

    manifest["variation"] = variation_summary(out)
    save()
    print(f"{out}: {len(glob.glob(os.path.join(out, 'case-*', 'case.npz')))} cases; variation "
          f"{json.dumps({k: v for k, v in manifest['variation'].items() if len(v) > 1})}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
