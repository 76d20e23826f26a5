namespace QctPipeline.Nifti;

/// <summary>The file is not a NIfTI-1 image we can read; the message names the field or byte range at fault.</summary>
public sealed class NiftiFormatException(string message) : Exception(message);
