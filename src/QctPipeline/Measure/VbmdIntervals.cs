using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>The parts of a vBMD's 95 % interval that belong to one level's ROI, and how levels and calibration combine.</summary>
internal static class VbmdIntervals
{
    /// <summary>The two-sided 95 % normal quantile.</summary>
    private const double Z95 = 1.96;

    /// <summary>One level's noise, placement and ROI-definition standard deviations (mg/cm³).</summary>
    internal sealed record LevelParts(double NoiseSdMg, double PlacementSdMg, double RoiDefinitionSdMg);

    /// <summary>
    /// The ROI mean's noise is σ·√(factor/N) with the noise measured beside the body (without it, the ROI's own SD over
    /// √N, which counts bone texture as noise and misses the correlation); placement is the root-mean-square distance
    /// of the varied ROIs' means from the measured one; the ROI definition is the eroded-body/ellipse difference taken as
    /// uniform between the two (SD = |difference|/√12).
    /// </summary>
    public static LevelParts Of(TrabecularRoi eroded, TrabecularRoi ellipse, double[] placementMeansHu, NoiseEstimate? noise, Calibration calibration)
    {
        var mgPerHu = 1 / Math.Abs(calibration.SlopeHuPerMgPerCm3);
        var noiseHu = noise is null
            ? eroded.Hu.StandardDeviation / Math.Sqrt(eroded.Voxels)
            : noise.SigmaHu * Math.Sqrt(noise.CorrelationFactor / eroded.Voxels);
        var variants = placementMeansHu.Where(double.IsFinite).ToArray();
        var placementHu = variants.Length == 0 ? 0 : Math.Sqrt(variants.Average(v => (v - eroded.Hu.Mean) * (v - eroded.Hu.Mean)));
        var definitionHu = double.IsFinite(ellipse.Hu.Mean) ? Math.Abs(eroded.Hu.Mean - ellipse.Hu.Mean) / Math.Sqrt(12) : 0;
        return new LevelParts(noiseHu * mgPerHu, placementHu * mgPerHu, definitionHu * mgPerHu);
    }

    /// <summary>
    /// The interval of the mean of <paramref name="levels"/> (one level: its own): each level's parts are independent
    /// of the other's, the calibration line is one and the same for both.
    /// </summary>
    public static VbmdInterval Combine(double vbmdMgPerCm3, double calibrationSdMg, params LevelParts[] levels)
    {
        double Mean(Func<LevelParts, double> part) => Math.Sqrt(levels.Sum(level => part(level) * part(level))) / levels.Length;
        var interval = new VbmdInterval(0, 0, Mean(p => p.NoiseSdMg), calibrationSdMg, Mean(p => p.PlacementSdMg), Mean(p => p.RoiDefinitionSdMg));
        var half = Z95 * interval.SdMg;
        return interval with { Lower = vbmdMgPerCm3 - half, Upper = vbmdMgPerCm3 + half };
    }
}
