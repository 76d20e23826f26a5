using System.Numerics.Tensors;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>The Measure stage: trabecular ROIs of the chosen vertebra, vBMD, ACR category and HU screening flags.</summary>
public static class VertebralMeasurement
{
    /// <summary>
    /// Assesses each given body (masks on the volume's grid; null when not segmented), chooses the level
    /// (<see cref="LevelSelection"/>) and measures it. Without a calibration (null, or method none) the result is HU only (no mg/cm³, no
    /// category). <paramref name="contrastAffected"/> comes from the caller's contrast detection and marks the category.
    /// </summary>
    public static Measurement Measure(CtVolume volume, Mask? l1, Mask? aboveL1, Mask? l2, Calibration? calibration, bool contrastAffected, MeasureOptions options)
    {
        calibration = calibration is { HasLine: true } ? calibration : null;
        if (calibration is not null)
        {
            VbmdKernels.ScaleAndOffset(calibration);
        }

        var analyses = new Dictionary<VertebralLevel, VertebralBodyAnalysis>();
        foreach (var (level, mask) in new[] { (VertebralLevel.L1, l1), (VertebralLevel.AboveL1, aboveL1), (VertebralLevel.L2, l2) })
        {
            if (mask is not null && VertebralBodyAnalysis.Analyze(volume, mask, level, options) is { } analysis)
            {
                analyses[level] = analysis;
            }
        }

        var choice = LevelSelection.Choose(
            analyses.GetValueOrDefault(VertebralLevel.L1)?.Assessment,
            analyses.GetValueOrDefault(VertebralLevel.AboveL1)?.Assessment,
            analyses.GetValueOrDefault(VertebralLevel.L2)?.Assessment);
        var assessments = analyses.Values.Select(a => a.Assessment).ToArray();
        var warnings = new List<string>();
        if (choice.Level != VertebralLevel.L1)
        {
            warnings.Add(choice.Reason);
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
            return new Measurement(choice, assessments, null, null, null, calibration, null, contrastAffected, null, warnings);
        }

        var body = analyses[chosen];
        warnings.AddRange(body.Warnings);
        var eroded = Roi(body.ErodedHu, null, body.ErodedVoxelIndices, body.VoxelVolumeMm3, calibration);
        var ellipse = Roi(body.EllipseHu, body.EllipseWeights, body.EllipseVoxelIndices, body.VoxelVolumeMm3, calibration);
        var category = eroded.MgPerCm3 is { } density ? BoneDensityInterpretation.Categorize(density.Mean) : (BoneDensityCategory?)null;
        return new Measurement(choice, assessments, eroded, ellipse, body.Islands, calibration, category, contrastAffected,
            BoneDensityInterpretation.Screen(eroded.Hu.Mean), warnings);
    }

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
