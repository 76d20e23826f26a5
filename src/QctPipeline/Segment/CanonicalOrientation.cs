using QctPipeline.Domain;

namespace QctPipeline.Segment;

/// <summary>
/// A volume read in canonical order (x → L, y → P, z → S) through its own array: voxel (x, y, z) of
/// <see cref="Geometry"/> is the source's element <see cref="Index"/>.
/// </summary>
public sealed record CanonicalView(CtVolume Source, VolumeGeometry Geometry, long Start, long StrideX, long StrideY, long StrideZ)
{
    public long Index(int x, int y, int z) => Start + (x * StrideX) + (y * StrideY) + (z * StrideZ);

    public float this[int x, int y, int z] => Source.Voxels[(int)Index(x, y, z)];
}

/// <summary>
/// Puts a volume's voxel axes along +L, +P, +S by permuting and flipping them only (no interpolation): each voxel
/// axis goes to the patient axis its direction is most along. Head-first, feet-first and prone scans then look
/// alike to a model, which is how the shipped models were trained (models/training/common.py).
/// </summary>
public static class CanonicalOrientation
{
    public static CtVolume Reorient(CtVolume volume)
    {
        var view = View(volume);
        var canonical = view.Geometry;
        var voxels = new float[volume.Voxels.Length];
        var source = volume.Voxels;
        var index = 0;
        for (var z = 0; z < canonical.SizeZ; z++)
        {
            for (var y = 0; y < canonical.SizeY; y++)
            {
                var row = view.Index(0, y, z);
                for (var x = 0; x < canonical.SizeX; x++, row += view.StrideX)
                {
                    voxels[index++] = source[(int)row];
                }
            }
        }

        return new CtVolume(canonical, voxels);
    }

    /// <summary>
    /// The canonical grid of <paramref name="volume"/> and where each of its voxels lies in the volume's own array,
    /// without copying: the image analysis reads a series in canonical order through it.
    /// </summary>
    public static CanonicalView View(CtVolume volume)
    {
        var geometry = volume.Geometry;
        var directions = new[] { geometry.RowDirection, geometry.ColumnDirection, geometry.SliceDirection };
        var sizes = new[] { geometry.SizeX, geometry.SizeY, geometry.SizeZ };
        var spacings = new[] { geometry.Spacing.X, geometry.Spacing.Y, geometry.Spacing.Z };
        var assignment = AssignAxes(directions);

        var start = new double[3];
        for (var c = 0; c < 3; c++)
        {
            var (axis, sign) = assignment[c];
            start[axis] = sign < 0 ? sizes[axis] - 1 : 0;
        }

        var canonical = new VolumeGeometry(
            sizes[assignment[0].Axis],
            sizes[assignment[1].Axis],
            sizes[assignment[2].Axis],
            geometry.VoxelToPatient(start[0], start[1], start[2]),
            new Vector3(spacings[assignment[0].Axis], spacings[assignment[1].Axis], spacings[assignment[2].Axis]),
            directions[assignment[0].Axis] * assignment[0].Sign,
            directions[assignment[1].Axis] * assignment[1].Sign,
            directions[assignment[2].Axis] * assignment[2].Sign);

        long[] strides = [1, sizes[0], (long)sizes[0] * sizes[1]];
        var first = (long)(start[0] * strides[0]) + (long)(start[1] * strides[1]) + (long)(start[2] * strides[2]);
        long Stride(int c) => strides[assignment[c].Axis] * assignment[c].Sign;
        return new CanonicalView(volume, canonical, first, Stride(0), Stride(1), Stride(2));
    }

    /// <summary>For patient axes L, P, S: the voxel axis assigned and whether it runs the opposite way.</summary>
    private static (int Axis, int Sign)[] AssignAxes(Vector3[] directions)
    {
        static double Component(Vector3 v, int c) => c switch { 0 => v.X, 1 => v.Y, _ => v.Z };
        var assignment = new (int Axis, int Sign)[3];
        var taken = new bool[3];
        var mostDecidedFirst = Enumerable.Range(0, 3)
            .OrderByDescending(a => Enumerable.Range(0, 3).Max(c => Math.Abs(Component(directions[a], c))));
        foreach (var axis in mostDecidedFirst)
        {
            var patientAxis = Enumerable.Range(0, 3).Where(c => !taken[c]).MaxBy(c => Math.Abs(Component(directions[axis], c)));
            taken[patientAxis] = true;
            assignment[patientAxis] = (axis, Component(directions[axis], patientAxis) >= 0 ? 1 : -1);
        }

        return assignment;
    }
}
