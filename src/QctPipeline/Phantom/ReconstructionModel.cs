using System.Numerics.Tensors;

namespace QctPipeline.Phantom;

/// <summary>
/// What filtered back-projection with a given kernel does to an image. The signal's point spread is a sum of isotropic
/// Gaussians Σ cᵢ G(σᵢ) (cᵢ sum to 1): one for the soft and standard kernels; for the bone and sharp kernels a narrow
/// peak minus wider ones, which lifts the MTF above 1 at mid frequencies and makes edges overshoot and ring, as sharp
/// kernels do at cortex. The noise gets a band-pass power spectrum — zero at DC like a ramp filter, rolled off by the
/// kernel's apodisation — by filtering white noise with a difference of Gaussians whose spectrum peaks where the kernel's
/// noise power spectrum does. Targets (before the pixel's own blur; MTF50 in line pairs per mm, NPS peak per mm):
/// <list type="table">
/// <item>soft ≈ Siemens B30f / GE SOFT: MTF50 0.34, no overshoot, NPS peak 0.22;</item>
/// <item>standard ≈ B40f / GE STANDARD: MTF50 0.47, NPS peak 0.31 (this model's noise at 0.74 mm pixels has
/// lag-1 autocorrelation 0.26, lag 2 −0.12; the LIDC chest series, GE STANDARD at 0.70 mm, 0.29 and −0.12);</item>
/// <item>bone ≈ B60f / GE BONE: MTF50 0.67, MTF peak 1.11, 8 % edge overshoot, NPS peak 0.44;</item>
/// <item>sharp ≈ B70f / GE LUNG: MTF50 0.91, MTF peak 1.32 at 0.4 mm⁻¹, 15 % overshoot with a second ring, NPS
/// peak 0.6 (near the display grid's Nyquist frequency).</item>
/// </list>
/// MTF50 from vendor kernel tables as summarised by Verdun et al., Phys Med 2015;31:1081 (image quality in CT); NPS
/// peak frequencies across kernels from Solomon, Christianson and Samei, Med Phys 2012;39:4119.
/// </summary>
public sealed class ReconstructionModel
{
    private readonly (float Coefficient, float[] Taps)[] signalTerms;
    private readonly float[] noiseFine;
    private readonly float[] noiseCoarse;
    private readonly float noiseScale;

    public ReconstructionModel(ReconstructionKernel kernel, double pixelSpacingMm, double noiseSigmaHu)
    {
        (double Coefficient, double SigmaMm)[] psf = kernel switch
        {
            ReconstructionKernel.Soft => [(1, 0.55)],
            ReconstructionKernel.Bone => [(1.5, 0.35), (-0.5, 0.9)],
            ReconstructionKernel.Sharp => [(2.2, 0.30), (-1.45, 0.68), (0.25, 1.2)],
            _ => [(1, 0.40)],
        };
        var (fineSigma, coarseSigma) = kernel switch
        {
            ReconstructionKernel.Soft => (0.6, 1.5),
            ReconstructionKernel.Bone => (0.3, 0.75),
            ReconstructionKernel.Sharp => (0.22, 0.55),
            _ => (0.42, 1.1),
        };

        // Each term's Gaussian is the previous one blurred further (σ² adding), so all terms come from one cascade.
        signalTerms = new (float, float[])[psf.Length];
        var previous = 0.0;
        for (var term = 0; term < psf.Length; term++)
        {
            var (coefficient, sigma) = psf[term];
            signalTerms[term] = ((float)coefficient, Gaussian(Math.Sqrt((sigma * sigma) - (previous * previous)) / pixelSpacingMm));
            previous = sigma;
        }

        noiseFine = Gaussian(Math.Max(0.45, fineSigma / pixelSpacingMm));
        noiseCoarse = Gaussian(Math.Max(0.9, coarseSigma / pixelSpacingMm));
        noiseScale = noiseSigmaHu <= 0 ? 0 : (float)(noiseSigmaHu / Math.Sqrt(DifferenceOfGaussiansVariance(noiseFine, noiseCoarse)));
        Kernel = kernel;
    }

    public ReconstructionKernel Kernel { get; }

    /// <summary>DICOM ConvolutionKernel text (GE's names).</summary>
    public string DicomName => Kernel switch
    {
        ReconstructionKernel.Soft => "SOFT",
        ReconstructionKernel.Bone => "BONE",
        ReconstructionKernel.Sharp => "LUNG",
        _ => "STANDARD",
    };

    /// <summary>Applies the point spread Σ cᵢ G(σᵢ) to a slice in place.</summary>
    public void ApplyResolution(Span<float> slice, int size, Span<float> scratch, Span<float> scratch2)
    {
        var (firstCoefficient, firstTaps) = signalTerms[0];
        if (firstTaps.Length > 1)
        {
            Blur(slice, size, firstTaps, scratch);
        }

        if (signalTerms.Length == 1)
        {
            return;
        }

        // slice holds G(σ₁)x; scratch2 is carried down the cascade, each level added with its coefficient.
        var wider = scratch2[..slice.Length];
        slice.CopyTo(wider);
        TensorPrimitives.Multiply(slice, firstCoefficient, slice);
        for (var term = 1; term < signalTerms.Length; term++)
        {
            var (coefficient, taps) = signalTerms[term];
            Blur(wider, size, taps, scratch);
            TensorPrimitives.MultiplyAdd(wider, coefficient, slice, slice);
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
