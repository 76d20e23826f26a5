using System.Numerics.Tensors;

namespace QctPipeline.Phantom;

/// <summary>
/// What filtered back-projection with a given kernel does to an image: blurs the signal (a Gaussian point spread;
/// the bone kernel adds edge overshoot by unsharp masking, as sharp kernels ring at cortex) and gives the noise a
/// band-pass power spectrum — zero at DC like a ramp filter, rolled off by the kernel's apodisation — by filtering
/// white noise with a difference of Gaussians. Widths are in mm: soft ≈ B30/SOFT, standard ≈ B40/STANDARD,
/// bone ≈ B70/BONE (FWHM of the point spread 1.3, 0.95 and 0.6 mm).
/// </summary>
public sealed class ReconstructionModel
{
    private readonly float[] signalKernel;
    private readonly float[] sharpenKernel;
    private readonly float sharpenAmount;
    private readonly float[] noiseFine;
    private readonly float[] noiseCoarse;
    private readonly float noiseScale;

    public ReconstructionModel(ReconstructionKernel kernel, double pixelSpacingMm, double noiseSigmaHu)
    {
        var (signalSigma, fineSigma, coarseSigma, amount) = kernel switch
        {
            ReconstructionKernel.Soft => (0.55, 0.95, 2.6, 0.0),
            ReconstructionKernel.Bone => (0.25, 0.35, 1.0, 0.7),
            _ => (0.40, 0.6, 1.8, 0.0),
        };
        signalKernel = Gaussian(signalSigma / pixelSpacingMm);
        sharpenKernel = Gaussian(0.9 / pixelSpacingMm);
        sharpenAmount = (float)amount;
        noiseFine = Gaussian(Math.Max(0.45, fineSigma / pixelSpacingMm));
        noiseCoarse = Gaussian(Math.Max(0.9, coarseSigma / pixelSpacingMm));
        noiseScale = noiseSigmaHu <= 0 ? 0 : (float)(noiseSigmaHu / Math.Sqrt(DifferenceOfGaussiansVariance(noiseFine, noiseCoarse)));
        Kernel = kernel;
    }

    public ReconstructionKernel Kernel { get; }

    /// <summary>DICOM ConvolutionKernel text.</summary>
    public string DicomName => Kernel switch
    {
        ReconstructionKernel.Soft => "SOFT",
        ReconstructionKernel.Bone => "BONE",
        _ => "STANDARD",
    };

    /// <summary>Applies the point spread (and for the bone kernel the overshoot) to a slice in place.</summary>
    public void ApplyResolution(Span<float> slice, int size, Span<float> scratch, Span<float> scratch2)
    {
        if (signalKernel.Length > 1)
        {
            Blur(slice, size, signalKernel, scratch);
        }

        if (sharpenAmount > 0)
        {
            slice.CopyTo(scratch2);
            Blur(scratch2, size, sharpenKernel, scratch);
            // slice + amount × (slice − blurred)
            TensorPrimitives.Subtract(slice, scratch2[..slice.Length], scratch2);
            TensorPrimitives.MultiplyAdd(scratch2[..slice.Length], sharpenAmount, slice, slice);
        }
    }

    /// <summary>Turns white noise into kernel-shaped noise of the requested SD (in place).</summary>
    public void ShapeNoise(Span<float> white, int size, Span<float> scratch, Span<float> coarse)
    {
        if (noiseScale == 0)
        {
            white.Clear();
            return;
        }

        white.CopyTo(coarse);
        Blur(white, size, noiseFine, scratch);
        Blur(coarse, size, noiseCoarse, scratch);
        TensorPrimitives.Subtract(white, coarse[..white.Length], white);
        TensorPrimitives.Multiply(white, noiseScale, white);
    }

    /// <summary>Normalised Gaussian taps, or a single tap when the width is below a third of a pixel.</summary>
    private static float[] Gaussian(double sigmaPixels)
    {
        if (sigmaPixels < 0.33)
        {
            return [1f];
        }

        var radius = (int)Math.Ceiling(3 * sigmaPixels);
        var taps = new float[2 * radius + 1];
        var sum = 0.0;
        for (var offset = -radius; offset <= radius; offset++)
        {
            var weight = Math.Exp(-0.5 * offset * offset / (sigmaPixels * sigmaPixels));
            taps[offset + radius] = (float)weight;
            sum += weight;
        }

        for (var index = 0; index < taps.Length; index++)
        {
            taps[index] = (float)(taps[index] / sum);
        }

        return taps;
    }

    /// <summary>Variance of (g1⊗g1 − g2⊗g2) applied to unit white noise: (Σg1²)² − 2(Σg1g2)² + (Σg2²)².</summary>
    private static double DifferenceOfGaussiansVariance(float[] fine, float[] coarse)
    {
        var fineRadius = fine.Length / 2;
        var coarseRadius = coarse.Length / 2;
        double sumFine = 0, sumCoarse = 0, sumCross = 0;
        foreach (var v in fine)
        {
            sumFine += v * v;
        }

        foreach (var v in coarse)
        {
            sumCoarse += v * v;
        }

        for (var offset = -fineRadius; offset <= fineRadius; offset++)
        {
            if (Math.Abs(offset) <= coarseRadius)
            {
                sumCross += fine[offset + fineRadius] * coarse[offset + coarseRadius];
            }
        }

        return sumFine * sumFine - 2 * sumCross * sumCross + sumCoarse * sumCoarse;
    }

    /// <summary>
    /// Separable blur with edge replication, both passes as whole-row vector multiply-adds: rows through a padded
    /// copy of each row, columns by accumulating shifted rows.
    /// </summary>
    private static void Blur(Span<float> image, int size, float[] taps, Span<float> scratch)
    {
        var radius = taps.Length / 2;
        Span<float> padded = size + 2 * radius <= 4096 ? stackalloc float[size + 2 * radius] : new float[size + 2 * radius];
        for (var row = 0; row < size; row++)
        {
            var source = image.Slice(row * size, size);
            var target = scratch.Slice(row * size, size);
            padded[..radius].Fill(source[0]);
            source.CopyTo(padded[radius..]);
            padded[(radius + size)..].Fill(source[size - 1]);
            target.Clear();
            for (var tap = 0; tap < taps.Length; tap++)
            {
                TensorPrimitives.MultiplyAdd(padded.Slice(tap, size), taps[tap], target, target);
            }
        }

        var output = image[..(size * size)];
        output.Clear();
        for (var row = 0; row < size; row++)
        {
            var target = output.Slice(row * size, size);
            for (var offset = -radius; offset <= radius; offset++)
            {
                var sourceRow = Math.Clamp(row + offset, 0, size - 1);
                TensorPrimitives.MultiplyAdd(scratch.Slice(sourceRow * size, size), taps[offset + radius], target, target);
            }
        }
    }
}
