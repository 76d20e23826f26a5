using QctPipeline.Anatomy;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>Wall heights of a body given as a mask only (no outline from the image): a phantom's truth mask, for one.</summary>
internal static class MaskHeights
{
    /// <summary>
    /// Heights along the axis at the anterior and posterior walls, where Genant's method measures them. A high
    /// percentile of the column heights (cells of one in-plane pixel in the body's plane) is taken in a band near the anterior wall (5–20 %
    /// of the depth in from it) and one near the posterior wall (10–25 %, clear of the concave posterior wall), both
    /// within the middle half of the width, and the line through the two is extrapolated to the walls: the bands sit
    /// 0.7 depths apart, so their ratio alone showed 70 % of a wedge's loss (a 25 % wedge read 16–20 %). Not means:
    /// partly filled cells at a 1.4 mm grid's rounded edges pulled band means down by up to 6 mm on intact bodies
    /// (decision 0005); see <see cref="RimColumnPercentile"/>.
    /// </summary>
    public static VertebralHeights Measure(byte[] inside, BoxRegion box, BoxFrame frame, SlabGeometry slab, double cellMm)
    {
        var halfBandWidth = slab.WidthMm / 4;
        var cellsAcross = (int)Math.Ceiling(2 * halfBandWidth / cellMm) + 1;
        var cellsDeep = (int)Math.Ceiling(0.15 * slab.DepthMm / cellMm) + 1;
        var anteriorStart = slab.AnteriorV - (0.20 * slab.DepthMm);
        var posteriorStart = slab.PosteriorV + (0.10 * slab.DepthMm);
        var low = new double[2 * cellsAcross * cellsDeep];
        var high = new double[low.Length];
        low.AsSpan().Fill(double.PositiveInfinity);
        high.AsSpan().Fill(double.NegativeInfinity);
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    if (inside[box.Index(x, y, z)] == 0)
                    {
                        continue;
                    }

                    var u = frame.Lateral.At(x, y, z) - slab.CentreU + halfBandWidth;
                    if (u < 0 || u >= 2 * halfBandWidth)
                    {
                        continue;
                    }

                    var v = frame.Anterior.At(x, y, z);
                    int band;
                    double depthIntoBand;
                    if (v >= anteriorStart && v < anteriorStart + (0.15 * slab.DepthMm))
                    {
                        band = 0;
                        depthIntoBand = v - anteriorStart;
                    }
                    else if (v >= posteriorStart && v < posteriorStart + (0.15 * slab.DepthMm))
                    {
                        band = 1;
                        depthIntoBand = v - posteriorStart;
                    }
                    else
                    {
                        continue;
                    }

                    var cell = (band * cellsAcross * cellsDeep) + ((int)(depthIntoBand / cellMm) * cellsAcross) + (int)(u / cellMm);
                    var t = frame.Axial.At(x, y, z);
                    low[cell] = Math.Min(low[cell], t);
                    high[cell] = Math.Max(high[cell], t);
                }
            }
        }

        var anteriorBand = RimColumnHeight(low, high, 0, cellsAcross * cellsDeep, frame.AxialExtentMm);
        var posteriorBand = RimColumnHeight(low, high, cellsAcross * cellsDeep, cellsAcross * cellsDeep, frame.AxialExtentMm);
        if (anteriorBand <= 0 || posteriorBand <= 0)
        {
            return new VertebralHeights(anteriorBand, double.NaN, posteriorBand);
        }

        // Band centres lie 0.125 and 0.175 depths in from their walls, 0.7 depths apart.
        var slope = (anteriorBand - posteriorBand) / 0.7;
        var anterior = Math.Max(0, anteriorBand + (0.125 * slope));
        var posterior = Math.Max(0, posteriorBand - (0.175 * slope));
        return new VertebralHeights(anterior, double.NaN, posterior);
    }

    /// <summary>
    /// Which of a band's column heights stands for the wall's: Genant measures at the walls, where the endplates' rims are
    /// flat (the ring apophysis), and dished endplates lower the band's inner columns. With the median, dished phantom
    /// bodies read their posterior wall 1.2 mm short, intact ones a 7 % wedge and 22/30 % wedges 17/24 %; the 80th
    /// percentile reads 0 %, 23 % and 30 % (40 % reads 38 %). Partly filled cells at a coarse grid's rounded edges are
    /// short, so they still do not pull it down.
    /// </summary>
    private const double RimColumnPercentile = 0.8;

    /// <summary>The <see cref="RimColumnPercentile"/> height of the band's columns.</summary>
    private static double RimColumnHeight(double[] low, double[] high, int start, int count, double voxelExtent)
    {
        var heights = new List<double>();
        for (var cell = start; cell < start + count; cell++)
        {
            if (high[cell] >= low[cell])
            {
                heights.Add(high[cell] - low[cell] + voxelExtent);
            }
        }

        if (heights.Count == 0)
        {
            return 0;
        }

        heights.Sort();
        return heights[(int)Math.Round(RimColumnPercentile * (heights.Count - 1))];
    }

}
