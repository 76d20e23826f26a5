using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>
/// Synchronous calibration: finds a calibration phantom in the scan (<see cref="PhantomFinder"/>), measures its rods in
/// every slice where it lies and fits HU = β + σ·ρ.
/// </summary>
public static class PhantomCalibrator
{
    /// <summary>The ring around a rod starts this far (mm) outside its edge, past most of the blur.</summary>
    private const double RingGapMm = 3;

    /// <summary>A slice is measured only where its ring HU is within this of the detection slab's (the phantom may be shorter than the scan).</summary>
    private const double SliceRingToleranceHu = 30;

    /// <summary>Slabs this far (mm) above and below the detection slab re-find the rods, so a phantom yawed on the table is followed along z.</summary>
    private const double DriftProbeMm = 60;

    private const double ProbeSlabHalfMm = 5;

    /// <summary>Drift (mm per 100 mm along z) worth a warning: a rod then leaves its ROI within the series unless followed.</summary>
    private const double DriftWarningMmPer100Mm = 0.5;

    /// <summary>A rod re-found further (mm) than this from where it was is not the same rod: no drift is taken from that slab.</summary>
    private const double DriftSearchMm = 5;

    /// <summary>Rods re-found in a probe slab needed before its drift counts.</summary>
    private const int MinimumRodsFollowed = 3;



    /// <summary>Finds and fits; a method-None calibration says why when there is no phantom or Ogo's rule rejects the fit.</summary>
    /// <param name="kvp">The series' tube voltage when stated (helps tell phantoms apart).</param>
    public static Calibration Calibrate(CtVolume volume, double? kvp, CalibrationOptions options)
    {
        var (detection, reason) = PhantomFinder.Find(volume, kvp);
        return detection is null ? Calibration.None(reason, []) : Fit(volume, detection, options);
    }

    /// <summary>Measures each rod in view in every slice where the phantom lies (median of slice means) and fits the line.</summary>
    public static Calibration Fit(CtVolume volume, PhantomDetection detection, CalibrationOptions options)
    {
        var geometry = volume.Geometry;
        var phantom = detection.Phantom;
        var (pixelX, pixelY) = (geometry.Spacing.X, geometry.Spacing.Y);
        var roi = VolumeSampling.Disc(options.RodRoiFraction * phantom.RodRadiusMm, pixelX, pixelY);
        var ring = VolumeSampling.Ring(phantom.RodRadiusMm + RingGapMm, phantom.RodRadiusMm + RingGapMm + 2, pixelX, pixelY);
        var inView = Enumerable.Range(0, phantom.Rods.Count).Where(index => detection.RodCentres[index] is not null).ToArray();
        var centres = inView.Select(index => detection.RodCentres[index]!.Value).ToArray();
        var drift = Drift(volume, detection, centres);
        var ringReference = RingMean(detection.SlabMedian, geometry, centres, ring);

        var perRod = centres.Select(_ => new List<double>()).ToArray();
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            var shift = (k - detection.Slice) * geometry.Spacing.Z;
            var here = centres.Select(c => (c.I + drift.I * shift, c.J + drift.J * shift)).ToArray();
            var slice = volume.Slice(k);
            if (RingMean(slice, geometry, here, ring) is not { } rings || ringReference is not { } reference || Math.Abs(rings - reference) > SliceRingToleranceHu)
            {
                continue;
            }

            for (var rod = 0; rod < here.Length; rod++)
            {
                var (i, j) = ((int)Math.Round(here[rod].Item1), (int)Math.Round(here[rod].Item2));
                if (VolumeSampling.Stats(slice, geometry.SizeX, geometry.SizeY, i, j, roi) is { } stats)
                {
                    perRod[rod].Add(stats.Mean);
                }
            }
        }

        var warnings = new List<string>();
        if (perRod.Any(values => values.Count == 0))
        {
            return Calibration.None($"{phantom.DisplayName} found but no slice shows all its rods cleanly", warnings);
        }

        var measured = perRod.Select(Statistics.Median).ToArray();
        var rods = inView.Select(index => phantom.Rods[index]).ToArray();
        var (intercept, slope, fit, fittedRodHu) = FitLine(phantom, rods, measured);
        var points = rods.Select((rod, index) => new CalibrationPoint(
            rod.Name,
            phantom.IsMindways ? PhantomCatalog.HaFromK2Hpo4(rod.NominalDensity) : rod.NominalDensity,
            phantom.Material,
            rod.NominalDensity,
            measured[index],
            fittedRodHu[index],
            roi.Length * pixelX * pixelY,
            (long)roi.Length * perRod[index].Count,
            perRod[index].Count)).ToList();

        warnings.Add(Invariant($"{phantom.DisplayName} found automatically ({detection.Evidence}); rods measured in a central ROI of {options.RodRoiFraction:0.##} × the rod radius, median over {SliceCounts(perRod)} slices"));
        var driftMm = Math.Sqrt(Math.Pow(drift.I * pixelX, 2) + Math.Pow(drift.J * pixelY, 2));
        if (driftMm * 100 >= DriftWarningMmPer100Mm)
        {
            warnings.Add(Invariant($"the phantom's rods are not parallel to the table: they drift {driftMm * 100:0.#} mm per 100 mm along z, followed slice by slice"));
        }

        if (inView.Length < phantom.Rods.Count)
        {
            var missing = phantom.Rods.Where((_, index) => detection.RodCentres[index] is null).Select(rod => rod.Name);
            warnings.Add(Invariant($"{phantom.DisplayName} partly outside the field of view: rod {string.Join(", ", missing)} not measured, line fitted on {inView.Length} of {phantom.Rods.Count} rods"));
        }

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
            Uncertainty = RodScatter(points),
            Reference = phantom.DisplayName,
            Points = points,
            Warnings = warnings,
        };
        return OgoRule.Apply(calibration, options);
    }

    /// <summary>
    /// Rod centre drift (voxels per mm along z): the rods re-found in the median of slabs <see cref="DriftProbeMm"/> above
    /// and below, each the centroid of its rod's bright (or dark) core near where it was; zero when neither slab shows them.
    /// </summary>
    private static (double I, double J) Drift(CtVolume volume, PhantomDetection detection, (double I, double J)[] centres)
    {
        var geometry = volume.Geometry;
        // Probes as far out as the series allows, up to DriftProbeMm, keeping their own 5 mm slab inside it.
        var room = Math.Min(detection.Slice, geometry.SizeZ - 1 - detection.Slice) * geometry.Spacing.Z - ProbeSlabHalfMm;
        var reach = (int)Math.Round(Math.Min(DriftProbeMm, room) / geometry.Spacing.Z);
        var radius = detection.Phantom.RodRadiusMm;
        var slopes = new List<(double I, double J)>();
        foreach (var probe in new[] { detection.Slice - reach, detection.Slice + reach })
        {
            if (reach <= 0)
            {
                continue;
            }

            var image = PhantomFinder.MedianImage(volume, [.. VolumeSampling.SlabAround(geometry, probe, ProbeSlabHalfMm)]);
            var refound = centres.Zip(centres.Select(c => PhantomFinder.Recentre(image, geometry, c, radius, DriftSearchMm)))
                .Where(pair => pair.Second is not null)
                .Select(pair => (I: pair.Second!.Value.I - pair.First.I, J: pair.Second!.Value.J - pair.First.J))
                .ToList();
            if (refound.Count >= MinimumRodsFollowed)
            {
                var dz = (probe - detection.Slice) * geometry.Spacing.Z;
                slopes.Add((Statistics.Median([.. refound.Select(m => m.I)]) / dz, Statistics.Median([.. refound.Select(m => m.J)]) / dz));
            }
        }

        return slopes.Count == 0 ? (0, 0) : (slopes.Average(s => s.I), slopes.Average(s => s.J));
    }

    private static string SliceCounts(List<double>[] perRod) =>
        perRod.Min(values => values.Count) == perRod.Max(values => values.Count)
            ? Invariant($"{perRod[0].Count}")
            : Invariant($"{perRod.Min(values => values.Count)}–{perRod.Max(values => values.Count)}");

    private static double? RingMean(ReadOnlySpan<float> slice, VolumeGeometry geometry, (double I, double J)[] centres, (int Di, int Dj)[] ring)
    {
        var sum = 0.0;
        foreach (var (i, j) in centres)
        {
            if (VolumeSampling.Stats(slice, geometry.SizeX, geometry.SizeY, (int)Math.Round(i), (int)Math.Round(j), ring) is not { } stats)
            {
                return null;
            }

            sum += stats.Mean;
        }

        return sum / centres.Length;
    }

    /// <summary>
    /// HA phantoms: least squares of HU on HA density. Mindways: its own recipe — regress (HU − water-equivalent
    /// density) on K₂HPO₄, σ = slope − 0.2174, β = intercept + 999.6 — then the K₂HPO₄ line expressed in HA.
    /// Returns the HA line, the regression (for r) and each rod's HU as the regression predicts it.
    /// </summary>
    private static (double Intercept, double Slope, LinearFit Fit, double[] FittedRodHu) FitLine(PhantomDescription phantom, PhantomRod[] rods, double[] measuredHu)
    {
        var nominal = rods.Select(rod => rod.NominalDensity).ToArray();
        var fit = LinearFit.Of(nominal, [.. measuredHu.Select((hu, index) => rods[index].RegressionHu(hu))]);
        var (intercept, slope) = PhantomFinder.HaLine(phantom, fit);
        return (intercept, slope, fit, [.. rods.Select((rod, index) => rod.HuFromRegression(fit.At(nominal[index])))]);
    }

    /// <summary>
    /// The line's uncertainty from the rods' scatter about it (ordinary least squares in HA: residual variance on n − 2
    /// degrees of freedom); null with two rods, which leave no scatter to judge by.
    /// </summary>
    private static LineUncertainty? RodScatter(IReadOnlyList<CalibrationPoint> points)
    {
        if (points.Count < 3)
        {
            return null;
        }

        var meanX = points.Average(p => p.KnownDensityMgPerCm3);
        var sxx = points.Sum(p => Math.Pow(p.KnownDensityMgPerCm3 - meanX, 2));
        var residualVariance = points.Sum(p => p.ResidualHu * p.ResidualHu) / (points.Count - 2);
        return new LineUncertainty(
            residualVariance * ((1.0 / points.Count) + (meanX * meanX / sxx)),
            residualVariance / sxx,
            -meanX * residualVariance / sxx,
            Invariant($"the scatter of {points.Count} rods about the line ({Math.Sqrt(residualVariance):0.00} HU on {points.Count - 2} degrees of freedom)"));
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
