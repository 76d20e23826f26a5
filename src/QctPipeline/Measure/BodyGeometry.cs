using System.Globalization;
using QctPipeline.Anatomy;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>A coordinate along one direction of the body frame as an affine function of box indices (mm).</summary>
internal readonly record struct Projection(double Origin, double PerX, double PerY, double PerZ)
{
    public double At(int x, int y, int z) => Origin + (PerX * x) + (PerY * y) + (PerZ * z);

    public static Projection Along(Vector3 direction, Vector3 boxOriginFromCentre, VolumeGeometry g) =>
        new(boxOriginFromCentre.Dot(direction),
            g.RowDirection.Dot(direction) * g.Spacing.X,
            g.ColumnDirection.Dot(direction) * g.Spacing.Y,
            g.SliceDirection.Dot(direction) * g.Spacing.Z);

    /// <summary>Length of one voxel's projection on the direction.</summary>
    public double VoxelExtent => Math.Abs(PerX) + Math.Abs(PerY) + Math.Abs(PerZ);
}

/// <summary>
/// The body's own axes, from its centroid: Axial along the superior axis, Anterior perpendicular to it towards the
/// patient's front, Lateral completing them.
/// </summary>
internal sealed record BoxFrame(Vector3 Centroid, Vector3 SuperiorAxis, Projection Axial, Projection Anterior, Projection Lateral)
{
    /// <summary>Patient anterior in LPS: the frame's forward direction before it is made perpendicular to the body's axis.</summary>
    private static readonly Vector3 PatientAnterior = new(0, -1, 0);

    private static readonly Vector3 PatientSuperior = new(0, 0, 1);

    public double AxialExtentMm => Axial.VoxelExtent;

    /// <summary>
    /// The superior axis follows the body from slice to slice through the middle third of its slices (at least
    /// <see cref="MeasureOptions.MinSlicesForAxis"/>), where every slice cuts the whole cross-section, not an endplate:
    /// left–right by the slice centroid, front–back by the posterior wall (the mean of the most posterior voxel over
    /// the middle half of the columns). Why the wall: a wedge fracture takes the front off the slices near the
    /// compressed endplates and drags the centroids backwards there; the centroid line was 5° off on a 25 % wedge
    /// and shortened the posterior height by 4 mm. Slices that are not axial fall back to patient superior, too
    /// few slices to the slice normal, an in-plane-rotated grid to the centroid line.
    /// </summary>
    public static BoxFrame Estimate(byte[] inside, BoxRegion box, VolumeGeometry g, MeasureOptions options, List<string> warnings)
    {
        var counts = new long[box.SizeZ];
        var sumX = new double[box.SizeZ];
        var sumY = new double[box.SizeZ];
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    if (inside[box.Index(x, y, z)] != 0)
                    {
                        counts[z]++;
                        sumX[z] += x;
                        sumY[z] += y;
                    }
                }
            }
        }

        double total = counts.Sum();
        var meanZ = Enumerable.Range(0, box.SizeZ).Sum(z => (double)counts[z] * z) / total;
        var centroid = g.VoxelToPatient(box.X0 + (sumX.Sum() / total), box.Y0 + (sumY.Sum() / total), box.Z0 + meanZ);

        var occupied = Enumerable.Range(0, box.SizeZ).Where(z => counts[z] > 0).ToArray();
        var trimmed = Math.Min(occupied.Length / 3, Math.Max(0, (occupied.Length - options.MinSlicesForAxis) / 2));
        var middle = occupied[trimmed..(occupied.Length - trimmed)];
        Vector3 axis;
        if (Math.Abs(g.SliceDirection.Dot(PatientSuperior)) < Math.Cos(Math.PI / 4))
        {
            axis = PatientSuperior;
            warnings.Add("slices are not axial: body axis taken as the patient's superior direction");
        }
        else if (middle.Length < options.MinSlicesForAxis)
        {
            axis = g.SliceDirection;
            warnings.Add($"only {middle.Length} slice(s) through the middle of the body: body axis taken as the slice normal");
        }
        else
        {
            var posteriorAlongRows = g.ColumnDirection.Dot(-1 * PatientAnterior);
            var rowsFollowPatient = Math.Abs(posteriorAlongRows) >= 0.9 && Math.Abs(g.RowDirection.X) >= 0.9;
            var track = middle.Select(z => (
                X: sumX[z] / counts[z],
                Y: rowsFollowPatient ? PosteriorWall(inside, box, z, posteriorAlongRows > 0) : sumY[z] / counts[z])).ToArray();
            axis = FitLine(middle, track, box, g).Normalized();
            var tilt = Math.Acos(Math.Min(1, Math.Abs(axis.Dot(g.SliceDirection)))) * 180 / Math.PI;
            var source = rowsFollowPatient ? "centroids and posterior wall" : "centroids (grid rotated in plane)";
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"body axis from the {source} of {middle.Length} mid-body slices, {tilt:0.0}° from the slice normal"));
            if (tilt > options.AxisTiltWarningDegrees)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"body axis {tilt:0}° from the slice normal is implausible for a lumbar body: check the mask"));
            }
        }

        if (axis.Dot(PatientSuperior) < 0)
        {
            axis *= -1;
        }

        var anterior = (PatientAnterior - (axis * PatientAnterior.Dot(axis))).Normalized();
        var lateral = axis.Cross(anterior).Normalized();
        var boxOrigin = g.VoxelToPatient(box.X0, box.Y0, box.Z0) - centroid;
        return new BoxFrame(centroid, axis,
            Projection.Along(axis, boxOrigin, g), Projection.Along(anterior, boxOrigin, g), Projection.Along(lateral, boxOrigin, g));
    }

    /// <summary>The frame of a body the image outlined (its centreline axis and endplates), placed on a box of the series grid.</summary>
    public static BoxFrame FromOutline(BodyFrame frame, BoxRegion box, VolumeGeometry g)
    {
        var boxOrigin = g.VoxelToPatient(box.X0, box.Y0, box.Z0) - frame.Centre;
        return new BoxFrame(frame.Centre, frame.Axis,
            Projection.Along(frame.Axis, boxOrigin, g), Projection.Along(frame.Anterior, boxOrigin, g), Projection.Along(frame.Lateral, boxOrigin, g));
    }

    /// <summary>Mean row index of the most posterior body voxel over the middle half of the slice's occupied columns.</summary>
    private static double PosteriorWall(byte[] inside, BoxRegion box, int z, bool posteriorIsHigherRow)
    {
        int xMin = int.MaxValue, xMax = -1;
        for (var y = 0; y < box.SizeY; y++)
        {
            var row = inside.AsSpan(box.Index(0, y, z), box.SizeX);
            var first = row.IndexOfAnyExcept((byte)0);
            if (first >= 0)
            {
                xMin = Math.Min(xMin, first);
                xMax = Math.Max(xMax, row.LastIndexOfAnyExcept((byte)0));
            }
        }

        var quarter = (xMax - xMin) / 4;
        double sum = 0;
        var columns = 0;
        for (var x = xMin + quarter; x <= xMax - quarter; x++)
        {
            for (var step = 0; step < box.SizeY; step++)
            {
                var y = posteriorIsHigherRow ? box.SizeY - 1 - step : step;
                if (inside[box.Index(x, y, z)] != 0)
                {
                    sum += y;
                    columns++;
                    break;
                }
            }
        }

        return sum / columns;
    }

    /// <summary>Least-squares slope of the tracked in-plane position (patient mm) against the slice index: the axis, per slice.</summary>
    private static Vector3 FitLine(int[] slices, (double X, double Y)[] track, BoxRegion box, VolumeGeometry g)
    {
        var points = slices.Select((z, index) => g.VoxelToPatient(box.X0 + track[index].X, box.Y0 + track[index].Y, box.Z0 + z)).ToArray();
        var meanZ = slices.Average();
        var meanPoint = points.Aggregate((a, b) => a + b) * (1.0 / points.Length);
        var slope = new Vector3(0, 0, 0);
        double denominator = 0;
        for (var index = 0; index < slices.Length; index++)
        {
            slope += (points[index] - meanPoint) * (slices[index] - meanZ);
            denominator += (slices[index] - meanZ) * (slices[index] - meanZ);
        }

        return slope * (1.0 / denominator);
    }
}

/// <summary>
/// Where the slab lies (mid-height along the axis) and the body's extent within it: width along Lateral, depth along
/// Anterior (posterior edge = smallest Anterior coordinate), each grown by half a voxel's projection on both sides.
/// </summary>
internal sealed record SlabGeometry(double MidT, double CentreU, double WidthMm, double PosteriorV, double AnteriorV)
{
    public double DepthMm => AnteriorV - PosteriorV;

    public double EllipseCentreV(MeasureOptions options) => PosteriorV + (options.EllipseCentreFromPosterior * DepthMm);

    public static SlabGeometry Measure(byte[] inside, BoxRegion box, BoxFrame frame, MeasureOptions options)
    {
        double tMin = double.PositiveInfinity, tMax = double.NegativeInfinity;
        ForEachInside(inside, box, (x, y, z) =>
        {
            var t = frame.Axial.At(x, y, z);
            tMin = Math.Min(tMin, t);
            tMax = Math.Max(tMax, t);
        });

        var mid = (tMin + tMax) / 2;
        double uMin = double.PositiveInfinity, uMax = double.NegativeInfinity, vMin = double.PositiveInfinity, vMax = double.NegativeInfinity;
        ForEachInside(inside, box, (x, y, z) =>
        {
            if (Math.Abs(frame.Axial.At(x, y, z) - mid) > options.SlabThicknessMm / 2)
            {
                return;
            }

            var u = frame.Lateral.At(x, y, z);
            var v = frame.Anterior.At(x, y, z);
            uMin = Math.Min(uMin, u);
            uMax = Math.Max(uMax, u);
            vMin = Math.Min(vMin, v);
            vMax = Math.Max(vMax, v);
        });

        var halfU = frame.Lateral.VoxelExtent / 2;
        var halfV = frame.Anterior.VoxelExtent / 2;
        return new SlabGeometry(mid, (uMin + uMax) / 2, uMax - uMin + (2 * halfU), vMin - halfV, vMax + halfV);
    }

    private static void ForEachInside(byte[] inside, BoxRegion box, Action<int, int, int> visit)
    {
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    if (inside[box.Index(x, y, z)] != 0)
                    {
                        visit(x, y, z);
                    }
                }
            }
        }
    }
}
