using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Calibrate;

public sealed class InternalCalibrationTests(ITestOutputHelper output)
{
    /// <summary>
    /// Error = what the internal line reads for the HU that HA in water at L1's true density has, against that density:
    /// the calibration's own error, apart from the marrow-fat bias every HA calibration has (printed separately).
    /// </summary>
    [Fact]
    public void StaysWithinFivePercentAcrossKvpWithoutContrast()
    {
        var errors = new List<double>();
        foreach (var (kvp, seed, noise) in new[] { (80.0, 11L, 12.0), (100, 12, 20), (120, 13, 12), (120, 14, 30), (140, 15, 20) })
        {
            var (volume, metadata, truth) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options with { Seed = seed, Kvp = kvp, NoiseSigmaHu = noise });
            var tissues = InternalCalibrator.Measure(volume, CalibrationPhantoms.L1Centroid(truth), new CalibrationOptions());
            var calibration = InternalCalibrator.Calibrate(tissues, metadata.Kvp, contrastPresent: false, new CalibrationOptions());

            Assert.True(calibration.HasLine, calibration.NoneReason);
            Assert.Equal(CalibrationMethod.Internal, calibration.Method);
            Assert.Equal(4, calibration.Points.Count);
            var l1 = CalibrationPhantoms.L1(truth);
            var haInWater = CalibrationPhantoms.Line(truth, "hydroxyapatite in water");
            var error = (calibration.DensityAt(haInWater.HuAt(l1.TrueVbmdMgPerCm3)) - l1.TrueVbmdMgPerCm3) / l1.TrueVbmdMgPerCm3;
            var throughLine = (calibration.DensityAt(l1.ExpectedTrabecularHu) - l1.TrueVbmdMgPerCm3) / l1.TrueVbmdMgPerCm3;
            errors.Add(error);
            var rois = string.Join(", ", tissues.Rois.Select(roi => Invariant($"{roi.Tissue} {roi.MedianHu:0.0} HU ({roi.AreaMm2PerSlice:0} mm²)")));
            output.WriteLine(Invariant($"{kvp} kVp seed {seed} noise {noise}: σ {calibration.SlopeHuPerMgPerCm3:0.0000} (HA in water {haInWater.Slope:0.0000}) β {calibration.InterceptHu:0.0} r {calibration.R:0.0000}; error {error:+0.0%;-0.0%}; L1 through the line vs true vBMD {throughLine:+0.0%;-0.0%}; {rois}"));
        }

        var sorted = errors.Order().ToArray();
        output.WriteLine(Invariant($"internal calibration error: min {sorted[0]:+0.0%;-0.0%}, median {sorted[sorted.Length / 2]:+0.0%;-0.0%}, max {sorted[^1]:+0.0%;-0.0%}, RMS {Math.Sqrt(errors.Average(e => e * e)):0.0%}"));
        Assert.All(errors, error => Assert.InRange(error, -0.05, 0.05));
    }

    [Theory]
    [InlineData(ContrastPhase.Arterial, 120)]
    [InlineData(ContrastPhase.Venous, 120)]
    [InlineData(ContrastPhase.Venous, 80)]
    [InlineData(ContrastPhase.Arterial, 140)]
    public void DetectsContrastFromTheAortaAlone(ContrastPhase phase, double kvp)
    {
        var (volume, metadata, truth) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options with { Contrast = phase, Kvp = kvp });
        var tissues = InternalCalibrator.Measure(volume, CalibrationPhantoms.L1Centroid(truth), new CalibrationOptions());

        var fromImage = ContrastDetector.Assess(metadata with { ContrastBolusAgent = null }, tissues.Of(ReferenceTissue.Blood)?.MedianHu);
        var withTag = ContrastDetector.Assess(metadata, tissues.Of(ReferenceTissue.Blood)?.MedianHu);

        output.WriteLine(string.Join("; ", fromImage.Evidence));
        Assert.True(fromImage.Detected);
        Assert.Equal(phase == ContrastPhase.Arterial ? ContrastPhaseEstimate.Arterial : ContrastPhaseEstimate.Venous, fromImage.Phase);
        Assert.True(withTag.Detected);
        Assert.Contains(withTag.Evidence, line => line.Contains("IOHEXOL", StringComparison.Ordinal));
        var calibration = InternalCalibrator.Calibrate(tissues, kvp, withTag.Detected, new CalibrationOptions());
        Assert.DoesNotContain(calibration.Points, point => point.Name == "blood");
    }

    [Fact]
    public void FindsNoContrastWithoutIt()
    {
        var (volume, metadata, truth) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options);
        var tissues = InternalCalibrator.Measure(volume, CalibrationPhantoms.L1Centroid(truth), new CalibrationOptions());

        var assessment = ContrastDetector.Assess(metadata, tissues.Of(ReferenceTissue.Blood)?.MedianHu);

        Assert.False(assessment.Detected, string.Join("; ", assessment.Evidence));
        Assert.Equal(ContrastPhaseEstimate.None, assessment.Phase);
    }

    [Fact]
    public void TagAloneMeansContrastOfUnknownPhase()
    {
        var assessment = ContrastDetector.Assess(new SeriesMetadata { SeriesInstanceUid = "1.2", ContrastBolusAgent = "OMNIPAQUE", Kvp = 120 }, aortaHu: null);

        Assert.True(assessment.Detected);
        Assert.Equal(ContrastPhaseEstimate.Unknown, assessment.Phase);
        Assert.False(ContrastDetector.Assess(new SeriesMetadata { SeriesInstanceUid = "1.2", ContrastBolusAgent = "NONE" }, aortaHu: null).Detected);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
