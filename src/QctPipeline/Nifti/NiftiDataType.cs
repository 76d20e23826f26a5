namespace QctPipeline.Nifti;

/// <summary>The NIfTI-1 datatype codes this project reads (values as stored in the header's datatype field).</summary>
public enum NiftiDataType : short
{
    UInt8 = 2,
    Int16 = 4,
    Int32 = 8,
    Float32 = 16,
    Float64 = 64,
    Int8 = 256,
    UInt16 = 512,
}

internal static class NiftiDataTypes
{
    public static bool IsKnown(short code) => Enum.IsDefined((NiftiDataType)code);

    public static int BytesPerVoxel(NiftiDataType type) => type switch
    {
        NiftiDataType.UInt8 or NiftiDataType.Int8 => 1,
        NiftiDataType.Int16 or NiftiDataType.UInt16 => 2,
        NiftiDataType.Int32 or NiftiDataType.Float32 => 4,
        NiftiDataType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a NIfTI datatype this project handles"),
    };
}
