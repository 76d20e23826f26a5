using System.Globalization;

namespace QctPipeline.Calibrate;

/// <summary>
/// The statistics of the internal calibration's line: the weighted fit through reference tissues, the outlier test,
/// the goodness-of-fit test that can reject it, and the slope's beam uncertainty (docs/decisions/0006-calibration.md).
/// </summary>
internal static class TissueFit
{
    /// <summary>χ² at p = 0.001 by degrees of freedom (1–3): a fit worse than this is not explained by the tissues' spreads.</summary>
    private static readonly double[] ChiSquareAtOnePerMille = [10.828, 13.816, 16.266];

    public static WeightedLinearFit Of(IReadOnlyList<TissueRoi> rois, Beam beam) => WeightedLinearFit.Of(
        [.. rois.Select(roi => beam.Density(roi.Tissue))],
        [.. rois.Select(roi => roi.MedianHu)],
        [.. rois.Select(roi => ReferenceTissueModel.PopulationSdHu(roi.Tissue))]);

    /// <summary>
    /// The tissue furthest from the line through the others, when it is more than <paramref name="limitSd"/> SDs away
    /// (its own spread and the others' line's uncertainty there); needs three tissues, so that two remain.
    /// </summary>
    public static (TissueRoi Roi, string Warning)? Outlier(IReadOnlyList<TissueRoi> rois, Beam beam, double limitSd)
    {
        if (rois.Count < 3)
        {
            return null;
        }

        var worst = rois
            .Select(roi =>
            {
                var others = Of([.. rois.Where(other => other != roi)], beam);
                var density = beam.Density(roi.Tissue);
                var deviation = roi.MedianHu - others.At(density);
                var sd = Math.Sqrt(Math.Pow(ReferenceTissueModel.PopulationSdHu(roi.Tissue), 2) + others.VarianceAt(density));
                return (Roi: roi, Deviation: deviation, Z: deviation / sd);
            })
            .MaxBy(candidate => Math.Abs(candidate.Z));
        return Math.Abs(worst.Z) <= limitSd
            ? null
            : (worst.Roi, string.Create(CultureInfo.InvariantCulture,
                $"{Name(worst.Roi)} left out of the internal calibration: {worst.Roi.MedianHu:0.0} HU is {worst.Deviation:+0.0;-0.0} HU from the line through the other tissues ({Math.Abs(worst.Z):0.0} SD; fatty muscle, anaemia or a misplaced ROI)"));
    }

    /// <summary>Why the fit is rejected: its χ² has p &lt; 0.001 given the tissues' spreads; null when it holds.</summary>
    public static string? Rejection(IReadOnlyList<TissueRoi> rois, Beam beam, WeightedLinearFit fit)
    {
        if (fit.DegreesOfFreedom < 1 || fit.ChiSquare <= ChiSquareAtOnePerMille[Math.Min(fit.DegreesOfFreedom, ChiSquareAtOnePerMille.Length) - 1])
        {
            return null;
        }

        var residuals = string.Join(", ", rois.Select(roi => string.Create(CultureInfo.InvariantCulture,
            $"{Name(roi)} {roi.MedianHu - fit.At(beam.Density(roi.Tissue)):+0.0;-0.0} HU (spread {ReferenceTissueModel.PopulationSdHu(roi.Tissue):0} HU)")));
        return string.Create(CultureInfo.InvariantCulture,
            $"internal calibration rejected: the reference tissues disagree with the tissue model beyond their population spreads (χ² {fit.ChiSquare:0.0} on {fit.DegreesOfFreedom} degrees of freedom, p < 0.001; residuals {residuals})");
    }

    /// <summary>
    /// The slope's relative SD from what the tissues cannot show: the scanner's filtration (4–10 mm Al) and the water
    /// path, known to <paramref name="pathRelativeSd"/> when the patient's diameter was measured and only as 200–300 mm
    /// when not; with the words for the warning.
    /// </summary>
    public static (double RelativeSd, string Basis) BeamSlopeSpread(double? kvp, Beam beam, double? measuredPathMm, double pathRelativeSd)
    {
        var pathSd = measuredPathMm is null ? 50 : pathRelativeSd * beam.WaterPathMm;
        var thinner = ReferenceTissueModel.At(kvp, beam.WaterPathMm - pathSd).Beam.HaSlope;
        var thicker = ReferenceTissueModel.At(kvp, beam.WaterPathMm + pathSd).Beam.HaSlope;
        var pathSpread = Math.Abs(Math.Log(thinner / thicker)) / 2;
        var spread = Math.Sqrt((beam.FiltrationSlopeSpread * beam.FiltrationSlopeSpread) + (pathSpread * pathSpread));
        return (spread, string.Create(CultureInfo.InvariantCulture,
            $"the filtration is not seen in the image (slope ±{100 * beam.FiltrationSlopeSpread:0.0} %, 1 SD) and the water path is known to ±{pathSd:0} mm (±{100 * pathSpread:0.0} %)"));
    }

    private static string Name(TissueRoi roi) => roi.Tissue.ToString().ToLowerInvariant();
}
