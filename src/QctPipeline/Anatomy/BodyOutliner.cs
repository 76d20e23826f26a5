using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Imaging;
using QctPipeline.Segment;

namespace QctPipeline.Anatomy;

/// <summary>
/// Outlines a vertebral body from the image once the column says where it is: the series is resampled at 1 mm in the
/// body's own frame, the cross-section is the outer edge of the cortex (<see cref="PolarContour"/>) in front of the
/// canal, and along the axis each column of the body ends where its endplate gives way to the disc (half way between
/// the endplate's peak and the disc's trough). A mask so made never crosses a disc: the discs bound the search.
/// </summary>
public static class BodyOutliner
{
    private const double StepMm = 1;
    private const double HalfWidthMm = 40;
    private const int Angles = 72;

    /// <param name="lowerDiscMm">The disc below along the axis from the frame's centre (negative), or null when the scan ends first.</param>
    /// <param name="upperDiscMm">The disc above (positive), or null when the scan ends first.</param>
    /// <param name="posteriorLimitMm">Anterior coordinate of the canal's front: the body lies in front of it.</param>
    public static BodyOutline? Outline(CtVolume volume, BodyFrame frame, double? lowerDiscMm, double? upperDiscMm, double posteriorLimitMm, AnatomyOptions options)
    {
        var warnings = new List<string>();
        var (low, high) = (lowerDiscMm ?? -options.MaxPitchMm, upperDiscMm ?? options.MaxPitchMm);
        var block = BlockGeometry(frame, low - 8, high + 8);
        var raw = GridMapping.Sample(volume.Voxels, volume.Geometry, block, new VoxelBox(0, 0, 0, block.SizeX, block.SizeY, block.SizeZ), float.NaN);
        var smooth = new Block(block.SizeX, block.SizeY, block.SizeZ, raw).Smooth(options.OutlineSmoothingMm / StepMm);
        double T(int z) => (low - 8) + (z * StepMm);
        int Z(double t) => (int)Math.Round((t - (low - 8)) / StepMm);
        var (zLow, zHigh) = (Math.Max(0, Z(low)), Math.Min(block.SizeZ - 1, Z(high)));
        var zMid = (zLow + zHigh) / 2;
        var centre = HalfWidthMm / StepMm;
        var posterior = (posteriorLimitMm + HalfWidthMm) / StepMm;

        var mid = smooth.MeanOfPlanes(zMid - 4, zMid + 4);
        if (mid.Values.All(float.IsNaN))
        {
            return null;
        }

        var fluid = new Block(block.SizeX, block.SizeY, block.SizeZ, raw).MeanOfPlanes(zMid - 4, zMid + 4).Smooth(1 / StepMm);
        var vessels = BinaryPlane.Dilate(FluidRegions.Mask(fluid, StepMm, options.FluidMinHu, options.FluidMaxSpreadHu, options.FluidWindowMm, options.FluidMinAreaMm2, (centre, centre), options.FluidCentreClearanceMm),
            fluid.Width, fluid.Height, (int)Math.Round(options.FluidMarginMm / StepMm));
        bool Allowed(double cx, double cy, int a, double r)
        {
            var angle = a * 2 * Math.PI / Angles;
            if (cy + (r / StepMm * Math.Sin(angle)) < posterior)
            {
                return false;
            }

            // Nothing at or beyond a contrast-filled vessel along the ray belongs to the body.
            for (var along = 0.0; along <= r; along += StepMm)
            {
                var (x, y) = ((int)Math.Round(cx + (along / StepMm * Math.Cos(angle))), (int)Math.Round(cy + (along / StepMm * Math.Sin(angle))));
                if (x >= 0 && y >= 0 && x < fluid.Width && y < fluid.Height && vessels[x + (fluid.Width * y)] != 0)
                {
                    return false;
                }
            }

            return true;
        }

        var section = PolarContour.Find(mid, centre, centre, StepMm, Angles, 4, 38, 0.5, 1.5, (a, r) => Allowed(centre, centre, a, r));
        var (cx, cy) = section.Centroid(StepMm);

        // A body's section is round enough that no radius exceeds its median by much (lumbar: half-width over
        // half-depth about 1.3); an outline reaching further has followed something else (prevertebral tissue, a vessel).
        var reach = options.MaxRadiusOverMedian * Statistics.Median([.. section.Radii]);
        section = PolarContour.Find(mid, cx, cy, StepMm, Angles, 4, 38, 0.5, 1.5, (a, r) => r <= reach && Allowed(cx, cy, a, r));

        var planes = new PolarContour?[block.SizeZ];
        Parallel.For(zLow, zHigh + 1, z => planes[z] = PolarContour.Find(smooth.PlaneAt(z), cx, cy, StepMm, Angles, 4, 38, 0.5, 1.5,
            (a, r) => Math.Abs(r - section.Radii[a]) <= options.OutlineSectionToleranceMm && Allowed(cx, cy, a, r)));

        var footprint = new byte[block.SizeX * block.SizeY];
        for (var y = 0; y < block.SizeY; y++)
        {
            for (var x = 0; x < block.SizeX; x++)
            {
                footprint[x + (block.SizeX * y)] = planes.Any(p => p is not null && p.Contains(x, y, StepMm)) ? (byte)1 : (byte)0;
            }
        }

        var surfaces = EndplateFinder.Find(smooth, footprint, zLow, zMid, zHigh, lowerDiscMm is null, upperDiscMm is null, T);
        var inside = new float[raw.Length];
        for (var z = zLow; z <= zHigh; z++)
        {
            var t = T(z);
            for (var y = 0; y < block.SizeY; y++)
            {
                for (var x = 0; x < block.SizeX; x++)
                {
                    var column = x + (block.SizeX * y);
                    if (planes[z]!.Contains(x, y, StepMm, options.OutlineInsetMm) && surfaces.Lower[column] <= t && t <= surfaces.Upper[column])
                    {
                        inside[smooth.Index(x, y, z)] = 1;
                    }
                }
            }
        }

        var mask = ToSeries(inside, block, volume.Geometry);
        if (mask is null)
        {
            return null;
        }

        var endplates = new EndplateSurfaces(-HalfWidthMm, -HalfWidthMm, StepMm, block.SizeX, block.SizeY, surfaces.Lower, surfaces.Upper);
        if (surfaces.MissedColumns > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{surfaces.MissedColumns} of {surfaces.Columns} columns showed no endplate edge: their endplate was taken from their neighbours"));
        }

        var cut = lowerDiscMm is null || upperDiscMm is null || TouchesSliceEnds(mask);
        return new BodyOutline(mask, frame, Percentile(surfaces.Lower, 0.1), Percentile(surfaces.Upper, 0.9),
            Heights(section, endplates, StepMm), endplates, section with { CentreX = (section.CentreX * StepMm) - HalfWidthMm, CentreY = (section.CentreY * StepMm) - HalfWidthMm },
            cut, warnings);
    }

    /// <summary>The block in the body's frame: 1 mm voxels, x along lateral, y along anterior, z along the axis from <paramref name="fromMm"/> to <paramref name="toMm"/>.</summary>
    private static VolumeGeometry BlockGeometry(BodyFrame frame, double fromMm, double toMm)
    {
        var size = (int)(2 * HalfWidthMm / StepMm) + 1;
        var sizeZ = (int)Math.Ceiling((toMm - fromMm) / StepMm) + 1;
        var origin = frame.Centre - (frame.Lateral * HalfWidthMm) - (frame.Anterior * HalfWidthMm) + (frame.Axis * fromMm);
        return new VolumeGeometry(size, size, sizeZ, origin, new Vector3(StepMm, StepMm, StepMm), frame.Lateral, frame.Anterior, frame.Axis);
    }

    /// <summary>The block's mask on the series grid (trilinear, kept above one half), its largest component with holes filled.</summary>
    private static Mask? ToSeries(float[] inside, VolumeGeometry block, VolumeGeometry series)
    {
        var box = GridMapping.Overlap(block, series);
        if (box.IsEmpty)
        {
            return null;
        }

        var sampled = GridMapping.Sample(inside, block, series, box, 0);
        var binary = new byte[sampled.Length];
        for (var index = 0; index < binary.Length; index++)
        {
            binary[index] = sampled[index] > 0.5f ? (byte)1 : (byte)0;
        }

        if (!binary.AsSpan().ContainsAnyExcept((byte)0))
        {
            return null;
        }

        var body = ConnectedComponents.FillHoles(ConnectedComponents.Largest(binary, box.SizeX, box.SizeY, box.SizeZ), box.SizeX, box.SizeY, box.SizeZ);
        var full = new byte[series.VoxelCount];
        for (var k = 0; k < box.SizeZ; k++)
        {
            for (var j = 0; j < box.SizeY; j++)
            {
                body.AsSpan(((k * box.SizeY) + j) * box.SizeX, box.SizeX)
                    .CopyTo(full.AsSpan((int)(box.X0 + (series.SizeX * (box.Y0 + j + ((long)series.SizeY * (box.Z0 + k)))))));
            }
        }

        return new Mask(series, full);
    }

    private static bool TouchesSliceEnds(Mask mask)
    {
        var g = mask.Geometry;
        return mask.Voxels[..g.SliceLength].ContainsAnyExcept((byte)0) || mask.Voxels[^g.SliceLength..].ContainsAnyExcept((byte)0);
    }

    /// <summary>
    /// Genant's three heights from the endplate surfaces: medians over columns within the middle half of the body's
    /// width, in bands 5–20 % of the depth in from the anterior wall, 10–25 % in from the posterior wall (clear of its
    /// concavity) and ±7.5 % around the middle; the wall heights extrapolated from the two wall bands.
    /// </summary>
    private static VertebralHeights Heights(PolarContour section, EndplateSurfaces surfaces, double pixelMm)
    {
        var left = section.CentreX + (section.RadiusAt(Math.PI) / pixelMm * Math.Cos(Math.PI));
        var right = section.CentreX + (section.RadiusAt(0) / pixelMm);
        var back = section.CentreY - (section.RadiusAt(3 * Math.PI / 2) / pixelMm);
        var front = section.CentreY + (section.RadiusAt(Math.PI / 2) / pixelMm);
        var (width, depth) = (right - left, front - back);
        double Band(double from, double to)
        {
            var heights = new List<double>();
            for (var j = 0; j < surfaces.Rows; j++)
            {
                var v = (j - back) / depth;
                if (v < from || v > to)
                {
                    continue;
                }

                for (var i = 0; i < surfaces.Columns; i++)
                {
                    var u = (i - left) / width;
                    var column = i + (surfaces.Columns * j);
                    if (u >= 0.25 && u <= 0.75 && !float.IsNaN(surfaces.Lower[column]) && !float.IsNaN(surfaces.Upper[column]))
                    {
                        heights.Add(surfaces.Upper[column] - surfaces.Lower[column]);
                    }
                }
            }

            return heights.Count == 0 ? double.NaN : Statistics.Median(heights);
        }

        // The band centres lie 0.875 and 0.175 of the depth forward from the posterior wall: the line through their
        // heights, carried to the walls, gives the wall heights (the bands' ratio alone shows only 70 % of a wedge).
        var (anteriorBand, middle, posteriorBand) = (Band(0.80, 0.95), Band(0.425, 0.575), Band(0.10, 0.25));
        var slope = (anteriorBand - posteriorBand) / 0.7;
        return new VertebralHeights(anteriorBand + (0.125 * slope), middle, posteriorBand - (0.175 * slope));
    }

    private static double Percentile(float[] values, double fraction)
    {
        var known = values.Where(v => !float.IsNaN(v)).Select(v => (double)v).Order().ToArray();
        return known.Length == 0 ? double.NaN : known[(int)Math.Round(fraction * (known.Length - 1))];
    }
}
