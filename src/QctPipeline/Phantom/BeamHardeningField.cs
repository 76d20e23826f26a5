using QctPipeline.Domain;

namespace QctPipeline.Phantom;

/// <summary>
/// The beam-hardening error of a series (HU): <see cref="BeamHardening"/> evaluated on keyframes along the table — a
/// coarse plane painted over the whole scan field every ~5 mm (every slice when slices are 5 mm apart or more), the same
/// spacing as the coarse grid in plane — and interpolated linearly between keyframes and bilinearly in plane onto the
/// display grid. Keeps the keyframes, so truths can ask for the error at any point of the noise-free image.
/// </summary>
public sealed class BeamHardeningField
{
    private const double KeyframeSpacingMm = 5;
    private readonly BeamHardening model;
    private readonly PlanePainter painter;
    private readonly VolumeGeometry geometry;
    private readonly int slicesPerKeyframe;
    private readonly float[]?[] keyframes;

    public BeamHardeningField(BeamHardening model, PlanePainter scanFieldPainter, VolumeGeometry geometry)
    {
        this.model = model;
        painter = scanFieldPainter;
        this.geometry = geometry;
        slicesPerKeyframe = Math.Max(1, (int)Math.Round(KeyframeSpacingMm / geometry.Spacing.Z));
        keyframes = new float[]?[((geometry.SizeZ - 1 + slicesPerKeyframe - 1) / slicesPerKeyframe) + 1];
    }

    public bool Enabled => model.Strength > 0;

    /// <summary>
    /// Whether an operation changes the coarse grid's path lengths enough to paint it there: bone, metal, layered
    /// trunks and anything at least 12 mm across — not the thin vessels, which would cost more than they add.
    /// </summary>
    public static bool Hardens(PaintOperation operation)
    {
        var extent = operation.Shape.Bounds.Max - operation.Shape.Bounds.Min;
        return operation.Fill.Kind is FillKind.ShellCore or FillKind.Layered
            || operation.Fill.Tissue is TissueClass.Bone or TissueClass.Metal
            || Math.Min(extent.X, Math.Min(extent.Y, extent.Z)) >= 12;
    }

    /// <summary>Computes (in parallel) the keyframes slices first…last need that are not there yet.</summary>
    public void Prepare(int first, int last, ParallelOptions parallelism)
    {
        if (!Enabled)
        {
            return;
        }

        var missing = Enumerable.Range(first / slicesPerKeyframe, (last / slicesPerKeyframe) - (first / slicesPerKeyframe) + 2)
            .Where(q => q < keyframes.Length && keyframes[q] is null)
            .ToArray();
        Parallel.ForEach(missing, parallelism, q => keyframes[q] = Keyframe(q * slicesPerKeyframe));
    }

    /// <summary>Adds the error to slice k (display pixels, row-major).</summary>
    public void AddTo(int k, Span<float> slice)
    {
        if (!Enabled)
        {
            return;
        }

        var (lower, upper, t) = Bracket(k);
        var n = model.GridSize;
        var size = geometry.SizeX;
        var toCoarse = (float)(geometry.Spacing.X / BeamHardening.GridPixelMm);
        var offset = ((n - 1) / 2f) - ((size - 1) / 2f * toCoarse);
        for (var j = 0; j < geometry.SizeY; j++)
        {
            var v = offset + (j * toCoarse);
            for (var i = 0; i < size; i++)
            {
                var u = offset + (i * toCoarse);
                slice[(j * size) + i] += Bilinear(lower, u, v) + ((Bilinear(upper, u, v) - Bilinear(lower, u, v)) * t);
            }
        }
    }

    /// <summary>The error at a point (LPS mm) of the series; 0 outside it.</summary>
    public double At(Vector3 patient)
    {
        if (!Enabled)
        {
            return 0;
        }

        var voxel = geometry.PatientToVoxel(patient);
        if (voxel.Z < -0.5 || voxel.Z > geometry.SizeZ - 0.5)
        {
            return 0;
        }

        var k = Math.Clamp(voxel.Z, 0, geometry.SizeZ - 1);
        var q = (int)(k / slicesPerKeyframe);
        var t = (float)((k / slicesPerKeyframe) - q);
        var n = model.GridSize;
        var middle = (n - 1) / 2.0;
        var u = (float)(((voxel.X - ((geometry.SizeX - 1) / 2.0)) * geometry.Spacing.X / BeamHardening.GridPixelMm) + middle);
        var v = (float)(((voxel.Y - ((geometry.SizeY - 1) / 2.0)) * geometry.Spacing.Y / BeamHardening.GridPixelMm) + middle);
        var lower = keyframes[q] ?? throw new InvalidOperationException("beam hardening asked for before rendering");
        var upper = keyframes[Math.Min(q + 1, keyframes.Length - 1)] ?? lower;
        return Bilinear(lower, u, v) + ((Bilinear(upper, u, v) - Bilinear(lower, u, v)) * t);
    }

    private (float[] Lower, float[] Upper, float T) Bracket(int k)
    {
        var q = k / slicesPerKeyframe;
        var lower = keyframes[q]!;
        var upper = keyframes[Math.Min(q + 1, keyframes.Length - 1)] ?? lower;
        return (lower, upper, (float)(k - (q * slicesPerKeyframe)) / slicesPerKeyframe);
    }

    private float Bilinear(float[] image, float u, float v)
    {
        var n = model.GridSize;
        u = Math.Clamp(u, 0, n - 1.001f);
        v = Math.Clamp(v, 0, n - 1.001f);
        var (iu, iv) = ((int)u, (int)v);
        var (fu, fv) = (u - iu, v - iv);
        var top = image[(iv * n) + iu] + ((image[(iv * n) + iu + 1] - image[(iv * n) + iu]) * fu);
        var bottom = image[((iv + 1) * n) + iu] + ((image[((iv + 1) * n) + iu + 1] - image[((iv + 1) * n) + iu]) * fu);
        return top + ((bottom - top) * fv);
    }

    /// <summary>Paints the plane of (continuous) slice position k over the scan field and returns its error image.</summary>
    private float[] Keyframe(double k)
    {
        var n = model.GridSize;
        var coarse = BeamHardening.GridPixelMm;
        var row = ToFloat(geometry.RowDirection);
        var column = ToFloat(geometry.ColumnDirection);
        var centre = ToFloat(geometry.VoxelToPatient((geometry.SizeX - 1) / 2.0, (geometry.SizeY - 1) / 2.0, k));
        var origin = centre - ((row + column) * ((n - 1) / 2f * coarse));
        var plane = new RenderedPlane(n * n);
        painter.Paint(plane, origin, row * coarse, column * coarse, System.Numerics.Vector3.Normalize(System.Numerics.Vector3.Cross(row, column)));
        var error = new float[n * n];
        var reach = (int)Math.Ceiling(geometry.SizeX * geometry.Spacing.X / 2 / coarse) + 2;
        model.ErrorImage(plane.Plane, error, reach);
        return error;
    }

    private static System.Numerics.Vector3 ToFloat(Vector3 v) => new((float)v.X, (float)v.Y, (float)v.Z);
}
