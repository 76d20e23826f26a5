namespace QctPipeline.Imaging;

/// <summary>One-dimensional signals along the spine: gap filling, robust smoothing, resampling.</summary>
public static class Series
{
    /// <summary>An odd window length of about <paramref name="samples"/> (at least 1).</summary>
    public static int OddWindow(double samples) => Math.Max(1, ((int)Math.Round(samples) / 2 * 2) + 1);

    /// <summary>
    /// Gaps (NaN) filled linearly between known samples (held flat beyond the ends), then a running median of
    /// <paramref name="medianWindow"/> samples against outliers, then Gaussian smoothing of σ = <paramref name="sigma"/>
    /// samples. All NaN when nothing is known.
    /// </summary>
    public static double[] SmoothRobust(double[] values, int medianWindow, double sigma) =>
        Gaussian(RunningMedian(FillGaps(values), medianWindow), sigma);

    public static double[] FillGaps(double[] values)
    {
        var result = (double[])values.Clone();
        var known = Enumerable.Range(0, values.Length).Where(i => !double.IsNaN(values[i])).ToArray();
        if (known.Length == 0)
        {
            return result;
        }

        for (var i = 0; i < result.Length; i++)
        {
            if (!double.IsNaN(result[i]))
            {
                continue;
            }

            var after = Array.FindIndex(known, k => k > i);
            result[i] = after < 0 ? values[known[^1]]
                : after == 0 ? values[known[0]]
                : values[known[after - 1]] + ((values[known[after]] - values[known[after - 1]]) * (i - known[after - 1]) / (known[after] - known[after - 1]));
        }

        return result;
    }

    public static double[] RunningMedian(double[] values, int window)
    {
        var half = window / 2;
        var result = new double[values.Length];
        var buffer = new List<double>(window);
        for (var i = 0; i < values.Length; i++)
        {
            buffer.Clear();
            for (var k = Math.Max(0, i - half); k <= Math.Min(values.Length - 1, i + half); k++)
            {
                buffer.Add(values[k]);
            }

            buffer.Sort();
            result[i] = buffer[buffer.Count / 2];
        }

        return result;
    }

    /// <summary>Gaussian smoothing (σ in samples, truncated at 3σ, renormalised at the ends).</summary>
    public static double[] Gaussian(double[] values, double sigma)
    {
        if (sigma <= 0)
        {
            return (double[])values.Clone();
        }

        var radius = (int)Math.Ceiling(3 * sigma);
        var result = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            double sum = 0, weight = 0;
            for (var k = Math.Max(0, i - radius); k <= Math.Min(values.Length - 1, i + radius); k++)
            {
                var w = Math.Exp(-((k - i) * (k - i)) / (2 * sigma * sigma));
                sum += w * values[k];
                weight += w;
            }

            result[i] = sum / weight;
        }

        return result;
    }

    /// <summary>Linear interpolation of (positions, values) at every <paramref name="step"/> from the first position; positions ascending.</summary>
    public static (double[] Grid, double[] Values) Resample(double[] positions, double[] values, double step)
    {
        var count = (int)Math.Floor((positions[^1] - positions[0]) / step) + 1;
        var grid = new double[count];
        var result = new double[count];
        var j = 0;
        for (var i = 0; i < count; i++)
        {
            var p = positions[0] + (i * step);
            while (j < positions.Length - 2 && positions[j + 1] < p)
            {
                j++;
            }

            var span = positions[j + 1] - positions[j];
            var t = span > 0 ? Math.Clamp((p - positions[j]) / span, 0, 1) : 0;
            grid[i] = p;
            result[i] = values[j] + (t * (values[j + 1] - values[j]));
        }

        return (grid, result);
    }
}
