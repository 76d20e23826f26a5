using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Ingest;

/// <summary>Reads the series-level facts later stages need from one representative header.</summary>
public static class MetadataReader
{
    public static SeriesMetadata Read(DicomDataset header, string seriesInstanceUid) => new()
    {
        SeriesInstanceUid = seriesInstanceUid,
        StudyInstanceUid = header.GetString(DicomTag.StudyInstanceUid),
        Modality = header.GetString(DicomTag.Modality),
        PatientId = header.GetString(DicomTag.PatientId),
        PatientName = header.GetString(DicomTag.PatientName),
        PatientBirthDate = TryDate(header, DicomTag.PatientBirthDate),
        PatientSex = header.GetString(DicomTag.PatientSex),
        PatientAge = header.GetString(DicomTag.PatientAge),
        StudyDate = TryDate(header, DicomTag.StudyDate),
        Manufacturer = header.GetString(DicomTag.Manufacturer),
        ManufacturerModelName = header.GetString(DicomTag.ManufacturerModelName),
        DeviceSerialNumber = header.GetString(DicomTag.DeviceSerialNumber),
        Kvp = TryNumber(header, DicomTag.Kvp),
        ConvolutionKernel = header.GetString(DicomTag.ConvolutionKernel),
        SliceThickness = TryNumber(header, DicomTag.SliceThickness),
        ContrastBolusAgent = header.GetString(DicomTag.ContrastBolusAgent),
        BodyPartExamined = header.GetString(DicomTag.BodyPartExamined),
        SeriesDescription = header.GetString(DicomTag.SeriesDescription),
        ImageType = header.GetStrings(DicomTag.ImageType),
    };

    /// <summary>Descriptive values that do not parse are treated as absent: they must not cost the whole series.</summary>
    private static DateOnly? TryDate(DicomDataset header, DicomTag tag)
    {
        try
        {
            return header.GetDate(tag);
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }

    private static double? TryNumber(DicomDataset header, DicomTag tag)
    {
        try
        {
            return header.GetNumber(tag);
        }
        catch (DicomFormatException)
        {
            return null;
        }
    }
}
