using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>Heterogeneity of the trabecular bone in blocks of a few mm: a lytic or sclerotic focus stands out against the body's own texture.</summary>
internal static class LesionCheck
{
    /// <summary>What the blocks of the eroded body show: the largest deviation of a block's mean from the median block, the median, the blocks' own spread (1.4826 × MAD) and the largest group of face-adjacent blocks that deviate beyond the focus limit.</summary>
    public sealed record Heterogeneity(double MaxDeviationHu, double MedianBlockHu, double SpreadHu, int LargestFocusBlocks, double FocusLimitHu);

    /// <summary>
    /// Blocks of ~<see cref="MeasureOptions.LesionBlockMm"/> lying wholly inside the eroded body (bone islands left out
    /// of the means). A block deviates when its mean lies further from the median block than the larger of the absolute
    /// limit (scaled to the kVp), a fraction of the median (texture grows with density) and <see cref="MeasureOptions.LesionSpreadFactor"/>
    /// times the blocks' own spread (judged against the body's own texture: a coarse osteoporotic body, or a noisy
    /// low-dose scan, varies more from block to block). A lesion is a focus: at least <see cref="MeasureOptions.LesionMinBlocks"/>
    /// face-adjacent deviating blocks (a 10 mm metastasis covers several), or one block beyond the limit and
    /// <see cref="MeasureOptions.LesionIsolatedSpreadFactor"/> spreads (a small focus fills one block). Blocks at
    /// the ROI's edge are not judged (endplate left in them is not a lesion). Null (with a warning) when fewer than
    /// three blocks qualify.
    /// </summary>
    public static Heterogeneity? Measure(byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, Vector3 spacing, double huScale, MeasureOptions options, List<string> warnings)
    {
        var bx = Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.X));
        var by = Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.Y));
        var bz = Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.Z));
        int nx = ((box.SizeX - 1) / bx) + 1, ny = ((box.SizeY - 1) / by) + 1, nz = ((box.SizeZ - 1) / bz) + 1;
        var sums = new double[nx * ny * nz];
        var counts = new int[sums.Length];
        var inside = new int[sums.Length];
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    var index = box.Index(x, y, z);
                    if (eroded[index] == 0)
                    {
                        continue;
                    }

                    var block = (x / bx) + (nx * ((y / by) + (ny * (z / bz))));
                    inside[block]++;
                    if (excluded[index] == 0)
                    {
                        sums[block] += hu[index];
                        counts[block]++;
                    }
                }
            }
        }

        var capacity = bx * by * bz;
        var means = new double[sums.Length];
        Array.Fill(means, double.NaN);
        for (var block = 0; block < sums.Length; block++)
        {
            if (inside[block] == capacity && counts[block] > 0)
            {
                means[block] = sums[block] / counts[block];
            }
        }

        var judged = means.Where(m => !double.IsNaN(m)).ToList();
        if (judged.Count < 3)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"only {judged.Count} block(s) of {options.LesionBlockMm} mm fit the eroded body: heterogeneity not judged"));
            return null;
        }

        var median = Statistics.Median(judged);
        var spread = 1.4826 * Statistics.Median(judged.Select(m => Math.Abs(m - median)).ToList());
        var limit = Math.Max(Math.Max(options.LesionBlockDeviationHu * huScale, options.LesionBlockDeviationFraction * Math.Abs(median)), options.LesionSpreadFactor * spread);
        var deviating = means.Select(m => !double.IsNaN(m) && Math.Abs(m - median) > limit ? (byte)1 : (byte)0).ToArray();
        var (_, components) = Segment.ConnectedComponents.Label(deviating, nx, ny, nz);
        var largest = components.Count == 0 ? 0 : (int)components[0].VoxelCount;
        var maxDeviation = judged.Max(m => Math.Abs(m - median));
        var isolatedFocus = maxDeviation > Math.Max(limit, options.LesionIsolatedSpreadFactor * spread);
        return new Heterogeneity(maxDeviation, median, spread, isolatedFocus ? Math.Max(largest, options.LesionMinBlocks) : largest, limit);
    }
}
