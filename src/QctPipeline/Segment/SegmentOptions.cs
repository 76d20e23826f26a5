using QctPipeline.Anatomy;

namespace QctPipeline.Segment;

/// <summary>Thresholds of the L1 stage; the defaults are what `qct segment` and `qct analyze` use.</summary>
public sealed record SegmentOptions
{
    /// <summary>
    /// A model whose manifest reports a lower held-out level accuracy is still in training: its results carry a warning.
    /// 99 % is the level accuracy issue 4 requires of a shipped model.
    /// </summary>
    public double MinModelLevelAccuracy { get; init; } = 0.99;

    /// <summary>A level's component (whole vertebra) must be at least this big to count: smaller blobs are noise …</summary>
    public double MinVertebraMl { get; init; } = 3;

    /// <summary>… and at most this big: larger ones are several vertebrae run together.</summary>
    public double MaxVertebraMl { get; init; } = 250;

    /// <summary>
    /// A rib head within this distance (mm along the spine) of a disc cannot be given to either vertebra: the heads of
    /// ribs 2–9 sit on the discs themselves, and the estimate of a head's height from its rib's course is good to a few mm.
    /// </summary>
    public double RibHeadMarginMm { get; init; } = 3;

    /// <summary>A localizer level whose centroid lies further than this (mm) from every vertebra the image found is off the spine: dropped, with a warning.</summary>
    public double OffSpineMm { get; init; } = 25;

    /// <summary>The image analysis of the spine.</summary>
    public AnatomyOptions Anatomy { get; init; } = new();
}
