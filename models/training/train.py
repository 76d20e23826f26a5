#!/usr/bin/python3
"""Train one stage of the two-stage L1 model on phantom cases, on the CPU, resumably.

    nice -n 10 /usr/bin/python3 models/training/train.py --stage localizer
    nice -n 10 /usr/bin/python3 models/training/train.py --stage refiner

Resumes from models/checkpoints/<stage>-latest.pt when it exists (written every --save-every-min minutes, on
SIGTERM/SIGINT and at the end, via a temporary file and an atomic rename), keeps the best-by-validation weights in
<stage>-best.pt, and logs to <stage>-train.csv (loss, speed) and <stage>-metrics.csv (validation on held-out seeds:
L1 Dice, correct-level rate = fraction of held-out cases with an L1 in the scan whose predicted L1 centroid lies
inside the true L1 body, centroid distance, false L1 claims on scans without L1). The case folders are rescanned
every --rescan-steps steps, so training can start while generate_data.py is still adding cases.

Fine-tuning on regenerated data: point --data/--val-data at the new sets and resume from the same checkpoint;
--restart-schedule restarts the warm-up and cosine learning-rate schedule at the current step (with --lr and
--total-steps for the new run). Every change of data set is recorded in the checkpoint's state["data_phases"] (the
step it began at, the folders and their generators' sha256), which export_onnx.py copies into the model manifest.
--validate-only runs the held-out validation of the checkpoint and exits (what the smoke test and the rib-channel
trust check use).
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import math
import os
import random
import signal
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import augment as A  # noqa: E402
import common as C  # noqa: E402
import ribs as R  # noqa: E402

WARMUP_STEPS = 200
MIN_LR_FRACTION = 0.02
REPO_MODELS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATA_ROOT = os.environ.get("QCT_TRAINING_DATA", "/work/qct-training-data")


# ------------------------------------------------------------------------------------------------ data caches
class CaseCache:
    """Keeps every loaded case in memory in the compact form the stage needs."""

    def __init__(self, stage: str, folder: str, limit: int | None = None, held_out: bool = False):
        """held_out: also keep what validation needs (generator codes of vertebrae and ribs, the L1 body, the case's
        descriptors); training cases keep only the image and the packed labels, to fit 2000 cases in memory."""
        self.stage, self.folder, self.limit, self.held_out = stage, folder, limit, held_out
        self.cases: dict[str, dict] = {}

    def rescan(self) -> int:
        added = 0
        folders = [case for folder in self.folder.split(",") for case in C.list_cases(folder)]
        if self.limit:
            folders = folders[: self.limit]
        for folder in folders:
            if folder in self.cases:
                continue
            try:
                self.cases[folder] = self._load(folder)
                added += 1
            except Exception as error:  # a case being written right now, or a bad file: try again later
                print(f"skip {folder}: {error}", flush=True)
        return added

    def _load(self, folder: str) -> dict:
        data, affine, truth = C.load_case(folder)
        spacing = float(np.linalg.norm(affine[:3, 0]))
        item = {"image": data["image"].astype(np.int16), "truth": truth, "affine": affine, "spacing": spacing,
                "seed": int(truth.get("seed", -1))}
        if self.stage == "localizer":
            ribs = data.get("ribs")
            item["labels"] = C.pack_localizer_labels(C.LOC_LUT[data["vertebrae"]], data["vertebral_bodies"], ribs)
            item["has_ribs"] = ribs is not None
            if self.held_out:
                item["vertebra_codes"] = data["vertebrae"]
                item["rib_codes"] = ribs
                item["l1_body"] = data["vertebral_bodies"] == 21
                item["descriptors"] = C.case_descriptors(truth)
        else:
            rib_pairs = int(truth["options"]["ribPairs"])
            item["levels"] = C.refiner_lut(rib_pairs)[data["vertebral_bodies"]]
            where = np.argwhere(item["levels"] == C.REFINER_L1)
            item["l1_centre"] = where.mean(0) if len(where) else None
            if self.held_out:
                item["descriptors"] = C.case_descriptors(truth)
        return item

    def keys(self):
        return sorted(self.cases)


def crop(arr: np.ndarray, start, size, value):
    """arr[start:start+size] per axis, padding with value where outside."""
    out = np.full(size, value, dtype=arr.dtype)
    src, dst = [], []
    for s, n, dim in zip(start, size, arr.shape):
        a, b = max(s, 0), min(s + n, dim)
        if b <= a:
            return out
        src.append(slice(a, b))
        dst.append(slice(a - s, b - s))
    out[tuple(dst)] = arr[tuple(src)]
    return out


def crop_image_and_labels(item: dict, labels: np.ndarray, start, size, rng: np.random.Generator):
    """The training crop of the image (float32 HU) and of a uint8 label volume, rotated and scaled in-plane for some
    crops (augment.P_AFFINE; labels nearest-neighbour), otherwise a plain axis-aligned crop."""
    affine = A.draw_affine(rng)
    if affine is None:
        return crop(item["image"], start, size, C.PAD_HU).astype(np.float32), crop(labels, start, size, 0)
    hu = A.affine_crop(item["image"], start, size, affine, 1, C.PAD_HU, np.float32)
    return hu, A.affine_crop(labels, start, size, affine, 0, 0, np.uint8)


def finish_image(hu: np.ndarray, spacing: float, rng: np.random.Generator):
    """Augment a crop (augment.augment_image) and normalise it; voxels outside the scan stay exactly padValue, as
    the C# stage pads them, whatever the augmentation did."""
    outside = hu <= C.PAD_HU
    x = C.normalise(A.augment_image(hu, spacing, rng))
    x[outside] = C.PAD_HU / C.HU_SCALE
    return x


def sample_localizer(item: dict, rng: np.random.Generator):
    """One localizer training sample: (x, levels, body, ribs or None), crop LOCALIZER_TRAIN_CROP at 4 mm.

    A random crop of the whole scan (partly outside it at the ends), rotated/scaled for some; for 30 % a shorter scan
    (everything outside a random z window blanked, labels too), so scans that stop anywhere are seen; the
    augmentation chain of augment.py; a left-right mirror for half (labels carry no side, so they stay valid).
    """
    size = C.LOCALIZER_TRAIN_CROP
    shape = item["image"].shape
    start = [int(rng.integers(min(0, d - n), max(0, d - n) + 1)) for d, n in zip(shape, size)]
    hu, packed = crop_image_and_labels(item, item["labels"], start, size, rng)
    if rng.random() < 0.3:  # simulate a shorter scan: blank everything outside a random z window
        length = int(rng.integers(12, size[0] + 1))
        a = int(rng.integers(0, size[0] - length + 1))
        for arr, v in ((hu, C.PAD_HU), (packed, 0)):
            arr[:a] = v
            arr[a + length:] = v
    x = finish_image(hu, item["spacing"], rng)
    if rng.random() < 0.5:  # left-right mirror: labels carry no side, so they stay valid
        x, packed = x[:, :, ::-1], packed[:, :, ::-1]
    levels, body, ribs = C.unpack_localizer_labels(packed)
    return np.ascontiguousarray(x), levels, body, ribs if item["has_ribs"] else None


def refiner_jitter(rng: np.random.Generator) -> np.ndarray:
    """Simulated localizer error, voxels at 1.5 mm: N(0, 5 mm) per axis, clipped to +-15 mm."""
    return np.clip(rng.normal(0, 5.0, 3), -15, 15) / C.REFINER_SPACING


def sample_refiner(item: dict, rng: np.random.Generator):
    """One refiner training sample: (x, levels), crop REFINER_CROP at 1.5 mm around L1 moved by a simulated localizer
    error, rotated/scaled for some, the augmentation chain of augment.py, mirrored for half."""
    size = C.REFINER_CROP
    centre = item["l1_centre"] + refiner_jitter(rng)
    start = [int(round(c - n / 2)) for c, n in zip(centre, size)]
    hu, levels = crop_image_and_labels(item, item["levels"], start, size, rng)
    x = finish_image(hu, item["spacing"], rng)
    if rng.random() < 0.5:
        x, levels = x[:, :, ::-1], levels[:, :, ::-1]
    return np.ascontiguousarray(x), levels.copy()


# ------------------------------------------------------------------------------------------------ losses
def soft_dice_loss(logits, target, classes):
    prob = torch.softmax(logits, 1)
    onehot = F.one_hot(target.long(), logits.shape[1]).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    inter = (prob * onehot).sum(dims)
    denom = prob.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + 1) / (denom + 1)
    return 1 - dice[classes].mean()


# Rib channel. Validated with ribs.py on the 60 held-out cases (loc-4mm-cov-val), the committed localizer (step 3864,
# rib BCE weight 0.5) named the last rib-bearing vertebra right in 23 % of cases: 52 % of the true rib-vertebra
# contacts were missed, almost all at T10-T12, where the rib-head voxels beside the vertebra had rib logits of -2 to -4
# (the channel drew the rib shafts but stopped short of the vertebra); a rib contact on a lumbar vertebra appeared in
# 1 of 53 cases, and rib voxels at or below the top of S1 (iliac crests) in 10 of the first 12 cases showing S1. Hence: a higher rib weight, a soft Dice (ribs are thin: a few voxels across at 4 mm), extra weight on
# the rib-head voxels the contact rule reads, and, so that the extra sensitivity does not creep onto the transverse
# processes and the iliac crest, a penalty on rib probability near lumbar vertebrae and at the pelvis.
RIB_BCE_WEIGHT = 1.0  # was 0.5
RIB_POS_WEIGHT = 3.0
RIB_DICE_WEIGHT = 0.5
RIB_CONTACT_WEIGHT = 10.0  # BCE weight of a rib voxel touching a vertebra (~1 % of rib voxels -> ~10 % of their loss)
LUMBAR_RIB_PENALTY_WEIGHT = 1.0
LUMBAR_RIB_MARGIN_VOXELS = 2  # "near" a lumbar/sacral vertebra: within 2 voxels (8 mm at 4 mm)
# The penalty averages the LUMBAR_RIB_TOPK most rib-like voxels of the region, not the whole region: a false rib on an
# iliac crest is a few tens of voxels among ~10^5, and a plain mean over the region would not notice it.
LUMBAR_RIB_TOPK = 100
LUMBAR_SACRAL_CLASSES = [k for k, (name, _) in enumerate(C.LOCALIZER_CLASSES) if name[0] in "LS"]
S1_CLASS = next(k for k, (name, _) in enumerate(C.LOCALIZER_CLASSES) if name == "S1")


def in_plane_neighbours_t(mask: torch.Tensor) -> torch.Tensor:
    """Torch twin of ribs.in_plane_neighbours on (batch, z, y, x) bool tensors: 4-adjacent in the axial plane."""
    out = torch.zeros_like(mask)
    out[..., 1:] |= mask[..., :-1]
    out[..., :-1] |= mask[..., 1:]
    out[..., 1:, :] |= mask[..., :-1, :]
    out[..., :-1, :] |= mask[..., 1:, :]
    return out


def dilate_t(mask: torch.Tensor, voxels: int) -> torch.Tensor:
    """3D dilation of (batch, z, y, x) bool tensors by a cube of half-width `voxels`."""
    k = 2 * voxels + 1
    return F.max_pool3d(mask[:, None].float(), k, stride=1, padding=voxels)[:, 0] > 0


def lumbar_pelvis_region(levels: torch.Tensor, rib: torch.Tensor) -> torch.Tensor:
    """Where a rib can never be: within LUMBAR_RIB_MARGIN_VOXELS of a lumbar or sacral vertebra, and every voxel of
    the slices at or below the top of S1 (the pelvis: iliac crests beside L5/S1), minus anything within one voxel of
    a true rib (rib shafts of T11/T12 pass beside L1-L2; those stay positives of the BCE)."""
    lumbar = torch.zeros_like(levels, dtype=torch.bool)
    for k in LUMBAR_SACRAL_CLASSES:
        lumbar |= levels == k
    region = dilate_t(lumbar, LUMBAR_RIB_MARGIN_VOXELS)
    sacrum = (levels == S1_CLASS).flatten(2).any(2)  # (batch, z): slices showing S1
    for b in range(levels.shape[0]):
        zs = torch.nonzero(sacrum[b]).flatten()
        if len(zs):
            region[b, : int(zs.max()) + 1] = True  # canonical z runs feet -> head: S1's top slice and all below
    return region & ~dilate_t(rib > 0, 1)


def rib_loss(logit: torch.Tensor, levels: torch.Tensor, rib: torch.Tensor):
    """Rib-channel loss for samples with rib labels: weighted BCE (rib heads x RIB_CONTACT_WEIGHT), soft Dice, and
    the lumbar/pelvis penalty (BCE towards 0 of the LUMBAR_RIB_TOPK most rib-like voxels of lumbar_pelvis_region).
    Returns (total, parts for the log)."""
    vertebra = levels > 0
    weight = torch.ones_like(rib)
    weight[(rib > 0) & in_plane_neighbours_t(vertebra)] = RIB_CONTACT_WEIGHT
    bce = F.binary_cross_entropy_with_logits(logit, rib, weight=weight, pos_weight=torch.tensor(RIB_POS_WEIGHT))
    prob = torch.sigmoid(logit)
    dice = 1 - (2 * (prob * rib).sum() + 1) / (prob.sum() + rib.sum() + 1)
    region = lumbar_pelvis_region(levels, rib)
    penalties = []
    for b in range(logit.shape[0]):
        inside = logit[b][region[b]]
        if inside.numel():
            penalties.append(F.softplus(torch.topk(inside, min(LUMBAR_RIB_TOPK, inside.numel())).values).mean())
    penalty = torch.stack(penalties).mean() if penalties else logit.sum() * 0
    total = RIB_BCE_WEIGHT * bce + RIB_DICE_WEIGHT * dice + LUMBAR_RIB_PENALTY_WEIGHT * penalty
    return total, {"rib_bce": float(bce), "rib_dice": float(dice), "rib_lumbar_penalty": float(penalty)}


def localizer_loss(out, levels, body, ribs_list, parts: dict | None = None):
    """Level classes (weighted cross-entropy + soft Dice), body channel (BCE) and, for samples with rib labels, the
    rib channel (rib_loss). `parts`, when given, receives the rib loss's parts."""
    n = len(C.LOCALIZER_CLASSES)
    weights = torch.ones(n)
    weights[0] = 0.2
    loss = F.cross_entropy(out[:, :n], levels.long(), weight=weights)
    loss = loss + soft_dice_loss(out[:, :n], levels, list(range(1, n)))
    loss = loss + 0.5 * F.binary_cross_entropy_with_logits(out[:, n], body.float(), pos_weight=torch.tensor(3.0))
    has = [k for k, r in enumerate(ribs_list) if r is not None]
    if has:
        rib = torch.from_numpy(np.stack([ribs_list[k] for k in has])).float()
        total, rib_parts = rib_loss(out[has, n + 1], levels[has], rib)
        loss = loss + total
        if parts is not None:
            parts.update(rib_parts)
    return loss


def refiner_loss(out, levels):
    weights = torch.ones(len(C.REFINER_CLASSES))
    weights[0] = 0.2
    loss = F.cross_entropy(out, levels.long(), weight=weights)
    return loss + soft_dice_loss(out, levels, [1, 2, 3])


# ------------------------------------------------------------------------------------------------ validation
def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = a.sum() + b.sum()
    return float(2 * (a & b).sum() / s) if s else 1.0


def largest_component(mask: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = ndimage.sum(mask, lab, range(1, n + 1))
    return lab == (1 + int(np.argmax(sizes)))


@torch.no_grad()
def run_localizer(model, hu: np.ndarray):
    x = C.normalise(hu)
    xp, shape = C.pad_to_multiple(x, C.SIZE_MULTIPLE, C.PAD_HU / C.HU_SCALE)
    out = model(torch.from_numpy(xp)[None, None])[0, :, : shape[0], : shape[1], : shape[2]]
    return out.numpy()


def localizer_case(item: dict, out: np.ndarray) -> dict:
    """Held-out measures of one whole-scan localizer output (logits, C x z x y x x) against the case's truth."""
    n = len(C.LOCALIZER_CLASSES)
    cls = out[:n].argmax(0)
    body = out[n] > 0
    levels, _, _ = C.unpack_localizer_labels(item["labels"])
    true_l1_vertebra = levels == C.LOCALIZER_L1
    truth_l1 = next((lv for lv in item["truth"]["levels"] if lv["name"] == "L1"), None)
    row = {"has_l1": bool(truth_l1 and truth_l1["fullyInScan"]),
           "pred": largest_component((cls == C.LOCALIZER_L1) & body), "true_body": item["l1_body"],
           "dice": dice(cls == C.LOCALIZER_L1, true_l1_vertebra) if true_l1_vertebra.any() else float("nan")}
    # the rib contacts the C# count would see (ribs.py); only for cases whose npz has rib labels
    row["rib"] = None if item["rib_codes"] is None else R.evaluate_case(cls, out[n + 1] > 0, item["vertebra_codes"],
                                                                         item["rib_codes"])
    return row


@torch.no_grad()
def validate(stage, model, cache: CaseCache, details: list | None = None):
    """Held-out metrics of the model on every case of `cache` (a held_out CaseCache).

    Level: of the cases whose L1 is fully in the scan, how often the predicted L1 body's centroid lies in the true L1
    body; Dice; centroid error; L1 claimed on scans without a whole L1. Localizer also: the rib-contact check of
    ribs.py (rib_* keys). `details`, when given, receives one dict per case (seed, outcome, rib evidence, the case's
    truth.json descriptors) for the per-case CSV and the log.
    """
    model.eval()
    rows = []
    for key in cache.keys():
        item = cache.cases[key]
        if stage == "localizer":
            case = localizer_case(item, run_localizer(model, item["image"]))
            pred, true_body, has_l1, d = case["pred"], case["true_body"], case["has_l1"], case["dice"]
        else:
            if item["l1_centre"] is None:
                continue
            rng = np.random.default_rng(item["seed"])  # fixed per case: a deterministic simulated localizer error
            centre = item["l1_centre"] + refiner_jitter(rng)
            size = C.REFINER_CROP
            start = [int(round(c - s / 2)) for c, s in zip(centre, size)]
            hu = crop(item["image"], start, size, C.PAD_HU)
            x = C.normalise(hu)
            out = model(torch.from_numpy(x)[None, None])[0].numpy()
            cls = out.argmax(0)
            true_body = crop(item["levels"], start, size, 0) == C.REFINER_L1
            pred = largest_component(cls == C.REFINER_L1)
            has_l1 = True
            d = dice(cls == C.REFINER_L1, true_body)
            case = {"rib": None}
        claimed = bool(pred.any())
        correct, dist = False, float("nan")
        if claimed:
            c = np.round(np.argwhere(pred).mean(0)).astype(int)
            correct = bool(true_body[tuple(c)])
            if true_body.any():
                dist = float(np.linalg.norm(np.argwhere(pred).mean(0) - np.argwhere(true_body).mean(0))
                             * (C.LOCALIZER_SPACING if stage == "localizer" else C.REFINER_SPACING))
        rows.append({"has_l1": has_l1, "claimed": claimed, "correct": correct, "dice": d, "dist": dist,
                     "rib": case["rib"]})
        if details is not None:
            rib = case["rib"] or {}
            details.append({"seed": item["seed"], "has_l1": has_l1, "claimed": claimed, "correct": correct,
                            "dice": round(d, 4), "dist_mm": round(dist, 2),
                            "rib_true_last": R.level_name(rib.get("true_last")) if rib else "",
                            "rib_pred_last": R.level_name(rib.get("pred_last")) if rib else "",
                            "rib_lumbar_contacts": ",".join(R.level_name(c) for c in rib.get("lumbar_false_contacts", [])),
                            "rib_missed": ",".join(R.level_name(c) for c in rib.get("missed_contacts", [])),
                            "rib_pelvis_voxels": rib.get("pelvis_rib_voxels", "") if rib else "",
                            "rib_failure": R.describe_failure(item["seed"], case["rib"]) or "",
                            **item.get("descriptors", {})})
    model.train()
    with_l1 = [r for r in rows if r["has_l1"]]
    without = [r for r in rows if not r["has_l1"]]
    dices = [r["dice"] for r in with_l1 if not math.isnan(r["dice"])]
    dists = [r["dist"] for r in with_l1 if not math.isnan(r["dist"])]
    metrics = {
        "cases": len(rows), "cases_with_l1": len(with_l1),
        "correct_level_rate": float(np.mean([r["correct"] for r in with_l1])) if with_l1 else float("nan"),
        "within_10mm_rate": float(np.mean([(not math.isnan(r["dist"])) and r["dist"] <= 10 for r in with_l1]))
        if with_l1 else float("nan"),
        "l1_dice_median": float(np.median(dices)) if dices else float("nan"),
        "l1_dice_mean": float(np.mean(dices)) if dices else float("nan"),
        "centroid_error_mm_median": float(np.median(dists)) if dists else float("nan"),
        "cases_without_full_l1": len(without),
        "l1_claimed_when_not_fully_in_scan": int(sum(r["claimed"] for r in without)),
    }
    if stage == "localizer":
        metrics.update(R.summarise([r["rib"] for r in rows]))
    return metrics


def group_summary(details: list) -> dict:
    """Correct-level rate per value of each descriptor that varies across the held-out cases (2-8 values), e.g. per
    slice thickness or kernel once the generator draws them: which acquisitions the model still gets wrong."""
    out = {}
    keys = sorted({k for d in details for k in d} - {"seed", "has_l1", "claimed", "correct", "dice", "dist_mm"}
                  - {k for k in details[0] if k.startswith("rib_")} if details else set())
    for key in keys:
        values = {str(d.get(key)) for d in details}
        if not 2 <= len(values) <= 8:
            continue
        out[key] = {}
        for value in sorted(values):
            group = [d for d in details if str(d.get(key)) == value and d["has_l1"]]
            if group:
                out[key][value] = f"{sum(d['correct'] for d in group)}/{len(group)}"
    return out


# ------------------------------------------------------------------------------------------------ checkpoints
def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def append_csv(path, rows):
    """Append one row (dict) or several to a CSV. A row with columns the file lacks (new metrics, a descriptor the
    generator has started to write) rewrites the file once with the widened header, old rows blank there, so the
    committed metrics files stay one readable table across versions of this script."""
    rows = [rows] if isinstance(rows, dict) else list(rows)
    if not rows:
        return
    header = []
    for row in rows:
        header += [k for k in row if k not in header]
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            old_header = list(reader.fieldnames or [])
            old_rows = list(reader) if any(k not in old_header for k in header) else None
        if old_rows is not None:
            widened = old_header + [k for k in header if k not in old_header]
            tmp = path + ".tmp"
            with open(tmp, "w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=widened)
                writer.writeheader()
                writer.writerows(old_rows)
            os.replace(tmp, path)
            old_header = widened
        with open(path, "a", newline="") as handle:
            csv.DictWriter(handle, fieldnames=old_header, restval="").writerows(rows)
        return
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)


# ------------------------------------------------------------------------------------------------ data phases
def folder_generator_sha(folder: str):
    """The generator sha256 a data folder's manifest.json records (generate_data.py), or None."""
    path = os.path.join(folder, "manifest.json")
    try:
        with open(path) as handle:
            return json.load(handle)["generator"]["sha256"]
    except (OSError, KeyError, ValueError):
        return None


def shipped_sha(stage: str, folder: str):
    """For a checkpoint older than data phases: the generator sha256 the shipped manifest (qct-l1-model.json) recorded
    for this folder, when its data are gone from this machine. None when it recorded none."""
    try:
        with open(os.path.join(REPO_MODELS, "qct-l1-model.json")) as handle:
            spec = json.load(handle)["stages"][stage]
    except (OSError, KeyError, ValueError):
        return None
    for key in ("trainingData", "heldOutData"):
        entry = spec.get(key) or {}
        if entry.get("folder") == folder and entry.get("generatorSha256"):
            return entry["generatorSha256"]
    return None


def data_phase(stage: str, step: int, data: str, val_data: str, reconstructed: bool = False) -> dict:
    """What the training data are from `step` on: folders and their generators' sha256 (from each folder's
    manifest.json; for a reconstructed first phase, from the shipped model manifest when the folder is gone)."""
    def sha(folder):
        return folder_generator_sha(folder) or (shipped_sha(stage, folder) if reconstructed else None)

    folders = [f for f in data.split(",") if f]
    phase = {"fromStep": step, "data": folders, "generatorSha256": {f: sha(f) for f in folders},
             "valData": val_data, "valGeneratorSha256": sha(val_data),
             "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "scheduleStart": None}
    if reconstructed:
        phase["note"] = "reconstructed when this checkpoint was first resumed by a train.py that records data phases"
        phase["started"] = None
    return phase


def same_data(a: dict, b: dict) -> bool:
    """Two phases train on the same data: same folders and held-out folder, made by the same generators."""
    return all(a.get(k) == b.get(k) for k in ("data", "generatorSha256", "valData", "valGeneratorSha256"))


def learning_rate(step: int, state: dict, args) -> float:
    """Linear warm-up over WARMUP_STEPS, then a cosine over --total-steps down to 2 % of --lr, counted from the
    schedule's start (step 0, or the step where --restart-schedule restarted it for a fine-tune on new data)."""
    s = step - state.get("schedule_start", 0)
    lr = args.lr * (min(1.0, (s + 1) / WARMUP_STEPS)
                    * 0.5 * (1 + math.cos(math.pi * min(s, args.total_steps) / args.total_steps)))
    return max(lr, args.lr * MIN_LR_FRACTION)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stage", choices=["localizer", "refiner"], required=True)
    p.add_argument("--data", help="training case folders, comma-separated (default: $QCT_TRAINING_DATA/loc-4mm or ref-1.5mm)")
    p.add_argument("--val-data", help="held-out case folder (default: …-val)")
    p.add_argument("--val-cases", type=int, default=60)
    p.add_argument("--checkpoints", default=os.path.join(REPO_MODELS, "checkpoints"))
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--total-steps", type=int, default=60000, help="length of the cosine learning-rate schedule")
    p.add_argument("--max-minutes", type=float, default=0, help="stop (with a checkpoint) after this long; 0 = never")
    p.add_argument("--save-every-min", type=float, default=5)
    p.add_argument("--val-every-min", type=float, default=20)
    p.add_argument("--rescan-steps", type=int, default=200)
    p.add_argument("--log-every", type=int, default=50, help="steps between lines of <stage>-train.csv")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--fresh", action="store_true", help="ignore an existing latest checkpoint")
    p.add_argument("--restart-schedule", action="store_true",
                   help="fine-tune: restart the warm-up and cosine schedule (--lr, --total-steps) at the current step; "
                        "acts once per data phase, so resuming with the same command line does not restart it again")
    p.add_argument("--validate-only", action="store_true",
                   help="validate the latest checkpoint on the held-out set, log the metrics, and exit")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    # Tiny gradients become denormal floats, which made conv3d backward ~5x slower on this CPU.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.set_flush_denormal(True)
    stage = args.stage
    default_set = "loc-4mm" if stage == "localizer" else "ref-1.5mm"
    data = args.data or os.path.join(DATA_ROOT, default_set)
    val_data = args.val_data or os.path.join(DATA_ROOT, default_set + "-val")
    os.makedirs(args.checkpoints, exist_ok=True)
    latest = os.path.join(args.checkpoints, f"{stage}-latest.pt")
    best = os.path.join(args.checkpoints, f"{stage}-best.pt")
    train_csv = os.path.join(args.checkpoints, f"{stage}-train.csv")
    metrics_csv = os.path.join(args.checkpoints, f"{stage}-metrics.csv")
    cases_csv = os.path.join(args.checkpoints, f"{stage}-val-cases.csv")

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = C.build_model(stage)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    state = {"step": 0, "samples": 0, "train_seconds": 0.0, "best_score": -1.0, "last_val_step": -1,
             "schedule_start": 0, "data_phases": []}
    if os.path.exists(latest) and not args.fresh:
        ckpt = torch.load(latest, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        state.update(ckpt["state"])
        rng.bit_generator.state = ckpt["numpy_rng"]
        torch.set_rng_state(ckpt["torch_rng"])
        random.setstate(ckpt["python_rng"])
        print(f"resumed {latest} at step {state['step']} ({state['train_seconds'] / 3600:.2f} h trained)", flush=True)
        if not state["data_phases"]:  # a checkpoint from before data phases: record what it was trained on
            state["data_phases"] = [data_phase(stage, 0, ckpt.get("data") or "", ckpt.get("val_data") or "",
                                               reconstructed=True)]
        if ckpt.get("val_data") != val_data and not args.validate_only:
            state["best_score"] = -1.0  # scores on another held-out set are not comparable
            print(f"held-out set changed from {ckpt.get('val_data')}: best score reset", flush=True)
    elif args.validate_only:
        print(f"--validate-only: no checkpoint {latest}", file=sys.stderr)
        return 1
    phase = data_phase(stage, state["step"], data, val_data)
    if args.validate_only:
        pass
    elif not state["data_phases"] or not same_data(state["data_phases"][-1], phase):
        if state["data_phases"]:
            # The best-by-validation weights of another data set must not be exported as this run's best.
            state["best_score"] = -1.0
            print(f"new data phase at step {state['step']}: {json.dumps(phase)}; best score reset", flush=True)
        state["data_phases"].append(phase)
    if args.restart_schedule and not args.validate_only:
        current = state["data_phases"][-1]
        if current.get("scheduleStart") is None:
            current["scheduleStart"] = state["schedule_start"] = state["step"]
            current.update(lr=args.lr, totalSteps=args.total_steps)
            print(f"learning-rate schedule restarted at step {state['step']} (lr {args.lr}, {args.total_steps} steps)",
                  flush=True)
        else:
            print(f"--restart-schedule: already restarted at step {current['scheduleStart']} for this data; "
                  f"continuing that schedule", flush=True)
    print(f"{stage}: {C.parameter_count(model)} parameters; data {data}; held-out {val_data}", flush=True)

    def checkpoint(path=latest, extra=None):
        payload = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": dict(state),
                   "numpy_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                   "python_rng": random.getstate(), "stage": stage, "widths": model.widths,
                   "data": data, "val_data": val_data, "args": vars(args)}
        if extra:
            payload.update(extra)
        atomic_save(payload, path)

    stop = {"flag": False}

    def on_signal(signum, _frame):
        print(f"signal {signum}: saving and stopping", flush=True)
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    held = CaseCache(stage, val_data, limit=args.val_cases, held_out=True)
    train = CaseCache(stage, data)
    t = time.time()
    loaded_held = held.rescan()
    loaded_train = 0 if args.validate_only else train.rescan()
    print(f"loaded {loaded_train} training and {loaded_held} held-out cases in {time.time() - t:.0f} s", flush=True)
    keys = [k for k in train.keys() if stage == "localizer" or train.cases[k]["l1_centre"] is not None]

    def run_validation(save_best=True):
        """Validate, append the metrics row and the per-case rows, log rib failures and per-descriptor rates."""
        t0 = time.time()
        details = []
        metrics = validate(stage, model, held, details)
        score = metrics["correct_level_rate"] + 0.2 * metrics["l1_dice_median"]
        if stage == "localizer" and metrics.get("cases_without_full_l1"):
            # an L1 claimed where there is none is the error that matters most
            score -= 0.5 * metrics["l1_claimed_when_not_fully_in_scan"] / metrics["cases_without_full_l1"]
        rib_last = metrics.get("rib_last_bearing_correct_rate", float("nan"))
        rib_lumbar = metrics.get("rib_false_contact_lumbar_rate", float("nan"))
        if not (math.isnan(rib_last) or math.isnan(rib_lumbar)):
            # the rib count is the localizer's independent check of L1 (ribs.py): prefer weights that could earn trust
            score += 0.1 * rib_last - 0.2 * rib_lumbar
        if math.isnan(score):
            score = -1
        row = {"step": state["step"], "samples": state["samples"], "train_hours": round(state["train_seconds"] / 3600, 3),
               "train_cases": len(keys), **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()},
               "score": round(score, 4), "seconds": round(time.time() - t0, 1)}
        append_csv(metrics_csv, row)
        append_csv(cases_csv, [{"step": state["step"], **d} for d in details])
        for d in details:
            if d.get("rib_failure"):
                print(d["rib_failure"], flush=True)
        groups = group_summary(details)
        if groups:
            print("validation by case descriptor (correct level / cases with L1):", json.dumps(groups), flush=True)
        print("validation", json.dumps(row), flush=True)
        state["last_val_step"] = state["step"]
        if save_best and score > state["best_score"]:
            state["best_score"] = score
            checkpoint(best, {"metrics": row})
        return row

    if args.validate_only:
        run_validation(save_best=False)
        return 0
    if not keys:
        print("no training cases yet", file=sys.stderr)
        return 1

    model.train()
    last_save = time.time()
    last_val = time.time()
    start_time = time.time()
    window_loss, window_n, window_t = 0.0, 0, time.time()
    window_sampling, window_parts = 0.0, {}
    while not stop["flag"]:
        if state["step"] % args.rescan_steps == 0 and state["step"]:
            added = train.rescan()
            if added:
                keys = [k for k in train.keys() if stage == "localizer" or train.cases[k]["l1_centre"] is not None]
                print(f"step {state['step']}: +{added} cases, {len(keys)} in training", flush=True)
        t_step = time.time()
        lr = learning_rate(state["step"], state, args)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = [train.cases[keys[int(rng.integers(len(keys)))]] for _ in range(args.batch)]
        t_sampling = time.time()
        if stage == "localizer":
            samples = [sample_localizer(item, rng) for item in batch]
            window_sampling += time.time() - t_sampling
            x = torch.from_numpy(np.stack([s[0] for s in samples]))[:, None]
            levels = torch.from_numpy(np.stack([s[1] for s in samples]))
            body = torch.from_numpy(np.stack([s[2] for s in samples]))
            out = model(x)
            parts = {}
            loss = localizer_loss(out, levels, body, [s[3] for s in samples], parts)
            for k, v in parts.items():
                window_parts[k] = window_parts.get(k, 0.0) + v
            state["ribs_seen"] = state.get("ribs_seen", 0) + sum(s[3] is not None for s in samples)
        else:
            samples = [sample_refiner(item, rng) for item in batch]
            window_sampling += time.time() - t_sampling
            x = torch.from_numpy(np.stack([s[0] for s in samples]))[:, None]
            levels = torch.from_numpy(np.stack([s[1] for s in samples]))
            out = model(x)
            loss = refiner_loss(out, levels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        state["step"] += 1
        state["samples"] += args.batch
        state["train_seconds"] += time.time() - t_step
        window_loss += float(loss)
        window_n += 1
        if state["step"] % args.log_every == 0:
            rate = window_n * args.batch / (time.time() - window_t)
            sampling_ms = 1000 * window_sampling / (window_n * args.batch)
            append_csv(train_csv, {"step": state["step"], "samples": state["samples"],
                                   "train_hours": round(state["train_seconds"] / 3600, 3), "lr": f"{lr:.3g}",
                                   "loss": round(window_loss / window_n, 4), "samples_per_s": round(rate, 2),
                                   "train_cases": len(keys), "sampling_ms": round(sampling_ms, 1),
                                   **{k: round(v / window_n, 4) for k, v in window_parts.items()}})
            print(f"step {state['step']} loss {window_loss / window_n:.4f} lr {lr:.3g} {rate:.2f} samples/s "
                  f"(sampling {sampling_ms:.0f} ms/sample)"
                  + "".join(f" {k} {v / window_n:.4f}" for k, v in window_parts.items()), flush=True)
            window_loss, window_n, window_t = 0.0, 0, time.time()
            window_sampling, window_parts = 0.0, {}
        if time.time() - last_val > args.val_every_min * 60:
            run_validation()
            last_val = time.time()
            window_t = time.time()
        if time.time() - last_save > args.save_every_min * 60:
            checkpoint()
            last_save = time.time()
        if args.max_minutes and time.time() - start_time > args.max_minutes * 60:
            break
    checkpoint()
    print(f"saved {latest} at step {state['step']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
