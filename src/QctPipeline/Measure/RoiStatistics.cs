using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>Statistics of gathered ROI values: moments from the vectorized kernels, medians by sorting a copy.</summary>
internal static class RoiStatistics
{
    public static ValueStatistics Of(ReadOnlySpan<float> values)
    {
        var moments = VbmdKernels.MomentsOf(values);
        var sorted = values.ToArray();
        Array.Sort(sorted);
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + (double)sorted[middle]) / 2;
        return new ValueStatistics(moments.Mean, median, moments.StandardDeviation, moments.Min, moments.Max);
    }

    /// <summary>Weighted: the median is the smallest value at which the cumulative weight reaches half the total.</summary>
    public static ValueStatistics OfWeighted(ReadOnlySpan<float> values, ReadOnlySpan<float> weights)
    {
        var moments = VbmdKernels.WeightedMomentsOf(values, weights);
        var sortedValues = values.ToArray();
        var sortedWeights = weights.ToArray();
        Array.Sort(sortedValues, sortedWeights);
        var half = moments.Weight / 2;
        double cumulative = 0;
        var median = sortedValues[^1];
        for (var index = 0; index < sortedValues.Length; index++)
        {
            cumulative += sortedWeights[index];
            if (cumulative >= half)
            {
                median = sortedValues[index];
                break;
            }
        }

        return new ValueStatistics(moments.Mean, median, moments.StandardDeviation, moments.Min, moments.Max);
    }
}
