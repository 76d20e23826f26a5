using QctPipeline.Domain;
using QctPipeline.Imaging;
using QctPipeline.Segment;

namespace QctPipeline.Anatomy;

/// <summary>
/// From the tracked canal to the vertebral column: the body's centre in front of the canal on each slice, the mean HU of
/// the body's central cylinder along the spine, the discs in that profile (<see cref="DiscChain"/>) and the vertebrae
/// between them.
/// </summary>
public static class VertebralColumnFinder
{
    public static VertebralColumn Find(CanonicalView view, CanalTrack canal, AnatomyOptions options)
    {
        var (first, last) = canal.Extent;
        if (first < 0 || last - first < 2)
        {
            return new VertebralColumn(canal, [], [], []);
        }

        var g = view.Geometry;
        var slices = last - first + 1;
        var bodyX = new double[slices];
        var bodyY = new double[slices];
        var bodyWidth = new double[slices];
        Array.Fill(bodyX, double.NaN);
        Array.Fill(bodyY, double.NaN);
        Array.Fill(bodyWidth, double.NaN);

        // The centre moves smoothly along the spine: finding it every ~2 mm and interpolating between is enough.
        var step = Math.Max(1, (int)Math.Round(options.TrackingPixelMm / g.Spacing.Z));
        Parallel.For(0, (slices + step - 1) / step, i =>
        {
            var s = i * step;
            (bodyX[s], bodyY[s], bodyWidth[s]) = BodyCentre(view, first + s, canal.X[first + s], canal.Y[first + s], options);
        });
        var smoothingSlices = g.Spacing.Z;
        bodyX = Series.SmoothRobust(bodyX, Series.OddWindow(15 / smoothingSlices), 4 / smoothingSlices);
        bodyY = Series.SmoothRobust(bodyY, Series.OddWindow(15 / smoothingSlices), 4 / smoothingSlices);
        bodyWidth = Series.SmoothRobust(bodyWidth, Series.OddWindow(options.BodyWidthWindowMm / smoothingSlices), 4 / smoothingSlices);
        if (double.IsNaN(bodyX[0]))
        {
            return new VertebralColumn(canal, [], [], []);
        }

        var samples = new List<CentrelineSample>(slices);
        var profile = new double[slices];
        var arc = 0.0;
        for (var s = 0; s < slices; s++)
        {
            var body = g.VoxelToPatient(bodyX[s], bodyY[s], first + s);
            arc += s == 0 ? 0 : (body - samples[s - 1].Body).Length;
            samples.Add(new CentrelineSample(first + s, canal.Patient(first + s), body, arc, bodyWidth[s]));
            profile[s] = CoreMean(view, first + s, bodyX[s], bodyY[s], options.CoreRadiusMm);
        }

        var column = new VertebralColumn(canal, samples, [], []);
        var discs = DiscChain.Find([.. samples.Select(sample => sample.ArcMm)], profile, [.. samples.Select(sample => sample.BodyWidthMm)], options)
            .Select(found => new Disc(found.ArcMm, column.At(found.ArcMm).Body, found.SignalHu))
            .ToList();
        return column with { Discs = discs, Vertebrae = Vertebrae(column, discs, options) };
    }

    /// <summary>Bodies between consecutive discs, and the part of a body cut by either end of the scan when at least a third of a vertebra shows.</summary>
    private static List<ColumnVertebra> Vertebrae(VertebralColumn column, List<Disc> discs, AnatomyOptions options)
    {
        var start = column.Centreline[0].ArcMm;
        var end = column.Centreline[^1].ArcMm;
        var bounds = new List<(double From, double To, Disc? Below, Disc? Above)>();
        if (discs.Count == 0)
        {
            bounds.Add((start, end, null, null));
        }
        else
        {
            bounds.Add((start, discs[0].ArcMm, null, discs[0]));
            for (var d = 1; d < discs.Count; d++)
            {
                bounds.Add((discs[d - 1].ArcMm, discs[d].ArcMm, discs[d - 1], discs[d]));
            }

            bounds.Add((discs[^1].ArcMm, end, discs[^1], null));
        }

        return [.. bounds
            .Where(b => (b.Below is not null && b.Above is not null) || b.To - b.From >= options.MinPitchMm / 3)
            .Select(b =>
            {
                var middle = (b.From + b.To) / 2;
                var (body, canal) = column.At(middle);
                return new ColumnVertebra(body, column.Direction(middle), canal, b.Below, b.Above, b.To - b.From);
            })];
    }

    /// <summary>
    /// The centre (voxel x, y) of the vertebral body's cross-section in front of the canal: the outer edge of its cortex
    /// (<see cref="PolarContour"/>) around a start 20 mm in front of the canal, re-centred once on the outline found.
    /// Also the outline's width from left to right (mm). NaN when the edge is weak (a disc slice, or no body): the
    /// centreline is interpolated across such slices.
    /// An edge, not a filled threshold region, because an osteoporotic body's marrow reads like muscle and a noisy
    /// cortex does not close into a ring.
    /// </summary>
    private static (double X, double Y, double WidthMm) BodyCentre(CanonicalView view, int z, double canalX, double canalY, AnatomyOptions options)
    {
        var g = view.Geometry;
        var pixelMm = g.Spacing.X;
        var x0 = Math.Max(0, (int)(canalX - (45 / pixelMm)));
        var x1 = Math.Min(g.SizeX - 1, (int)(canalX + (45 / pixelMm)));
        var y0 = Math.Max(0, (int)(canalY - (75 / g.Spacing.Y)));
        var y1 = Math.Min(g.SizeY - 1, (int)canalY);
        var (width, height) = (x1 - x0 + 1, y1 - y0 + 1);
        if (width < 8 || height < 8 || Math.Abs(g.Spacing.X - g.Spacing.Y) > 0.01 * g.Spacing.X)
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        var values = new float[width * height];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                values[x + (width * y)] = view[x0 + x, y0 + y, z];
            }
        }

        var plane = new Plane(width, height, values).Smooth(options.BodyCentreSmoothingMm / pixelMm);
        var limit = canalY - y0 - (options.CanalFrontMm / pixelMm);
        var (cx, cy) = (canalX - x0, canalY - y0 - (20 / pixelMm));
        PolarContour? contour = null;
        for (var pass = 0; pass < 2; pass++)
        {
            var (ax, ay) = (cx, cy);
            contour = PolarContour.Find(plane, ax, ay, pixelMm, 48, 6, 35, 0.5, 1.5,
                (a, r) => ay + (r / pixelMm * Math.Sin(a * 2 * Math.PI / 48)) <= limit);
            (cx, cy) = contour.Centroid(pixelMm);
        }

        return contour!.MeanStrength < options.MinBodyEdgeHuPerMm
            ? (double.NaN, double.NaN, double.NaN)
            : (x0 + cx, y0 + cy, contour.RadiusAt(0) + contour.RadiusAt(Math.PI));
    }

    /// <summary>Mean HU within <paramref name="radiusMm"/> of a point of one slice (NaN when the point is off the slice).</summary>
    internal static double CoreMean(CanonicalView view, int z, double centreX, double centreY, double radiusMm)
    {
        var g = view.Geometry;
        var rx = (int)Math.Ceiling(radiusMm / g.Spacing.X);
        var ry = (int)Math.Ceiling(radiusMm / g.Spacing.Y);
        double sum = 0;
        var count = 0;
        for (var y = Math.Max(0, (int)centreY - ry); y <= Math.Min(g.SizeY - 1, (int)centreY + ry + 1); y++)
        {
            for (var x = Math.Max(0, (int)centreX - rx); x <= Math.Min(g.SizeX - 1, (int)centreX + rx + 1); x++)
            {
                var dx = (x - centreX) * g.Spacing.X;
                var dy = (y - centreY) * g.Spacing.Y;
                if ((dx * dx) + (dy * dy) <= radiusMm * radiusMm)
                {
                    sum += view[x, y, z];
                    count++;
                }
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }
}
