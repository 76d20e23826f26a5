namespace QctPipeline.Ingest;

/// <summary>Everything the ingest stage can be told; one object, no globals.</summary>
public sealed record IngestOptions
{
    /// <summary>Accept non-CT image series (MR validation files, for example).</summary>
    public bool AnyModality { get; init; }

    /// <summary>Series with fewer slices are not volumes worth measuring (scouts, single reformats).</summary>
    public int MinSlices { get; init; } = 10;

    /// <summary>
    /// Slices left out for lack of geometry may leave a hole this many slices wide, filled by interpolation (as a missing
    /// slice is); a wider hole refuses the series.
    /// </summary>
    public int MaxLostSlicesInARow { get; init; } = 2;

    /// <summary>Measure this series instead of the automatic choice.</summary>
    public string? SeriesInstanceUid { get; init; }

    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// The most voxels a series may claim (rows × columns × slices) before anything is allocated: 1.2 G voxels is
    /// 4.8 GB of HU, a 1024² series of 1100 slices. A header claiming 65535 × 65535 is refused, not attempted.
    /// </summary>
    public long MaxVoxels { get; init; } = 1_200_000_000;

    /// <summary>
    /// Relative deviation of a gap from the median gap above which spacing counts as uneven and the volume is
    /// resampled onto an even grid (dcm2niix's "_Eq" treatment); below it the differences are rounding in the positions.
    /// </summary>
    public double UnevenSpacingTolerance { get; init; } = 0.01;
}
