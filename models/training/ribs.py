"""Rib-contact check of the localizer's rib channel: does it name the right last rib-bearing vertebra, and does it
ever put a rib on a lumbar vertebra or the sacrum/pelvis?

Why: the C# stage counts down to L1 from the last rib-bearing vertebra (LevelCounting.CountFromRibs) only when the
manifest says `ribChannelTrained: true`. Before this check the channel was never trusted, because on held-out cases
it called the pelvis "rib" beside S1/L5 and missed T10-T11 contacts. This module measures exactly what the C# count
consumes, so export_onnx.py can refuse `--trust-rib-channel` on numbers instead of on an impression.

Contact rule, as LevelCounting.RibContactSlices: a rib voxel (rib sigmoid > 0.5, i.e. logit > 0) touching, 4-adjacent
in the axial plane (x +-1, y +-1), a voxel of any vertebra class (argmax != background). The same rule on the
generator's truth (ribs.npy > 0 against vertebrae.npy > 0) gives the true contacts; ribs.npy codes each rib by the
vertebra it articulates with (PhantomStudyWriter.LabelConvention), and on the 4 mm held-out cases the truth rule finds
exactly the rib-bearing vertebrae in view.

A predicted contact is attributed to the *true* vertebra at (or nearest to) the touched voxel, not to the predicted
class: the count down from the ribs must be right in space, independently of the localizer's own level names
(otherwise it could not check them). The last rib-bearing vertebra is then found as the C# stage does: the run of
contacted vertebrae from the highest contacted one down, a contact below a gap not extending it.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

THORACIC_CODES = frozenset(range(1, 14))
LUMBAR_SACRAL_CODES = frozenset(list(range(21, 27)) + [31])

# The trust rule for `export_onnx.py --trust-rib-channel` (the task's thresholds): on a held-out set of at least
# TRUST_MIN_CASES cases with rib labels, the last rib-bearing vertebra right in >= 97 % of cases, and a rib contact on a
# lumbar vertebra or the sacrum/pelvis in <= 2 % of the cases that show one. With 60 held-out cases that allows one
# wrong last rib-bearing vertebra and one lumbar false contact.
TRUST_LAST_BEARING_MIN = 0.97
TRUST_LUMBAR_FALSE_MAX = 0.02
TRUST_MIN_CASES = 50


def level_name(code) -> str:
    """Generator code -> vertebra name (T1-T13 = 1-13, L1-L6 = 21-26, S1 = 31); '-' for none."""
    if code is None:
        return "-"
    code = int(code)
    if code in THORACIC_CODES:
        return f"T{code}"
    if 21 <= code <= 26:
        return f"L{code - 20}"
    return "S1" if code == 31 else str(code)


def in_plane_neighbours(mask: np.ndarray) -> np.ndarray:
    """Voxels 4-adjacent in the axial plane (z, y, x arrays: y +-1, x +-1) to a voxel of `mask`."""
    out = np.zeros_like(mask, dtype=bool)
    out[:, :, 1:] |= mask[:, :, :-1]
    out[:, :, :-1] |= mask[:, :, 1:]
    out[:, 1:, :] |= mask[:, :-1, :]
    out[:, :-1, :] |= mask[:, 1:, :]
    return out


def contact_voxels(vertebra: np.ndarray, rib: np.ndarray) -> np.ndarray:
    """Vertebra voxels that a rib voxel touches (the C# rule, seen from the vertebra's side)."""
    return vertebra.astype(bool) & in_plane_neighbours(rib.astype(bool))


def last_rib_bearing(contacted, levels_in_view):
    """The last rib-bearing vertebra: from the highest contacted level down, the run of consecutive levels in view
    that all have a contact; its last member. None when nothing is contacted.

    `levels_in_view` are generator codes, which sort head to feet (T1 = 1 ... L1 = 21 ... S1 = 31).
    """
    order = sorted(levels_in_view)
    hits = [code for code in order if code in contacted]
    if not hits:
        return None
    k = order.index(hits[0])
    while k + 1 < len(order) and order[k + 1] in contacted:
        k += 1
    return order[k]


def evaluate_case(pred_classes: np.ndarray, pred_rib: np.ndarray, true_codes: np.ndarray, true_ribs: np.ndarray):
    """Rib contacts of one case on the localizer grid. None when the case shows no vertebra.

    pred_classes: argmax class per voxel (0 = background); pred_rib: bool (logit > 0); true_codes: vertebrae.npy
    codes; true_ribs: ribs.npy (> 0 = rib). All (z, y, x) on the same grid.
    """
    true_vertebra = true_codes > 0
    if not true_vertebra.any():
        return None
    levels_in_view = sorted(int(c) for c in np.unique(true_codes[true_vertebra]))
    true_contacts = set(int(c) for c in np.unique(true_codes[contact_voxels(true_vertebra, true_ribs > 0)]))
    touched = contact_voxels(pred_classes > 0, pred_rib)
    pred_contacts, far_voxels = set(), 0
    if touched.any():
        # nearest true vertebra voxel to every voxel (exact Euclidean), read only at the touched voxels
        distance, nearest = ndimage.distance_transform_edt(~true_vertebra, return_indices=True)
        where = np.nonzero(touched)
        codes = true_codes[tuple(axis[where] for axis in nearest)]
        pred_contacts = set(int(c) for c in np.unique(codes))
        far_voxels = int((distance[where] > 2).sum())  # touched voxels over 2 voxels from any true vertebra
    lumbar_in_view = bool(set(levels_in_view) & LUMBAR_SACRAL_CODES)
    # Rib voxels in the slices at or below the top of S1 (canonical z runs feet -> head): the pelvis, where no rib
    # reaches. Not a contact unless a vertebra class touches them, so not in the trust rule, but the failure seen at
    # step ~1700 and still at step 3864 (iliac crests drawn as rib), which the lumbar/pelvis loss term targets.
    sacrum_slices = np.flatnonzero((true_codes == 31).any(axis=(1, 2)))
    pelvis_rib_voxels = int(pred_rib[: sacrum_slices.max() + 1].sum()) if len(sacrum_slices) else None
    true_last = last_rib_bearing(true_contacts, levels_in_view)
    pred_last = last_rib_bearing(pred_contacts, levels_in_view)
    return {
        "levels_in_view": levels_in_view,
        "true_contacts": sorted(true_contacts),
        "pred_contacts": sorted(pred_contacts),
        "true_last": true_last,
        "pred_last": pred_last,
        "last_correct": true_last == pred_last,
        "lumbar_in_view": lumbar_in_view,
        "lumbar_false_contacts": sorted(pred_contacts & LUMBAR_SACRAL_CODES),
        "missed_contacts": sorted(true_contacts - pred_contacts),
        "extra_contacts": sorted(pred_contacts - true_contacts),
        "far_contact_voxels": far_voxels,
        "pelvis_rib_voxels": pelvis_rib_voxels,
    }


def summarise(rows) -> dict:
    """Held-out rib metrics from evaluate_case rows (None rows skipped); rates NaN when nothing to rate."""
    rows = [r for r in rows if r is not None]
    nan = float("nan")
    with_lumbar = [r for r in rows if r["lumbar_in_view"]]
    true_total = sum(len(r["true_contacts"]) for r in rows)
    with_sacrum = [r for r in rows if r["pelvis_rib_voxels"] is not None]
    return {
        "rib_cases": len(rows),
        "rib_cases_with_rib_bearing": sum(r["true_last"] is not None for r in rows),
        "rib_last_bearing_correct_rate": float(np.mean([r["last_correct"] for r in rows])) if rows else nan,
        "rib_cases_with_lumbar": len(with_lumbar),
        "rib_false_contact_lumbar_rate": float(np.mean([bool(r["lumbar_false_contacts"]) for r in with_lumbar]))
        if with_lumbar else nan,
        "rib_missed_contact_rate": sum(len(r["missed_contacts"]) for r in rows) / true_total if true_total else nan,
        "rib_extra_contact_rate": float(np.mean([bool(r["extra_contacts"]) for r in rows])) if rows else nan,
        "rib_pelvis_false_rate": float(np.mean([r["pelvis_rib_voxels"] > 0 for r in with_sacrum]))
        if with_sacrum else nan,
    }


def trust_verdict(metrics: dict):
    """(ok, message with the numbers) for declaring the rib channel trained, by the thresholds above."""
    cases = metrics.get("rib_cases", 0) or 0
    last = metrics.get("rib_last_bearing_correct_rate", float("nan"))
    lumbar = metrics.get("rib_false_contact_lumbar_rate", float("nan"))
    lumbar_cases = metrics.get("rib_cases_with_lumbar", 0) or 0
    numbers = (f"last rib-bearing vertebra right in {last:.1%} of {cases} held-out cases (need >= "
               f"{TRUST_LAST_BEARING_MIN:.0%}); rib contact on a lumbar vertebra/sacrum/pelvis in {lumbar:.1%} of "
               f"{lumbar_cases} cases showing one (need <= {TRUST_LUMBAR_FALSE_MAX:.0%}); missed true contacts "
               f"{metrics.get('rib_missed_contact_rate', float('nan')):.1%}; rib voxels at the pelvis in "
               f"{metrics.get('rib_pelvis_false_rate', float('nan')):.1%} of cases showing S1 (not in the rule)")
    if cases < TRUST_MIN_CASES:
        return False, f"only {cases} held-out cases with rib labels (need >= {TRUST_MIN_CASES}): {numbers}"
    ok = (last >= TRUST_LAST_BEARING_MIN) and (lumbar <= TRUST_LUMBAR_FALSE_MAX)  # NaN compares False: refused
    return ok, numbers


def describe_failure(seed, row) -> str | None:
    """One log line for a case whose rib evidence would mislead the count; None when it is right."""
    if row is None or (row["last_correct"] and not row["lumbar_false_contacts"] and not row["missed_contacts"]):
        return None
    names = lambda codes: ",".join(level_name(c) for c in codes) or "-"  # noqa: E731
    return (f"rib case {seed}: last rib-bearing true {level_name(row['true_last'])} predicted "
            f"{level_name(row['pred_last'])}; missed {names(row['missed_contacts'])}; extra "
            f"{names(row['extra_contacts'])}; lumbar/sacral contacts {names(row['lumbar_false_contacts'])}")
