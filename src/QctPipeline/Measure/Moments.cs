namespace QctPipeline.Measure;

/// <summary>
/// Weight, weighted sum and weighted sum of squares of a set of values (accumulated in double), and their range.
/// Unweighted sets have weight 1 per value.
/// </summary>
public readonly record struct Moments(double Weight, double Sum, double SumOfSquares, float Min, float Max)
{
    public static Moments Empty => new(0, 0, 0, float.PositiveInfinity, float.NegativeInfinity);

    public double Mean => Sum / Weight;

    /// <summary>Population standard deviation (divides by the weight: with weighted voxels there is no n − 1).</summary>
    public double StandardDeviation => Math.Sqrt(Math.Max(0, (SumOfSquares / Weight) - (Mean * Mean)));

    public Moments Add(Moments other) =>
        new(Weight + other.Weight, Sum + other.Sum, SumOfSquares + other.SumOfSquares, Math.Min(Min, other.Min), Math.Max(Max, other.Max));
}
