using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// How much the eroded-body ROI's mean depends on exactly where it lies: the ROI gathered again with the body eroded
/// by <see cref="MeasureOptions.PlacementErosionStepMm"/> less and more, and moved by one voxel either way along each
/// grid axis. A repeat scan of the same patient outlines the body slightly differently; these are the outlines it
/// could plausibly have drawn, and the spread of their means is the ROI placement's part of the vBMD interval.
/// </summary>
internal static class RoiPlacement
{
    /// <summary>
    /// The mean HU of each variant ROI (NaN when a variant holds nothing). <paramref name="roi"/> is the ROI as measured
    /// (eroded, endplate partial volume and bone islands left out); <paramref name="leaveOutPartialVolume"/> removes, in
    /// place, what the endplates leave out of a differently eroded body.
    /// </summary>
    public static double[] VariantMeansHu(byte[] inside, byte[] roi, byte[] excluded, float[] hu, BoxRegion box, Vector3 spacing, Action<byte[]> leaveOutPartialVolume, MeasureOptions options)
    {
        var means = new List<double>(8);
        foreach (var radius in new[] { options.ErosionMm - options.PlacementErosionStepMm, options.ErosionMm + options.PlacementErosionStepMm })
        {
            var eroded = BodyErosion.ErodeInBox(inside, box, spacing, Math.Max(0, radius));
            leaveOutPartialVolume(eroded);
            means.Add(MeanInside(eroded, excluded, hu));
        }

        foreach (var (dx, dy, dz) in new[] { (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1) })
        {
            means.Add(ShiftedMean(roi, hu, box, dx, dy, dz));
        }

        return [.. means];
    }

    private static double MeanInside(byte[] eroded, byte[] excluded, float[] hu)
    {
        double sum = 0;
        long count = 0;
        for (var index = 0; index < eroded.Length; index++)
        {
            if (eroded[index] != 0 && excluded[index] == 0)
            {
                sum += hu[index];
                count++;
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>The mean HU under the ROI moved by (dx, dy, dz) voxels; voxels moved out of the box are dropped.</summary>
    private static double ShiftedMean(byte[] roi, float[] hu, BoxRegion box, int dx, int dy, int dz)
    {
        double sum = 0;
        long count = 0;
        for (var z = Math.Max(0, dz); z < box.SizeZ + Math.Min(0, dz); z++)
        {
            for (var y = Math.Max(0, dy); y < box.SizeY + Math.Min(0, dy); y++)
            {
                for (var x = Math.Max(0, dx); x < box.SizeX + Math.Min(0, dx); x++)
                {
                    if (roi[box.Index(x - dx, y - dy, z - dz)] != 0)
                    {
                        sum += hu[box.Index(x, y, z)];
                        count++;
                    }
                }
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }
}
