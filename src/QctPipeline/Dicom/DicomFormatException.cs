namespace QctPipeline.Dicom;

/// <summary>The bytes are not a DICOM stream we can read; the message says where and why.</summary>
public sealed class DicomFormatException(string message) : Exception(message);
