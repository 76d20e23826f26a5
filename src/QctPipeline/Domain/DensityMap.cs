namespace QctPipeline.Domain;

/// <summary>
/// HA density (mg/cm³) on whole slices through the measured vertebra: the calibration applied to every voxel, the QC
/// view of what the ROI averaged. Voxel order and grid as <see cref="CtVolume"/>; immutable like it.
/// </summary>
public sealed class DensityMap
{
    private readonly float[] mgPerCm3;

    public DensityMap(VolumeGeometry geometry, float[] mgPerCm3)
    {
        if (mgPerCm3.LongLength != geometry.VoxelCount)
        {
            throw new ArgumentException($"Voxel count {mgPerCm3.LongLength} does not match the geometry's {geometry.VoxelCount}.", nameof(mgPerCm3));
        }

        Geometry = geometry;
        this.mgPerCm3 = mgPerCm3;
    }

    public VolumeGeometry Geometry { get; }

    public ReadOnlySpan<float> MgPerCm3 => mgPerCm3;
}
