namespace QctPipeline.Calibrate;

/// <summary>Which calibration to use: the automatic order (phantom, file, internal, none) or one forced.</summary>
public enum CalibrationRequest
{
    Auto,
    Phantom,
    Async,
    Internal,
    None,
}

/// <summary>Everything the calibration stage can be told; defaults are the documented ones (docs/decisions/0006-calibration.md).</summary>
public sealed record CalibrationOptions
{
    public CalibrationRequest Request { get; init; } = CalibrationRequest.Auto;

    /// <summary>A calibration file or a folder of them (asynchronous calibration); null skips that method.</summary>
    public string? CalibrationFileOrFolder { get; init; }

    /// <summary>A calibration file older than this (scan date minus calibration date) is used with a warning.</summary>
    public int MaxCalibrationAgeDays { get; init; } = 180;

    /// <summary>Ogo's rule: warn when the fit's r falls more than this below 1 …</summary>
    public double WarnBelowOneMinusR { get; init; } = 0.02;

    /// <summary>… and reject the fit beyond this.</summary>
    public double RejectBelowOneMinusR { get; init; } = 0.10;

    /// <summary>Rod ROI radius as a fraction of the rod radius: central, away from the partial-volume edge.</summary>
    public double RodRoiFraction { get; init; } = 0.5;

    /// <summary>Half-thickness (mm) of the slab around L1 where reference tissues are measured.</summary>
    public double ReferenceSlabHalfMm { get; init; } = 15;

    /// <summary>A reference tissue further than this many SDs (its population spread) from the line through the others is left out.</summary>
    public double TissueOutlierSd { get; init; } = 3;

    /// <summary>
    /// Relative SD of the water path the tissue model takes from the measured water-equivalent diameter: the diameter is
    /// an average over directions, the beam's path through the spine varies around it (AP shorter, lateral longer).
    /// </summary>
    public double WaterPathRelativeSd { get; init; } = 0.10;
}
