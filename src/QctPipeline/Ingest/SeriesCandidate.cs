using QctPipeline.Domain;

namespace QctPipeline.Ingest;

/// <summary>
/// The slice stack's geometry worked out from the positions. <see cref="SlicePositions"/> are the frames' distances
/// along <see cref="Normal"/> from the first one; <see cref="InPlaneShifts"/> their offsets off that line (gantry tilt).
/// </summary>
public sealed record StackGeometry(
    Vector3 Origin,
    Vector3 RowDirection,
    Vector3 ColumnDirection,
    Vector3 Normal,
    double ColumnSpacing,
    double RowSpacing,
    double SliceSpacing,
    double MinGap,
    double MaxGap,
    bool UnevenSpacing,
    double TiltDegrees,
    IReadOnlyList<double> SlicePositions,
    IReadOnlyList<Vector3> InPlaneShifts)
{
    public bool IsTilted => TiltDegrees > 0;

    public double Coverage => SlicePositions.Count == 0 ? 0 : SlicePositions[^1] - SlicePositions[0];
}

/// <summary>One series (or one part of a series split by orientation, size, image type or acquisition) as found.</summary>
public sealed record SeriesCandidate(
    string SeriesInstanceUid,
    string? Part,
    SeriesMetadata Metadata,
    IReadOnlyList<ImageFrame> Frames,
    int Rows,
    int Columns,
    IReadOnlyList<string> TransferSyntaxes,
    StackGeometry? Geometry,
    string? SkipReason,
    IReadOnlyList<string> Warnings)
{
    public bool Usable => SkipReason is null;

    public string Label => Part is null ? SeriesInstanceUid : $"{SeriesInstanceUid} ({Part})";
}
