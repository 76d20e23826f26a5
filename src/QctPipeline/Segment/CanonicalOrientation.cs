using QctPipeline.Domain;

namespace QctPipeline.Segment;

/// <summary>
/// Puts a volume's voxel axes along +L, +P, +S by permuting and flipping them only (no interpolation): each voxel
/// axis goes to the patient axis its direction is most along. Head-first, feet-first and prone scans then look
/// alike to a model, which is how the shipped models were trained (models/training/common.py).
/// </summary>
public static class CanonicalOrientation
{
    public static CtVolume Reorient(CtVolume volume)
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

        // Source index along voxel axis a for canonical coordinate q on the patient axis it was assigned to.
        var strides = new[] { 1, sizes[0], sizes[0] * sizes[1] };
        var voxels = new float[volume.Voxels.Length];
        var source = volume.Voxels;
        var index = 0;
        for (var z = 0; z < canonical.SizeZ; z++)
        {
            var zOffset = Offset(assignment[2], z, sizes, strides);
            for (var y = 0; y < canonical.SizeY; y++)
            {
                var yzOffset = zOffset + Offset(assignment[1], y, sizes, strides);
                for (var x = 0; x < canonical.SizeX; x++)
                {
                    voxels[index++] = source[yzOffset + Offset(assignment[0], x, sizes, strides)];
                }
            }
        }

        return new CtVolume(canonical, voxels);
    }

    private static int Offset((int Axis, int Sign) assignment, int coordinate, int[] sizes, int[] strides) =>
        (assignment.Sign > 0 ? coordinate : sizes[assignment.Axis] - 1 - coordinate) * strides[assignment.Axis];

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
