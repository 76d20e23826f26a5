using QctPipeline.Imaging;

namespace QctPipeline.Anatomy;

/// <summary>The endplate surfaces over a body's footprint (mm along its axis; NaN off the footprint), and how many columns had to borrow theirs from neighbours.</summary>
internal sealed record EndplateSurfaceSet(float[] Lower, float[] Upper, int Columns, int MissedColumns);

/// <summary>
/// Finds each column's endplates along the body's axis. Going from mid-body towards a disc, the endplate is the
/// brightest point before the disc and the disc the darkest after it; the surface lies where the profile has fallen
/// half way between the two (the half-maximum edge, unbiased for a blurred step). Columns whose profile shows no such
/// fall take the median of their neighbours; a column further than 3 mm from its neighbours' median is taken as noise.
/// Where the scan ends before the disc, the surface is the scan's last measured plane.
/// </summary>
internal static class EndplateFinder
{
    /// <summary>A fall smaller than this (HU) from endplate to disc is no edge.</summary>
    private const double MinContrastHu = 20;

    public static EndplateSurfaceSet Find(Block smooth, byte[] footprint, int zLow, int zMid, int zHigh, bool lowerCut, bool upperCut, Func<int, double> t)
    {
        var (sizeX, sizeY) = (smooth.SizeX, smooth.SizeY);
        var lower = new float[sizeX * sizeY];
        var upper = new float[sizeX * sizeY];
        Array.Fill(lower, float.NaN);
        Array.Fill(upper, float.NaN);
        var columns = 0;
        var profile = new double[smooth.SizeZ];
        for (var y = 0; y < sizeY; y++)
        {
            for (var x = 0; x < sizeX; x++)
            {
                if (footprint[x + (sizeX * y)] == 0)
                {
                    continue;
                }

                columns++;
                for (var z = 0; z < smooth.SizeZ; z++)
                {
                    profile[z] = ColumnMean(smooth, x, y, z);
                }

                upper[x + (sizeX * y)] = (float)(upperCut ? ScanEdge(profile, zMid, +1, t) : Edge(profile, zMid, zHigh, +1, t));
                lower[x + (sizeX * y)] = (float)(lowerCut ? ScanEdge(profile, zMid, -1, t) : Edge(profile, zMid, zLow, -1, t));
            }
        }

        var missed = lower.Count(float.IsNaN) + upper.Count(float.IsNaN) - (2 * (footprint.Length - columns));
        return new EndplateSurfaceSet(Regularise(lower, footprint, sizeX, sizeY), Regularise(upper, footprint, sizeX, sizeY), columns, missed);
    }

    /// <summary>Mean of the 3 × 3 columns around (x, y) on plane z, ignoring unmeasured voxels.</summary>
    private static double ColumnMean(Block block, int x, int y, int z)
    {
        double sum = 0;
        var count = 0;
        for (var dy = -1; dy <= 1; dy++)
        {
            for (var dx = -1; dx <= 1; dx++)
            {
                var (px, py) = (x + dx, y + dy);
                if (px >= 0 && py >= 0 && px < block.SizeX && py < block.SizeY && !float.IsNaN(block[px, py, z]))
                {
                    sum += block[px, py, z];
                    count++;
                }
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>The half-maximum edge between the endplate peak (searched from <paramref name="from"/> to the disc) and the disc trough beyond it, in direction <paramref name="step"/>.</summary>
    private static double Edge(double[] profile, int from, int disc, int step, Func<int, double> t)
    {
        var peak = from;
        for (var z = from; z != disc + step; z += step)
        {
            if (!double.IsNaN(profile[z]) && (double.IsNaN(profile[peak]) || profile[z] > profile[peak]))
            {
                peak = z;
            }
        }

        var limit = Math.Clamp(disc + (2 * step), 0, profile.Length - 1);
        var trough = double.PositiveInfinity;
        for (var z = peak; z != limit + step; z += step)
        {
            if (!double.IsNaN(profile[z]))
            {
                trough = Math.Min(trough, profile[z]);
            }
        }

        if (double.IsNaN(profile[peak]) || profile[peak] - trough < MinContrastHu)
        {
            return double.NaN;
        }

        var half = (profile[peak] + trough) / 2;
        var edge = peak;
        while (edge != limit && !double.IsNaN(profile[edge + step]) && profile[edge + step] >= half)
        {
            edge += step;
        }

        if (edge == limit || double.IsNaN(profile[edge + step]))
        {
            return t(edge);
        }

        var fraction = (profile[edge] - half) / (profile[edge] - profile[edge + step]);
        return t(edge) + (fraction * (t(edge + step) - t(edge)));
    }

    /// <summary>The last measured plane from <paramref name="from"/> in direction <paramref name="step"/>: the scan's edge.</summary>
    private static double ScanEdge(double[] profile, int from, int step, Func<int, double> t)
    {
        var z = from;
        while (z + step >= 0 && z + step < profile.Length && !double.IsNaN(profile[z + step]))
        {
            z += step;
        }

        return t(z);
    }

    /// <summary>Outliers (over 3 mm from the 5 × 5 neighbourhood median) and gaps replaced by that median, then a 1.5-column Gaussian; NaN off the footprint.</summary>
    private static float[] Regularise(float[] surface, byte[] footprint, int sizeX, int sizeY)
    {
        var result = (float[])surface.Clone();
        var neighbours = new List<double>(25);
        for (var pass = 0; pass < 3; pass++)
        {
            var source = (float[])result.Clone();
            for (var y = 0; y < sizeY; y++)
            {
                for (var x = 0; x < sizeX; x++)
                {
                    var index = x + (sizeX * y);
                    if (footprint[index] == 0)
                    {
                        continue;
                    }

                    neighbours.Clear();
                    for (var dy = -2; dy <= 2; dy++)
                    {
                        for (var dx = -2; dx <= 2; dx++)
                        {
                            var (px, py) = (x + dx, y + dy);
                            if (px >= 0 && py >= 0 && px < sizeX && py < sizeY && !float.IsNaN(source[px + (sizeX * py)]))
                            {
                                neighbours.Add(source[px + (sizeX * py)]);
                            }
                        }
                    }

                    if (neighbours.Count == 0)
                    {
                        continue;
                    }

                    neighbours.Sort();
                    var median = neighbours[neighbours.Count / 2];
                    if (float.IsNaN(source[index]) || Math.Abs(source[index] - median) > 3)
                    {
                        result[index] = (float)median;
                    }
                }
            }
        }

        var smoothed = new Plane(sizeX, sizeY, result).Smooth(1.5).Values;
        for (var index = 0; index < smoothed.Length; index++)
        {
            smoothed[index] = footprint[index] == 0 ? float.NaN : smoothed[index];
        }

        return smoothed;
    }
}
