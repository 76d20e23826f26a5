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
