using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Ingest;

/// <summary>Reads the series-level facts later stages need from one representative header.</summary>
public static class MetadataReader
{
    /// <param name="malformed">Receives one line per descriptive value that does not parse, naming the tag and the value.</param>
    public static SeriesMetadata Read(DicomDataset header, string seriesInstanceUid, ICollection<string> malformed) => new()
    {
        SeriesInstanceUid = seriesInstanceUid,
        StudyInstanceUid = header.GetString(DicomTag.StudyInstanceUid),
        Modality = header.GetString(DicomTag.Modality),
        PatientId = header.GetString(DicomTag.PatientId),
        PatientName = header.GetString(DicomTag.PatientName),
        PatientBirthDate = TryDate(header, DicomTag.PatientBirthDate, "PatientBirthDate", malformed),
        PatientSex = header.GetString(DicomTag.PatientSex),
        PatientAge = header.GetString(DicomTag.PatientAge),
        StudyDate = TryDate(header, DicomTag.StudyDate, "StudyDate", malformed),
        Manufacturer = header.GetString(DicomTag.Manufacturer),
        ManufacturerModelName = header.GetString(DicomTag.ManufacturerModelName),
        DeviceSerialNumber = header.GetString(DicomTag.DeviceSerialNumber),
        Kvp = TryNumber(header, DicomTag.Kvp, "KVP", malformed),
        ConvolutionKernel = header.GetString(DicomTag.ConvolutionKernel),
        SliceThickness = TryNumber(header, DicomTag.SliceThickness, "SliceThickness", malformed),
        ContrastBolusAgent = header.GetString(DicomTag.ContrastBolusAgent),
        BodyPartExamined = header.GetString(DicomTag.BodyPartExamined),
        SeriesDescription = header.GetString(DicomTag.SeriesDescription),
        ImageType = header.GetStrings(DicomTag.ImageType),
    };

    /// <summary>
    /// Descriptive values that do not parse are treated as absent, so they do not cost the whole series, and are named
    /// as malformed with their value, never reported as simply not stated.
    /// </summary>
    private static DateOnly? TryDate(DicomDataset header, DicomTag tag, string name, ICollection<string> malformed)
    {
        try
        {
            return header.GetDate(tag);
        }
        catch (DicomFormatException)
        {
            malformed.Add(Malformed(header, tag, name));
            return null;
        }
    }

    private static double? TryNumber(DicomDataset header, DicomTag tag, string name, ICollection<string> malformed)
    {
        try
        {
            return header.GetNumber(tag);
        }
        catch (DicomFormatException)
        {
            malformed.Add(Malformed(header, tag, name));
            return null;
        }
    }

    private static string Malformed(DicomDataset header, DicomTag tag, string name) =>
        $"{name} {tag} '{header.GetString(tag)}' is malformed: taken as absent";
}
