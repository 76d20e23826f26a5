using QctPipeline.Anatomy;
using QctPipeline.Domain;

namespace QctPipeline.Segment;

public enum SegmentationStatus
{
    /// <summary>L1 found, named by at least two counts that agree, and outlined.</summary>
    Ok,

    /// <summary>L1 found and outlined, but the evidence is thin (one count alone) or the outline doubtful: a person should look; <see cref="SegmentationResult.Reason"/> says why.</summary>
    Review,

    /// <summary>No L1 is claimed; <see cref="SegmentationResult.Reason"/> says why.</summary>
    NoL1,
}

/// <summary>How long one step of the stage took.</summary>
public sealed record StepTiming(string Step, double Milliseconds);

/// <summary>
/// The L1 stage's answer. The masks lie on the series' own grid. When the status is <see cref="SegmentationStatus.NoL1"/>
/// there is no L1 mask and <see cref="Reason"/> says why (not in view, cut by the scan's edge, counts disagree); the
/// levels and counts found are still reported. <see cref="Levels"/> are the vertebrae of the column the image shows,
/// named from the decided L1 (or from the localizer's consistent labels when there is none).
/// </summary>
/// <param name="AboveL1Mask">Body of the last rib-bearing vertebra (usually T12), for when L1 cannot be measured; only when whole in the scan.</param>
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
    /// <summary>The outlines behind <see cref="L1Mask"/>, <see cref="AboveL1Mask"/> and <see cref="L2Mask"/>: frames, endplates, heights.</summary>
    public BodyOutline? L1Outline { get; init; }

    public BodyOutline? AboveL1Outline { get; init; }

    public BodyOutline? L2Outline { get; init; }

    /// <summary>The spine as the image showed it (null when no canal was found): for the level figure.</summary>
    public VertebralColumn? Column { get; init; }

    public double TotalMilliseconds => Timings.Sum(t => t.Milliseconds);
}
