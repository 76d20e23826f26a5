namespace QctPipeline.Measure;

/// <summary>Every constant of the measurement, with where it comes from. Defaults follow the QCT primer.</summary>
public sealed record MeasureOptions
{
    /// <summary>Erosion of the body mask (mm): removes the cortical shell and the partial-volume edge (TotalSegmentator spine report).</summary>
    public double ErosionMm { get; init; } = 4;

    /// <summary>Thickness of the mid-vertebral slab along the body's axis (mm); classic QCT uses 7.5–10.</summary>
    public double SlabThicknessMm { get; init; } = 8;

    /// <summary>Ellipse L–R semi-axis as a fraction of half the body width (Comp2Comp).</summary>
    public double EllipseLateralFraction { get; init; } = 0.65;

    /// <summary>Ellipse A–P semi-axis as a fraction of half the body depth (Comp2Comp).</summary>
    public double EllipseDepthFraction { get; init; } = 0.5;

    /// <summary>Ellipse centre as the fraction of the depth forward from the posterior edge (Comp2Comp).</summary>
    public double EllipseCentreFromPosterior { get; init; } = 0.58;

    /// <summary>
    /// Tube voltage of the series. The HU limits below are stated at 120 kVp, where the normative figures are, and are
    /// scaled by HA's HU per mg/cm³ at this voltage relative to 120 kVp (bone at 80 kVp reads ~1.45× its 120 kVp HU);
    /// null assumes 120 kVp and says so.
    /// </summary>
    public double? Kvp { get; init; }

    /// <summary>
    /// Voxels at or above this HU (and <see cref="BoneIslandMarginHu"/> above the body's median) inside the eroded body
    /// are candidate bone islands: cortical bone is ~1000 HU and trabecular bone rarely exceeds 350 HU even in the young
    /// (226 ± 44 HU at L1 under 30 y).
    /// </summary>
    public double BoneIslandMinHu { get; init; } = 500;

    /// <summary>
    /// How far above the body's median HU a candidate island must lie: in dense bone the trabecular texture itself peaks
    /// well above 500 HU (a 250 mg/cm³ body at 0.625 mm), while an island is compact bone, ~1000 HU or more.
    /// </summary>
    public double BoneIslandMarginHu { get; init; } = 350;

    /// <summary>A bright cluster smaller than this is noise, not an island.</summary>
    public double BoneIslandMinVolumeMm3 { get; init; } = 1;

    /// <summary>A bright cluster larger than this (~10 mm across) is not excluded as an island: it makes the level unusable (sclerotic lesion).</summary>
    public double BoneIslandMaxVolumeMm3 { get; init; } = 500;

    /// <summary>Genant's grade 1 (mild) starts at this height loss (Genant et al., J Bone Miner Res 1993;8:1137); TotalSegmentator flags &gt; 0.2 too.</summary>
    public double GenantGrade1Loss { get; init; } = 0.20;

    /// <summary>Genant's grade 2 (moderate) starts at this height loss.</summary>
    public double GenantGrade2Loss { get; init; } = 0.25;

    /// <summary>Genant's grade 3 (severe) lies above this height loss.</summary>
    public double GenantGrade3Loss { get; init; } = 0.40;

    /// <summary>
    /// A fracture of this grade or worse makes the level unusable (its trabecular bone is compacted). A grade-1 wedge is
    /// reported and still measured: normal lumbar bodies are often wedged a little, and a 20 % loss is within what a
    /// mask's edge can make.
    /// </summary>
    public int UnusableFractureGrade { get; init; } = 2;

    /// <summary>A ROI voxel's slice must stay this far (mm) from the endplates the image found: the endplate's cortex is about 1 mm thick.</summary>
    public double EndplateClearanceMm { get; init; } = 1;

    /// <summary>A level measured in place of L1 must hold at least this much eroded trabecular bone (ml): less is an edge, not a body.</summary>
    public double MinFallbackRoiMl { get; init; } = 2;

    /// <summary>
    /// The eroded body and the mid-vertebral ellipse agree within about 1.5 % on phantoms; a larger difference means
    /// the outline is doubtful or the bone uneven (subchondral sclerosis, a focus): the result goes to review.
    /// </summary>
    public double MaxRoiDisagreement { get; init; } = 0.08;

    /// <summary>
    /// When the calibration line's own uncertainty leaves the vBMD uncertain by more than this (95 % half-width, % of the
    /// vBMD), the result says it cannot hold the decline threshold's 5 % (a warning): internal calibration cannot see the
    /// scanner's filtration nor the patient's tissues' own spread (decision 0006).
    /// </summary>
    public double CalibrationUncertaintyWarnPercent { get; init; } = 5;

    /// <summary>How much less and more the body is eroded (mm) when the ROI's placement is varied for the vBMD interval.</summary>
    public double PlacementErosionStepMm { get; init; } = 1;

    /// <summary>In-plane side (voxels) of the soft-tissue boxes the image noise is measured in.</summary>
    public int NoiseBoxVoxels { get; init; } = 12;

    /// <summary>A noise box holds only voxels within ± this many HU: fat to muscle, no air, no bone, no contrast-filled vessel.</summary>
    public double NoiseTissueLimitHu { get; init; } = 200;

    /// <summary>Fewer soft-tissue boxes than this and the noise is not measured (the ROI's own SD stands in, with a warning).</summary>
    public int NoiseMinBoxes { get; init; } = 8;

    /// <summary>
    /// The least an axis's correlation sum (1 + 2 Σ ρ) may count: a sharp kernel's negative neighbour correlation must
    /// not shrink the noise of a mean to nothing on a few boxes' estimate.
    /// </summary>
    public double NoiseMinAxisFactor { get; init; } = 0.25;

    /// <summary>An L1 body smaller or larger than this (ml) is not plausible for an adult (typical 20–45 ml): review.</summary>
    public double MinBodyMl { get; init; } = 8;

    /// <summary>See <see cref="MinBodyMl"/>.</summary>
    public double MaxBodyMl { get; init; } = 80;

    /// <summary>Edge of the cubes whose mean HU is compared to find heterogeneous (lesioned) bone (mm).</summary>
    public double LesionBlockMm { get; init; } = 5;

    /// <summary>
    /// A block mean this far from the median block mean (HU) marks the bone heterogeneous. Texture and noise move
    /// 5 mm block means by ~5–15 HU; a lytic focus (~40 HU) in ~150 HU bone or any sclerotic focus moves them by more.
    /// </summary>
    public double LesionBlockDeviationHu { get; init; } = 60;

    /// <summary>
    /// … or this fraction of the median block mean, whichever is larger: texture scales with density, so 5 mm blocks of a
    /// 250 mg/cm³ body differ by up to ~90 HU, while a lytic focus there (~40 HU in ~400 HU bone) moves them far more.
    /// </summary>
    public double LesionBlockDeviationFraction { get; init; } = 0.25;

    /// <summary>Eroded-body mean HU below which the bone is not plausible trabecular bone (normative L1 at 90+ y: 89 ± 38 HU).</summary>
    public double ImplausiblyLowHu { get; init; } = -20;

    /// <summary>Eroded-body mean HU above which it is not plausible trabecular bone (226 ± 44 HU under 30 y; ~+16 % with contrast).</summary>
    public double ImplausiblyHighHu { get; init; } = 400;

    /// <summary>Fewer slices than this through the middle of the body make the axis estimate the slice normal.</summary>
    public int MinSlicesForAxis { get; init; } = 3;

    /// <summary>Angle (degrees) between the estimated body axis and the slice normal above which the estimate is reported as doubtful.</summary>
    public double AxisTiltWarningDegrees { get; init; } = 30;

    /// <summary>A block deviates when it lies this many times the blocks' own spread (1.4826 × MAD) from the median block; the spread is robust, but a focus covering a fifth of the blocks still widens it, so not more.</summary>
    public double LesionSpreadFactor { get; init; } = 3;

    /// <summary>A lesion is at least this many face-adjacent deviating blocks (a 10 mm focus covers several 5 mm blocks) …</summary>
    public int LesionMinBlocks { get; init; } = 2;

    /// <summary>… or a single block beyond the limit and this many times the blocks' own spread: a focus filling one block stands far out of a fine texture.</summary>
    public double LesionIsolatedSpreadFactor { get; init; } = 6;
}
