namespace QctPipeline.Domain;

/// <summary>Mean, median, population standard deviation and range of the values in one ROI.</summary>
public sealed record ValueStatistics(double Mean, double Median, double StandardDeviation, double Min, double Max);

/// <summary>
/// One trabecular ROI. <see cref="Voxels"/> is the sum of voxel weights: a voxel counts 1, a voxel cut by the end of
/// the mid-vertebral slab counts the fraction of it inside the slab. <see cref="MgPerCm3"/> is null without a
/// calibration; the statistics are NaN when the ROI is empty (an ellipse that misses the eroded body).
/// <see cref="VoxelIndices"/> are the ROI's voxels on the volume's grid (i + SizeX (j + SizeY k)), for drawing it and for
/// scoring it against phantom truth; <see cref="Weights"/> their slab weights, empty when every voxel counts 1.
/// </summary>
public sealed record TrabecularRoi(double Voxels, double VolumeMl, ValueStatistics Hu, ValueStatistics? MgPerCm3, ReadOnlyMemory<int> VoxelIndices, ReadOnlyMemory<float> Weights);

/// <summary>
/// Image noise measured in uniform soft tissue of the slices a vertebra spans: its SD (HU) and the factor its spatial
/// correlation puts on the variance of a mean (a mean of N voxels varies by σ²·factor/N), pooled over the quietest
/// boxes of those found.
/// </summary>
public sealed record NoiseEstimate(double SigmaHu, double CorrelationFactor, int BoxesPooled, int BoxesFound);

/// <summary>
/// The 95 % interval of one vBMD (mg/cm³) and its parts, each one standard deviation: the ROI mean's noise (with the
/// noise's spatial correlation), the calibration line's own uncertainty, where the ROI lies (the body eroded 1 mm less
/// and more, moved a voxel along each axis) and how the ROI is defined (eroded body against mid-vertebral ellipse,
/// taken as uniform between them). The parts are independent and add in quadrature. This is the precision of this
/// exam's figure; the population least significant change is a separate figure.
/// </summary>
public sealed record VbmdInterval(double Lower, double Upper, double NoiseSdMg, double CalibrationSdMg, double PlacementSdMg, double RoiDefinitionSdMg)
{
    public double SdMg => Math.Sqrt((NoiseSdMg * NoiseSdMg) + (CalibrationSdMg * CalibrationSdMg) + (PlacementSdMg * PlacementSdMg) + (RoiDefinitionSdMg * RoiDefinitionSdMg));
}

/// <summary>Small very bright clusters inside the eroded body, left out of both ROIs (with a one-voxel rim).</summary>
public sealed record BoneIslands(int Count, double VolumeMm3, double ExcludedVolumeMm3);

/// <summary>ACR spine QCT categories (primer, "Interpretation").</summary>
public enum BoneDensityCategory
{
    /// <summary>vBMD above 120 mg/cm³.</summary>
    Normal,

    /// <summary>vBMD 80–120 mg/cm³ (osteopenia).</summary>
    LowBoneDensity,

    /// <summary>vBMD below 80 mg/cm³.</summary>
    Osteoporosis,
}

/// <summary>
/// Opportunistic HU screening, computed whether or not a calibration exists: at or below 160 HU is the sensitive cut-off
/// (~95 % sensitivity), at or below 110 HU the specific one (~93 % specificity). The cut-offs are defined at L1 on
/// 110–130 kVp scans only: elsewhere the flags are null and <see cref="NotApplicable"/> says why; the mean HU stays.
/// </summary>
public sealed record HuScreeningFlags(double MeanHu, VertebralLevel Level, bool? AtOrBelowSensitiveCutoff, bool? AtOrBelowSpecificCutoff, string? NotApplicable);

/// <summary>The vertebrae the measurement can use: L1 and its two neighbours (the last rib-bearing one is usually T12).</summary>
public enum VertebralLevel
{
    L1,
    AboveL1,
    L2,
}

/// <summary>
/// Whether one vertebra can be measured. Heights are along the body's superior axis, medians over columns near the
/// anterior and the posterior wall (and in the middle, when the image outlined the body); height loss is 1 − shortest/tallest. Block deviation is the largest distance of a
/// ~5 mm block's mean HU from the median block mean (heterogeneity, e.g. a metastasis). ErodedMeanHu is NaN when
/// erosion left nothing.
/// </summary>
public sealed record VertebraAssessment(
    VertebralLevel Level,
    bool Usable,
    IReadOnlyList<string> UnusableReasons,
    double AnteriorHeightMm,
    double PosteriorHeightMm,
    double HeightLoss,
    double MaxBlockDeviationHu,
    long ErodedVoxels,
    double ErodedMeanHu,
    double LargestBrightClusterMm3)
{
    /// <summary>Height in the middle of the body (biconcave deformity); NaN when only a mask was given.</summary>
    public double MiddleHeightMm { get; init; } = double.NaN;

    /// <summary>Genant's semiquantitative grade of <see cref="HeightLoss"/> (0 normal, 1 mild, 2 moderate, 3 severe).</summary>
    public int FractureGrade { get; init; }

    /// <summary>Eroded-body voxels left out because their slice reaches an endplate or disc (partial volume).</summary>
    public int PartialVolumeVoxels { get; init; }

    /// <summary>The body lies wholly inside the scan (a level cut by its edge is never measured in place of L1).</summary>
    public bool Whole { get; init; } = true;

    /// <summary>Volume of the eroded trabecular ROI (ml): a level measured in place of L1 must hold enough of it.</summary>
    public double ErodedVolumeMl { get; init; }

    /// <summary>What a person should check when this level is the one measured (a possible fracture the grid cannot confirm).</summary>
    public IReadOnlyList<string> ReviewNotes { get; init; } = [];
}

/// <summary>The level measured and why; <see cref="Level"/> is null when no vertebra has any trabecular bone to measure.</summary>
public sealed record LevelChoice(VertebralLevel? Level, bool Usable, string Reason);

/// <summary>The mean of two vertebrae's trabecular density (mg/cm³ HA), the levels it used and its ACR category.</summary>
public sealed record TwoLevelMean(double VbmdMgPerCm3, double MeanHu, IReadOnlyList<VertebralLevel> Levels, BoneDensityCategory Category)
{
    /// <summary>The mean's 95 % interval: the two levels' noise, placement and definition parts independent, the calibration shared.</summary>
    public VbmdInterval? Ci95 { get; init; }

    /// <summary>L2's eroded-body ROI, the second half of the mean (L1's is <see cref="Measurement.ErodedBody"/>).</summary>
    public required TrabecularRoi L2 { get; init; }
}

/// <summary>
/// Trabecular density of one vertebra. ROI values are null only when <see cref="LevelChoice.Level"/> is null; the
/// category is null without a calibration. <see cref="VbmdMgPerCm3"/> is the eroded body's mean, the primary figure.
/// </summary>
public sealed record Measurement(
    LevelChoice Choice,
    IReadOnlyList<VertebraAssessment> Assessments,
    TrabecularRoi? ErodedBody,
    TrabecularRoi? Ellipse,
    BoneIslands? BoneIslands,
    Calibration? Calibration,
    BoneDensityCategory? Category,
    bool ContrastAffected,
    HuScreeningFlags? HuFlags,
    IReadOnlyList<string> Warnings)
{
    /// <summary>
    /// The ACR spine QCT figure: the mean of L1's and L2's eroded-body densities (the ACR practice parameter sets its
    /// categories on the mean of two lumbar vertebrae, usually L1–L2); null when both levels are not usable and
    /// calibrated, and then <see cref="TwoLevelMeanMissing"/> says why. The headline category stays L1's own.
    /// </summary>
    public TwoLevelMean? L1L2 { get; init; }

    /// <summary>Why there is no <see cref="L1L2"/>; null when there is one.</summary>
    public string? TwoLevelMeanMissing { get; init; }

    /// <summary>Why a person should check this measurement before it is used (a level measured in place of L1, the ROIs disagreeing, an implausible body); empty when none.</summary>
    public IReadOnlyList<string> ReviewReasons { get; init; } = [];

    /// <summary>
    /// Why the ACR category may be another one: the calibration's 95 % interval around the vBMD holds a cut-off (80 or
    /// 120 mg/cm³); null when the category is certain as far as the calibration goes.
    /// </summary>
    public string? CategoryUncertain { get; init; }

    /// <summary>The 95 % interval of <see cref="VbmdMgPerCm3"/>; null without one.</summary>
    public VbmdInterval? Ci95 { get; init; }

    /// <summary>The image noise the interval used; null when no uniform soft tissue was found (the ROI's own SD stood in, with a warning).</summary>
    public NoiseEstimate? Noise { get; init; }

    public double? VbmdMgPerCm3 => ErodedBody?.MgPerCm3?.Mean;

    public double? EllipseVbmdMgPerCm3 => Ellipse?.MgPerCm3?.Mean;
}
