using QctPipeline.Domain;
using QctPipeline.Measure;

namespace QctPipeline.Tests.Measure;

/// <summary>The vectorized kernels against the scalar reference, on slab-sized data whose length is no multiple of a vector or chunk.</summary>
public sealed class VbmdKernelTests
{
    /// <summary>Eight 512² slices and five voxels: 2,097,157 values, two streaming chunks and a bit.</summary>
    private const int Length = (512 * 512 * 8) + 5;

    private static readonly Calibration Line = new Calibration { Method = CalibrationMethod.Phantom, InterceptHu = -12.5, SlopeHuPerMgPerCm3 = 1.37, Reference = "test" };

    /// <summary>Several streaming chunks with a short last one, and a single short chunk.</summary>
    [Theory]
    [InlineData(Length)]
    [InlineData(4099)]
    public void ConversionEqualsScalar(int length)
    {
        var hu = RandomHu(length, seed: 1);
        var vectorized = new float[length];
        var scalar = new float[length];

        VbmdKernels.ToMgPerCm3(hu, vectorized, Line);
        ScalarVbmdKernels.ToMgPerCm3(hu, scalar, Line);

        for (var index = 0; index < length; index++)
        {
            Assert.True(Math.Abs(vectorized[index] - scalar[index]) <= 1e-3 + (1e-5 * Math.Abs(scalar[index])), $"at {index}: {vectorized[index]} vs {scalar[index]}");
        }

        Assert.Equal(Line.DensityAt(hu[^1]), vectorized[^1], 3);
    }

    [Theory]
    [InlineData(Length)]
    [InlineData(4099)]
    public void FusedConversionAndMomentsEqualScalar(int length)
    {
        var hu = RandomHu(length, seed: 2);

        var vectorizedValues = new float[length];
        var scalarValues = new float[length];
        var vectorized = VbmdKernels.ToMgPerCm3WithMoments(hu, vectorizedValues, Line);
        var scalar = ScalarVbmdKernels.ToMgPerCm3WithMoments(hu, scalarValues, Line);

        AssertClose(scalar, vectorized, rangeTolerance: 1e-3);
        Assert.Equal(scalarValues[^1], vectorizedValues[^1], 1e-3);
    }

    [Fact]
    public void MomentsEqualScalar()
    {
        var values = RandomHu(Length, seed: 3);

        AssertClose(ScalarVbmdKernels.MomentsOf(values), VbmdKernels.MomentsOf(values));
    }

    [Fact]
    public void WeightedMomentsEqualScalar()
    {
        var values = RandomHu(Length, seed: 4);
        var random = new Random(4);
        var weights = new float[Length];
        for (var index = 0; index < Length; index++)
        {
            weights[index] = random.NextDouble() < 0.8 ? 1 : (float)random.NextDouble();
        }

        AssertClose(ScalarVbmdKernels.WeightedMomentsOf(values, weights), VbmdKernels.WeightedMomentsOf(values, weights));
    }

    [Fact]
    public void NonPositiveSlopeIsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => VbmdKernels.ToMgPerCm3(new float[3], new float[3], new Calibration { Method = CalibrationMethod.Phantom, InterceptHu = 0, SlopeHuPerMgPerCm3 = 0, Reference = "broken" }));

    [Fact]
    public void ShortDestinationIsRejected() =>
        Assert.Throws<ArgumentException>(() => VbmdKernels.ToMgPerCm3(new float[5], new float[4], Line));

    /// <summary>The range is exact for the same values; converted values may differ in the last bit (FMA by 1/σ vs division).</summary>
    private static void AssertClose(Moments expected, Moments actual, double rangeTolerance = 0)
    {
        Assert.Equal(expected.Weight, actual.Weight, 1e-6 * expected.Weight);
        Assert.Equal(expected.Mean, actual.Mean, 1e-3);
        Assert.Equal(expected.StandardDeviation, actual.StandardDeviation, 1e-3);
        Assert.Equal(expected.Min, actual.Min, rangeTolerance);
        Assert.Equal(expected.Max, actual.Max, rangeTolerance);
    }

    /// <summary>Air, fat, soft tissue and bone values with noise, like a CT slab.</summary>
    internal static float[] RandomHu(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        float[] tissues = [-1000, -100, 40, 180, 900];
        for (var index = 0; index < length; index++)
        {
            values[index] = tissues[random.Next(tissues.Length)] + (float)((random.NextDouble() - 0.5) * 120);
        }

        return values;
    }
}
