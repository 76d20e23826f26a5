using System.Text.Json.Serialization;

namespace QctPipeline.Domain;

/// <summary>
/// One exam against the patient's baseline (first usable exam at the same vertebra) and previous exam (latest usable one
/// there before it): change in mg/cm³ and %, days between, annualised %, the decline and least-significant-change flags
/// at the threshold in force, category transitions and every protocol difference. Only exams with a usable vBMD of the
/// same vertebra are compared; the others are listed with why. Changes are null when nothing can be compared; the
/// reason says why.
/// </summary>
public sealed record Comparison
{
    public DateOnly? BaselineDate { get; init; }

    public DateOnly? PreviousDate { get; init; }

    /// <summary>The vertebra compared: this exam's measured level; null when it has no usable vBMD.</summary>
    public string? Level { get; init; }

    public double? ChangeFromBaselineMgPerCm3 { get; init; }

    public double? PercentChangeFromBaseline { get; init; }

    public double? ChangeFromPreviousMgPerCm3 { get; init; }

    public double? PercentChangeFromPrevious { get; init; }

    public int? DaysFromBaseline { get; init; }

    public int? DaysFromPrevious { get; init; }

    public double? AnnualizedPercent { get; init; }

    /// <summary>The decline (percent of the earlier vBMD) that sets the decline flags.</summary>
    public required double DeclineThresholdPercent { get; init; }

    /// <summary>Declined by at least the threshold since the baseline, on unrounded values.</summary>
    public bool DeclineFromBaseline { get; init; }

    /// <summary>Declined by at least the threshold since the previous exam, on unrounded values.</summary>
    public bool DeclineFromPrevious { get; init; }

    /// <summary>The name older readers know <see cref="DeclineFromBaseline"/> by; present only when the threshold is 5 %.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Decline5 => DeclineThresholdPercent == 5 ? DeclineFromBaseline : null;

    /// <summary>The name older readers know <see cref="DeclineFromPrevious"/> by; present only when the threshold is 5 %.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Decline5FromPrevious => DeclineThresholdPercent == 5 ? DeclineFromPrevious : null;

    public bool ExceedsLsc { get; init; }

    /// <summary>
    /// The 95 % interval of the change from baseline (mg/cm³): the two exams' own intervals combined, a calibration
    /// both share (same tissues or file, same protocol) counted once. This exam-specific precision sits beside the
    /// population LSC; null when either exam has no interval.
    /// </summary>
    public double[]? ChangeFromBaselineCi95 { get; init; }

    /// <summary>Whether <see cref="ChangeFromBaselineCi95"/> excludes 0; null without it.</summary>
    public bool? SignificantChange { get; init; }

    /// <summary>The 95 % interval of the change from the previous exam (mg/cm³); null when either exam has no interval.</summary>
    public double[]? ChangeFromPreviousCi95 { get; init; }

    /// <summary>Whether <see cref="ChangeFromPreviousCi95"/> excludes 0; null without it.</summary>
    public bool? SignificantChangeFromPrevious { get; init; }

    public bool ExceedsLscFromPrevious { get; init; }

    public double LscPercent { get; init; }

    public IReadOnlyList<string> CategoryTransitions { get; init; } = [];

    public IReadOnlyList<string> ProtocolMismatch { get; init; } = [];

    public IReadOnlyList<string> SameDayDuplicates { get; init; } = [];

    /// <summary>Earlier exams left out of the comparison, each with why ("2025-01-10: measured at L1, this exam at L2").</summary>
    public IReadOnlyList<string> NotCompared { get; init; } = [];

    public required string Reason { get; init; }
}
