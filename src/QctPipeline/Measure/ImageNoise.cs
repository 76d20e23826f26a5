using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// The image noise of the slices a vertebra spans, measured in uniform soft tissue of the same series: its SD, and how
/// much its spatial correlation (the reconstruction kernel spreads each voxel's noise to its neighbours) makes the mean
/// of N voxels vary more than σ²/N.
/// </summary>
internal static class ImageNoise
{
    /// <summary>Lags (voxels) over which the correlation is summed; a soft or standard kernel's noise decorrelates within two.</summary>
    private const int MaxLag = 2;

    /// <summary>
    /// Null when fewer than <see cref="MeasureOptions.NoiseMinBoxes"/> boxes of soft tissue fit in the slices. Boxes of
    /// <see cref="MeasureOptions.NoiseBoxVoxels"/> voxels a side (up to 4 slices deep) whose every voxel lies within
    /// ±<see cref="MeasureOptions.NoiseTissueLimitHu"/> HU (fat to muscle, no air or bone) are the candidates; the most
    /// uniform quarter of them (by variance: boxes across a fat–muscle border or a vessel wall are not noise) is pooled.
    /// Choosing the quietest boxes biases σ slightly low; the correlation factor, pooled from the same boxes, is not.
    /// </summary>
    public static NoiseEstimate? Measure(CtVolume volume, int zFrom, int zCount, MeasureOptions options)
    {
        var g = volume.Geometry;
        var side = options.NoiseBoxVoxels;
        var depth = Math.Min(4, zCount);
        var boxes = new List<BoxMoments>();
        for (var z0 = zFrom; z0 + depth <= zFrom + zCount && z0 + depth <= g.SizeZ; z0 += depth)
        {
            for (var y0 = 0; y0 + side <= g.SizeY; y0 += side)
            {
                for (var x0 = 0; x0 + side <= g.SizeX; x0 += side)
                {
                    if (Moments(volume.Voxels, g, x0, y0, z0, side, depth, options.NoiseTissueLimitHu) is { } moments)
                    {
                        boxes.Add(moments);
                    }
                }
            }
        }

        if (boxes.Count < options.NoiseMinBoxes)
        {
            return null;
        }

        var quiet = boxes.OrderBy(b => b.Variance).Take(Math.Max(options.NoiseMinBoxes, boxes.Count / 4)).ToList();
        var variance = quiet.Average(b => b.Variance);
        if (variance <= 0)
        {
            return null;
        }

        // Var(mean of N) ≈ σ²/N · Σ over all lags of ρ(lag); with a separable correlation the sum is the product of
        // each axis's 1 + 2 Σ ρ(lag). An axis with too few slices for a lag counts that lag as uncorrelated.
        var factor = 1.0;
        for (var axis = 0; axis < 3; axis++)
        {
            var sum = 0.0;
            for (var lag = 1; lag <= MaxLag; lag++)
            {
                var covariances = quiet.Select(b => b.Covariance[axis, lag - 1]).Where(double.IsFinite).ToList();
                sum += covariances.Count > 0 ? covariances.Average() / variance : 0;
            }

            factor *= Math.Max(options.NoiseMinAxisFactor, 1 + (2 * sum));
        }

        return new NoiseEstimate(Math.Sqrt(variance), factor, quiet.Count, boxes.Count);
    }

    /// <summary>One box's variance and lag covariances per axis (x, y, z; lag 1..MaxLag); null when a voxel lies outside the tissue range.</summary>
    private static BoxMoments? Moments(ReadOnlySpan<float> voxels, VolumeGeometry g, int x0, int y0, int z0, int side, int depth, double limitHu)
    {
        double sum = 0;
        for (var z = z0; z < z0 + depth; z++)
        {
            for (var y = y0; y < y0 + side; y++)
            {
                var row = voxels.Slice(x0 + (g.SizeX * (y + (g.SizeY * z))), side);
                foreach (var value in row)
                {
                    if (value < -limitHu || value > limitHu)
                    {
                        return null;
                    }

                    sum += value;
                }
            }
        }

        var count = side * side * depth;
        var mean = sum / count;
        double squares = 0;
        var covariance = new double[3, MaxLag];
        var sizes = new[] { side, side, depth };
        for (var axis = 0; axis < 3; axis++)
        {
            for (var lag = 1; lag <= MaxLag; lag++)
            {
                if (lag >= sizes[axis])
                {
                    covariance[axis, lag - 1] = double.NaN;
                    continue;
                }

                var (dx, dy, dz) = axis switch { 0 => (lag, 0, 0), 1 => (0, lag, 0), _ => (0, 0, lag) };
                double products = 0;
                long pairs = 0;
                for (var z = z0; z < z0 + depth - dz; z++)
                {
                    for (var y = y0; y < y0 + side - dy; y++)
                    {
                        for (var x = x0; x < x0 + side - dx; x++)
                        {
                            products += (voxels[x + (g.SizeX * (y + (g.SizeY * z)))] - mean) * (voxels[x + dx + (g.SizeX * (y + dy + (g.SizeY * (z + dz))))] - mean);
                            pairs++;
                        }
                    }
                }

                covariance[axis, lag - 1] = products / pairs;
            }
        }

        for (var z = z0; z < z0 + depth; z++)
        {
            for (var y = y0; y < y0 + side; y++)
            {
                foreach (var value in voxels.Slice(x0 + (g.SizeX * (y + (g.SizeY * z))), side))
                {
                    squares += (value - mean) * (value - mean);
                }
            }
        }

        return new BoxMoments(squares / count, covariance);
    }

    private sealed record BoxMoments(double Variance, double[,] Covariance);
}
