"""Shared pieces of the two-stage L1 model: orientation, normalisation, label maps, network, data loading.

Everything the C# inference stage must reproduce is defined here and copied into models/qct-l1-model.json by
export_onnx.py; keep the two in step.
"""
from __future__ import annotations

import glob
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------------------------------------------
# Orientation. Canonical grid: numpy array (z, y, x), C order, whose axes point to patient Superior (z), Posterior
# (y) and Left (x): i.e. voxel (x, y, z) axes run along +L, +P, +S, the same axis order and signs as DICOM LPS.
# Reached from any scan by permuting and flipping voxel axes only (each voxel axis is assigned to the LPS axis its
# direction cosine is largest along); no interpolation, so small obliquity / gantry tilt is left as is.
# HFS, FFS and prone scans thus all look the same (head up, back at high y, patient's left at high x).
# ---------------------------------------------------------------------------------------------------------------
ORIENTATION_DOC = ("canonical array (z, y, x) with z increasing towards patient Superior, y towards Posterior, "
                   "x towards patient Left (voxel axes along +L, +P, +S, as DICOM LPS); reached by permuting and "
                   "flipping the voxel axes only: each voxel axis goes to the LPS axis its direction (affine column) "
                   "is largest along, flipped when that component is negative; no interpolation")


def canonical_permutation(affine: np.ndarray):
    """For each LPS axis c (0=L,1=P,2=S): (voxel axis i, sign)."""
    cols = np.asarray(affine, dtype=np.float64)[:3, :3]
    used, result = set(), {}
    for i in np.argsort(-np.abs(cols).max(0)):  # most decided voxel axis first
        order = np.argsort(-np.abs(cols[:, i]))
        c = next(int(c) for c in order if int(c) not in used)
        used.add(c)
        result[c] = (int(i), 1 if cols[c, i] >= 0 else -1)
    return [result[c] for c in range(3)]


def canonicalize(arrays: dict, affine: np.ndarray):
    """Reorient (z, y, x) arrays to the canonical grid. Returns (arrays, canonical affine voxel(x,y,z)->LPS)."""
    perm = canonical_permutation(affine)
    any_array = next(iter(arrays.values()))
    sizes_xyz = [any_array.shape[2], any_array.shape[1], any_array.shape[0]]
    # canonical numpy axis t holds LPS axis c = 2 - t, taken from voxel axis i (numpy axis 2 - i)
    src_axes = [2 - perm[2 - t][0] for t in range(3)]
    out = {}
    for name, arr in arrays.items():
        a = np.transpose(arr, src_axes)
        for t in range(3):
            if perm[2 - t][1] < 0:
                a = np.flip(a, t)
        out[name] = np.ascontiguousarray(a)
    p = np.zeros((4, 4))
    p[3, 3] = 1
    for c in range(3):  # canonical voxel axis c (x'=L, y'=P, z'=S)
        i, s = perm[c]
        p[i, c] = s
        if s < 0:
            p[i, 3] = sizes_xyz[i] - 1
    return out, np.asarray(affine, dtype=np.float64) @ p


# ---------------------------------------------------------------------------------------------------------------
# Intensity normalisation: x = clip(HU, -1000, 2000) / 1000  (so air -1, water 0, dense bone <= 2). Padding outside
# the scan is HU -1000 (x = -1).
# ---------------------------------------------------------------------------------------------------------------
HU_MIN, HU_MAX, HU_SCALE = -1000.0, 2000.0, 1000.0
PAD_HU = -1000.0
NORMALISATION_DOC = {"clipHu": [HU_MIN, HU_MAX], "scale": 1.0 / HU_SCALE, "offset": 0.0,
                     "formula": "x = clip(HU, -1000, 2000) / 1000", "padHu": PAD_HU, "padValue": PAD_HU / HU_SCALE}


def normalise(hu: np.ndarray) -> np.ndarray:
    return (np.clip(hu.astype(np.float32), HU_MIN, HU_MAX) / HU_SCALE).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# Label maps. Generator codes: T1-T13 = 1-13, L1-L6 = 21-26, S1 = 31, 0 background. "L1" = first vertebra below the
# last rib-bearing one (so with 11 rib pairs the 12th vertebra is L1, with 13 there is a T13).
# ---------------------------------------------------------------------------------------------------------------
LOCALIZER_CLASSES = [
    ("background", []), ("T1-T8", list(range(1, 9))), ("T9", [9]), ("T10", [10]), ("T11", [11]), ("T12", [12]),
    ("T13", [13]), ("L1", [21]), ("L2", [22]), ("L3", [23]), ("L4", [24]), ("L5", [25]), ("L6", [26]), ("S1", [31]),
]
LOCALIZER_L1 = 7
# extra sigmoid channels after the softmax classes
LOCALIZER_EXTRA = ["vertebral_body", "rib"]
LOC_LUT = np.zeros(256, dtype=np.uint8)
for _k, (_name, _codes) in enumerate(LOCALIZER_CLASSES):
    for _c in _codes:
        LOC_LUT[_c] = _k

# Refiner: bodies only. "above L1" is the last rib-bearing vertebra (T12 normally, T11 / T13 with 11 / 13 rib pairs).
REFINER_CLASSES = ["background", "above-L1 body (last rib-bearing; T12 usually)", "L1 body", "L2 body",
                   "other vertebral body"]
REFINER_L1 = 2


def refiner_lut(rib_pairs: int) -> np.ndarray:
    lut = np.zeros(256, dtype=np.uint8)
    for code in list(range(1, 14)) + list(range(21, 27)) + [31]:
        lut[code] = 4
    lut[rib_pairs] = 1
    lut[21] = 2
    lut[22] = 3
    return lut


LOCALIZER_SPACING = 4.0
LOCALIZER_TRAIN_CROP = (64, 80, 80)  # z, y, x voxels at 4 mm (training crop; inference runs on the whole scan)
REFINER_SPACING = 1.5
REFINER_CROP = (80, 64, 64)  # z, y, x voxels at 1.5 mm, centred on the localizer's L1 body centroid
SIZE_MULTIPLE = 16  # spatial dims fed to either network must be multiples of this (pad with padValue)


# ---------------------------------------------------------------------------------------------------------------
# Network: a compact 3D U-Net (4 poolings), InstanceNorm + LeakyReLU, transposed-conv upsampling.
# ---------------------------------------------------------------------------------------------------------------
class Block(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv3d(cin, cout, 3, padding=1, bias=False), nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01, inplace=True),
            nn.Conv3d(cout, cout, 3, padding=1, bias=False), nn.InstanceNorm3d(cout, affine=True),
            nn.LeakyReLU(0.01, inplace=True))


class UNet3D(nn.Module):
    """U-Net on a 2x-downsampled grid (patchify stem) with a light full-resolution tail.

    conv3d weight gradients are slow in Debian's CPU torch, so the full-resolution level carries only one narrow
    conv on [input, upsampled features]; the U-Net proper (len(widths)-1 poolings) runs at half resolution.
    Spatial input dims must be multiples of 2**len(widths) (= SIZE_MULTIPLE).
    """

    def __init__(self, out_channels: int, widths=(16, 32, 64, 96), tail: int = 8):
        super().__init__()
        self.widths = list(widths)
        self.stem = nn.Sequential(nn.Conv3d(1, widths[0], 2, stride=2, bias=False),
                                  nn.InstanceNorm3d(widths[0], affine=True), nn.LeakyReLU(0.01, inplace=True))
        self.enc = nn.ModuleList()
        cin = widths[0]
        for w in widths:
            self.enc.append(Block(cin, w))
            cin = w
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for k in range(len(widths) - 1, 0, -1):
            self.up.append(nn.ConvTranspose3d(widths[k], widths[k - 1], 2, stride=2))
            self.dec.append(Block(2 * widths[k - 1], widths[k - 1]))
        self.up_full = nn.ConvTranspose3d(widths[0], tail, 2, stride=2)
        self.tail = nn.Sequential(nn.Conv3d(tail + 1, tail, 3, padding=1), nn.LeakyReLU(0.01, inplace=True),
                                  nn.Conv3d(tail, out_channels, 1))

    def forward(self, image):
        x = self.stem(image)
        skips = []
        for k, block in enumerate(self.enc):
            if k:
                x = F.max_pool3d(x, 2)
            x = block(x)
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.up, self.dec):
            x = up(x)
            x = dec(torch.cat([skips.pop(), x], 1))
        x = self.up_full(x)
        return self.tail(torch.cat([image, x], 1))


def build_model(stage: str) -> UNet3D:
    if stage == "localizer":
        return UNet3D(len(LOCALIZER_CLASSES) + len(LOCALIZER_EXTRA), widths=(16, 32, 64, 112))
    if stage == "refiner":
        return UNet3D(len(REFINER_CLASSES), widths=(16, 32, 64, 112))
    raise ValueError(stage)


def parameter_count(model) -> int:
    return sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------------------
def list_cases(folder: str):
    """Case folders with a non-empty case.npz, sorted by seed."""
    out = []
    for npz in sorted(glob.glob(os.path.join(folder, "case-*", "case.npz"))):
        if os.path.getsize(npz) > 0:
            out.append(os.path.dirname(npz))
    return out


def load_case(folder: str):
    """Canonical arrays: image int16 HU, vertebral_bodies, vertebrae, ribs (or None); affine; truth dict."""
    with np.load(os.path.join(folder, "case.npz")) as z:
        data = {k: z[k] for k in z.files}
    truth = json.load(open(os.path.join(folder, "truth.json")))
    affine = data.pop("affine_lps")
    canonical = bool(data.pop("canonical", np.array(0)))
    if not canonical:
        data, affine = canonicalize(data, affine)
    data.setdefault("ribs", None)
    return data, affine, truth


# ---------------------------------------------------------------------------------------------------------------
# Localizer labels packed into one byte per voxel: level class (0-13, 4 bits), vertebral body (bit 4), rib (bit 5).
# One nearest-neighbour resampling then moves all three together (augment.affine_crop), and 2000 cases held in memory
# take 3 bytes per voxel (int16 image + labels) instead of 6.
# ---------------------------------------------------------------------------------------------------------------
PACK_LEVEL_MASK, PACK_BODY_BIT, PACK_RIB_BIT = 0x0F, 4, 5


def pack_localizer_labels(levels: np.ndarray, body: np.ndarray, ribs) -> np.ndarray:
    """levels (class indices < 16), body and ribs (0/1 or bool; ribs may be None) -> one uint8 array."""
    packed = levels.astype(np.uint8) | ((body > 0).astype(np.uint8) << PACK_BODY_BIT)
    if ribs is not None:
        packed |= (ribs > 0).astype(np.uint8) << PACK_RIB_BIT
    return packed


def unpack_localizer_labels(packed: np.ndarray):
    """(levels, body, ribs) as uint8 arrays from pack_localizer_labels' output."""
    return (packed & PACK_LEVEL_MASK, (packed >> PACK_BODY_BIT) & 1, (packed >> PACK_RIB_BIT) & 1)


# ---------------------------------------------------------------------------------------------------------------
# Case descriptors: what a held-out case's acquisition and anatomy were, read from truth.json when present, so that
# validation can report results per slice thickness, kernel, degeneration... The phantom generator is gaining options
# (slice profiles, kernels, dose, arms, degenerative spines, wedges); nothing here depends on a key existing: known
# keys are taken when present, and any other scalar option whose name contains one of the hints is taken too.
# ---------------------------------------------------------------------------------------------------------------
DESCRIPTOR_KEYS = ("kvp", "kernel", "contrast", "noiseSigmaHu", "sliceThicknessMm", "sliceSpacingMm", "ribPairs",
                   "lumbarVertebrae", "orientation", "l1FractureHeightLoss", "lesion", "fromLevel", "toLevel")
DESCRIPTOR_HINTS = ("slice", "kernel", "dose", "streak", "arms", "scapul", "degenerat", "osteophyt", "schmorl",
                    "vacuum", "disc", "endplate", "wedge", "profile", "sclerosis")


def case_descriptors(truth: dict) -> dict:
    """Scalar acquisition/anatomy descriptors of a case from truth.json ('options' and 'drawn'), absent keys ignored."""
    out = {}
    for section, prefix in (("options", ""), ("drawn", "drawn.")):
        values = truth.get(section) or {}
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if isinstance(value, (dict, list)):
                continue
            if (not prefix and key in DESCRIPTOR_KEYS) or any(h in key.lower() for h in DESCRIPTOR_HINTS):
                out[prefix + key] = value
    return out


def pad_to_multiple(x: np.ndarray, multiple: int, value: float):
    """Pad (…, z, y, x) at the high end of each spatial axis. Returns (padded, original spatial shape)."""
    shape = x.shape[-3:]
    target = [((s + multiple - 1) // multiple) * multiple for s in shape]
    pad = [(0, 0)] * (x.ndim - 3) + [(0, t - s) for s, t in zip(shape, target)]
    return np.pad(x, pad, constant_values=value), shape
