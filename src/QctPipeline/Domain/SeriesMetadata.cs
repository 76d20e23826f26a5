namespace QctPipeline.Domain;

/// <summary>What later stages need to know about the scan a volume came from. Absent tags are null.</summary>
public sealed record SeriesMetadata
{
    public required string SeriesInstanceUid { get; init; }
    public string? StudyInstanceUid { get; init; }
    public string? Modality { get; init; }
    public string? PatientId { get; init; }
    public string? PatientName { get; init; }
    public DateOnly? PatientBirthDate { get; init; }
    public string? PatientSex { get; init; }
    public string? PatientAge { get; init; }
    public DateOnly? StudyDate { get; init; }
    public string? Manufacturer { get; init; }
    public string? ManufacturerModelName { get; init; }
    public string? DeviceSerialNumber { get; init; }
    public double? Kvp { get; init; }
    public string? ConvolutionKernel { get; init; }
    public double? SliceThickness { get; init; }
    public string? ContrastBolusAgent { get; init; }
    public string? BodyPartExamined { get; init; }
    public string? SeriesDescription { get; init; }
    public IReadOnlyList<string> ImageType { get; init; } = [];
}
