"""Training-time augmentation shared by both stages: geometry, intensity, resolution, noise and streaks.

Why: the networks learn from phantoms, whose HU calibration, slice profile, kernel and noise come from one generator.
Real series differ in all of these (issue 14: a 5 mm abdomen CT put the refiner's L1 across a disc; sharp-kernel
chest CTs made the localizer name "L5" and "S1" in the shoulder). Every transform below perturbs one of those
acquisition properties while the labels stay the truth, so the networks have to find the anatomy *through* it.

Rules kept by every function here:
- all randomness comes from the numpy Generator passed in, so a sample is a deterministic function of the training
  seed and step (train.py checkpoints the generator's state, so a resumed run draws what an uninterrupted one would);
- HU in, HU out (float32); normalisation and padding happen in train.py afterwards;
- sizes are in mm and converted with the grid spacing, so the same physical range acts on the 4 mm localizer grid and
  on the 1.5 mm refiner grid (at 4 mm a 2 mm blur is a partial-volume nudge; at 1.5 mm it is a real loss of detail);
- cheap: the whole chain costs a few tens of ms per crop, against ~600 ms for a training step on 2 cores
  (bench_sampling.py measures it).

Probabilities and ranges are the module constants below, each with its reason.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from scipy import ndimage

# ---------------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------------
# In-plane rotation and isotropic scaling, applied together to half the crops. Patients lie rotated a few degrees on
# the table and the canonical grid only permutes axes (common.canonicalize), so a small yaw survives to the network;
# body and vertebra size vary by about ±10 % between adults. Labels are resampled nearest-neighbour.
P_AFFINE = 0.5
ROTATION_DEG = 10.0  # uniform in ±10°, about the patient's long (z) axis
SCALE_RANGE = (0.9, 1.1)  # uniform; > 1 makes the anatomy look bigger

# ---------------------------------------------------------------------------------------------------------------
# Intensity
# ---------------------------------------------------------------------------------------------------------------
# Linear gain and offset (kept from the first version): scanner calibration drifts a few % and tens of HU.
GAIN_RANGE = (0.9, 1.1)
OFFSET_HU = 40.0
# Tissue contrast: a monotone, piecewise nonlinear HU map, applied to most crops. Across 80-140 kVp the generator's own
# physics gives fat -125...-94 HU and cortical bone 2231...1435 HU (docs/decisions/0003, kVp table), i.e. x1.25...x0.94
# for fat and x1.40...x0.90 for bone relative to 120 kVp; the generator already draws kVp, and these factors widen that
# spread for scanner calibration, tin filtration and monoenergetic reconstructions, which the physics model lacks.
P_TISSUE_CONTRAST = 0.7
FAT_KNOT_HU = -100.0
FAT_SCALE_RANGE = (0.85, 1.25)  # fat (and everything between air and fat) stretched/compressed
SOFT_KNOT_HU = 60.0
SOFT_SHIFT_HU = 15.0  # soft tissue (the knot at 60 HU) moved ±15 HU: beyond the +-40 offset, contrast vs fat changes
BONE_SPAN_HU = 1440.0  # 60 -> 1500 HU, soft tissue to cortical bone
BONE_SCALE_RANGE = (0.8, 1.25)  # bone contrast above soft tissue
BONE_GAMMA_RANGE = (0.85, 1.15)  # mild gamma inside the bone range: trabecular vs cortical contrast (+46/-30 HU at 150 HU)

# ---------------------------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------------------------
# Thick slices: a helical slice-sensitivity profile along the canonical z axis (box of the 0.625 mm detector aperture
# convolved with a triangular z-filter, FWHM = nominal thickness; Schaller et al., IEEE TMI 2000;19:832, the model the
# phantom generator uses), then, for most of those, sampling at slice spacing = thickness and linear interpolation back
# to the grid, which is what the C# stage's resampler does to a thick-slice series (AxisAlignedResampler: linear when
# enlarging). 1-5 mm covers the thin-slice to 5 mm range of clinical series; 5 mm is the opportunistic-screening case.
P_THICK_SLICES = 0.5
SLICE_FWHM_MM = (1.0, 5.0)
P_Z_RESAMPLE = 0.7  # given thick slices
COLLIMATION_MM = 0.625  # detector row aperture (64 x 0.625 mm), or 0.75 x the thickness for thinner slices
# In-plane: a Gaussian blur (soft kernels ~1.2-1.5 mm FWHM, 0.9 mm pixels of a 460 mm FOV, slight motion) or an unsharp
# mask (edge overshoot of bone/sharp kernels: 8 % and 15 % in the generator's sharp kernels, more on some scanners).
P_INPLANE_BLUR = 0.25
INPLANE_FWHM_MM = (0.5, 3.5)
P_SHARPEN = 0.15
SHARPEN_AMOUNT = (0.1, 0.5)
SHARPEN_SIGMA_MM = (0.8, 2.0)

# ---------------------------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------------------------
# Added on the grid on top of the generator's own noise (6-28 HU, band-pass). SD log-uniform 3-60 HU (60 HU: low-dose
# CT, as the task brief and issue 14 ask for). Three textures: white; "sharp kernel" = high-pass (fine grain, what a
# bone/lung kernel does to noise); "low-dose soft kernel" = low-pass (blotchy, correlated over a few mm in-plane, less
# along z).
P_NOISE = 0.8
NOISE_SD_HU = (3.0, 60.0)
NOISE_KINDS = (("white", 0.3), ("sharp", 0.3), ("blotchy", 0.4))
SHARP_NOISE_SIGMA_VOXELS = (0.7, 1.5)  # high-pass = white minus its Gaussian-smoothed self
BLOTCHY_NOISE_SIGMA_MM = (1.0, 3.0)  # in-plane correlation; half of it along z

# ---------------------------------------------------------------------------------------------------------------
# Streaks
# ---------------------------------------------------------------------------------------------------------------
# Beam-hardening / photon-starvation streaks: dark (mostly) or bright lines through dense bone in the axial plane,
# over a few slices (Barrett and Keat, "Artifacts in CT: recognition and avoidance", RadioGraphics 2004;24:1679).
# Shoulders and pelvis make them in real scans; the generator does not.
P_STREAKS = 0.15
STREAK_COUNT = (1, 3)
STREAK_AMPLITUDE_HU = (40.0, 200.0)
P_STREAK_DARK = 0.65
STREAK_WIDTH_MM = (0.5, 1.5)  # Gaussian sigma across the line (integral kept when the grid is coarser)
STREAK_DECAY_MM = (30.0, 150.0)  # amplitude falls as exp(-|distance along the line| / decay) from the bone it leaves
STREAK_HALF_EXTENT_MM = (2.0, 25.0)  # along z
STREAK_BONE_HU = 300.0


# ---------------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------------
def draw_affine(rng: np.random.Generator):
    """(angle in radians, scale) for this crop, or None to keep the plain axis-aligned crop (the cheap path)."""
    if rng.random() >= P_AFFINE:
        return None
    return math.radians(rng.uniform(-ROTATION_DEG, ROTATION_DEG)), rng.uniform(*SCALE_RANGE)


def affine_crop(volume: np.ndarray, start, size, affine, order: int, cval, dtype) -> np.ndarray:
    """The crop `volume[start : start + size]`, rotated in-plane about its centre and scaled, sampled from the whole
    volume (so rotated corners show real anatomy where it exists, `cval` beyond it).

    order 1 (linear) for the image, 0 (nearest) for labels so every output voxel keeps a valid label code. Separable,
    because the rotation is about z: the slices needed are first resampled along z (the scale), then each is rotated
    and scaled in 2D by gathering with one set of in-plane indices and weights for all slices: 5x faster than scipy's
    general affine_transform (which took ~35 ms per crop), same values to 1e-3 HU inside the volume. Within half a voxel
    of the volume's edge the nearest edge voxel is used, beyond it `cval`, for image and labels alike.
    """
    angle, scale = affine
    c, s = math.cos(angle), math.sin(angle)
    # output voxel o -> input voxel centre_in + M (o - centre_out); (z, y, x) axes, rotation in the (y, x) plane
    plane = np.array([[c, -s], [s, c]], dtype=np.float64) / scale
    size = tuple(int(n) for n in size)
    centre_out = (np.asarray(size, dtype=np.float64) - 1) / 2
    centre_in = np.asarray(start, dtype=np.float64) + centre_out
    nz, ny, nx = volume.shape
    z = centre_in[0] + (np.arange(size[0]) - centre_out[0]) / scale
    offset = centre_in[1:] - plane @ centre_out[1:]
    oy, ox = np.mgrid[0:size[1], 0:size[2]]
    py = plane[0, 0] * oy + plane[0, 1] * ox + offset[0]
    px = plane[1, 0] * oy + plane[1, 1] * ox + offset[1]
    out = np.full(size, cval, dtype=dtype)
    inside_z = np.flatnonzero((z >= -0.5) & (z < nz - 0.5))
    inside_yx = (py >= -0.5) & (py < ny - 0.5) & (px >= -0.5) & (px < nx - 0.5)
    if not len(inside_z) or not inside_yx.any():
        return out
    z, py, px = z[inside_z], py[inside_yx], px[inside_yx]
    if order == 0:
        zi = np.clip(np.floor(z + 0.5).astype(int), 0, nz - 1)
        flat = (np.clip(np.floor(py + 0.5).astype(int), 0, ny - 1) * nx
                + np.clip(np.floor(px + 0.5).astype(int), 0, nx - 1))
        values = volume[zi].reshape(len(zi), -1)[:, flat]
    else:
        z0 = np.clip(np.floor(z).astype(int), 0, max(0, nz - 2))
        fz = np.clip(z - z0, 0, 1).astype(np.float32)[:, None]
        y0 = np.clip(np.floor(py).astype(int), 0, max(0, ny - 2))
        x0 = np.clip(np.floor(px).astype(int), 0, max(0, nx - 2))
        fy = np.clip(py - y0, 0, 1).astype(np.float32)
        fx = np.clip(px - x0, 0, 1).astype(np.float32)
        y1, x1 = np.minimum(y0 + 1, ny - 1), np.minimum(x0 + 1, nx - 1)
        z1 = np.minimum(z0 + 1, nz - 1)
        slab = (volume[z0].astype(np.float32) * (1 - fz[:, :, None])
                + volume[z1].astype(np.float32) * fz[:, :, None]).reshape(len(z0), -1)
        values = ((slab[:, y0 * nx + x0] * (1 - fx) + slab[:, y0 * nx + x1] * fx) * (1 - fy)
                  + (slab[:, y1 * nx + x0] * (1 - fx) + slab[:, y1 * nx + x1] * fx) * fy)
    block = out[inside_z]
    block[:, inside_yx] = values
    out[inside_z] = block
    return out


# ---------------------------------------------------------------------------------------------------------------
# Intensity
# ---------------------------------------------------------------------------------------------------------------
# Linear gain and offset (kept from the first version): scanner calibration drifts a few % and tens of HU.
GAIN_RANGE = (0.9, 1.1)
OFFSET_HU = 40.0
# Tissue contrast: a monotone, piecewise nonlinear HU map, applied to most crops. Across 80-140 kVp the generator's own
# physics gives fat -125...-94 HU and cortical bone 2231...1435 HU (docs/decisions/0003, kVp table), i.e. x1.25...x0.94
# for fat and x1.40...x0.90 for bone relative to 120 kVp; the generator already draws kVp, and these factors widen that
# spread for scanner calibration, tin filtration and monoenergetic reconstructions, which the physics model lacks.
P_TISSUE_CONTRAST = 0.7
FAT_KNOT_HU = -100.0
FAT_SCALE_RANGE = (0.85, 1.25)  # fat (and everything between air and fat) stretched/compressed
SOFT_KNOT_HU = 60.0
SOFT_SHIFT_HU = 15.0  # soft tissue (the knot at 60 HU) moved ±15 HU: beyond the +-40 offset, contrast vs fat changes
BONE_SPAN_HU = 1440.0  # 60 -> 1500 HU, soft tissue to cortical bone
BONE_SCALE_RANGE = (0.8, 1.25)  # bone contrast above soft tissue
BONE_GAMMA_RANGE = (0.85, 1.15)  # mild gamma inside the bone range: trabecular vs cortical contrast (+46/-30 HU at 150 HU)

# ---------------------------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------------------------
# Thick slices: a helical slice-sensitivity profile along the canonical z axis (box of the 0.625 mm detector aperture
# convolved with a triangular z-filter, FWHM = nominal thickness; Schaller et al., IEEE TMI 2000;19:832, the model the
# phantom generator uses), then, for most of those, sampling at slice spacing = thickness and linear interpolation back
# to the grid, which is what the C# stage's resampler does to a thick-slice series (AxisAlignedResampler: linear when
# enlarging). 1-5 mm covers the thin-slice to 5 mm range of clinical series; 5 mm is the opportunistic-screening case.
P_THICK_SLICES = 0.5
SLICE_FWHM_MM = (1.0, 5.0)
P_Z_RESAMPLE = 0.7  # given thick slices
COLLIMATION_MM = 0.625  # detector row aperture (64 x 0.625 mm), or 0.75 x the thickness for thinner slices
# In-plane: a Gaussian blur (soft kernels ~1.2-1.5 mm FWHM, 0.9 mm pixels of a 460 mm FOV, slight motion) or an unsharp
# mask (edge overshoot of bone/sharp kernels: 8 % and 15 % in the generator's sharp kernels, more on some scanners).
P_INPLANE_BLUR = 0.25
INPLANE_FWHM_MM = (0.5, 3.5)
P_SHARPEN = 0.15
SHARPEN_AMOUNT = (0.1, 0.5)
SHARPEN_SIGMA_MM = (0.8, 2.0)

# ---------------------------------------------------------------------------------------------------------------
# Noise
# ---------------------------------------------------------------------------------------------------------------
# Added on the grid on top of the generator's own noise (6-28 HU, band-pass). SD log-uniform 3-60 HU (60 HU: low-dose
# CT, as the task brief and issue 14 ask for). Three textures: white; "sharp kernel" = high-pass (fine grain, what a
# bone/lung kernel does to noise); "low-dose soft kernel" = low-pass (blotchy, correlated over a few mm in-plane, less
# along z).
P_NOISE = 0.8
NOISE_SD_HU = (3.0, 60.0)
NOISE_KINDS = (("white", 0.3), ("sharp", 0.3), ("blotchy", 0.4))
SHARP_NOISE_SIGMA_VOXELS = (0.7, 1.5)  # high-pass = white minus its Gaussian-smoothed self
BLOTCHY_NOISE_SIGMA_MM = (1.0, 3.0)  # in-plane correlation; half of it along z

# ---------------------------------------------------------------------------------------------------------------
# Streaks
# ---------------------------------------------------------------------------------------------------------------
# Beam-hardening / photon-starvation streaks: dark (mostly) or bright lines through dense bone in the axial plane,
# over a few slices (Barrett and Keat, "Artifacts in CT: recognition and avoidance", RadioGraphics 2004;24:1679).
# Shoulders and pelvis make them in real scans; the generator does not.
P_STREAKS = 0.15
STREAK_COUNT = (1, 3)
STREAK_AMPLITUDE_HU = (40.0, 200.0)
P_STREAK_DARK = 0.65
STREAK_WIDTH_MM = (0.5, 1.5)  # Gaussian sigma across the line (integral kept when the grid is coarser)
STREAK_DECAY_MM = (30.0, 150.0)  # amplitude falls as exp(-|distance along the line| / decay) from the bone it leaves
STREAK_HALF_EXTENT_MM = (2.0, 25.0)  # along z
STREAK_BONE_HU = 300.0


# ---------------------------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------------------------
def draw_affine(rng: np.random.Generator):
    """(angle in radians, scale) for this crop, or None to keep the plain axis-aligned crop (the cheap path)."""
    if rng.random() >= P_AFFINE:
        return None
    return math.radians(rng.uniform(-ROTATION_DEG, ROTATION_DEG)), rng.uniform(*SCALE_RANGE)


def affine_crop(volume: np.ndarray, start, size, affine, order: int, cval, dtype) -> np.ndarray:
    """The crop `volume[start : start + size]`, rotated in-plane about its centre and scaled, sampled from the whole
    volume (so rotated corners show real anatomy where it exists, `cval` beyond it).

    order 1 (linear) for the image, 0 (nearest) for labels so every output voxel keeps a valid label code. Separable,
    because the rotation is about z: the slices needed are first resampled along z (the scale), then each is rotated
    and scaled in 2D; 40 % faster than scipy's general 3D affine_transform, same values to 1e-3 HU.
    """
    angle, scale = affine
    c, s = math.cos(angle), math.sin(angle)
    # output voxel o -> input voxel centre_in + M (o - centre_out); (z, y, x) axes, rotation in the (y, x) plane
    plane = np.array([[c, -s], [s, c]], dtype=np.float64) / scale
    size = tuple(int(n) for n in size)
    centre_out = (np.asarray(size, dtype=np.float64) - 1) / 2
    centre_in = np.asarray(start, dtype=np.float64) + centre_out
    nz = volume.shape[0]
    z = centre_in[0] + (np.arange(size[0]) - centre_out[0]) / scale
    offset = centre_in[1:] - plane @ centre_out[1:]
    corners = np.array([[0, 0], [0, size[2] - 1], [size[1] - 1, 0], [size[1] - 1, size[2] - 1]]) @ plane.T + offset
    lo = np.maximum(np.floor(corners.min(0)).astype(int) - 1, 0)
    hi = np.minimum(np.ceil(corners.max(0)).astype(int) + 2, volume.shape[1:])
    out = np.full(size, cval, dtype=dtype)
    if (hi <= lo).any():
        return out
    inside = (z >= -0.5) & (z < nz - 0.5)  # the same slices for image and labels: within half a voxel of the volume
    if order == 0:
        zi = np.floor(z + 0.5).astype(int)
        slab = volume[np.clip(zi, 0, nz - 1), lo[0]:hi[0], lo[1]:hi[1]]
    else:
        z0 = np.floor(z).astype(int)
        z0 = np.clip(z0, 0, max(0, nz - 2))
        f = np.clip(z - z0, 0, 1).astype(np.float32)[:, None, None]
        z1 = np.minimum(z0 + 1, nz - 1)
        block = volume[:, lo[0]:hi[0], lo[1]:hi[1]]
        slab = block[z0].astype(np.float32) * (1 - f) + block[z1].astype(np.float32) * f
    for k in np.flatnonzero(inside):
        ndimage.affine_transform(slab[k], plane, offset - lo, output_shape=size[1:], order=order, cval=cval,
                                 output=out[k], prefilter=False)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Intensity
# ---------------------------------------------------------------------------------------------------------------
def tissue_contrast(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A monotone HU map that changes fat / soft-tissue / bone contrast, as another kVp or scanner calibration does.

    Piecewise linear from air (fixed at -1000, so padding and lungs stay dark) through the fat knot to the soft-tissue
    knot, then, above soft tissue, bone scaled by `b` with a mild gamma: y = soft' + b * span * ((x - soft) / span)^g.
    Continuous at the soft-tissue knot, increasing everywhere.
    """
    fat = FAT_KNOT_HU * rng.uniform(*FAT_SCALE_RANGE)
    soft = SOFT_KNOT_HU + rng.uniform(-SOFT_SHIFT_HU, SOFT_SHIFT_HU)
    bone_scale = rng.uniform(*BONE_SCALE_RANGE)
    gamma = rng.uniform(*BONE_GAMMA_RANGE)
    # two linear pieces (air..fat, fat..soft); arithmetic rather than np.interp, which took 15 ms on a crop
    below_fat = x <= FAT_KNOT_HU
    out = np.where(below_fat, -1000.0 + (x + 1000.0) * np.float32((fat + 1000.0) / (FAT_KNOT_HU + 1000.0)),
                   fat + (x - FAT_KNOT_HU) * np.float32((soft - fat) / (SOFT_KNOT_HU - FAT_KNOT_HU))).astype(np.float32)
    bone = x > SOFT_KNOT_HU
    rel = (x[bone] - SOFT_KNOT_HU) / BONE_SPAN_HU
    out[bone] = soft + bone_scale * BONE_SPAN_HU * np.power(rel, gamma, dtype=np.float32)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------------------------
def _ssp_unnormalised(z: np.ndarray, collimation: float, half_base: float) -> np.ndarray:
    """Box (width `collimation`) convolved with a unit-height triangle of half base `half_base`, at distances z."""

    def triangle_integral(t):  # integral of the triangle from -inf to t
        t = np.clip(t, -half_base, half_base)
        return np.where(t <= 0, (t + half_base) ** 2 / (2 * half_base),
                        half_base - (half_base - t) ** 2 / (2 * half_base))

    return triangle_integral(z + collimation / 2) - triangle_integral(z - collimation / 2)


@functools.lru_cache(maxsize=512)
def slice_profile_weights(fwhm_mm: float, spacing_mm: float) -> np.ndarray:
    """Weights along z of a slice-sensitivity profile of this FWHM on a grid of this spacing (odd length, sum 1).

    The triangle's half base is found by bisection so that the profile's FWHM equals `fwhm_mm`, as
    src/QctPipeline/Phantom/SliceSensitivityProfile.cs does; each weight is the profile's area over one voxel.
    Cached: train.py rounds the FWHM to 0.1 mm so there are few distinct kernels.
    """
    collimation = min(COLLIMATION_MM, 0.75 * fwhm_mm)
    fine = np.linspace(0, 2 * fwhm_mm, 2001)

    def fwhm_of(half_base):
        v = _ssp_unnormalised(fine, collimation, half_base)
        v = v / v[0]
        return 2 * fine[np.argmax(v < 0.5)] if (v < 0.5).any() else 2 * fine[-1]

    low, high = 1e-4, fwhm_mm
    for _ in range(40):
        mid = (low + high) / 2
        low, high = (mid, high) if fwhm_of(mid) < fwhm_mm else (low, mid)
    half_base = (low + high) / 2
    support = half_base + collimation / 2
    reach = int(math.ceil(support / spacing_mm - 0.5))
    weights = []
    for m in range(-reach, reach + 1):
        z = np.linspace((m - 0.5) * spacing_mm, (m + 0.5) * spacing_mm, 201)
        weights.append(np.trapz(_ssp_unnormalised(z, collimation, half_base), z))
    weights = np.asarray(weights)
    return (weights / weights.sum()).astype(np.float32)


def blur_z(x: np.ndarray, fwhm_mm: float, spacing_mm: float) -> np.ndarray:
    """Convolve along the canonical z axis (axis 0) with the slice profile; a no-op when the kernel is a single tap."""
    weights = slice_profile_weights(round(fwhm_mm, 1), spacing_mm)
    if len(weights) == 1:
        return x
    return ndimage.convolve1d(x, weights, axis=0, mode="nearest")


def resample_z_down_up(x: np.ndarray, slice_spacing_mm: float, spacing_mm: float, phase_mm: float) -> np.ndarray:
    """Keep only slices every `slice_spacing_mm` (first at `phase_mm`), then interpolate linearly back to the grid.

    Positions between two kept slices become their linear mix, beyond the first/last kept slice the nearest one: what
    resampling a thick-slice series to the grid gives (the C# resampler interpolates linearly when enlarging).
    """
    n = x.shape[0]
    step = slice_spacing_mm / spacing_mm  # in voxels, > 1
    kept = np.arange(phase_mm / spacing_mm, n - 1 + 1e-6, step)
    if len(kept) < 2:
        return x
    k0 = np.floor(kept).astype(int)
    k1 = np.minimum(k0 + 1, n - 1)
    f = (kept - k0).astype(np.float32)[:, None, None]
    slices = x[k0] * (1 - f) + x[k1] * f  # the thick slices, sampled from the grid
    q = np.clip((np.arange(n) - kept[0]) / step, 0, len(kept) - 1)  # grid voxel -> position among kept slices
    q0 = np.floor(q).astype(int)
    q1 = np.minimum(q0 + 1, len(kept) - 1)
    g = (q - q0).astype(np.float32)[:, None, None]
    return slices[q0] * (1 - g) + slices[q1] * g


def blur_in_plane(x: np.ndarray, fwhm_mm: float, spacing_mm: float) -> np.ndarray:
    """Gaussian blur in the axial plane only (axes 1, 2); skipped when below a tenth of a voxel (no visible effect)."""
    sigma = fwhm_mm / 2.3548 / spacing_mm
    if sigma < 0.1:
        return x
    return ndimage.gaussian_filter(x, (0, sigma, sigma), mode="nearest", truncate=3.0)


def sharpen_in_plane(x: np.ndarray, amount: float, sigma_mm: float, spacing_mm: float) -> np.ndarray:
    """Unsharp mask in the axial plane: x + amount (x - G x), the edge overshoot of bone and sharp kernels."""
    sigma = max(0.5, sigma_mm / spacing_mm)
    smooth = ndimage.gaussian_filter(x, (0, sigma, sigma), mode="nearest", truncate=3.0)
    return x + amount * (x - smooth)


# ---------------------------------------------------------------------------------------------------------------
# Noise and streaks
# ---------------------------------------------------------------------------------------------------------------
def noise_field(shape, kind: str, spacing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean noise of unit SD with the texture `kind` (white, sharp = high-pass, blotchy = low-pass)."""
    n = rng.standard_normal(shape, dtype=np.float32)
    if kind == "sharp":
        sigma = rng.uniform(*SHARP_NOISE_SIGMA_VOXELS)
        n = n - ndimage.gaussian_filter(n, (0, sigma, sigma), mode="wrap", truncate=3.0)
    elif kind == "blotchy":
        sigma = max(0.3, rng.uniform(*BLOTCHY_NOISE_SIGMA_MM) / spacing_mm)
        n = ndimage.gaussian_filter(n, (sigma / 2, sigma, sigma), mode="wrap", truncate=3.0)
    sd = float(n.std())
    return n / sd if sd > 0 else n


def pick(rng: np.random.Generator, weighted) -> str:
    """One name from ((name, probability), ...)."""
    names = [name for name, _ in weighted]
    p = np.array([w for _, w in weighted], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def add_streaks(x: np.ndarray, hu: np.ndarray, spacing_mm: float, rng: np.random.Generator) -> np.ndarray:
    """A few straight in-plane streaks through dense bone, each over a band of slices around the bone it leaves.

    Each streak: a line through a random bone voxel (HU > 300 in the crop; any voxel when there is none) at a random
    angle, a Gaussian cross-section whose integral is kept when the grid is coarser than the streak, and an amplitude
    that decays with distance from that voxel along the line.
    """
    nz, ny, nx = x.shape
    bone = np.flatnonzero(hu > STREAK_BONE_HU)
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float32)
    for _ in range(int(rng.integers(STREAK_COUNT[0], STREAK_COUNT[1] + 1))):
        anchor = int(bone[rng.integers(len(bone))]) if len(bone) else int(rng.integers(x.size))
        z0, y0, x0 = np.unravel_index(anchor, x.shape)
        angle = rng.uniform(0, math.pi)
        amplitude = rng.uniform(*STREAK_AMPLITUDE_HU) * (-1 if rng.random() < P_STREAK_DARK else 1)
        width = rng.uniform(*STREAK_WIDTH_MM)
        decay = rng.uniform(*STREAK_DECAY_MM)
        half_extent = rng.uniform(*STREAK_HALF_EXTENT_MM)
        effective = max(width, 0.5 * spacing_mm)  # sampled at voxel centres: never narrower than half a voxel
        along = ((yy - y0) * math.sin(angle) + (xx - x0) * math.cos(angle)) * spacing_mm
        across = ((yy - y0) * math.cos(angle) - (xx - x0) * math.sin(angle)) * spacing_mm
        profile = (amplitude * width / effective) * np.exp(-0.5 * (across / effective) ** 2 - np.abs(along) / decay)
        reach = max(0, int(round(half_extent / spacing_mm)))
        x[max(0, z0 - reach): min(nz, z0 + reach + 1)] += profile.astype(np.float32)
    return x


# ---------------------------------------------------------------------------------------------------------------
# The chain
# ---------------------------------------------------------------------------------------------------------------
def augment_image(hu: np.ndarray, spacing_mm: float, rng: np.random.Generator, record: dict | None = None) -> np.ndarray:
    """The intensity / resolution / noise / streak chain on a crop (HU, float32 out), in the order a scanner makes them:
    calibration (gain, offset, tissue contrast), streaks (in the reconstruction), slice profile and slice spacing,
    in-plane kernel, noise on the final grid. `record`, when given, receives what was drawn (for checks and figures).
    """
    rec = record if record is not None else {}
    x = hu.astype(np.float32)
    gain, offset = rng.uniform(*GAIN_RANGE), rng.uniform(-OFFSET_HU, OFFSET_HU)
    x = x * np.float32(gain) + np.float32(offset)
    rec.update(gain=gain, offset=offset)
    if rng.random() < P_TISSUE_CONTRAST:
        x = tissue_contrast(x, rng)
        rec["tissue_contrast"] = True
    if rng.random() < P_STREAKS:
        x = add_streaks(x, hu, spacing_mm, rng)
        rec["streaks"] = True
    if rng.random() < P_THICK_SLICES:
        fwhm = rng.uniform(*SLICE_FWHM_MM)
        x = blur_z(x, fwhm, spacing_mm)
        rec["slice_fwhm_mm"] = round(fwhm, 2)
        if rng.random() < P_Z_RESAMPLE and fwhm > 1.05 * spacing_mm:
            phase = rng.uniform(0, fwhm)
            x = resample_z_down_up(x, fwhm, spacing_mm, phase)
            rec["slice_spacing_mm"] = round(fwhm, 2)
    u = rng.random()
    if u < P_INPLANE_BLUR:
        fwhm = rng.uniform(*INPLANE_FWHM_MM)
        x = blur_in_plane(x, fwhm, spacing_mm)
        rec["inplane_fwhm_mm"] = round(fwhm, 2)
    elif u < P_INPLANE_BLUR + P_SHARPEN:
        amount, sigma = rng.uniform(*SHARPEN_AMOUNT), rng.uniform(*SHARPEN_SIGMA_MM)
        x = sharpen_in_plane(x, amount, sigma, spacing_mm)
        rec["sharpen"] = round(amount, 2)
    if rng.random() < P_NOISE:
        sd = math.exp(rng.uniform(math.log(NOISE_SD_HU[0]), math.log(NOISE_SD_HU[1])))
        kind = pick(rng, NOISE_KINDS)
        x = x + np.float32(sd) * noise_field(x.shape, kind, spacing_mm, rng)
        rec.update(noise_sd_hu=round(sd, 1), noise_kind=kind)
    return x
