namespace QctPipeline.Domain;

public static class Statistics
{
    /// <summary>The middle value, or the mean of the two middle values for an even count.</summary>
    public static double Median(IEnumerable<double> values)
    {
        // Array.Sort rather than LINQ's Order: reference-tissue ROIs hand over millions of values, which the stable,
        // comparer-based LINQ sort took seconds over.
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>
    /// 1.4826 × the median absolute deviation from <paramref name="median"/>: the standard deviation of normally
    /// distributed values, unmoved by a few outliers.
    /// </summary>
    public static double RobustStandardDeviation(IEnumerable<double> values, double median) =>
        1.4826 * Median(values.Select(v => Math.Abs(v - median)));
}
