using System.Numerics;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Phantom;

/// <summary>Reading a rendered study at points of the anatomy frame: labels and HU of the voxel that holds a point.</summary>
internal static class SpineSampling
{
    /// <summary>The voxel index holding an anatomy-frame point, or −1 outside the volume.</summary>
    public static int VoxelAt(PhantomStudy study, Vector3 anatomyPoint)
    {
        var geometry = study.Volume.Geometry;
        var patient = study.Setup.ToPatient(anatomyPoint);
        var voxel = geometry.PatientToVoxel(new Domain.Vector3(patient.X, patient.Y, patient.Z));
        var (i, j, k) = ((int)Math.Round(voxel.X), (int)Math.Round(voxel.Y), (int)Math.Round(voxel.Z));
        return i < 0 || j < 0 || k < 0 || i >= geometry.SizeX || j >= geometry.SizeY || k >= geometry.SizeZ ? -1 : i + (geometry.SizeX * (j + (geometry.SizeY * k)));
    }

    /// <summary>
    /// Length (mm) of the body label of <paramref name="v"/> along its own axis through the local point (x, y): the
    /// span between the first and last 0.1 mm step whose voxel carries the label.
    /// </summary>
    public static double LabelSpanAlongAxis(PhantomStudy study, VertebraModel v, float x, float y)
    {
        double? first = null, last = null;
        for (var z = -v.Height; z <= v.Height; z += 0.1f)
        {
            var index = VoxelAt(study, v.Frame.ToWorld(new Vector3(x, y, z)));
            if (index >= 0 && study.BodyLabels[index] == v.Code)
            {
                first ??= z;
                last = z;
            }
        }

        return first is null ? 0 : last!.Value - first.Value;
    }

    /// <summary>Length (mm) of the body label along a direction of the body's frame through the local point.</summary>
    public static double LabelSpan(PhantomStudy study, VertebraModel v, Vector3 through, Vector3 direction)
    {
        double? first = null, last = null;
        for (var t = -v.Width; t <= v.Width; t += 0.1f)
        {
            var index = VoxelAt(study, v.Frame.ToWorld(through + (direction * t)));
            if (index >= 0 && study.BodyLabels[index] == v.Code)
            {
                first ??= t;
                last = t;
            }
        }

        return first is null ? 0 : last!.Value - first.Value;
    }

    /// <summary>Voxels whose centre (anatomy frame) satisfies a predicate, as indices.</summary>
    public static List<int> VoxelsWhere(PhantomStudy study, Func<Vector3, bool> predicate)
    {
        var geometry = study.Volume.Geometry;
        var found = new List<int>();
        for (var index = 0; index < study.Volume.Voxels.Length; index++)
        {
            var p = geometry.VoxelToPatient(index % geometry.SizeX, index / geometry.SizeX % geometry.SizeY, index / geometry.SliceLength);
            if (predicate(study.Setup.ToAnatomy(new Vector3((float)p.X, (float)p.Y, (float)p.Z))))
            {
                found.Add(index);
            }
        }

        return found;
    }

    public static double MeanHu(PhantomStudy study, IEnumerable<int> voxels) => voxels.Average(index => (double)study.Volume.Voxels[index]);
}
