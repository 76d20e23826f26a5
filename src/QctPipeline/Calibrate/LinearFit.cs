namespace QctPipeline.Calibrate;

/// <summary>An ordinary least-squares line y = Intercept + Slope·x and the Pearson correlation of the points.</summary>
public sealed record LinearFit(double Intercept, double Slope, double R)
{
    public double At(double x) => Intercept + Slope * x;

    /// <summary>Fits at least two points with distinct x; throws <see cref="ArgumentException"/> otherwise.</summary>
    public static LinearFit Of(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count || x.Count < 2)
        {
            throw new ArgumentException($"a line needs at least two (x, y) pairs, got {x.Count} x and {y.Count} y");
        }

        var meanX = x.Average();
        var meanY = y.Average();
        double sxx = 0, syy = 0, sxy = 0;
        for (var index = 0; index < x.Count; index++)
        {
            var dx = x[index] - meanX;
            var dy = y[index] - meanY;
            sxx += dx * dx;
            syy += dy * dy;
            sxy += dx * dy;
        }

        if (sxx == 0)
        {
            throw new ArgumentException("a line needs at least two distinct x values");
        }

        var slope = sxy / sxx;
        var r = syy == 0 ? 1 : sxy / Math.Sqrt(sxx * syy);
        return new LinearFit(meanY - slope * meanX, slope, r);
    }
}

/// <summary>
/// A weighted least-squares line y = Intercept + Slope·x through points with known standard deviations, with the
/// parameters' covariance from those deviations (not from the residuals: a fit of three points says little about its
/// own scatter) and the fit's χ² against them.
/// </summary>
public sealed record WeightedLinearFit(double Intercept, double Slope, double InterceptVariance, double SlopeVariance, double Covariance, double ChiSquare, int DegreesOfFreedom)
{
    public double At(double x) => Intercept + Slope * x;

    /// <summary>Variance of the line's value at <paramref name="x"/>.</summary>
    public double VarianceAt(double x) => InterceptVariance + (x * x * SlopeVariance) + (2 * x * Covariance);

    /// <summary>Fits at least two points with distinct x and positive deviations; throws <see cref="ArgumentException"/> otherwise.</summary>
    public static WeightedLinearFit Of(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<double> sd)
    {
        if (x.Count != y.Count || x.Count != sd.Count || x.Count < 2 || sd.Any(s => s is not > 0))
        {
            throw new ArgumentException($"a weighted line needs at least two (x, y, sd > 0) points, got {x.Count} x, {y.Count} y and {sd.Count} sd");
        }

        double s = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (var index = 0; index < x.Count; index++)
        {
            var w = 1 / (sd[index] * sd[index]);
            s += w;
            sx += w * x[index];
            sy += w * y[index];
            sxx += w * x[index] * x[index];
            sxy += w * x[index] * y[index];
        }

        var delta = (s * sxx) - (sx * sx);
        if (delta <= 1e-12 * s * sxx)
        {
            throw new ArgumentException("a weighted line needs at least two distinct x values");
        }

        var slope = ((s * sxy) - (sx * sy)) / delta;
        var intercept = ((sxx * sy) - (sx * sxy)) / delta;
        var chiSquare = 0.0;
        for (var index = 0; index < x.Count; index++)
        {
            var residual = (y[index] - intercept - (slope * x[index])) / sd[index];
            chiSquare += residual * residual;
        }

        return new WeightedLinearFit(intercept, slope, sxx / delta, s / delta, -sx / delta, chiSquare, x.Count - 2);
    }
}
