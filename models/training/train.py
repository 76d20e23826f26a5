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
"""
from __future__ import annotations

import argparse
import csv
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
import common as C  # noqa: E402

REPO_MODELS = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATA_ROOT = os.environ.get("QCT_TRAINING_DATA", "/work/qct-training-data")


# ------------------------------------------------------------------------------------------------ data caches
class CaseCache:
    """Keeps every loaded case in memory in the compact form the stage needs."""

    def __init__(self, stage: str, folder: str, limit: int | None = None):
        self.stage, self.folder, self.limit = stage, folder, limit
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
            item["levels"] = C.LOC_LUT[data["vertebrae"]]
            item["body"] = (data["vertebral_bodies"] > 0).astype(np.uint8)
            item["ribs"] = None if data.get("ribs") is None else (data["ribs"] > 0).astype(np.uint8)
            item["l1_body"] = data["vertebral_bodies"] == 21
        else:
            rib_pairs = int(truth["options"]["ribPairs"])
            item["levels"] = C.refiner_lut(rib_pairs)[data["vertebral_bodies"]]
            where = np.argwhere(item["levels"] == C.REFINER_L1)
            item["l1_centre"] = where.mean(0) if len(where) else None
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


def augment_intensity(hu: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = hu.astype(np.float32)
    x = x * rng.uniform(0.9, 1.1) + rng.uniform(-40, 40)
    if rng.random() < 0.2:
        x = ndimage.gaussian_filter(x, rng.uniform(0.4, 1.0))
    if rng.random() < 0.6:
        x += rng.normal(0, rng.uniform(2, 25), x.shape).astype(np.float32)
    return x


def sample_localizer(item: dict, rng: np.random.Generator):
    size = C.LOCALIZER_TRAIN_CROP
    shape = item["image"].shape
    start = [int(rng.integers(min(0, d - n), max(0, d - n) + 1)) for d, n in zip(shape, size)]
    hu = crop(item["image"], start, size, C.PAD_HU)
    levels = crop(item["levels"], start, size, 0)
    body = crop(item["body"], start, size, 0)
    ribs = None if item["ribs"] is None else crop(item["ribs"], start, size, 0)
    if rng.random() < 0.3:  # simulate a shorter scan: blank everything outside a random z window
        length = int(rng.integers(12, size[0] + 1))
        a = int(rng.integers(0, size[0] - length + 1))
        for arr, v in ((hu, C.PAD_HU), (levels, 0), (body, 0), (ribs, 0)):
            if arr is not None:
                arr[:a] = v
                arr[a + length:] = v
    x = augment_intensity(hu, rng)
    outside = hu <= C.PAD_HU
    if rng.random() < 0.5:  # left-right mirror: labels carry no side, so they stay valid
        x, levels, body = x[:, :, ::-1], levels[:, :, ::-1], body[:, :, ::-1]
        outside = outside[:, :, ::-1]
        ribs = None if ribs is None else ribs[:, :, ::-1]
    x = C.normalise(x)
    x[outside] = C.PAD_HU / C.HU_SCALE
    return x, levels.copy(), body.copy(), None if ribs is None else ribs.copy()


def refiner_jitter(rng: np.random.Generator) -> np.ndarray:
    """Simulated localizer error, voxels at 1.5 mm: N(0, 5 mm) per axis, clipped to +-15 mm."""
    return np.clip(rng.normal(0, 5.0, 3), -15, 15) / C.REFINER_SPACING


def sample_refiner(item: dict, rng: np.random.Generator):
    size = C.REFINER_CROP
    centre = item["l1_centre"] + refiner_jitter(rng)
    start = [int(round(c - n / 2)) for c, n in zip(centre, size)]
    hu = crop(item["image"], start, size, C.PAD_HU)
    levels = crop(item["levels"], start, size, 0)
    outside = hu <= C.PAD_HU
    x = augment_intensity(hu, rng)
    if rng.random() < 0.5:
        x, levels, outside = x[:, :, ::-1], levels[:, :, ::-1], outside[:, :, ::-1]
    x = C.normalise(x)
    x[outside] = C.PAD_HU / C.HU_SCALE
    return x, levels.copy()


# ------------------------------------------------------------------------------------------------ losses
def soft_dice_loss(logits, target, classes):
    prob = torch.softmax(logits, 1)
    onehot = F.one_hot(target.long(), logits.shape[1]).permute(0, 4, 1, 2, 3).float()
    dims = (0, 2, 3, 4)
    inter = (prob * onehot).sum(dims)
    denom = prob.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + 1) / (denom + 1)
    return 1 - dice[classes].mean()


def localizer_loss(out, levels, body, ribs_list):
    n = len(C.LOCALIZER_CLASSES)
    weights = torch.ones(n)
    weights[0] = 0.2
    loss = F.cross_entropy(out[:, :n], levels.long(), weight=weights)
    loss = loss + soft_dice_loss(out[:, :n], levels, list(range(1, n)))
    loss = loss + 0.5 * F.binary_cross_entropy_with_logits(out[:, n], body.float(), pos_weight=torch.tensor(3.0))
    has = [k for k, r in enumerate(ribs_list) if r is not None]
    if has:
        rib = torch.from_numpy(np.stack([ribs_list[k] for k in has])).float()
        loss = loss + 0.5 * F.binary_cross_entropy_with_logits(out[has, n + 1], rib, pos_weight=torch.tensor(3.0))
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


@torch.no_grad()
def validate(stage, model, cache: CaseCache):
    model.eval()
    rows = []
    for key in cache.keys():
        item = cache.cases[key]
        if stage == "localizer":
            out = run_localizer(model, item["image"])
            n = len(C.LOCALIZER_CLASSES)
            cls = out[:n].argmax(0)
            body = out[n] > 0
            true_l1_vertebra = item["levels"] == C.LOCALIZER_L1
            true_body = item["l1_body"]
            pred = largest_component((cls == C.LOCALIZER_L1) & body)
            truth_l1 = next((lv for lv in item["truth"]["levels"] if lv["name"] == "L1"), None)
            has_l1 = bool(truth_l1 and truth_l1["fullyInScan"])
            d = dice(cls == C.LOCALIZER_L1, true_l1_vertebra) if true_l1_vertebra.any() else float("nan")
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
        claimed = bool(pred.any())
        correct, dist = False, float("nan")
        if claimed:
            c = np.round(np.argwhere(pred).mean(0)).astype(int)
            correct = bool(true_body[tuple(c)])
            if true_body.any():
                dist = float(np.linalg.norm(np.argwhere(pred).mean(0) - np.argwhere(true_body).mean(0))
                             * (C.LOCALIZER_SPACING if stage == "localizer" else C.REFINER_SPACING))
        rows.append({"has_l1": has_l1, "claimed": claimed, "correct": correct, "dice": d, "dist": dist})
    model.train()
    with_l1 = [r for r in rows if r["has_l1"]]
    without = [r for r in rows if not r["has_l1"]]
    dices = [r["dice"] for r in with_l1 if not math.isnan(r["dice"])]
    dists = [r["dist"] for r in with_l1 if not math.isnan(r["dist"])]
    return {
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


# ------------------------------------------------------------------------------------------------ checkpoints
def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def append_csv(path, row: dict):
    new = not os.path.exists(path)
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


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
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--fresh", action="store_true", help="ignore an existing latest checkpoint")
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

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = C.build_model(stage)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    state = {"step": 0, "samples": 0, "train_seconds": 0.0, "best_score": -1.0, "last_val_step": -1}
    if os.path.exists(latest) and not args.fresh:
        ckpt = torch.load(latest, map_location="cpu")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        state.update(ckpt["state"])
        rng.bit_generator.state = ckpt["numpy_rng"]
        torch.set_rng_state(ckpt["torch_rng"])
        random.setstate(ckpt["python_rng"])
        print(f"resumed {latest} at step {state['step']} ({state['train_seconds'] / 3600:.2f} h trained)", flush=True)
        if ckpt.get("val_data") != val_data:
            state["best_score"] = -1.0  # scores on another held-out set are not comparable
            print(f"held-out set changed from {ckpt.get('val_data')}: best score reset", flush=True)
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

    train = CaseCache(stage, data)
    held = CaseCache(stage, val_data, limit=args.val_cases)
    t = time.time()
    print(f"loaded {train.rescan()} training and {held.rescan()} held-out cases in {time.time() - t:.0f} s", flush=True)
    keys = [k for k in train.keys() if stage == "localizer" or train.cases[k]["l1_centre"] is not None]
    if not keys:
        print("no training cases yet", file=sys.stderr)
        return 1

    def run_validation():
        t0 = time.time()
        metrics = validate(stage, model, held)
        score = metrics["correct_level_rate"] + 0.2 * metrics["l1_dice_median"]
        if stage == "localizer" and metrics.get("cases_without_full_l1"):
            # an L1 claimed where there is none is the error that matters most
            score -= 0.5 * metrics["l1_claimed_when_not_fully_in_scan"] / metrics["cases_without_full_l1"]
        if math.isnan(score):
            score = -1
        row = {"step": state["step"], "samples": state["samples"], "train_hours": round(state["train_seconds"] / 3600, 3),
               "train_cases": len(keys), **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()},
               "score": round(score, 4), "seconds": round(time.time() - t0, 1)}
        append_csv(metrics_csv, row)
        print("validation", json.dumps(row), flush=True)
        state["last_val_step"] = state["step"]
        if score > state["best_score"]:
            state["best_score"] = score
            checkpoint(best, {"metrics": row})
        return row

    model.train()
    last_save = time.time()
    last_val = time.time()
    start_time = time.time()
    window_loss, window_n, window_t = 0.0, 0, time.time()
    while not stop["flag"]:
        if state["step"] % args.rescan_steps == 0 and state["step"]:
            added = train.rescan()
            if added:
                keys = [k for k in train.keys() if stage == "localizer" or train.cases[k]["l1_centre"] is not None]
                print(f"step {state['step']}: +{added} cases, {len(keys)} in training", flush=True)
        t_step = time.time()
        lr = args.lr * (min(1.0, (state["step"] + 1) / 200)
                        * 0.5 * (1 + math.cos(math.pi * min(state["step"], args.total_steps) / args.total_steps)))
        lr = max(lr, args.lr * 0.02)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = [train.cases[keys[int(rng.integers(len(keys)))]] for _ in range(args.batch)]
        if stage == "localizer":
            samples = [sample_localizer(item, rng) for item in batch]
            x = torch.from_numpy(np.stack([s[0] for s in samples]))[:, None]
            levels = torch.from_numpy(np.stack([s[1] for s in samples]))
            body = torch.from_numpy(np.stack([s[2] for s in samples]))
            out = model(x)
            loss = localizer_loss(out, levels, body, [s[3] for s in samples])
            state["ribs_seen"] = state.get("ribs_seen", 0) + sum(s[3] is not None for s in samples)
        else:
            samples = [sample_refiner(item, rng) for item in batch]
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
        if state["step"] % 50 == 0:
            rate = window_n * args.batch / (time.time() - window_t)
            append_csv(train_csv, {"step": state["step"], "samples": state["samples"],
                                   "train_hours": round(state["train_seconds"] / 3600, 3), "lr": f"{lr:.3g}",
                                   "loss": round(window_loss / window_n, 4), "samples_per_s": round(rate, 2),
                                   "train_cases": len(keys)})
            print(f"step {state['step']} loss {window_loss / window_n:.4f} lr {lr:.3g} {rate:.2f} samples/s",
                  flush=True)
            window_loss, window_n, window_t = 0.0, 0, time.time()
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
