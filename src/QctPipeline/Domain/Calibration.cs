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

    /// <summary>How well the line is known: the covariance of β and σ and where it comes from; null when the method gives none.</summary>
    public LineUncertainty? Uncertainty { get; init; }

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

    /// <summary>SD (mg/cm³) of the density read at <paramref name="hu"/> that the line's own uncertainty causes; null without one.</summary>
    public double? DensitySdAt(double hu)
    {
        if (!HasLine || Uncertainty is not { } u)
        {
            return null;
        }

        // ρ = (HU − β)/σ: ∂ρ/∂β = −1/σ, ∂ρ/∂σ = −ρ/σ.
        var density = DensityAt(hu);
        var variance = (u.InterceptVarianceHu2 + (density * density * u.SlopeVariance) + (2 * density * u.Covariance)) / (SlopeHuPerMgPerCm3 * SlopeHuPerMgPerCm3);
        return Math.Sqrt(Math.Max(0, variance));
    }

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

/// <summary>
/// The uncertainty of a calibration line HU = β + σ·ρ: the variances of β (HU²) and σ ((HU per mg/cm³)²) and their
/// covariance, with the sources in words (<see cref="Basis"/>). SDs are given for reading.
/// </summary>
public sealed record LineUncertainty(double InterceptVarianceHu2, double SlopeVariance, double Covariance, string Basis)
{
    public double InterceptSdHu => Math.Sqrt(InterceptVarianceHu2);

    public double SlopeSd => Math.Sqrt(SlopeVariance);
}
