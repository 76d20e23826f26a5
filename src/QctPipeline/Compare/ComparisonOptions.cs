namespace QctPipeline.Compare;

/// <summary>Every constant of the comparison, with where it comes from (docs/qct-primer.md, "Least significant change").</summary>
public sealed record ComparisonOptions
{
    /// <summary>A decline of at least this many percent is flagged (median L1 loss on immune-checkpoint inhibitors: 5.4 % at 6 months).</summary>
    public double DeclineThresholdPercent { get; init; } = 5;

    /// <summary>LSC = this factor × the precision CV: 95 % confidence for the difference of two measurements (2 × √2).</summary>
    public double LscFactor { get; init; } = 2.77;

    /// <summary>
    /// In-vivo short-term precision (CV, %) by calibration method. Spine QCT is 1.5–2 % (primer): 1.5 % with a phantom
    /// (in the scan or asynchronous: the phantom's own precision is 0.5–0.9 mg/cm³, Wang 2017, so patient positioning
    /// and ROI placement dominate), 2 % for internal calibration, whose reference tissues vary between scans too.
    /// </summary>
    public IReadOnlyDictionary<string, double> PrecisionCvPercent { get; init; } = new Dictionary<string, double>
    {
        ["phantom"] = 1.5,
        ["async"] = 1.5,
        ["internal"] = 2.0,
        ["none"] = 2.0,
    };

    /// <summary>Slice thicknesses further apart than this (mm) count as a protocol difference.</summary>
    public double SliceThicknessToleranceMm { get; init; } = 1;

    /// <summary>Tube voltages further apart than this (kV) count as a protocol difference.</summary>
    public double KvpToleranceKv { get; init; } = 0.5;

    public double PrecisionCv(string method) => PrecisionCvPercent.TryGetValue(method, out var cv) ? cv : PrecisionCvPercent.Values.Max();
}
