using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Calibrate;

public sealed class PhantomCalibratorTests(ITestOutputHelper output)
{
    public static TheoryData<CalibrationPhantomKind, double, double, double> Scans => new()
    {
        { CalibrationPhantomKind.Mindways, 120, 12, 2.5 },
        { CalibrationPhantomKind.Mindways, 80, 30, 0.625 },
        { CalibrationPhantomKind.Qrm3, 80, 30, 3 },
        { CalibrationPhantomKind.Qrm3, 140, 12, 1.25 },
        { CalibrationPhantomKind.Qrm6, 140, 20, 0.625 },
        { CalibrationPhantomKind.Qrm6, 100, 30, 2.5 },
        { CalibrationPhantomKind.Bmas, 100, 30, 1.25 },
        { CalibrationPhantomKind.Bmas, 140, 30, 3 },
    };

    [Theory]
    [MemberData(nameof(Scans))]
    public void FindsThePhantomAndRecoversItsLine(CalibrationPhantomKind kind, double kvp, double noise, double sliceMm)
    {
        var (volume, _, truth) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options with
        {
            CalibrationPhantom = kind,
            Kvp = kvp,
            NoiseSigmaHu = noise,
            SliceThicknessMm = sliceMm,
            SliceSpacingMm = sliceMm,
        });

        var calibration = PhantomCalibrator.Calibrate(volume, kvp, new CalibrationOptions());

        Assert.True(calibration.HasLine, calibration.NoneReason);
        Assert.Equal(CalibrationMethod.Phantom, calibration.Method);
        Assert.Equal(ExpectedName(kind), calibration.Reference);
        Assert.True(calibration.R > 0.999, $"r {calibration.R}");

        // Every rod: measured HU close to the noise-free truth, and the fit reproduces it.
        var rods = truth.CalibrationPhantom!.Rods;
        foreach (var (point, rod) in calibration.Points.Zip(rods))
        {
            Assert.Equal(rod.Name, point.Name);
            // Within 3 HU, or 3 standard errors of the ROI's median where noise allows no better: a B-MAS rod's central
            // disc holds ~6 pixels a slice at 1.9 mm, so σ 30 HU leaves its median uncertain by ~3 HU.
            var tolerance = Math.Max(3, 3 * 1.2533 * noise / Math.Sqrt(point.RoiVoxels));
            Assert.True(Math.Abs(point.MeasuredHu - rod.ExpectedHu) <= tolerance, $"rod {rod.Name}: measured {point.MeasuredHu:0.0} HU, truth {rod.ExpectedHu:0.0} (tolerance {tolerance:0.0})");
            Assert.True(Math.Abs(point.ResidualHu) <= 3, $"rod {rod.Name}: residual {point.ResidualHu:0.0} HU");
        }

        // The rods' reference line (HA in resin; HA in water through Mindways' published chain) at L1's true density
        // maps back within 1 mg/cm³ or 1 %.
        var l1 = CalibrationPhantoms.L1(truth);
        var fatBias = calibration.DensityAt(l1.ExpectedTrabecularHu) - l1.TrueVbmdMgPerCm3;
        var rodLine = truth.CalibrationPhantom.ReferenceLine;
        var error = calibration.DensityAt(rodLine.HuAt(l1.TrueVbmdMgPerCm3)) - l1.TrueVbmdMgPerCm3;
        output.WriteLine(Invariant($"{kind} {kvp} kVp noise {noise} slice {sliceMm}: σ {calibration.SlopeHuPerMgPerCm3:0.0000} (true {rodLine.Slope:0.0000}) β {calibration.InterceptHu:0.00} (true {rodLine.Intercept:0.00}); calibration error at L1 {error:+0.00;-0.00} mg/cm³; L1 through the line vs true vBMD {fatBias:+0.0;-0.0} mg/cm³ (marrow fat)"));
        Assert.True(Math.Abs(error) <= Math.Max(1, 0.01 * l1.TrueVbmdMgPerCm3), $"calibration error {error:0.00} mg/cm³ at L1");
    }

    [Fact]
    public void ReportsNotFoundWithoutAPhantom()
    {
        var (volume, _, _) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options);

        var (detection, reason) = PhantomFinder.Find(volume, 120);

        Assert.Null(detection);
        Assert.Contains("no calibration phantom found", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void OgoRuleWarnsAndRejects()
    {
        var fitted = new Calibration { Method = CalibrationMethod.Phantom, Reference = "test", InterceptHu = 0, SlopeHuPerMgPerCm3 = 1, R = 0.999 };
        var options = new CalibrationOptions();

        Assert.Empty(OgoRule.Apply(fitted, options).Warnings);
        Assert.Contains("Ogo", Assert.Single(OgoRule.Apply(fitted with { R = 0.95 }, options).Warnings), StringComparison.Ordinal);
        var rejected = OgoRule.Apply(fitted with { R = 0.85 }, options);
        Assert.Equal(CalibrationMethod.None, rejected.Method);
        Assert.Contains("rejected", rejected.NoneReason, StringComparison.Ordinal);
    }

    private static string ExpectedName(CalibrationPhantomKind kind) => kind switch
    {
        CalibrationPhantomKind.Mindways => "Mindways Model 3",
        CalibrationPhantomKind.Qrm3 => "QRM-BDC 3-rod",
        CalibrationPhantomKind.Qrm6 => "QRM-BDC 6-rod",
        _ => "B-MAS 200",
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
