namespace QctPipeline.Domain;

/// <summary>
/// A CT volume in Hounsfield units on a regular grid in patient space. Voxel (i, j, k) is stored at
/// i + SizeX * (j + SizeY * k). Immutable: the voxel array is owned and never handed out writable.
/// </summary>
public sealed class CtVolume
{
    private readonly float[] huVoxels;

    public CtVolume(VolumeGeometry geometry, float[] huVoxels)
    {
        if (huVoxels.LongLength != geometry.VoxelCount)
        {
            throw new ArgumentException(
                $"Voxel count {huVoxels.LongLength} does not match the geometry's {geometry.VoxelCount}.", nameof(huVoxels));
        }

        Geometry = geometry;
        this.huVoxels = huVoxels;
    }

    public VolumeGeometry Geometry { get; }

    public ReadOnlySpan<float> Voxels => huVoxels;

    public ReadOnlySpan<float> Slice(int k) => huVoxels.AsSpan(k * Geometry.SliceLength, Geometry.SliceLength);

    public float this[int i, int j, int k] => huVoxels[i + Geometry.SizeX * (j + Geometry.SizeY * k)];
}
