using QctPipeline.Domain;
using QctPipeline.Measure;

namespace QctPipeline.Tests.Measure;

/// <summary>
/// The noise the vBMD interval uses, checked against what Gaussian noise of known σ and known correlation must give
/// (the generator's own kernel is not used: a check that shared its noise model would prove nothing).
/// </summary>
public sealed class ImageNoiseTests
{
    [Fact]
    public void White_noise_gives_its_sigma_and_a_correlation_factor_near_one()
    {
        var volume = SoftTissue(Gaussian(96 * 96 * 12, 20, seed: 1), smoothAlongRows: false);

        var noise = ImageNoise.Measure(volume, 0, 12, new MeasureOptions())!;

        // The quietest quarter of the boxes is pooled: σ comes out a little low, never far.
        Assert.InRange(noise.SigmaHu, 17.5, 20.5);
        Assert.InRange(noise.CorrelationFactor, 0.8, 1.2);
        Assert.Equal(8 * 8 * 3, noise.BoxesFound);
    }

    [Fact]
    public void Noise_averaged_over_pairs_of_neighbours_along_rows_doubles_the_variance_of_a_mean()
    {
        // x'[i] = (x[i] + x[i+1]) / √2 keeps σ and gives ρ(1) = 0.5 along rows, 0 beyond: Σρ over lags = 1 + 2·0.5 = 2.
        var volume = SoftTissue(Gaussian(96 * 96 * 12, 20, seed: 2), smoothAlongRows: true);

        var noise = ImageNoise.Measure(volume, 0, 12, new MeasureOptions())!;

        Assert.InRange(noise.CorrelationFactor, 1.7, 2.3);
    }

    [Fact]
    public void Without_soft_tissue_there_is_no_estimate()
    {
        var air = new float[96 * 96 * 12];
        Array.Fill(air, -1000f);

        Assert.Null(ImageNoise.Measure(new CtVolume(BodyErosionTests.Grid(96, 96, 12, 0.7, 0.7, 1.25), air), 0, 12, new MeasureOptions()));
    }

    private static CtVolume SoftTissue(float[] noise, bool smoothAlongRows)
    {
        var values = new float[noise.Length];
        for (var index = 0; index < values.Length; index++)
        {
            var next = smoothAlongRows && (index + 1) % 96 != 0 ? noise[index + 1] : noise[index];
            values[index] = 40 + (smoothAlongRows ? (float)((noise[index] + next) / Math.Sqrt(2)) : noise[index]);
        }

        return new CtVolume(BodyErosionTests.Grid(96, 96, 12, 0.7, 0.7, 1.25), values);
    }

    private static float[] Gaussian(int count, double sigma, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var index = 0; index < count; index++)
        {
            // Box–Muller.
            values[index] = (float)(sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }

        return values;
    }
}
