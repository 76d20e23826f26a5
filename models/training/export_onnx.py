#!/usr/bin/python3
"""Export the trained stages to ONNX and write the model manifest the C# stage reads.

    /usr/bin/python3 models/training/export_onnx.py                 # from <stage>-latest.pt
    /usr/bin/python3 models/training/export_onnx.py --which best    # from <stage>-best.pt

Writes models/qct-l1-localizer.onnx, models/qct-l1-refiner.onnx (opset 17, dynamic spatial dims) and
models/qct-l1-model.json. Each ONNX file is checked with onnx.checker and run with ONNX Runtime (through the npm
package onnxruntime-node, the same native library the C# binding uses; NODE_PATH as in models/README.md) on real
held-out inputs of two different sizes; the export fails if ORT and PyTorch logits differ by more than 1e-3.
A stage without a checkpoint is skipped (the manifest then lacks it, and says so).

--trust-rib-channel declares the localizer's rib channel trained (the C# stage then counts down from the last
rib-bearing vertebra). It is refused, with the numbers, unless the exported weights pass ribs.py's rule on the held-out
set: the last rib-bearing vertebra right in >= 97 % of at least 50 held-out cases, and a rib contact on a lumbar
vertebra or the sacrum/pelvis in <= 2 % of the cases that show one. The check validates the very weights being
exported (a few minutes at 4 mm), not an earlier row of the metrics file.
"""
from __future__ import annotations

import argparse
import copy
import csv
import datetime as _dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402
import ribs as R  # noqa: E402
import train as T  # noqa: E402

MODELS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
NODE_PATH = os.environ.get("QCT_ORT_NODE_MODULES", "/tmp/ml-ort/node_modules")
MODEL_NAME = "qct-l1"
OPSET = 17


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def data_manifest(folder):
    """What a data folder's manifest.json says (seed ranges, generator sha256, options, variation); for several
    comma-separated folders (train.py --data A,B) one entry per folder under "folders"."""
    folders = [f for f in (folder or "").split(",") if f]
    if len(folders) > 1:
        return {"folder": folder, "folders": [data_manifest(f) for f in folders]}
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        return {"folder": folder, "manifest": None}
    m = json.load(open(path))
    return {"folder": folder, "seedRanges": m.get("seedRanges"), "generatorSha256": m["generator"]["sha256"],
            "options": m.get("options"), "casesPresent": len(C.list_cases(folder)),
            "variation": m.get("variation")}


def rib_trust_check(model, val_folder, trust: bool):
    """Validate the exported localizer weights on the held-out set and apply ribs.trust_verdict.

    Returns the manifest's record; raises SystemExit (nothing exported) when trust was asked for and is not earned.
    """
    cache = T.CaseCache("localizer", val_folder, held_out=True)
    cache.rescan()
    print(f"localizer: rib-contact check on {len(cache.cases)} held-out cases in {val_folder} ...", flush=True)
    t = time.time()
    metrics = T.validate("localizer", model, cache)
    model.eval()  # validate() leaves the model in training mode
    ok, message = R.trust_verdict(metrics)
    print(f"localizer: rib check ({time.time() - t:.0f} s): {'PASS' if ok else 'FAIL'}: {message}", flush=True)
    if trust and not ok:
        raise SystemExit(f"refusing --trust-rib-channel: {message}")
    return {"heldOut": val_folder, "passed": ok, "message": message,
            "rule": {"lastRibBearingCorrectMin": R.TRUST_LAST_BEARING_MIN,
                     "lumbarFalseContactMax": R.TRUST_LUMBAR_FALSE_MAX, "minCases": R.TRUST_MIN_CASES},
            "metrics": {k: v for k, v in metrics.items() if k.startswith("rib_") or k in ("cases",)}}


def metrics_for(stage, ckpt_dir, step):
    """The validation row of the exported checkpoint's step (or the latest before it)."""
    path = os.path.join(ckpt_dir, f"{stage}-metrics.csv")
    if not os.path.exists(path):
        return None
    rows = [r for r in csv.DictReader(open(path)) if int(r["step"]) <= step]
    if not rows:
        return None
    row = rows[-1]
    out = {}
    for k, v in row.items():
        try:
            out[k] = int(v) if v.isdigit() else float(v)
        except ValueError:
            out[k] = v
    return out


def sample_inputs(stage, val_folder):
    """Two real held-out inputs of different sizes, already normalised and padded as the C# stage must do."""
    cache = T.CaseCache(stage, val_folder, limit=4)
    cache.rescan()
    xs = []
    for key in cache.keys():
        item = cache.cases[key]
        if stage == "localizer":
            x, _ = C.pad_to_multiple(C.normalise(item["image"]), C.SIZE_MULTIPLE, C.PAD_HU / C.HU_SCALE)
        else:
            if item["l1_centre"] is None:
                continue
            size = C.REFINER_CROP if not xs else (64, 64, 48)
            start = [int(round(c - s / 2)) for c, s in zip(item["l1_centre"], size)]
            x = C.normalise(T.crop(item["image"], start, size, C.PAD_HU))
        x = x[None, None].astype(np.float32)
        if not xs or x.shape != xs[0].shape:
            xs.append(x)
        if len(xs) == 2:
            break
    if not xs:  # no held-out data on this machine: a synthetic input still checks the export
        shape = (1, 1, 48, 96, 96) if stage == "localizer" else (1, 1) + C.REFINER_CROP
        xs.append(np.random.default_rng(0).uniform(-1, 1, shape).astype(np.float32))
    if len(xs) == 1:  # a second, smaller size checks the dynamic spatial dims
        m = C.SIZE_MULTIPLE
        xs.append(np.ascontiguousarray(xs[0][:, :, : max(m, xs[0].shape[2] - m), : max(m, xs[0].shape[3] - m),
                                             : max(m, xs[0].shape[4] - 2 * m)]))
    return xs


def ort_run(onnx_path, x, threads=2, runs=5):
    node = shutil.which("node")
    if not node or not os.path.isdir(os.path.join(NODE_PATH, "onnxruntime-node")):
        return None, None
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.f32")
        x.astype("<f4").tofile(inp)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ort_check.js")
        env = dict(os.environ, NODE_PATH=NODE_PATH)
        res = subprocess.run([node, script, onnx_path, inp, ",".join(map(str, x.shape)), out, str(threads), str(runs)],
                             capture_output=True, text=True, env=env, check=True)
        info = json.loads(res.stdout.strip().splitlines()[-1])
        y = np.fromfile(out, dtype="<f4").reshape(info["outputDims"])
        return y, info


class AxisByAxisInstanceNorm(nn.Module):
    """InstanceNorm3d for export, same maths, with every mean taken one spatial axis at a time.

    ONNX Runtime's CPU InstanceNormalization (and a plain ReduceMean) sums the ~10^5 voxels of a channel serially in
    float32: on the localizer that alone put 6.6e-4 of error after the stem and 1.9e-3 on the logits (PyTorch float32
    vs float64: 1.7e-4). Means over x, then y, then z keep each sum under ~100 terms: ORT vs float64 1.1e-4, same speed.
    """

    def __init__(self, norm: nn.InstanceNorm3d):
        super().__init__()
        self.eps = norm.eps
        self.weight = nn.Parameter(norm.weight.detach().clone().view(1, -1, 1, 1, 1))
        self.bias = nn.Parameter(norm.bias.detach().clone().view(1, -1, 1, 1, 1))

    @staticmethod
    def spatial_mean(x):
        return x.mean(4, keepdim=True).mean(3, keepdim=True).mean(2, keepdim=True)

    def forward(self, x):
        centred = x - self.spatial_mean(x)
        variance = self.spatial_mean(centred * centred)
        return centred * torch.rsqrt(variance + self.eps) * self.weight + self.bias


def with_exportable_norms(model: nn.Module) -> nn.Module:
    """A deep copy of the model whose InstanceNorm3d layers are AxisByAxisInstanceNorm."""
    exported = copy.deepcopy(model)

    def swap(module):
        for name, child in module.named_children():
            if isinstance(child, nn.InstanceNorm3d):
                setattr(module, name, AxisByAxisInstanceNorm(child))
            else:
                swap(child)

    swap(exported)
    return exported.eval()


def export_stage(stage, args):
    ckpt_path = os.path.join(args.checkpoints, f"{stage}-{args.which}.pt")
    if not os.path.exists(ckpt_path):
        print(f"{stage}: no {ckpt_path}; skipped")
        return None
    ckpt = torch.load(ckpt_path, map_location="cpu")
    model = C.build_model(stage)
    model.load_state_dict(ckpt["model"])
    model.eval()
    onnx_path = os.path.join(args.out, f"{MODEL_NAME}-{stage}.onnx")
    dummy = torch.zeros((1, 1) + (C.LOCALIZER_TRAIN_CROP if stage == "localizer" else C.REFINER_CROP))
    tmp_path = onnx_path + ".tmp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(with_exportable_norms(model), dummy, tmp_path, opset_version=OPSET, input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {2: "z", 3: "y", 4: "x"}, "logits": {2: "z", 3: "y", 4: "x"}},
                          do_constant_folding=True)
    onnx.checker.check_model(onnx.load(tmp_path))

    val_folder = args.val_data or ckpt.get("val_data") or ""
    rib_trust = None
    if stage == "localizer" and (args.trust_rib_channel or args.rib_check):
        rib_trust = rib_trust_check(model, val_folder, args.trust_rib_channel)
    checks = []
    for x in sample_inputs(stage, val_folder):
        with torch.no_grad():
            t = time.time()
            ref = model(torch.from_numpy(x)).numpy()
            torch_ms = (time.time() - t) * 1000
        y, info = ort_run(tmp_path, x)
        check = {"inputShape": list(x.shape), "pytorchMs": round(torch_ms, 1)}
        if y is not None:
            diff = float(np.abs(y - ref).max())
            check.update({"ortMedianMs": round(info["medianMs"], 1), "ortThreads": info["threads"],
                          "maxAbsLogitDiff": diff,
                          "argmaxAgreement": float((y.argmax(1) == ref.argmax(1)).mean())})
            if diff > 1e-3:
                os.remove(tmp_path)
                raise SystemExit(f"{stage}: ORT and PyTorch differ by {diff}")
        else:
            check["ort"] = "onnxruntime-node not found (set QCT_ORT_NODE_MODULES); PyTorch only"
        checks.append(check)
        print(stage, json.dumps(check), flush=True)

    # latency on the input a 512 x 512 x 300 series (0.7 mm pixels, 1 mm slices) gives: 4 mm -> 80 x 96 x 96
    bench_shape = (1, 1, 80, 96, 96) if stage == "localizer" else (1, 1) + C.REFINER_CROP
    y, info = ort_run(tmp_path, np.full(bench_shape, -1, np.float32) + np.random.default_rng(1).normal(
        0, 0.3, bench_shape).astype(np.float32), runs=7)
    latency = {"inputShape": list(bench_shape), "ortMedianMs": None if info is None else round(info["medianMs"], 1),
               "threads": 2, "note": "measured on a shared 2-core machine while training ran; an idle machine is faster"}
    print(stage, "latency", json.dumps(latency), flush=True)
    st = ckpt["state"]
    if stage == "localizer":
        labels = [{"index": k, "name": name, "codes": codes} for k, (name, codes) in enumerate(C.LOCALIZER_CLASSES)]
        n = len(C.LOCALIZER_CLASSES)
        spec = {
            "spacingMm": [C.LOCALIZER_SPACING] * 3,
            "input": {"name": "image", "shape": [1, 1, "z", "y", "x"], "sizeMultiple": C.SIZE_MULTIPLE,
                      "region": "the whole scan resampled to 4 mm on the canonical grid, padded at the high end of "
                                "each axis to a multiple of sizeMultiple with padValue"},
            "trainingCropVoxels": list(C.LOCALIZER_TRAIN_CROP),
            "output": {"name": "logits", "shape": [1, n + len(C.LOCALIZER_EXTRA), "z", "y", "x"],
                       "softmaxChannels": [0, n - 1],
                       "sigmoidChannels": {str(n + k): name for k, name in enumerate(C.LOCALIZER_EXTRA)}},
            "labels": labels, "l1Class": C.LOCALIZER_L1,
            "labelTarget": "classes on whole vertebrae (body + posterior elements); channel 'vertebral_body' marks "
                           "bodies, so L1 body = argmax == l1Class and sigmoid(vertebral_body) > 0.5",
            "ribChannelTrained": bool(args.trust_rib_channel and rib_trust and rib_trust["passed"]
                                      and ckpt["state"].get("ribs_seen", 0) > 0),
            "ribSamplesSeen": ckpt["state"].get("ribs_seen", 0),
            "ribChannelCheck": rib_trust,
            "ribChannelNote": "trained on the cases whose npz has a 'ribs' array; declared trained (so the stage counts "
                              "down from the last rib-bearing vertebra) only when exported with --trust-rib-channel, which "
                              "validates the exported weights on the held-out set and refuses unless the last rib-bearing "
                              "vertebra is right in >= 97 % of >= 50 cases and a rib contact lands on a lumbar vertebra or "
                              "the sacrum/pelvis in <= 2 % (models/training/ribs.py). Step 3864 (before the rib loss "
                              "changes): 23 % and 1.9 %, with 52 % of true rib contacts missed at T10-T12",
        }
    else:
        spec = {
            "spacingMm": [C.REFINER_SPACING] * 3,
            "input": {"name": "image", "shape": [1, 1, C.REFINER_CROP[0], C.REFINER_CROP[1], C.REFINER_CROP[2]],
                      "sizeMultiple": C.SIZE_MULTIPLE,
                      "region": "crop of cropVoxels (z, y, x) on the canonical 1.5 mm grid centred on the localizer's "
                                "L1 body centroid; outside the scan = padValue"},
            "cropVoxels": list(C.REFINER_CROP),
            "output": {"name": "logits", "shape": [1, len(C.REFINER_CLASSES), "z", "y", "x"],
                       "softmaxChannels": [0, len(C.REFINER_CLASSES) - 1]},
            "labels": [{"index": k, "name": name} for k, name in enumerate(C.REFINER_CLASSES)],
            "l1Class": C.REFINER_L1,
            "labelTarget": "vertebral bodies only",
        }
    spec.update({
        "file": os.path.basename(onnx_path), "sha256": sha256(tmp_path),
        "bytes": os.path.getsize(tmp_path), "parameters": C.parameter_count(model),
        "architecture": f"3D U-Net, patchify stem (2x), widths {model.widths}, InstanceNorm, LeakyReLU, "
                        "light full-resolution tail",
        "orientation": "canonical (see top-level orientation)",
        "normalisation": C.NORMALISATION_DOC,
        "checkpoint": {"file": os.path.basename(ckpt_path), "step": st["step"], "samples": st["samples"],
                       "trainHours": round(st["train_seconds"] / 3600, 3)},
        "trainingData": data_manifest(ckpt.get("data", "")),
        "trainingDataHistory": st.get("data_phases", []),
        "heldOutData": data_manifest(val_folder),
        "metrics": metrics_for(stage, args.checkpoints, st["step"]),
        "exportChecks": checks,
        "latency": latency,
    })
    return spec, tmp_path, onnx_path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--which", choices=["latest", "best"], default="latest")
    p.add_argument("--checkpoints", default=os.path.join(MODELS, "checkpoints"))
    p.add_argument("--out", default=MODELS)
    p.add_argument("--version", default=None, help="default: 0.1.<UTC date-time>")
    p.add_argument("--trust-rib-channel", action="store_true",
                   help="declare the rib channel trained; refused unless the exported weights pass the rib-contact rule "
                        "on the held-out set (ribs.py)")
    p.add_argument("--rib-check", action="store_true",
                   help="run the rib-contact check and record it in the manifest without declaring the channel trained")
    p.add_argument("--val-data", help="held-out folder for the checks (default: the one the checkpoint was validated on)")
    args = p.parse_args()
    torch.set_num_threads(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.set_flush_denormal(True)
    now = _dt.datetime.now(_dt.timezone.utc)
    # Every stage is exported and checked under a temporary name first; the shipped files and their manifest are
    # replaced together only when all of them passed, so a failed export never leaves a manifest naming stale files.
    stages, staged = {}, []
    for stage in ("localizer", "refiner"):
        exported = export_stage(stage, args)
        if exported:
            stages[stage], tmp_path, onnx_path = exported
            staged.append((tmp_path, onnx_path))
    manifest = {
        "manifestVersion": 1,
        "name": MODEL_NAME,
        "version": args.version or f"0.1.{now:%Y%m%d%H%M}",
        "date": now.isoformat(timespec="seconds"),
        "description": "Two-stage L1 vertebral body segmentation with level identification, trained on synthetic "
                       "phantoms only (QctPipeline phantom generator). Not validated on patient CT.",
        "labelConvention": "Rib-bearing vertebrae are thoracic (T1..; 13 rib pairs give T13); L1 is the first vertebra "
                           "below the last rib-bearing one. Generator codes T1-T13 = 1-13, L1-L6 = 21-26, S1 = 31.",
        "orientation": {"convention": "LPS-aligned canonical grid", "arrayOrder": "z,y,x",
                        "axes": {"x": "towards patient Left", "y": "towards Posterior", "z": "towards Superior"},
                        "how": C.ORIENTATION_DOC},
        "normalisation": C.NORMALISATION_DOC,
        "opset": OPSET,
        "stages": stages,
        "missingStages": [s for s in ("localizer", "refiner") if s not in stages],
        "framework": f"PyTorch {torch.__version__} (CPU), onnx {onnx.__version__}",
        "totalOnnxBytes": sum(s["bytes"] for s in stages.values()),
    }
    path = os.path.join(args.out, f"{MODEL_NAME}-model.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(manifest, handle, indent=1)
    for tmp_path, onnx_path in staged:
        os.replace(tmp_path, onnx_path)
    os.replace(path + ".tmp", path)
    print(f"wrote {path}: stages {list(stages)}; {manifest['totalOnnxBytes'] / 1e6:.1f} MB ONNX")


if __name__ == "__main__":
    main()
