using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Ingest;

/// <summary>How stored pixel values of a frame are laid out and turned into modality values.</summary>
public sealed record PixelFormat(
    int Rows,
    int Columns,
    int SamplesPerPixel,
    string PhotometricInterpretation,
    int BitsAllocated,
    int BitsStored,
    int HighBit,
    bool Signed,
    long? PaddingValue)
{
    public int FrameLength => Rows * Columns * SamplesPerPixel * (BitsAllocated / 8);
}

/// <summary>
/// One image frame as the headers describe it: a single-frame file, or one frame of an enhanced multi-frame file
/// with its own position, orientation and rescale from the functional groups. Geometry is null when absent.
/// </summary>
public sealed record ImageFrame(
    string FilePath,
    int FrameIndex,
    int FramesInFile,
    TransferSyntax TransferSyntax,
    DicomDataset Header,
    PixelFormat? Pixels,
    Vector3? Position,
    Vector3? RowDirection,
    Vector3? ColumnDirection,
    double? RowSpacing,
    double? ColumnSpacing,
    double RescaleSlope,
    double RescaleIntercept,
    IReadOnlyList<string> Notes)
{
    public string? SeriesInstanceUid => Header.GetString(DicomTag.SeriesInstanceUid);

    public string? Modality => Header.GetString(DicomTag.Modality);

    public string? SopClassUid => Header.GetString(DicomTag.SopClassUid);

    public string[] ImageType => Header.GetStrings(DicomTag.ImageType);

    public Vector3? Normal => RowDirection is { } row && ColumnDirection is { } column ? row.Cross(column) : null;

    /// <summary>RescaleSlope or RescaleIntercept was absent and taken as 1 or 0: the values may not be HU.</summary>
    public bool RescaleAssumed { get; init; }
}
