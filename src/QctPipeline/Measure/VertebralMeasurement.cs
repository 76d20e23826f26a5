using System.Globalization;
using System.Numerics.Tensors;
using QctPipeline.Anatomy;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>A vertebral body to measure: its mask on the volume's grid and, when the image outlined it, the outline (frame, endplates, heights).</summary>
public sealed record VertebraInput(Mask Mask, BodyOutline? Outline = null)
{
    public static VertebraInput? Of(BodyOutline? outline) => outline is null ? null : new VertebraInput(outline.Mask, outline);
}

/// <summary>The Measure stage: trabecular ROIs of the chosen vertebra, vBMD, ACR category and HU screening flags.</summary>
public static class VertebralMeasurement
{
    /// <summary>
    /// Assesses each given body (null when not segmented), chooses the level (<see cref="LevelSelection"/>) and measures
    /// it. Without a calibration (null, or method none) the result is HU only (no mg/cm³, no category).
    /// <paramref name="contrastAffected"/> comes from the caller's contrast detection and marks the category. What a
    /// person should check before the figure is used (a level measured in place of L1, the two ROIs disagreeing, an
    /// implausible body) goes to <see cref="Measurement.ReviewReasons"/>.
    /// </summary>
    public static Measurement Measure(CtVolume volume, VertebraInput? l1, VertebraInput? aboveL1, VertebraInput? l2, Calibration? calibration, bool contrastAffected, MeasureOptions options)
    {
        calibration = calibration is { HasLine: true } ? calibration : null;
        if (calibration is not null)
        {
            VbmdKernels.ScaleAndOffset(calibration);
        }

        var analyses = new Dictionary<VertebralLevel, VertebralBodyAnalysis>();
        foreach (var (level, input) in new[] { (VertebralLevel.L1, l1), (VertebralLevel.AboveL1, aboveL1), (VertebralLevel.L2, l2) })
        {
            if (input is not null && VertebralBodyAnalysis.Analyze(volume, input.Mask, input.Outline, level, options) is { } analysis)
            {
                analyses[level] = analysis;
            }
        }

        var choice = LevelSelection.Choose(
            analyses.GetValueOrDefault(VertebralLevel.L1)?.Assessment,
            analyses.GetValueOrDefault(VertebralLevel.AboveL1)?.Assessment,
            analyses.GetValueOrDefault(VertebralLevel.L2)?.Assessment,
            options);
        var assessments = analyses.Values.Select(a => a.Assessment).ToArray();
        var warnings = new List<string>();
        var review = new List<string>();
        if (choice.Level != VertebralLevel.L1)
        {
            warnings.Add(choice.Reason);
            review.Add(choice.Reason);
        }

        if (calibration is null)
        {
            warnings.Add("no calibration: HU only, no vBMD or ACR category");
        }

        if (contrastAffected)
        {
            warnings.Add("IV contrast raises trabecular HU by ~10–16 %: the category is contrast-affected");
        }

        if (choice.Level is not { } chosen)
        {
            return new Measurement(choice, assessments, null, null, null, calibration, null, contrastAffected, null, warnings) { ReviewReasons = review };
        }

        var body = analyses[chosen];
        warnings.AddRange(body.Warnings);
        var eroded = Roi(body.ErodedHu, null, body.ErodedVoxelIndices, body.VoxelVolumeMm3, calibration);
        var ellipse = Roi(body.EllipseHu, body.EllipseWeights, body.EllipseVoxelIndices, body.VoxelVolumeMm3, calibration);
        review.AddRange(body.Assessment.ReviewNotes);
        review.AddRange(Plausibility(chosen, (chosen == VertebralLevel.L1 ? l1 : chosen == VertebralLevel.L2 ? l2 : aboveL1)!, eroded, ellipse, analyses, options));
        var (calibrationWarning, categoryUncertain) = CalibrationUncertainty(chosen, eroded, calibration, options);
        warnings.AddRange(calibrationWarning);
        var category = eroded.MgPerCm3 is { } density ? BoneDensityInterpretation.Categorize(density.Mean) : (BoneDensityCategory?)null;
        var noise = ImageNoise.Measure(volume, body.Slices.From, body.Slices.Count, options);
        var parts = IntervalParts(chosen, body, eroded, ellipse, noise, calibration, warnings);
        var ci95 = parts is null ? null : VbmdIntervals.Combine(eroded.MgPerCm3!.Mean, calibration!.DensitySdAt(eroded.Hu.Mean) ?? 0, parts);
        var (twoLevels, missing) = L1L2Mean(chosen, eroded, parts, analyses, volume, calibration, options);
        return new Measurement(choice, assessments, eroded, ellipse, body.Islands, calibration, category, contrastAffected,
            BoneDensityInterpretation.Screen(eroded.Hu.Mean, chosen, options.Kvp), warnings)
        { ReviewReasons = review, L1L2 = twoLevels, TwoLevelMeanMissing = missing, CategoryUncertain = categoryUncertain, Ci95 = ci95, Noise = noise };
    }

    /// <summary>
    /// One level's parts of the vBMD interval, with a warning for each part the series could not give as it should;
    /// null without a calibrated vBMD. <paramref name="warnings"/> is null when the level's own warnings are not reported.
    /// </summary>
    private static VbmdIntervals.LevelParts? IntervalParts(VertebralLevel level, VertebralBodyAnalysis body, TrabecularRoi eroded, TrabecularRoi ellipse, NoiseEstimate? noise, Calibration? calibration, List<string>? warnings)
    {
        if (calibration is null || eroded.MgPerCm3 is not { } density || !double.IsFinite(density.Mean))
        {
            return null;
        }

        if (noise is null)
        {
            warnings?.Add($"{level}: no uniform soft tissue beside the body to measure the image noise in: the vBMD interval takes the ROI's own SD (bone texture counted as noise, its spatial correlation not)");
        }

        if (calibration.Uncertainty is null)
        {
            warnings?.Add($"{level}: the {calibration.Method.ToString().ToLowerInvariant()} calibration states no uncertainty of its own: the vBMD interval leaves it out");
        }

        return VbmdIntervals.Of(eroded, ellipse, body.PlacementMeansHu, noise, calibration);
    }

    /// <summary>
    /// The L1–L2 mean of the eroded-body densities, each level weighted equally as the ACR practice parameter averages
    /// vertebrae, or why there is none (L1 not the measured level, L2 not outlined or not usable, no calibration).
    /// </summary>
    private static (TwoLevelMean? Mean, string? Missing) L1L2Mean(VertebralLevel chosen, TrabecularRoi l1, VbmdIntervals.LevelParts? l1Parts,
        Dictionary<VertebralLevel, VertebralBodyAnalysis> analyses, CtVolume volume, Calibration? calibration, MeasureOptions options)
    {
        if (chosen != VertebralLevel.L1)
        {
            return (null, "L1 is not usable: the ACR two-level mean needs L1 and L2");
        }

        if (calibration is null || l1.MgPerCm3 is not { } l1Density)
        {
            return (null, "no calibration: no vBMD to average");
        }

        if (!analyses.TryGetValue(VertebralLevel.L2, out var l2))
        {
            return (null, "L2 was not outlined");
        }

        if (!l2.Assessment.Usable)
        {
            return (null, $"L2 is not usable ({string.Join("; ", l2.Assessment.UnusableReasons)})");
        }

        var l2Roi = Roi(l2.ErodedHu, null, l2.ErodedVoxelIndices, l2.VoxelVolumeMm3, calibration);
        if (l2Roi.MgPerCm3 is not { } l2Density || !double.IsFinite(l2Density.Mean))
        {
            return (null, "L2 has no trabecular bone left after erosion");
        }

        var mean = (l1Density.Mean + l2Density.Mean) / 2;
        var meanHu = (l1.Hu.Mean + l2Roi.Hu.Mean) / 2;
        var l2Ellipse = Roi(l2.EllipseHu, l2.EllipseWeights, l2.EllipseVoxelIndices, l2.VoxelVolumeMm3, calibration);
        var l2Parts = IntervalParts(VertebralLevel.L2, l2, l2Roi, l2Ellipse, ImageNoise.Measure(volume, l2.Slices.From, l2.Slices.Count, options), calibration, null);
        var ci95 = l1Parts is null || l2Parts is null ? null : VbmdIntervals.Combine(mean, calibration.DensitySdAt(meanHu) ?? 0, l1Parts, l2Parts);
        return (new TwoLevelMean(mean, meanHu, [VertebralLevel.L1, VertebralLevel.L2], BoneDensityInterpretation.Categorize(mean)) { L2 = l2Roi, Ci95 = ci95 }, null);
    }

    /// <summary>
    /// What makes a measured figure doubtful: the eroded body and the mid-vertebral ellipse disagreeing (a bad outline or
    /// uneven bone), a body of implausible size, and a measured body much lower than its measured neighbours (a crush
    /// fracture the heights of one body alone do not show).
    /// </summary>
    private static IEnumerable<string> Plausibility(VertebralLevel level, VertebraInput input, TrabecularRoi eroded, TrabecularRoi ellipse,
        Dictionary<VertebralLevel, VertebralBodyAnalysis> analyses, MeasureOptions options)
    {
        var (a, b, unit) = eroded.MgPerCm3 is { } e && ellipse.MgPerCm3 is { } p ? (e.Mean, p.Mean, "mg/cm³") : (eroded.Hu.Mean, ellipse.Hu.Mean, "HU");
        var spread = Math.Abs(a - b) / Math.Max(Math.Abs(a), unit == "HU" ? 50 : 20);
        if (double.IsNaN(b))
        {
            yield return $"{level}: the mid-vertebral ellipse holds no eroded voxels, so the two ROIs cannot be compared";
        }
        else if (spread > options.MaxRoiDisagreement)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{level}: the eroded body ({a:0.0} {unit}) and the mid-vertebral ellipse ({b:0.0} {unit}) differ by {spread:P0} (more than {options.MaxRoiDisagreement:P0}): the outline or the bone is uneven");
        }

        var volumeMl = input.Mask.VolumeMm3 / 1000;
        if (volumeMl < options.MinBodyMl || volumeMl > options.MaxBodyMl)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{level}: a body of {volumeMl:0.0} ml is outside the plausible {options.MinBodyMl:0}–{options.MaxBodyMl:0} ml for an adult vertebra");
        }

        var own = analyses[level].Assessment;
        var neighbours = analyses.Values.Select(x => x.Assessment).Where(x => x.Level != level && x.Whole).Select(MeanHeight).Where(h => h > 0).ToList();
        if (neighbours.Count > 0 && MeanHeight(own) < (1 - options.GenantGrade2Loss) * neighbours.Average())
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{level}: its mean height ({MeanHeight(own):0.0} mm) is less than {1 - options.GenantGrade2Loss:P0} of its neighbours' ({neighbours.Average():0.0} mm): a crush fracture or a bad outline");
        }
    }

    /// <summary>
    /// What the calibration line's own uncertainty does to this vBMD: a warning when its 95 % half-width passes
    /// <see cref="MeasureOptions.CalibrationUncertaintyWarnPercent"/>, and why the ACR category is not certain when the
    /// interval holds a cut-off (null when it does not).
    /// </summary>
    private static (IReadOnlyList<string> Warning, string? CategoryUncertain) CalibrationUncertainty(VertebralLevel level, TrabecularRoi eroded, Calibration? calibration, MeasureOptions options)
    {
        if (eroded.MgPerCm3 is not { } density || calibration?.DensitySdAt(eroded.Hu.Mean) is not { } sd || calibration.Uncertainty is not { } uncertainty)
        {
            return ([], null);
        }

        var halfWidth = 1.96 * sd;
        var percent = 100 * halfWidth / Math.Max(Math.Abs(density.Mean), 1);
        var warning = percent > options.CalibrationUncertaintyWarnPercent
            ? new[]
            {
                string.Create(CultureInfo.InvariantCulture,
                    $"{level}: the calibration alone leaves the vBMD {density.Mean:0.0} mg/cm³ uncertain by ±{halfWidth:0.0} (±{percent:0.0} %, 95 %; {uncertainty.Basis}): more than the {options.CalibrationUncertaintyWarnPercent:0.#} % a decline is judged by"),
            }
            : [];
        var cutOff = new[] { BoneDensityInterpretation.OsteoporosisBelowMgPerCm3, BoneDensityInterpretation.NormalAboveMgPerCm3 }
            .Where(c => Math.Abs(density.Mean - c) < halfWidth)
            .Select(c => (double?)c)
            .FirstOrDefault();
        return (warning, cutOff is { } held
            ? string.Create(CultureInfo.InvariantCulture, $"the calibration's 95 % interval {density.Mean - halfWidth:0.0}–{density.Mean + halfWidth:0.0} mg/cm³ holds the {held:0} mg/cm³ cut-off")
            : null);
    }

    private static double MeanHeight(VertebraAssessment a) =>
        new[] { a.AnteriorHeightMm, a.MiddleHeightMm, a.PosteriorHeightMm }.Where(h => !double.IsNaN(h) && h > 0).DefaultIfEmpty(0).Average();

    /// <summary>HU statistics of the gathered voxels and, with a calibration, the same voxels converted to mg/cm³.</summary>
    private static TrabecularRoi Roi(float[] hu, float[]? weights, int[] voxelIndices, double voxelVolumeMm3, Calibration? calibration)
    {
        double voxels = weights is null ? hu.Length : TensorPrimitives.Sum<float>(weights);
        if (hu.Length == 0)
        {
            return new TrabecularRoi(0, 0, new ValueStatistics(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN), null, voxelIndices, weights ?? []);
        }

        ValueStatistics? density = null;
        if (calibration is not null)
        {
            var mgPerCm3 = new float[hu.Length];
            VbmdKernels.ToMgPerCm3(hu, mgPerCm3, calibration);
            density = weights is null ? RoiStatistics.Of(mgPerCm3) : RoiStatistics.OfWeighted(mgPerCm3, weights);
        }

        var huStatistics = weights is null ? RoiStatistics.Of(hu) : RoiStatistics.OfWeighted(hu, weights);
        return new TrabecularRoi(voxels, voxels * voxelVolumeMm3 / 1000, huStatistics, density, voxelIndices, weights ?? []);
    }
}
