namespace QctPipeline.Domain;

/// <summary>How a scan's HU were tied to mineral density.</summary>
public enum CalibrationMethod
{
    /// <summary>Synchronous: a calibration phantom in the same scan.</summary>
    Phantom,

    /// <summary>Asynchronous: a phantom scanned separately on the same scanner, kVp and kernel, read from a file.</summary>
    Async,

    /// <summary>Phantomless: reference tissues of the same scan.</summary>
    Internal,

    /// <summary>No calibration: HU only, with the reason.</summary>
    None,
}

/// <summary>
/// One reference of a calibration fit: a rod or a tissue. Densities are mg/cm³ of hydroxyapatite (HA) equivalent;
/// <see cref="NominalDensity"/> keeps the reference's own unit (e.g. K₂HPO₄ for Mindways rods).
/// </summary>
public sealed record CalibrationPoint(
    string Name,
    double KnownDensityMgPerCm3,
    string NominalMaterial,
    double NominalDensity,
    double MeasuredHu,
    double FittedHu,
    double RoiAreaMm2,
    long RoiVoxels,
    int Slices)
{
    public double ResidualHu => MeasuredHu - FittedHu;
}

/// <summary>
/// The linear model HU = β + σ·ρ of one scan (ρ in mg/cm³ HA), with where it came from and how good it is.
/// A <see cref="CalibrationMethod.None"/> calibration carries only its reason; converting through it is an error.
/// </summary>
public sealed record Calibration
{
    public required CalibrationMethod Method { get; init; }

    /// <summary>β: HU at zero mineral.</summary>
    public double InterceptHu { get; init; }

    /// <summary>σ: HU per mg/cm³ HA.</summary>
    public double SlopeHuPerMgPerCm3 { get; init; }

    /// <summary>Pearson correlation of the fit (Ogo's quality measure); null when there was no fit.</summary>
    public double? R { get; init; }

    /// <summary>The phantom kind, the calibration file or the tissue model the line came from.</summary>
    public required string Reference { get; init; }

    public IReadOnlyList<CalibrationPoint> Points { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Why there is no calibration (method None only).</summary>
    public string? NoneReason { get; init; }

    public bool HasLine => Method != CalibrationMethod.None;

    /// <summary>ρ = (HU − β)/σ in mg/cm³ HA.</summary>
    public double DensityAt(double hu) => HasLine
        ? (hu - InterceptHu) / SlopeHuPerMgPerCm3
        : throw new InvalidOperationException($"no calibration: {NoneReason}");

    public double HuAt(double densityMgPerCm3) => HasLine
        ? InterceptHu + SlopeHuPerMgPerCm3 * densityMgPerCm3
        : throw new InvalidOperationException($"no calibration: {NoneReason}");

    public static Calibration None(string reason, IReadOnlyList<string> warnings) => new()
    {
        Method = CalibrationMethod.None,
        Reference = "none",
        NoneReason = reason,
        Warnings = warnings,
    };
}
