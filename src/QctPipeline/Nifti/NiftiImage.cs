namespace QctPipeline.Nifti;

/// <summary>
/// A NIfTI-1 image as read: the header fields later stages use and the voxels in file order (i fastest, then j,
/// k, and any further dimensions), as float with scl_slope/scl_inter applied.
/// </summary>
public sealed record NiftiImage
{
    /// <summary>dim[1..dim[0]]: the size of each dimension.</summary>
    public required IReadOnlyList<int> Dimensions { get; init; }

    public required NiftiDataType DataType { get; init; }

    /// <summary>All eight pixdim values as stored: [0] is qfac, [1..3] the voxel spacing.</summary>
    public required IReadOnlyList<float> PixelDimensions { get; init; }

    public required bool BigEndian { get; init; }

    public required int VoxelOffset { get; init; }

    public required float ScaleSlope { get; init; }

    public required float ScaleIntercept { get; init; }

    public required byte XyztUnits { get; init; }

    public required string Description { get; init; }

    public required short QformCode { get; init; }

    public required NiftiQuaternion Qform { get; init; }

    /// <summary>The matrix <see cref="Qform"/> and the spacings describe, computed as nifti1_io does.</summary>
    public required NiftiAffine QformMatrix { get; init; }

    public required short SformCode { get; init; }

    /// <summary>srow_x, srow_y, srow_z.</summary>
    public required NiftiAffine Sform { get; init; }

    public required ReadOnlyMemory<float> Voxels { get; init; }

    public int SizeX => Dimensions[0];

    public int SizeY => Dimensions.Count > 1 ? Dimensions[1] : 1;

    public int SizeZ => Dimensions.Count > 2 ? Dimensions[2] : 1;

    /// <summary>A voxel of the first 3D volume.</summary>
    public float this[int i, int j, int k] => Voxels.Span[i + SizeX * (j + SizeY * k)];
}
