using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>A phantom found in the image: its kind, rod centres (voxel i, j; rods run along k) and why it was chosen.</summary>
public sealed record PhantomDetection(PhantomDescription Phantom, IReadOnlyList<(double I, double J)> RodCentres, double FitR, string Evidence);

/// <summary>
/// Synchronous calibration: finds a calibration phantom in the scan without being told where or which, measures its
/// rods and fits HU = β + σ·ρ.
/// <para>
/// Detection works on the mean of up to <see cref="DetectionSlices"/> slices spread over the series (rods run along
/// the table, anatomy does not, and averaging lowers noise). For each known phantom every pixel is tried as the first
/// rod of a row along the image's row direction at the phantom's pitch; a row qualifies when each rod's centre and
/// the ring around it are uniform, the rings agree (one resin body), at least all but one rod stand out from the
/// ring (an HA0 rod matches its resin) and the rod HU are linear in the known densities (r ≥ 0.9, either direction).
/// The phantom with most rods wins, then the better r; the most uniform row of that phantom gives the centres.
/// </para>
/// </summary>
public static class PhantomCalibrator
{
    private const int DetectionSlices = 24;

    /// <summary>Largest SD (HU) inside a rod or its ring in the averaged image: noise of a few HU after averaging, far below anatomy's.</summary>
    private const double UniformSdLimitHu = 20;

    /// <summary>Largest spread (HU) between the rings of one phantom's rods (they sit in one body).</summary>
    private const double RingAgreementHu = 20;

    /// <summary>
    /// The point spread function's tail carries a few per cent of a dense rod's contrast past its edge: ring limits
    /// grow by this fraction of the rod-to-ring difference.
    /// </summary>
    private const double BlurAllowance = 0.04;

    /// <summary>The ring around a rod starts this far (mm) outside its edge, past most of the blur.</summary>
    private const double RingGapMm = 3;

    /// <summary>Smallest rod-to-ring difference (HU) that counts as a visible rod.</summary>
    private const double RodContrastHu = 15;

    private const double DetectionMinimumR = 0.9;

    /// <summary>A slice is measured only where its ring HU is within this of the averaged image's (the phantom may be shorter than the scan).</summary>
    private const double SliceRingToleranceHu = 30;

    /// <summary>Searches the volume for every known phantom; null with the reason when none qualifies.</summary>
    public static (PhantomDetection? Detection, string Reason) Find(CtVolume volume)
    {
        var geometry = volume.Geometry;
        var mean = MeanImage(volume, VolumeSampling.SpreadSlices(geometry.SizeZ, DetectionSlices));
        var candidates = PhantomCatalog.All
            .Select(phantom => BestRow(mean, geometry, phantom))
            .OfType<PhantomDetection>()
            .OrderByDescending(found => found.Phantom.Rods.Count)
            .ThenByDescending(found => found.FitR)
            .ToList();
        return candidates.Count == 0
            ? (null, "no calibration phantom found: no row of uniform rods at the pitch of Mindways Model 3, QRM-BDC 3/6-rod or B-MAS 200")
            : (candidates[0], candidates[0].Evidence);
    }

    /// <summary>Finds and fits; a method-None calibration says why when there is no phantom or Ogo's rule rejects the fit.</summary>
    public static Calibration Calibrate(CtVolume volume, CalibrationOptions options)
    {
        var (detection, reason) = Find(volume);
        return detection is null ? Calibration.None(reason, []) : Fit(volume, detection, options);
    }

    /// <summary>Measures each rod in every slice where the phantom is present (median of slice means) and fits the line.</summary>
    public static Calibration Fit(CtVolume volume, PhantomDetection detection, CalibrationOptions options)
    {
        var geometry = volume.Geometry;
        var phantom = detection.Phantom;
        var (pixelX, pixelY) = (geometry.Spacing.X, geometry.Spacing.Y);
        var roi = VolumeSampling.Disc(options.RodRoiFraction * phantom.RodRadiusMm, pixelX, pixelY);
        var ring = VolumeSampling.Ring(phantom.RodRadiusMm + RingGapMm, phantom.RodRadiusMm + RingGapMm + 2, pixelX, pixelY);
        var centres = detection.RodCentres.Select(c => ((int)Math.Round(c.I), (int)Math.Round(c.J))).ToArray();
        var averaged = MeanImage(volume, VolumeSampling.SpreadSlices(geometry.SizeZ, DetectionSlices));
        var ringReference = centres.Select(c => VolumeSampling.Stats(averaged, geometry.SizeX, geometry.SizeY, c.Item1, c.Item2, ring)!.Value.Mean).Average();

        var perRod = centres.Select(_ => new List<double>()).ToArray();
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            var slice = volume.Slice(k);
            var rings = 0.0;
            foreach (var (i, j) in centres)
            {
                rings += VolumeSampling.Stats(slice, geometry.SizeX, geometry.SizeY, i, j, ring)!.Value.Mean / centres.Length;
            }

            if (Math.Abs(rings - ringReference) > SliceRingToleranceHu)
            {
                continue;
            }

            for (var rod = 0; rod < centres.Length; rod++)
            {
                perRod[rod].Add(VolumeSampling.Stats(slice, geometry.SizeX, geometry.SizeY, centres[rod].Item1, centres[rod].Item2, roi)!.Value.Mean);
            }
        }

        var warnings = new List<string>();
        if (perRod[0].Count == 0)
        {
            return Calibration.None($"{phantom.DisplayName} found but no slice shows all its rods cleanly", warnings);
        }

        var measured = perRod.Select(Statistics.Median).ToArray();
        var (intercept, slope, fit, fittedRodHu) = FitLine(phantom, measured);
        var points = phantom.Rods.Select((rod, index) => new CalibrationPoint(
            rod.Name,
            phantom.IsMindways ? PhantomCatalog.HaFromK2Hpo4(rod.NominalDensity) : rod.NominalDensity,
            phantom.Material,
            rod.NominalDensity,
            measured[index],
            fittedRodHu[index],
            roi.Length * pixelX * pixelY,
            (long)roi.Length * perRod[index].Count,
            perRod[index].Count)).ToList();

        warnings.Add(Invariant($"{phantom.DisplayName} found automatically ({detection.Evidence}); rods measured in a central ROI of {options.RodRoiFraction:0.##} × the rod radius, median over {perRod[0].Count} slices"));
        if (phantom.IsMindways)
        {
            warnings.Add("Mindways K2HPO4 line converted to HA with HA = 1.15 × K2HPO4 − 7.32 (Faulkner 1993)");
        }

        var calibration = new Calibration
        {
            Method = CalibrationMethod.Phantom,
            InterceptHu = intercept,
            SlopeHuPerMgPerCm3 = slope,
            R = fit.R,
            Reference = phantom.DisplayName,
            Points = points,
            Warnings = warnings,
        };
        return OgoRule.Apply(calibration, options);
    }

    /// <summary>
    /// HA phantoms: least squares of HU on HA density. Mindways: its own recipe — regress (HU − water-equivalent
    /// density) on K₂HPO₄, σ = slope − 0.2174, β = intercept + 999.6 — then the K₂HPO₄ line expressed in HA.
    /// Returns the HA line, the regression (for r) and each rod's HU as the regression predicts it.
    /// </summary>
    private static (double Intercept, double Slope, LinearFit Fit, double[] FittedRodHu) FitLine(PhantomDescription phantom, double[] measuredHu)
    {
        var nominal = phantom.Rods.Select(rod => rod.NominalDensity).ToArray();
        if (!phantom.IsMindways)
        {
            var haFit = LinearFit.Of(nominal, measuredHu);
            return (haFit.Intercept, haFit.Slope, haFit, [.. nominal.Select(haFit.At)]);
        }

        var water = phantom.Rods.Select(rod => rod.WaterEquivalentMgPerCm3 ?? 1000).ToArray();
        var fit = LinearFit.Of(nominal, [.. measuredHu.Select((hu, index) => hu - water[index])]);
        var k2Hpo4Slope = fit.Slope - PhantomCatalog.MindwaysSlopeCorrection;
        var k2Hpo4Intercept = fit.Intercept + PhantomCatalog.MindwaysInterceptCorrection;

        // HU = β_K + σ_K·K with K = (HA − offset) / 1.15.
        var slope = k2Hpo4Slope / PhantomCatalog.HaPerK2Hpo4;
        var intercept = k2Hpo4Intercept - slope * PhantomCatalog.HaOffsetFromK2Hpo4;
        return (intercept, slope, fit, [.. nominal.Select((k, index) => water[index] + fit.At(k))]);
    }

    private static PhantomDetection? BestRow(float[] mean, VolumeGeometry geometry, PhantomDescription phantom)
    {
        var (sizeX, sizeY) = (geometry.SizeX, geometry.SizeY);
        var (pixelX, pixelY) = (geometry.Spacing.X, geometry.Spacing.Y);
        var inner = VolumeSampling.Disc(0.5 * phantom.RodRadiusMm, pixelX, pixelY);
        var ring = VolumeSampling.Ring(phantom.RodRadiusMm + RingGapMm, phantom.RodRadiusMm + RingGapMm + 2, pixelX, pixelY);
        var innerStats = PixelStats(mean, sizeX, sizeY, inner);
        var ringStats = PixelStats(mean, sizeX, sizeY, ring);
        var count = phantom.Rods.Count;
        var pitch = phantom.RodPitchMm / pixelX;
        var nominal = phantom.Rods.Select(rod => rod.NominalDensity).ToArray();
        var water = phantom.Rods.Select(rod => rod.WaterEquivalentMgPerCm3 ?? 0).ToArray();
        var span = (int)Math.Round(pitch * (count - 1));
        (double Score, int X0, int Y, double R)? best = null;
        var rodHu = new double[count];
        for (var y = 0; y < sizeY; y++)
        {
            for (var x0 = 0; x0 + span < sizeX; x0++)
            {
                if (RowScore(x0, y) is not { } score)
                {
                    continue;
                }

                var r = DirectionFreeR(nominal, water, rodHu, phantom.IsMindways);
                if (r >= DetectionMinimumR && (best is null || score < best.Value.Score))
                {
                    best = (score, x0, y, r);
                }
            }
        }

        if (best is not { } found)
        {
            return null;
        }

        var centres = Enumerable.Range(0, count).Select(index => ((double)found.X0 + Math.Round(index * pitch), (double)found.Y)).ToList();
        var reversed = IsReversed(found.X0, found.Y);
        if (reversed)
        {
            centres.Reverse();
        }

        var centre = geometry.VoxelToPatient(centres.Average(c => c.Item1), found.Y, geometry.SizeZ / 2.0);
        var evidence = Invariant($"{count} uniform rods at {phantom.RodPitchMm:0} mm pitch centred at LPS x {centre.X:0.#}, y {centre.Y:0.#} mm, rod HU linear in density with r {found.R:0.####}{(reversed ? ", rods in reverse order" : "")}");
        return new PhantomDetection(phantom, centres, found.R, evidence);

        double? RowScore(int x0, int y)
        {
            double score = 0, ringMin = double.MaxValue, ringMax = double.MinValue, largestContrast = 0;
            var visible = 0;
            for (var index = 0; index < count; index++)
            {
                var pixel = x0 + (int)Math.Round(index * pitch) + sizeX * y;
                var (innerMean, innerSd) = innerStats[pixel];
                var (ringMean, ringSd) = ringStats[pixel];
                var contrast = Math.Abs(innerMean - ringMean);
                if (!(innerSd < UniformSdLimitHu && ringSd < UniformSdLimitHu + BlurAllowance * contrast))
                {
                    return null;
                }

                ringMin = Math.Min(ringMin, ringMean);
                ringMax = Math.Max(ringMax, ringMean);
                largestContrast = Math.Max(largestContrast, contrast);
                visible += contrast > RodContrastHu ? 1 : 0;
                rodHu[index] = innerMean;
                score += innerSd * innerSd + ringSd * ringSd;
            }

            return ringMax - ringMin <= RingAgreementHu + BlurAllowance * largestContrast && visible >= count - 1 ? score / count : null;
        }

        bool IsReversed(int x0, int y)
        {
            for (var index = 0; index < count; index++)
            {
                rodHu[index] = innerStats[x0 + (int)Math.Round(index * pitch) + sizeX * y].Mean;
            }

            return Regression(nominal, water, rodHu, phantom.IsMindways) < Regression(nominal, water, [.. rodHu.Reverse()], phantom.IsMindways);
        }
    }

    private static double DirectionFreeR(double[] nominal, double[] water, double[] rodHu, bool mindways) =>
        Math.Max(Regression(nominal, water, rodHu, mindways), Regression(nominal, water, [.. rodHu.Reverse()], mindways));

    private static double Regression(double[] nominal, double[] water, double[] rodHu, bool mindways) =>
        LinearFit.Of(nominal, mindways ? [.. rodHu.Select((hu, index) => hu - water[index])] : rodHu).R;

    /// <summary>Mean and SD at every pixel over the offsets; NaN where the neighbourhood leaves the image or the pixel cannot be a rod.</summary>
    private static (double Mean, double Sd)[] PixelStats(float[] image, int sizeX, int sizeY, (int Di, int Dj)[] offsets)
    {
        var stats = new (double Mean, double Sd)[image.Length];
        Parallel.For(0, sizeY, y =>
        {
            for (var x = 0; x < sizeX; x++)
            {
                var value = image[x + sizeX * y];

                // Rods and resin lie between about −100 and +1200 HU; skipping air, foam and dense bone saves most of the work.
                stats[x + sizeX * y] = value is > -300 and < 2000 && VolumeSampling.Stats(image, sizeX, sizeY, x, y, offsets) is { } found
                    ? found
                    : (double.NaN, double.NaN);
            }
        });
        return stats;
    }

    private static float[] MeanImage(CtVolume volume, int[] slices)
    {
        var mean = new float[volume.Geometry.SliceLength];
        foreach (var k in slices)
        {
            var slice = volume.Slice(k);
            for (var index = 0; index < mean.Length; index++)
            {
                mean[index] += slice[index] / slices.Length;
            }
        }

        return mean;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Ogo's rule on a fitted calibration: warn when r deviates from 1 by more than 2 %, reject beyond 10 %.</summary>
internal static class OgoRule
{
    public static Calibration Apply(Calibration calibration, CalibrationOptions options)
    {
        if (calibration.R is not { } r)
        {
            return calibration;
        }

        var deviation = 1 - r;
        var rText = r.ToString("0.####", CultureInfo.InvariantCulture);
        if (deviation > options.RejectBelowOneMinusR)
        {
            return Calibration.None(
                FormattableString.Invariant($"{calibration.Method} calibration ({calibration.Reference}) rejected: r {rText} deviates from 1 by more than {options.RejectBelowOneMinusR * 100:0.#} % (Ogo's rule)"),
                calibration.Warnings);
        }

        return deviation > options.WarnBelowOneMinusR
            ? calibration with { Warnings = [.. calibration.Warnings, FormattableString.Invariant($"calibration r {rText} deviates from 1 by more than {options.WarnBelowOneMinusR * 100:0.#} % (Ogo's rule): check the ROIs")] }
            : calibration;
    }
}
