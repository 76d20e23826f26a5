using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Phantom;

/// <summary>
/// Reconstruction kernels as they show in the image: edge overshoot of the bone and sharp kernels at a dense rod's edge,
/// and noise whose power spectrum peaks at the kernel's frequency, measured on the difference of a noisy and a noise-free
/// rendering of the same study.
/// </summary>
public sealed class KernelTests(ITestOutputHelper output)
{
    private static readonly PhantomOptions Rods = SmallPhantoms.Options with
    {
        Matrix = 512,
        ReconstructionDiameterMm = 380,
        CalibrationPhantom = CalibrationPhantomKind.Qrm6,
        NoiseSigmaHu = 0,
        SliceThicknessMm = 2,
        SliceSpacingMm = 2,
        FromLevel = "L1",
        ToLevel = "L1",
        TopMarginMm = -8,
        BottomMarginMm = -8,
    };

    [Theory]
    [InlineData(ReconstructionKernel.Soft, 0.0, 0.01)]
    [InlineData(ReconstructionKernel.Standard, 0.0, 0.01)]
    [InlineData(ReconstructionKernel.Bone, 0.04, 0.12)]
    [InlineData(ReconstructionKernel.Sharp, 0.09, 0.22)]
    public void SharpKernelsOvershootAtADenseEdgeAndSmoothOnesDoNot(ReconstructionKernel kernel, double minimumOvershoot, double maximumOvershoot)
    {
        var study = PhantomGenerator.Generate(Rods with { Kernel = kernel });
        var rod = study.Setup.Rods.Single(r => r.Name == "HA800");
        var (radii, profile) = RadialProfile(study, rod.CentreX, rod.CentreY, rod.RadiusMm + 6);
        var inside = profile.Where((_, n) => radii[n] < rod.RadiusMm - 3).Average();
        var outside = profile.Where((_, n) => radii[n] > rod.RadiusMm + 4).Average();
        var step = inside - outside;
        var overshoot = (profile.Where((_, n) => radii[n] < rod.RadiusMm).Max() - inside) / step;
        var undershoot = (outside - profile.Where((_, n) => radii[n] > rod.RadiusMm).Min()) / step;
        output.WriteLine($"{kernel}: rod {inside:0} HU, resin {outside:0} HU, overshoot {overshoot:P1}, undershoot {undershoot:P1}");
        Assert.InRange(overshoot, minimumOvershoot, maximumOvershoot);
        Assert.InRange(undershoot, minimumOvershoot, maximumOvershoot);
    }

    [Theory]
    [InlineData(ReconstructionKernel.Soft, 0.15, 0.30)]
    [InlineData(ReconstructionKernel.Standard, 0.25, 0.38)]
    [InlineData(ReconstructionKernel.Bone, 0.37, 0.55)]
    [InlineData(ReconstructionKernel.Sharp, 0.50, 0.75)]
    public void NoisePowerPeaksAtTheKernelsFrequencyWithTheRequestedSd(ReconstructionKernel kernel, double lowPerMm, double highPerMm)
    {
        // 0.35 mm pixels put the Nyquist frequency (1.43 per mm) well above every kernel's peak.
        var options = SmallPhantoms.Options with { Kernel = kernel, Matrix = 256, ReconstructionDiameterMm = 89.6, SliceThicknessMm = 5, SliceSpacingMm = 5, NoiseSigmaHu = 60 };
        var noisy = PhantomGenerator.Generate(options);
        var clean = PhantomGenerator.Generate(options with { NoiseSigmaHu = 0 });
        var geometry = noisy.Volume.Geometry;
        const int patch = 64;
        var power = new double[patch, patch];
        var values = new List<double>();
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            for (var corner = 0; corner + patch <= geometry.SizeX; corner += patch)
            {
                var field = new double[patch, patch];
                for (var j = 0; j < patch; j++)
                {
                    for (var i = 0; i < patch; i++)
                    {
                        field[j, i] = noisy.Volume[corner + i, 96 + j, k] - clean.Volume[corner + i, 96 + j, k];
                        values.Add(field[j, i]);
                    }
                }

                AddPowerSpectrum(field, power);
            }
        }

        var sd = Math.Sqrt(values.Sum(v => v * v) / values.Count);
        var peak = RadialPeakFrequency(power, geometry.Spacing.X);
        output.WriteLine($"{kernel}: noise SD {sd:0.0} HU, NPS peak {peak:0.00} per mm");
        Assert.InRange(sd, 60 * 0.9, 60 * 1.1);
        Assert.InRange(peak, lowPerMm, highPerMm);
    }

    /// <summary>Mean HU against distance from an axis (0.25 mm bins) over the middle slice.</summary>
    private static (double[] Radii, double[] Profile) RadialProfile(PhantomStudy study, double centreX, double centreY, double reach)
    {
        var geometry = study.Volume.Geometry;
        var k = geometry.SizeZ / 2;
        var bins = (int)(reach / 0.25);
        var sums = new double[bins];
        var counts = new int[bins];
        for (var j = 0; j < geometry.SizeY; j++)
        {
            for (var i = 0; i < geometry.SizeX; i++)
            {
                var p = geometry.VoxelToPatient(i, j, k);
                var bin = (int)(Math.Sqrt(Math.Pow(p.X - centreX, 2) + Math.Pow(p.Y - centreY, 2)) / 0.25);
                if (bin < bins)
                {
                    sums[bin] += study.Volume[i, j, k];
                    counts[bin]++;
                }
            }
        }

        var used = Enumerable.Range(0, bins).Where(b => counts[b] > 0).ToArray();
        return (used.Select(b => (b + 0.5) * 0.25).ToArray(), used.Select(b => sums[b] / counts[b]).ToArray());
    }

    /// <summary>Adds |DFT|² of a square patch (separable direct transform; patches are small).</summary>
    private static void AddPowerSpectrum(double[,] field, double[,] power)
    {
        var n = field.GetLength(0);
        var (re, im) = (new double[n, n], new double[n, n]);
        for (var j = 0; j < n; j++)
        {
            for (var u = 0; u < n; u++)
            {
                for (var i = 0; i < n; i++)
                {
                    var angle = -2 * Math.PI * u * i / n;
                    re[j, u] += field[j, i] * Math.Cos(angle);
                    im[j, u] += field[j, i] * Math.Sin(angle);
                }
            }
        }

        for (var u = 0; u < n; u++)
        {
            for (var v = 0; v < n; v++)
            {
                double sumRe = 0, sumIm = 0;
                for (var j = 0; j < n; j++)
                {
                    var angle = -2 * Math.PI * v * j / n;
                    var (c, s) = (Math.Cos(angle), Math.Sin(angle));
                    sumRe += (re[j, u] * c) - (im[j, u] * s);
                    sumIm += (re[j, u] * s) + (im[j, u] * c);
                }

                power[v, u] += (sumRe * sumRe) + (sumIm * sumIm);
            }
        }
    }

    /// <summary>The radial frequency (per mm) of the largest ring-averaged power, rings 1/(n·pixel) wide.</summary>
    private static double RadialPeakFrequency(double[,] power, double pixelMm)
    {
        var n = power.GetLength(0);
        var rings = new double[n / 2];
        var counts = new int[n / 2];
        for (var v = 0; v < n; v++)
        {
            for (var u = 0; u < n; u++)
            {
                var (fu, fv) = (u <= n / 2 ? u : u - n, v <= n / 2 ? v : v - n);
                var ring = (int)Math.Round(Math.Sqrt((fu * fu) + (fv * fv)));
                if (ring > 0 && ring < n / 2)
                {
                    rings[ring] += power[v, u];
                    counts[ring]++;
                }
            }
        }

        var best = Enumerable.Range(1, (n / 2) - 1).MaxBy(ring => rings[ring] / counts[ring]);
        return best / (n * pixelMm);
    }
}
