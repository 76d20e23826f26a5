using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Measure;

namespace QctPipeline.Cli.Commands;

/// <summary>The trabecular ROI as `qct analyze` prints it; NaN (an empty ellipse) becomes null.</summary>
internal sealed record TrabecularReport(double? MeanHu, double? MedianHu, double? SdHu, double? EllipseMeanHu, double Voxels, double VolumeMl, double EllipseVoxels, int BoneIslands, double BoneIslandVolumeMm3)
{
    public static TrabecularReport? From(Measurement? measurement) => measurement?.ErodedBody is not { } eroded
        ? null
        : new TrabecularReport(
            Rounded(eroded.Hu.Mean),
            Rounded(eroded.Hu.Median),
            Rounded(eroded.Hu.StandardDeviation),
            Rounded(measurement.Ellipse?.Hu.Mean),
            Math.Round(eroded.Voxels, 1),
            Math.Round(eroded.VolumeMl, 3),
            Math.Round(measurement.Ellipse?.Voxels ?? 0, 1),
            measurement.BoneIslands?.Count ?? 0,
            Math.Round(measurement.BoneIslands?.VolumeMm3 ?? 0, 1));

    public static double? Rounded(double? value) => value is { } v && double.IsFinite(v) ? Math.Round(v, 2) : null;
}

/// <summary>
/// The measured level's vBMD with its 95 % interval and the interval's parts, and the SD its calibration line's own
/// uncertainty gives it (null when the method gives none).
/// </summary>
internal sealed record VbmdReport(double? MgPerCm3, double? EllipseMgPerCm3, string Method, double? CalibrationSdMgPerCm3, double[]? Ci95, IntervalPartsReport? Ci95Parts)
{
    public static VbmdReport? From(Measurement? measurement) => measurement?.Calibration is not { } calibration || measurement.VbmdMgPerCm3 is null
        ? null
        : new VbmdReport(
            TrabecularReport.Rounded(measurement.VbmdMgPerCm3),
            TrabecularReport.Rounded(measurement.EllipseVbmdMgPerCm3),
            CalibrationReport.MethodName(calibration.Method),
            measurement.ErodedBody?.Hu.Mean is { } hu ? TrabecularReport.Rounded(calibration.DensitySdAt(hu)) : null,
            IntervalPartsReport.Bounds(measurement.Ci95),
            IntervalPartsReport.From(measurement.Ci95, measurement.Noise));
}

/// <summary>What a vBMD's 95 % interval is made of, each part one SD in mg/cm³, and the image noise it used (null when none was measured).</summary>
internal sealed record IntervalPartsReport(double NoiseSd, double CalibrationSd, double PlacementSd, double RoiDefinitionSd, double TotalSd, NoiseReport? Noise)
{
    public static IntervalPartsReport? From(VbmdInterval? interval, NoiseEstimate? noise) => interval is null
        ? null
        : new IntervalPartsReport(Math.Round(interval.NoiseSdMg, 3), Math.Round(interval.CalibrationSdMg, 3), Math.Round(interval.PlacementSdMg, 3),
            Math.Round(interval.RoiDefinitionSdMg, 3), Math.Round(interval.SdMg, 3),
            noise is null ? null : new NoiseReport(Math.Round(noise.SigmaHu, 2), Math.Round(noise.CorrelationFactor, 2), noise.BoxesPooled, noise.BoxesFound));

    public static double[]? Bounds(VbmdInterval? interval) => interval is null ? null : [Math.Round(interval.Lower, 2), Math.Round(interval.Upper, 2)];
}

/// <summary>Image noise beside the vertebra: SD (HU), the correlation factor on a mean's variance, boxes pooled of those found.</summary>
internal sealed record NoiseReport(double SigmaHu, double CorrelationFactor, int BoxesPooled, int BoxesFound);

/// <summary>The HU screening flags of the measured level; null flags with the reason where the cut-offs are not defined.</summary>
internal sealed record HuFlagsReport(double MeanHu, string Level, bool? AtOrBelow160Hu, bool? AtOrBelow110Hu, string? NotApplicable)
{
    public static HuFlagsReport? From(Measurement? measurement, string? aboveL1Name) => measurement?.HuFlags is not { } flags
        ? null
        : new HuFlagsReport(Math.Round(flags.MeanHu, 2), MeasuredLevelReport.LevelName(flags.Level, aboveL1Name), flags.AtOrBelowSensitiveCutoff, flags.AtOrBelowSpecificCutoff, flags.NotApplicable);
}

/// <summary>The ACR two-level figure: the L1–L2 mean and its category, or why there is none.</summary>
internal sealed record TwoLevelReport(double? VbmdMgPerCm3, double[]? Ci95, double? MeanHu, IReadOnlyList<string> Levels, string? Category, string? Missing)
{
    public static TwoLevelReport? From(Measurement? measurement) => measurement switch
    {
        null => null,
        { L1L2: { } mean } => new TwoLevelReport(TrabecularReport.Rounded(mean.VbmdMgPerCm3), IntervalPartsReport.Bounds(mean.Ci95), TrabecularReport.Rounded(mean.MeanHu),
            [.. mean.Levels.Select(level => MeasuredLevelReport.LevelName(level, null))], MeasuredLevelReport.CategoryName(mean.Category), null),
        _ => new TwoLevelReport(null, null, null, [], null, measurement.TwoLevelMeanMissing),
    };
}

/// <summary>Which vertebra was measured (L1 unless it was unusable) and why the others were not.</summary>
internal sealed record MeasuredLevelReport(string? Level, bool Usable, string Reason, IReadOnlyList<string> UnusableLevels)
{
    public static MeasuredLevelReport? From(Measurement? measurement, string? aboveL1Name) => measurement is null
        ? null
        : new MeasuredLevelReport(
            measurement.Choice.Level is { } level ? LevelName(level, aboveL1Name) : null,
            measurement.Choice.Usable,
            measurement.Choice.Reason,
            [.. measurement.Assessments.Where(a => !a.Usable).Select(a => $"{LevelName(a.Level, aboveL1Name)}: {string.Join("; ", a.UnusableReasons)}")]);

    public static string LevelName(VertebralLevel level, string? aboveL1Name) => level switch
    {
        VertebralLevel.L1 => "L1",
        VertebralLevel.L2 => "L2",
        _ => aboveL1Name ?? "T12",
    };

    public static string? CategoryName(BoneDensityCategory? category) => category switch
    {
        BoneDensityCategory.Normal => "normal",
        BoneDensityCategory.LowBoneDensity => "low-bone-density",
        BoneDensityCategory.Osteoporosis => "osteoporosis",
        _ => null,
    };
}

internal sealed record CalibrationPointReport(string Name, double KnownMgPerCm3, string NominalMaterial, double NominalDensity, double MeasuredHu, double FittedHu, double ResidualHu, double RoiAreaMm2, int Slices);

/// <summary>How well the line is known: SDs of slope and intercept, their covariance and the sources in words.</summary>
internal sealed record LineUncertaintyReport(double SlopeSd, double InterceptSdHu, double Covariance, string Basis)
{
    public static LineUncertaintyReport? From(LineUncertainty? uncertainty) => uncertainty is null
        ? null
        : new LineUncertaintyReport(Math.Round(uncertainty.SlopeSd, 5), Math.Round(uncertainty.InterceptSdHu, 3), Math.Round(uncertainty.Covariance, 6), uncertainty.Basis);
}

/// <summary>The calibration that turned HU into mg/cm³ HA: method, line and its uncertainty, quality, points and warnings.</summary>
internal sealed record CalibrationReport(string Method, string Reference, double? Slope, double? Intercept, double? R, LineUncertaintyReport? Uncertainty, IReadOnlyList<CalibrationPointReport> Points, IReadOnlyList<string> Warnings, string? Reason)
{
    public static CalibrationReport? From(Calibration? calibration) => calibration is null
        ? null
        : new CalibrationReport(
            MethodName(calibration.Method),
            calibration.Reference,
            calibration.HasLine ? Math.Round(calibration.SlopeHuPerMgPerCm3, 5) : null,
            calibration.HasLine ? Math.Round(calibration.InterceptHu, 3) : null,
            calibration.R is { } r ? Math.Round(r, 6) : null,
            LineUncertaintyReport.From(calibration.Uncertainty),
            [.. calibration.Points.Select(p => new CalibrationPointReport(p.Name, Math.Round(p.KnownDensityMgPerCm3, 2), p.NominalMaterial, Math.Round(p.NominalDensity, 2),
                Math.Round(p.MeasuredHu, 2), Math.Round(p.FittedHu, 2), Math.Round(p.ResidualHu, 2), Math.Round(p.RoiAreaMm2, 1), p.Slices))],
            calibration.Warnings,
            calibration.NoneReason);

    public static string MethodName(CalibrationMethod method) => method.ToString().ToLowerInvariant();
}

internal sealed record ContrastReport(bool Detected, string Phase, IReadOnlyList<string> Evidence)
{
    public static ContrastReport? From(ContrastAssessment? contrast) => contrast is null
        ? null
        : new ContrastReport(contrast.Detected, contrast.Phase.ToString().ToLowerInvariant(), contrast.Evidence);
}
