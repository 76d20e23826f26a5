using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>The QC density map: whole slices through a vertebral body, converted to mg/cm³ by the vectorized core.</summary>
public static class DensityMaps
{
    /// <summary>
    /// The slices that hold the body, widened by <paramref name="marginMm"/> along the slice direction, in mg/cm³ HA.
    /// Null when the body mask is empty or the calibration has no line.
    /// </summary>
    public static DensityMap? Slab(CtVolume volume, Mask body, Calibration calibration, double marginMm)
    {
        if (!calibration.HasLine || body.Geometry != volume.Geometry)
        {
            return null;
        }

        var g = volume.Geometry;
        int first = -1, last = -1;
        for (var k = 0; k < g.SizeZ; k++)
        {
            if (body.Voxels.Slice(k * g.SliceLength, g.SliceLength).ContainsAnyExcept((byte)0))
            {
                first = first < 0 ? k : first;
                last = k;
            }
        }

        if (first < 0)
        {
            return null;
        }

        var margin = (int)Math.Ceiling(marginMm / g.Spacing.Z);
        first = Math.Max(0, first - margin);
        last = Math.Min(g.SizeZ - 1, last + margin);
        var geometry = g with { SizeZ = last - first + 1, Origin = g.VoxelToPatient(0, 0, first) };
        var values = new float[geometry.VoxelCount];
        VbmdKernels.ToMgPerCm3(volume.Voxels.Slice(first * g.SliceLength, values.Length), values, calibration);
        return new DensityMap(geometry, values);
    }
}
