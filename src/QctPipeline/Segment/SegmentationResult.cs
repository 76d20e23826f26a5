using QctPipeline.Domain;

namespace QctPipeline.Segment;

public enum SegmentationStatus
{
    /// <summary>L1 found, counted consistently and segmented.</summary>
    Ok,

    /// <summary>No L1 is claimed; <see cref="SegmentationResult.Reason"/> says why.</summary>
    NoL1,
}

/// <summary>How long one step of the stage took.</summary>
public sealed record StepTiming(string Step, double Milliseconds);

/// <summary>
/// The L1 stage's answer. The masks lie on the series' own grid. When the status is <see cref="SegmentationStatus.NoL1"/>
/// there is no L1 mask and <see cref="Reason"/> says why (not in view, cut by the scan's edge, counts disagree, low
/// confidence); the levels and counts found are still reported.
/// </summary>
/// <param name="AboveL1Mask">Body of the last rib-bearing vertebra (usually T12), for when L1 cannot be measured.</param>
/// <param name="L2Mask">Body of L2, likewise.</param>
public sealed record SegmentationResult(
    SegmentationStatus Status,
    string? Reason,
    Mask? L1Mask,
    Vector3? L1CentroidLps,
    double? L1VolumeMl,
    double Confidence,
    IReadOnlyList<LevelFound> Levels,
    IReadOnlyList<LevelCount> Counts,
    Mask? AboveL1Mask,
    Mask? L2Mask,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<StepTiming> Timings)
{
    public double TotalMilliseconds => Timings.Sum(t => t.Milliseconds);
}
