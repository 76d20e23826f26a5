using QctPipeline.Domain;

namespace QctPipeline.Segment;

/// <summary>A box of voxels [X0, X0 + SizeX) × … on a grid.</summary>
public readonly record struct VoxelBox(int X0, int Y0, int Z0, int SizeX, int SizeY, int SizeZ)
{
    public int VoxelCount => SizeX * SizeY * SizeZ;

    public bool IsEmpty => SizeX <= 0 || SizeY <= 0 || SizeZ <= 0;
}

/// <summary>
/// Carries values between grids in any orientation by patient coordinates: each target voxel centre is located in
/// the source grid and the source interpolated trilinearly there. Used to bring a model's probabilities, computed
/// on a canonical crop, back onto the series' own (possibly oblique) grid.
/// </summary>
public static class GridMapping
{
    /// <summary>The voxels of <paramref name="target"/> whose centres can lie inside <paramref name="source"/>'s grid.</summary>
    public static VoxelBox Overlap(VolumeGeometry source, VolumeGeometry target)
    {
        double minX = double.MaxValue, minY = double.MaxValue, minZ = double.MaxValue;
        double maxX = double.MinValue, maxY = double.MinValue, maxZ = double.MinValue;
        for (var corner = 0; corner < 8; corner++)
        {
            var p = source.VoxelToPatient(
                (corner & 1) == 0 ? -0.5 : source.SizeX - 0.5,
                (corner & 2) == 0 ? -0.5 : source.SizeY - 0.5,
                (corner & 4) == 0 ? -0.5 : source.SizeZ - 0.5);
            var v = target.PatientToVoxel(p);
            (minX, maxX) = (Math.Min(minX, v.X), Math.Max(maxX, v.X));
            (minY, maxY) = (Math.Min(minY, v.Y), Math.Max(maxY, v.Y));
            (minZ, maxZ) = (Math.Min(minZ, v.Z), Math.Max(maxZ, v.Z));
        }

        static (int Start, int Size) Clamp(double low, double high, int size)
        {
            var start = Math.Max(0, (int)Math.Floor(low));
            var end = Math.Min(size - 1, (int)Math.Ceiling(high));
            return (start, Math.Max(0, end - start + 1));
        }

        var (x0, sx) = Clamp(minX, maxX, target.SizeX);
        var (y0, sy) = Clamp(minY, maxY, target.SizeY);
        var (z0, sz) = Clamp(minZ, maxZ, target.SizeZ);
        return new VoxelBox(x0, y0, z0, sx, sy, sz);
    }

    /// <summary>
    /// Samples <paramref name="values"/> (on <paramref name="source"/>) at the centres of the voxels of
    /// <paramref name="box"/> on <paramref name="target"/>, x fastest. Trilinear; within half a voxel of the source's
    /// edge the edge value holds, further out the value is <paramref name="outside"/>.
    /// </summary>
    public static float[] Sample(ReadOnlySpan<float> values, VolumeGeometry source, VolumeGeometry target, VoxelBox box, float outside)
    {
        var result = new float[box.VoxelCount];
        var origin = source.PatientToVoxel(target.VoxelToPatient(box.X0, box.Y0, box.Z0));
        var stepX = source.PatientToVoxel(target.VoxelToPatient(box.X0 + 1, box.Y0, box.Z0)) - origin;
        var stepY = source.PatientToVoxel(target.VoxelToPatient(box.X0, box.Y0 + 1, box.Z0)) - origin;
        var stepZ = source.PatientToVoxel(target.VoxelToPatient(box.X0, box.Y0, box.Z0 + 1)) - origin;
        int nx = source.SizeX, ny = source.SizeY, nz = source.SizeZ;
        var index = 0;
        for (var k = 0; k < box.SizeZ; k++)
        {
            for (var j = 0; j < box.SizeY; j++)
            {
                var row = origin + (stepY * j) + (stepZ * k);
                for (var i = 0; i < box.SizeX; i++, index++)
                {
                    double u = row.X + (stepX.X * i), v = row.Y + (stepX.Y * i), w = row.Z + (stepX.Z * i);
                    if (u < -0.5 || v < -0.5 || w < -0.5 || u > nx - 0.5 || v > ny - 0.5 || w > nz - 0.5)
                    {
                        result[index] = outside;
                        continue;
                    }

                    result[index] = Trilinear(values, nx, ny, nz, u, v, w);
                }
            }
        }

        return result;
    }

    private static float Trilinear(ReadOnlySpan<float> values, int nx, int ny, int nz, double u, double v, double w)
    {
        u = Math.Clamp(u, 0, nx - 1);
        v = Math.Clamp(v, 0, ny - 1);
        w = Math.Clamp(w, 0, nz - 1);
        int x0 = Math.Min((int)u, Math.Max(nx - 2, 0)), y0 = Math.Min((int)v, Math.Max(ny - 2, 0)), z0 = Math.Min((int)w, Math.Max(nz - 2, 0));
        int x1 = Math.Min(x0 + 1, nx - 1), y1 = Math.Min(y0 + 1, ny - 1), z1 = Math.Min(z0 + 1, nz - 1);
        double fx = u - x0, fy = v - y0, fz = w - z0;
        var slice = nx * ny;
        int r00 = (nx * y0) + (slice * z0), r10 = (nx * y1) + (slice * z0), r01 = (nx * y0) + (slice * z1), r11 = (nx * y1) + (slice * z1);
        var c00 = values[r00 + x0] + (fx * (values[r00 + x1] - values[r00 + x0]));
        var c10 = values[r10 + x0] + (fx * (values[r10 + x1] - values[r10 + x0]));
        var c01 = values[r01 + x0] + (fx * (values[r01 + x1] - values[r01 + x0]));
        var c11 = values[r11 + x0] + (fx * (values[r11 + x1] - values[r11 + x0]));
        var c0 = c00 + (fy * (c10 - c00));
        var c1 = c01 + (fy * (c11 - c01));
        return (float)(c0 + (fz * (c1 - c0)));
    }
}
