namespace QctPipeline.Nifti;

/// <summary>How <see cref="NiftiWriter"/> stores voxels.</summary>
public sealed record NiftiWriteOptions
{
    public static NiftiWriteOptions Default { get; } = new();

    /// <summary>
    /// <see cref="NiftiDataType.Int16"/> (the default, half the size) stores each HU value rounded to the nearest
    /// integer (halves away from zero), clamped to −32768..32767, NaN as 0: lossless for scanner data, which is whole
    /// HU. <see cref="NiftiDataType.Float32"/> stores the values unchanged. Other types are refused.
    /// </summary>
    public NiftiDataType DataType
    {
        get;
        init => field = value is NiftiDataType.Int16 or NiftiDataType.Float32
            ? value
            : throw new ArgumentOutOfRangeException(nameof(DataType), value, "NIfTI output is int16 or float32");
    } = NiftiDataType.Int16;
}
