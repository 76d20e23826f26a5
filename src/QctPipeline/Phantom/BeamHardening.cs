using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace QctPipeline.Phantom;

/// <summary>
/// Beam hardening as a scanner with water pre-correction but no bone correction leaves it, from this model's own
/// spectrum: each ray's polychromatic log-attenuation through W mm of water-like tissue and B mm of cortical-bone-like
/// material, P(W, B) = −ln Σ S(E) exp(−μ_water(E) W − μ_bone(E) B) (Kramers spectrum through 7 mm Al, energy-integrating,
/// <see cref="CtNumberModel"/>'s attenuation), is linearised by the water correction (P(W, 0) maps back to W exactly) and
/// compared with the linear projection W + κB that the CT numbers assume (κ = μ_bone/μ_water of the reference spectrum,
/// 1 + HU_bone/1000). The error δ(W, B) is negative for long paths — bone reads lower behind more tissue, about 3 % per
/// 100 mm of water beyond 250 mm — and falls with B² (Brooks and Di Chiro, Phys Med Biol 1976;21:390; Herman, Phys Med
/// Biol 1979;24:81). Filtered back-projection of δ over the slice gives the familiar pattern: dark streaks along rays
/// through two dense objects (humeri, shoulders, the spine and pelvis, contrast, metal) and lowered CT numbers inside
/// and between bone in large patients. A little scatter cupping, a residual the scanner's calibration does not remove,
/// is added as −c (W/W₀)² with W₀ = 300 mm, normalised to leave a 300 mm water path unchanged on average.
/// <para>
/// Computed on a coarse grid covering the whole scan field (arms outside the display field harden the beam too):
/// 5 mm pixels, 60 views over 180°, pixel-driven projection, Ram-Lak filter; the error image is interpolated onto the
/// display grid. Fine streak detail is therefore blurred over ~5 mm.
/// </para>
/// </summary>
public sealed class BeamHardening
{
    /// <summary>Pixel of the coarse grid the error is computed on, mm.</summary>
    public const float GridPixelMm = 5f;
    private const int Views = 60;
    private const float LutWaterStepMm = 8f;
    private const int LutWaterSteps = 101;
    private const float LutBoneStepMm = 1.5f;
    private const int LutBoneSteps = 81;

    /// <summary>Scatter cupping in water-mm at a 300 mm water path: about 3 HU lower at the centre of a 300 mm patient than at its edge.</summary>
    private const double ScatterAtReferencePathMm = 0.15;
    private const double ScatterReferencePathMm = 300;

    private readonly float[] lut = new float[LutWaterSteps * LutBoneSteps];
    private readonly float[] cosines = new float[Views];
    private readonly float[] sines = new float[Views];
    /// <summary>The Ram-Lak kernel h(m) for m = −(bins − 1) … bins − 1 (zero at even m ≠ 0).</summary>
    private readonly float[] ramp;
    private readonly int bins;
    private readonly float boneHu;
    private readonly float boneRatio;

    public BeamHardening(CtNumberModel physics, double strength, double scanFieldDiameterMm)
    {
        Strength = strength;
        GridSize = (int)Math.Ceiling(scanFieldDiameterMm / GridPixelMm) + 2;
        boneHu = (float)physics.Hu(MaterialLibrary.CorticalBone);
        boneRatio = 1 + (boneHu / 1000);
        if (strength > 0)
        {
            BuildLookupTable(physics.Kvp, strength);
        }

        for (var view = 0; view < Views; view++)
        {
            var angle = view * Math.PI / Views;
            cosines[view] = (float)Math.Cos(angle);
            sines[view] = (float)Math.Sin(angle);
        }

        bins = (int)Math.Ceiling(GridSize * Math.Sqrt(2)) + 3;
        ramp = new float[(2 * bins) - 1];
        ramp[bins - 1] = 1f / (4 * GridPixelMm * GridPixelMm);
        for (var m = 1; m < bins; m += 2)
        {
            ramp[bins - 1 + m] = ramp[bins - 1 - m] = (float)(-1 / (m * m * Math.PI * Math.PI * GridPixelMm * GridPixelMm));
        }
    }

    /// <summary>1 = the full uncorrected bone hardening of this spectrum; 0 = off (a perfect bone correction).</summary>
    public double Strength { get; }

    /// <summary>Rows and columns of the coarse grid, centred on the isocentre.</summary>
    public int GridSize { get; }

    /// <summary>
    /// The error image (HU, <see cref="GridSize"/>² row-major) of one slice from its CT numbers on the coarse grid.
    /// Only pixels inside a centred square of half size <paramref name="regionHalfSize"/> pixels are reconstructed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ErrorImage(ReadOnlySpan<float> coarseHu, Span<float> errorHu, int regionHalfSize)
    {
        errorHu.Clear();
        if (Strength <= 0)
        {
            return;
        }

        var n = GridSize;
        var centre = (n - 1) / 2f;
        var half = bins / 2f;

        // Only pixels holding something are projected: their coordinates (from the centre, pixels) and path lengths.
        var xs = new float[n * n];
        var ys = new float[n * n];
        var waterPaths = new float[n * n];
        var bonePaths = new float[n * n];
        var count = 0;
        for (var j = 0; j < n; j++)
        {
            for (var i = 0; i < n; i++)
            {
                var hu = coarseHu[(j * n) + i];
                var b = Math.Max(0, hu - 100) / boneHu;
                var w = Math.Max(0, 1 + (hu / 1000) - (b * boneRatio));
                if (w > 0 || b > 0)
                {
                    (xs[count], ys[count], waterPaths[count], bonePaths[count]) = (i - centre, j - centre, w * GridPixelMm, b * GridPixelMm);
                    count++;
                }
            }
        }

        var water = new float[bins];
        var bone = new float[bins];
        var padded = new float[3 * bins];
        var filtered = new float[bins];
        var low = (int)Math.Max(0, Math.Floor(centre - regionHalfSize));
        var high = (int)Math.Min(n - 1, Math.Ceiling(centre + regionHalfSize));
        var scale = (float)(Math.PI / Views * 1000);
        for (var view = 0; view < Views; view++)
        {
            Array.Clear(water);
            Array.Clear(bone);
            var (c, s) = (cosines[view], sines[view]);
            for (var p = 0; p < count; p++)
            {
                var t = (xs[p] * c) + (ys[p] * s) + half;
                var bin = (int)t;
                var f = t - bin;
                var (w, b) = (waterPaths[p], bonePaths[p]);
                water[bin] += w * (1 - f);
                water[bin + 1] += w * f;
                bone[bin] += b * (1 - f);
                bone[bin + 1] += b * f;
            }

            for (var bin = 0; bin < bins; bin++)
            {
                padded[bins + bin] = water[bin] <= 0 && bone[bin] <= 0 ? 0 : Lookup(water[bin], bone[bin]) - Scatter(water[bin]);
            }

            // Ram-Lak filter q(i) = Δs Σ δ(j) h(i − j), as dot products with the kernel laid out over ±(bins − 1).
            for (var bin = 0; bin < bins; bin++)
            {
                filtered[bin] = TensorPrimitives.Dot(padded.AsSpan(bin + 1, ramp.Length), ramp) * GridPixelMm;
            }

            for (var j = low; j <= high; j++)
            {
                var row = errorHu.Slice(j * n, n);
                var t = ((low - centre) * c) + ((j - centre) * s) + half;
                for (var i = low; i <= high; i++, t += c)
                {
                    var bin = (int)t;
                    var f = t - bin;
                    row[i] += scale * (filtered[bin] + ((filtered[bin + 1] - filtered[bin]) * f));
                }
            }
        }
    }

    /// <summary>The water-mm error of one ray, bilinear in the table.</summary>
    private float Lookup(float waterMm, float boneMm)
    {
        var u = Math.Min(waterMm / LutWaterStepMm, LutWaterSteps - 1.001f);
        var v = Math.Min(boneMm / LutBoneStepMm, LutBoneSteps - 1.001f);
        var (iu, iv) = ((int)u, (int)v);
        var (fu, fv) = (u - iu, v - iv);
        var row = iv * LutWaterSteps;
        var a = lut[row + iu] + ((lut[row + iu + 1] - lut[row + iu]) * fu);
        var b = lut[row + LutWaterSteps + iu] + ((lut[row + LutWaterSteps + iu + 1] - lut[row + LutWaterSteps + iu]) * fu);
        return a + ((b - a) * fv);
    }

    private float Scatter(float waterMm)
    {
        var relative = waterMm / ScatterReferencePathMm;
        return (float)(Strength * ScatterAtReferencePathMm * relative * (relative - 1));
    }

    private void BuildLookupTable(double kvp, double strength)
    {
        const double step = 1.0;
        var count = (int)((kvp - 10) / step);
        var spectrum = new double[count];
        var waterMu = new double[count];
        var boneMu = new double[count];
        var total = 0.0;
        for (var e = 0; e < count; e++)
        {
            var energy = 10 + ((e + 0.5) * step);
            spectrum[e] = (kvp - energy) / energy * Math.Exp(-MaterialLibrary.AluminiumFilter.LinearAttenuation(energy) * 0.7) * energy;
            waterMu[e] = MaterialLibrary.Water.LinearAttenuation(energy) / 10;
            boneMu[e] = MaterialLibrary.CorticalBone.LinearAttenuation(energy) / 10;
            total += spectrum[e];
        }

        double Projection(double w, double b)
        {
            var sum = 0.0;
            for (var e = 0; e < count; e++)
            {
                sum += spectrum[e] / total * Math.Exp(-(waterMu[e] * w) - (boneMu[e] * b));
            }

            return -Math.Log(sum);
        }

        // Water correction: P(W, 0) tabulated every 1 mm to 3000 mm and inverted by interpolation.
        var waterProjection = new double[3001];
        for (var w = 0; w < waterProjection.Length; w++)
        {
            waterProjection[w] = Projection(w, 0);
        }

        double WaterEquivalent(double p)
        {
            var found = Array.BinarySearch(waterProjection, p);
            var index = Math.Clamp(found >= 0 ? found : ~found, 1, waterProjection.Length - 1);
            var (a, b) = (waterProjection[index - 1], waterProjection[index]);
            return index - 1 + ((p - a) / (b - a));
        }

        for (var iv = 0; iv < LutBoneSteps; iv++)
        {
            for (var iu = 0; iu < LutWaterSteps; iu++)
            {
                var (w, b) = (iu * LutWaterStepMm, iv * LutBoneStepMm);
                lut[(iv * LutWaterSteps) + iu] = (float)(strength * (WaterEquivalent(Projection(w, b)) - w - (boneRatio * b)));
            }
        }
    }
}
