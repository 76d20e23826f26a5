using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Calibrate;

/// <summary>
/// The internal calibration's statistics: the weighted fit's claimed covariance and χ² checked against simulation (an
/// independent reference: sampled noise, not the formula), and the outlier and rejection rules on tissue sets whose
/// disagreement is known.
/// </summary>
public sealed class TissueFitTests(ITestOutputHelper output)
{
    private static readonly double[] TissueDensities = [-747.6, -78.16, 32.28, 34.70];
    private static readonly double[] TissueSds = [10, 6, 9, 10];

    [Fact]
    public void WeightedFitClaimsTheScatterThatSimulatedNoiseShows()
    {
        const double intercept = 1.5, slope = 1.3376;
        var random = new Random(20261207);
        var fits = new List<WeightedLinearFit>();
        for (var trial = 0; trial < 20000; trial++)
        {
            var y = TissueDensities.Select((x, index) => intercept + (slope * x) + (TissueSds[index] * Gaussian(random))).ToArray();
            fits.Add(WeightedLinearFit.Of(TissueDensities, y, TissueSds));
        }

        var claimed = fits[0];
        var (meanSlope, meanIntercept) = (fits.Average(f => f.Slope), fits.Average(f => f.Intercept));
        var slopeVariance = fits.Average(f => Math.Pow(f.Slope - meanSlope, 2));
        var interceptVariance = fits.Average(f => Math.Pow(f.Intercept - meanIntercept, 2));
        var covariance = fits.Average(f => (f.Slope - meanSlope) * (f.Intercept - meanIntercept));
        output.WriteLine(Invariant($"slope SD claimed {Math.Sqrt(claimed.SlopeVariance):0.00000} seen {Math.Sqrt(slopeVariance):0.00000}; intercept SD claimed {Math.Sqrt(claimed.InterceptVariance):0.000} seen {Math.Sqrt(interceptVariance):0.000}; covariance claimed {claimed.Covariance:0.000000} seen {covariance:0.000000}; mean χ² {fits.Average(f => f.ChiSquare):0.000} on {claimed.DegreesOfFreedom}"));

        Assert.InRange(meanSlope, slope * 0.999, slope * 1.001);
        Assert.InRange(slopeVariance / claimed.SlopeVariance, 0.95, 1.05);
        Assert.InRange(interceptVariance / claimed.InterceptVariance, 0.95, 1.05);
        Assert.InRange(covariance / claimed.Covariance, 0.9, 1.1);
        Assert.InRange(fits.Average(f => f.ChiSquare), 1.9, 2.1);
    }

    [Fact]
    public void DensitySdAtMatchesSampledLines()
    {
        var fit = WeightedLinearFit.Of(TissueDensities, [.. TissueDensities.Select(x => 1.3376 * x)], TissueSds);
        var calibration = new Calibration
        {
            Method = CalibrationMethod.Internal,
            InterceptHu = fit.Intercept,
            SlopeHuPerMgPerCm3 = fit.Slope,
            Reference = "test",
            Uncertainty = new LineUncertainty(fit.InterceptVariance, fit.SlopeVariance, fit.Covariance, "test"),
        };

        // Lines drawn from the claimed covariance (Cholesky), each reading 200 HU: the spread of what they read.
        var random = new Random(7);
        var a = Math.Sqrt(fit.InterceptVariance);
        var b = fit.Covariance / a;
        var c = Math.Sqrt(fit.SlopeVariance - (b * b));
        var readings = Enumerable.Range(0, 20000).Select(_ =>
        {
            var (u, v) = (Gaussian(random), Gaussian(random));
            return (200 - (fit.Intercept + (a * u))) / (fit.Slope + (b * u) + (c * v));
        }).ToArray();
        var mean = readings.Average();
        var seen = Math.Sqrt(readings.Average(r => (r - mean) * (r - mean)));

        output.WriteLine(Invariant($"at 200 HU: claimed SD {calibration.DensitySdAt(200):0.000} mg/cm³, sampled {seen:0.000}"));
        Assert.InRange(calibration.DensitySdAt(200)!.Value / seen, 0.95, 1.05);
    }

    [Fact]
    public void AToweringOutlierIsLeftOutAndNamed()
    {
        var tissues = Tissues(air: -1000, fat: -104.5, muscle: 43.2 - 45, blood: 46.4);

        var calibration = InternalCalibrator.Calibrate(tissues, 120, contrastPresent: false, new CalibrationOptions());

        Assert.True(calibration.HasLine, calibration.NoneReason);
        Assert.DoesNotContain(calibration.Points, point => point.Name == "muscle");
        Assert.Contains(calibration.Warnings, w => w.StartsWith("muscle left out of the internal calibration", StringComparison.Ordinal));
        Assert.InRange(calibration.SlopeHuPerMgPerCm3, 1.3376 * 0.99, 1.3376 * 1.01);
    }

    [Fact]
    public void AShiftWithinThePopulationSpreadIsWeightedNotObeyed()
    {
        var reference = InternalCalibrator.Calibrate(Tissues(-1000, -104.5, 43.2, 46.4), 120, contrastPresent: false, new CalibrationOptions());
        var fattyMuscle = InternalCalibrator.Calibrate(Tissues(-1000, -104.5, 43.2 + 10, 46.4), 120, contrastPresent: false, new CalibrationOptions());

        // The ordinary fit moved 100 mg/cm³ bone by −5.4 % for +10 HU muscle; weighted by the spreads it moves less than half that.
        var shift = (fattyMuscle.DensityAt(reference.HuAt(100)) - 100) / 100;
        output.WriteLine(Invariant($"+10 HU muscle moves 100 mg/cm³ by {shift:+0.0%;-0.0%}"));
        Assert.Equal(4, fattyMuscle.Points.Count);
        Assert.InRange(shift, -0.025, 0);
    }

    [Fact]
    public void TissuesThatCannotAgreeRejectTheFitWithTheirResiduals()
    {
        // Muscle and blood have nearly one HA-equivalent density; 120 HU apart, no line and no single outlier explains them.
        var calibration = InternalCalibrator.Calibrate(Tissues(air: -1000, fat: -104.5, muscle: 43.2 + 60, blood: 46.4 - 60), 120, contrastPresent: false, new CalibrationOptions());

        Assert.False(calibration.HasLine);
        Assert.StartsWith("internal calibration rejected: the reference tissues disagree with the tissue model", calibration.NoneReason, StringComparison.Ordinal);
        Assert.Contains("χ²", calibration.NoneReason, StringComparison.Ordinal);
        Assert.Contains(calibration.Warnings, w => w.Contains("left out of the internal calibration", StringComparison.Ordinal));
    }

    [Fact]
    public void TheSlopeFollowsThePatientsSize()
    {
        var small = InternalCalibrator.Calibrate(Tissues(-1000, -104.5, 43.2, 46.4) with { WaterEquivalentDiameterMm = 200 }, 120, contrastPresent: false, new CalibrationOptions());
        var average = InternalCalibrator.Calibrate(Tissues(-1000, -104.5, 43.2, 46.4) with { WaterEquivalentDiameterMm = 250 }, 120, contrastPresent: false, new CalibrationOptions());
        var large = InternalCalibrator.Calibrate(Tissues(-1000, -104.5, 43.2, 46.4) with { WaterEquivalentDiameterMm = 350 }, 120, contrastPresent: false, new CalibrationOptions());
        var unknown = InternalCalibrator.Calibrate(Tissues(-1000, -104.5, 43.2, 46.4) with { WaterEquivalentDiameterMm = null }, 120, contrastPresent: false, new CalibrationOptions());

        // XCOM over the table's spectrum (scripts/internal-calibration-table.py): HA slope 1.4126 at 200 mm, 1.2288 at 350 mm.
        Assert.InRange(small.SlopeHuPerMgPerCm3 / large.SlopeHuPerMgPerCm3, 1.10, 1.20);
        Assert.Contains(unknown.Warnings, w => w.StartsWith("patient size not measured", StringComparison.Ordinal));
        Assert.True(unknown.Uncertainty!.SlopeSd > 1.5 * average.Uncertainty!.SlopeSd, "an unmeasured patient size must widen the slope's uncertainty");
    }

    private static ReferenceTissues Tissues(double air, double fat, double muscle, double blood) => new(
        [
            new TissueRoi(ReferenceTissue.Air, air, 5, 5000, 100000, 20),
            new TissueRoi(ReferenceTissue.Fat, fat, 12, 3000, 60000, 20),
            new TissueRoi(ReferenceTissue.Muscle, muscle, 12, 2000, 40000, 20),
            new TissueRoi(ReferenceTissue.Blood, blood, 4, 80, 2000, 20),
        ],
        [],
        250);

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
