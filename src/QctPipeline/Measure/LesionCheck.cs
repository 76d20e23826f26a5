using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>Heterogeneity of the trabecular bone in blocks of a few mm: a lytic or sclerotic focus stands out against the body's own texture.</summary>
internal static class LesionCheck
{
    /// <summary>
    /// Largest distance of a block's mean HU from the median block mean, over cubes of ~<see cref="MeasureOptions.LesionBlockMm"/>
    /// lying wholly inside the eroded body (bone islands left out of the mean). Blocks at the ROI's edge are not judged:
    /// a model's mask a slice taller than the body leaves endplate in them after the 4 mm erosion (a 200 HU block among
    /// 116 HU ones on sample patient C), which is not a lesion. Zero (with a warning) when fewer than three blocks qualify.
    /// The median block mean is returned with it: the limit grows with density.
    /// </summary>
    public static (double MaxDeviationHu, double MedianBlockHu) MaxBlockDeviation(byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, Vector3 spacing, MeasureOptions options, List<string> warnings)
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
        var means = new List<double>();
        for (var block = 0; block < sums.Length; block++)
        {
            if (inside[block] == capacity && counts[block] > 0)
            {
                means.Add(sums[block] / counts[block]);
            }
        }

        if (means.Count < 3)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"only {means.Count} block(s) of {options.LesionBlockMm} mm fit the eroded body: heterogeneity not judged"));
            return (0, double.NaN);
        }

        var median = Statistics.Median(means);
        return (means.Max(mean => Math.Abs(mean - median)), median);
    }
}
