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
    /// three blocks qualify on every grid.
    /// </summary>
    public static Heterogeneity? Measure(byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, Vector3 spacing, double huScale, MeasureOptions options, List<string> warnings)
    {
        var block = (X: Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.X)), Y: Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.Y)), Z: Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.Z)));

        // The grid is laid at every half-block offset: a 14 mm focus against the wall of the eroded body straddled the
        // blocks of one grid (deviation 54 HU, under the 60 HU limit) and filled a block of a shifted one.
        Heterogeneity? worst = null;
        var mostBlocks = 0;
        foreach (var offset in GridOffsets(block))
        {
            var means = BlockMeans(eroded, excluded, hu, box, block, offset, out var grid);
            var judged = means.Where(m => !double.IsNaN(m)).ToList();
            mostBlocks = Math.Max(mostBlocks, judged.Count);
            if (judged.Count < 3)
            {
                continue;
            }

            var found = Judge(means, judged, grid, huScale, options);
            if (worst is null || (found.LargestFocusBlocks, found.MaxDeviationHu).CompareTo((worst.LargestFocusBlocks, worst.MaxDeviationHu)) > 0)
            {
                worst = found;
            }
        }

        if (worst is null)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"only {mostBlocks} block(s) of {options.LesionBlockMm} mm fit the eroded body: heterogeneity not judged"));
        }

        return worst;
    }

    private static IEnumerable<(int X, int Y, int Z)> GridOffsets((int X, int Y, int Z) block)
    {
        foreach (var z in block.Z > 1 ? [0, block.Z / 2] : new[] { 0 })
        {
            foreach (var y in block.Y > 1 ? [0, block.Y / 2] : new[] { 0 })
            {
                foreach (var x in block.X > 1 ? [0, block.X / 2] : new[] { 0 })
                {
                    yield return (x, y, z);
                }
            }
        }
    }

    /// <summary>Mean HU of each block of the grid shifted by <paramref name="offset"/> voxels that lies wholly inside the eroded body (NaN otherwise).</summary>
    private static double[] BlockMeans(byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, (int X, int Y, int Z) block, (int X, int Y, int Z) offset, out (int X, int Y, int Z) grid)
    {
        var (bx, by, bz) = block;
        int nx = ((box.SizeX + offset.X - 1) / bx) + 1, ny = ((box.SizeY + offset.Y - 1) / by) + 1, nz = ((box.SizeZ + offset.Z - 1) / bz) + 1;
        grid = (nx, ny, nz);
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

                    var cell = ((x + offset.X) / bx) + (nx * (((y + offset.Y) / by) + (ny * ((z + offset.Z) / bz))));
                    inside[cell]++;
                    if (excluded[index] == 0)
                    {
                        sums[cell] += hu[index];
                        counts[cell]++;
                    }
                }
            }
        }

        var capacity = bx * by * bz;
        var means = new double[sums.Length];
        Array.Fill(means, double.NaN);
        for (var cell = 0; cell < sums.Length; cell++)
        {
            if (inside[cell] == capacity && counts[cell] > 0)
            {
                means[cell] = sums[cell] / counts[cell];
            }
        }

        return means;
    }

    private static Heterogeneity Judge(double[] means, List<double> judged, (int X, int Y, int Z) grid, double huScale, MeasureOptions options)
    {
        var median = Statistics.Median(judged);
        var spread = 1.4826 * Statistics.Median(judged.Select(m => Math.Abs(m - median)).ToList());
        var limit = Math.Max(Math.Max(options.LesionBlockDeviationHu * huScale, options.LesionBlockDeviationFraction * Math.Abs(median)), options.LesionSpreadFactor * spread);
        var deviating = means.Select(m => !double.IsNaN(m) && Math.Abs(m - median) > limit ? (byte)1 : (byte)0).ToArray();
        var (_, components) = Segment.ConnectedComponents.Label(deviating, grid.X, grid.Y, grid.Z);
        var largest = components.Count == 0 ? 0 : (int)components[0].VoxelCount;
        var maxDeviation = judged.Max(m => Math.Abs(m - median));
        var isolatedFocus = maxDeviation > Math.Max(limit, options.LesionIsolatedSpreadFactor * spread);
        return new Heterogeneity(maxDeviation, median, spread, isolatedFocus ? Math.Max(largest, options.LesionMinBlocks) : largest, limit);
    }
}
