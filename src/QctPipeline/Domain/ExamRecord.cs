namespace QctPipeline.Domain;

/// <summary>
/// One measured series as the results store keeps it: who and when, how it was acquired, calibrated and segmented,
/// what was measured, and by which software. Null where the series did not say or nothing was measured.
/// </summary>
public sealed record ExamRecord
{
    /// <summary>PatientID as the series states it; null when absent (stored, never compared).</summary>
    public string? PatientId { get; init; }

    /// <summary>A keyed hash of the PatientID, stable within one store (research exports use it instead of the ID).</summary>
    public string? PatientPseudonym { get; init; }

    /// <summary>StudyDate; null when absent or malformed (stored, never compared).</summary>
    public DateOnly? StudyDate { get; init; }

    public string? StudyInstanceUid { get; init; }

    public required string SeriesInstanceUid { get; init; }

    public string? Manufacturer { get; init; }

    public string? ManufacturerModelName { get; init; }

    public string? DeviceSerialNumber { get; init; }

    public double? Kvp { get; init; }

    public string? ConvolutionKernel { get; init; }

    public double? SliceThicknessMm { get; init; }

    public bool ContrastDetected { get; init; }

    /// <summary>none, arterial, venous or unknown.</summary>
    public string ContrastPhase { get; init; } = "none";

    /// <summary>phantom, async, internal or none.</summary>
    public required string CalibrationMethod { get; init; }

    public double? CalibrationSlope { get; init; }

    public double? CalibrationIntercept { get; init; }

    public double? CalibrationR { get; init; }

    public string? ModelName { get; init; }

    public string? ModelVersion { get; init; }

    /// <summary>L1, L2 or the vertebra above L1 (its name); null when nothing was measured.</summary>
    public string? MeasuredLevel { get; init; }

    public bool LevelUsable { get; init; }

    public double? MeanHu { get; init; }

    public double? MedianHu { get; init; }

    public double? SdHu { get; init; }

    public double? EllipseMeanHu { get; init; }

    public double? RoiVoxels { get; init; }

    public double? RoiVolumeMl { get; init; }

    public double? VbmdMgPerCm3 { get; init; }

    public double? EllipseVbmdMgPerCm3 { get; init; }

    /// <summary>normal, low-bone-density or osteoporosis; null without a calibration.</summary>
    public string? Category { get; init; }

    /// <summary>The ACR two-level figure: the mean of L1's and L2's vBMD; null unless both were usable and calibrated.</summary>
    public double? L1L2VbmdMgPerCm3 { get; init; }

    /// <summary>The ACR category of <see cref="L1L2VbmdMgPerCm3"/>.</summary>
    public string? L1L2Category { get; init; }

    /// <summary>The 95 % interval of <see cref="VbmdMgPerCm3"/> (noise, calibration, ROI placement and definition); null without one.</summary>
    public (double Lower, double Upper)? VbmdCi95 { get; init; }

    /// <summary>
    /// The calibration's part of <see cref="VbmdCi95"/> (one SD, mg/cm³): a change between two exams calibrated from the
    /// same tissues on the same protocol shares it, where two phantom scans do not.
    /// </summary>
    public double? VbmdCalibrationSd { get; init; }

    /// <summary>The 95 % interval of <see cref="L1L2VbmdMgPerCm3"/>.</summary>
    public (double Lower, double Upper)? L1L2Ci95 { get; init; }

    /// <summary>Short machine-readable marks: no-l1, level-unusable, fallback-level, contrast-affected, no-calibration.</summary>
    public IReadOnlyList<string> QcFlags { get; init; } = [];

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public required string SoftwareVersion { get; init; }

    public required DateTimeOffset AnalysedAt { get; init; }
}
