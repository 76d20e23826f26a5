namespace QctPipeline.Dicom;

/// <summary>The bytes are not a DICOM stream we can read; the message says where and why.</summary>
public class DicomFormatException(string message) : Exception(message);

/// <summary>The file is not DICOM at all (a text, image or archive file beside the series), as opposed to broken DICOM.</summary>
public sealed class NotDicomException(string message) : DicomFormatException(message);
