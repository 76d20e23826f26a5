using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// One value at a time, in double: the reference <see cref="VbmdKernels"/> must agree with (tests) and beat
/// (`qct bench calibrate`). Not for production paths.
/// </summary>
public static class ScalarVbmdKernels
{
    public static void ToMgPerCm3(ReadOnlySpan<float> hu, Span<float> mgPerCm3, Calibration line)
    {
        VbmdKernels.CheckDestination(hu, mgPerCm3);
        VbmdKernels.ScaleAndOffset(line);
        for (var index = 0; index < hu.Length; index++)
        {
            mgPerCm3[index] = (float)((hu[index] - line.InterceptHu) / line.SlopeHuPerMgPerCm3);
        }
    }

    public static Moments ToMgPerCm3WithMoments(ReadOnlySpan<float> hu, Span<float> mgPerCm3, Calibration line)
    {
        ToMgPerCm3(hu, mgPerCm3, line);
        return MomentsOf(mgPerCm3[..hu.Length]);
    }

    public static Moments MomentsOf(ReadOnlySpan<float> values)
    {
        double sum = 0, sumOfSquares = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        foreach (var value in values)
        {
            sum += value;
            sumOfSquares += (double)value * value;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }

        return new Moments(values.Length, sum, sumOfSquares, min, max);
    }

    public static Moments WeightedMomentsOf(ReadOnlySpan<float> values, ReadOnlySpan<float> weights)
    {
        double weight = 0, sum = 0, sumOfSquares = 0;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (var index = 0; index < values.Length; index++)
        {
            double value = values[index];
            weight += weights[index];
            sum += weights[index] * value;
            sumOfSquares += weights[index] * value * value;
            min = Math.Min(min, values[index]);
            max = Math.Max(max, values[index]);
        }

        return new Moments(weight, sum, sumOfSquares, min, max);
    }
}
