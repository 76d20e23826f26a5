using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Evaluation;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Calibrate;

/// <summary>
/// The phantom finder where the phantom is not lying straight under the patient: turned, yawed, standing beside the
/// trunk, cut by the field of view, and readable as two phantoms. `qct eval-phantom` runs the issue's 95 studies.
/// </summary>
public sealed class PhantomFinderTests(ITestOutputHelper output)
{
    public static TheoryData<string, CalibrationPhantomKind, CalibrationPhantomPlacement, double, double, double, double> Placements => new()
    {
        { "turned 15°, yawed 3°, 5 mm", CalibrationPhantomKind.Mindways, CalibrationPhantomPlacement.Under, 15, 3, 0, 5 },
        { "turned −20°, 0.625 mm", CalibrationPhantomKind.Qrm6, CalibrationPhantomPlacement.Under, -20, 0, 10, 0.625 },
        { "standing beside the trunk", CalibrationPhantomKind.Bmas, CalibrationPhantomPlacement.Beside, 8, -2, 0, 2.5 },
        { "standing beside, QRM-BDC 3-rod", CalibrationPhantomKind.Qrm3, CalibrationPhantomPlacement.Beside, -10, 0, 0, 1.25 },
    };

    [Theory]
    [MemberData(nameof(Placements))]
    public void FindsAPhantomPlacedAnyWayAndRecoversItsLine(string label, CalibrationPhantomKind kind, CalibrationPhantomPlacement placement, double rotation, double yaw, double shift, double sliceMm)
    {
        var (volume, _, truth) = CalibrationPhantoms.Generate(Options(kind, sliceMm) with
        {
            CalibrationPhantomPlacement = placement,
            CalibrationPhantomRotationDegrees = rotation,
            CalibrationPhantomTiltDegrees = yaw,
            CalibrationPhantomShiftMm = shift,
            NoiseSigmaHu = 25,
            ReconstructionDiameterMm = 480,
            TrunkWidthMm = placement == CalibrationPhantomPlacement.Beside ? 260 : null,
        });

        var (detection, reason) = PhantomFinder.Find(volume, 120);

        Assert.True(detection is not null, $"{label}: {reason}");
        Assert.Equal(PhantomFinderEvaluation.CatalogKind(kind), detection.Phantom.Kind);
        Assert.True(detection.RodsInView >= truth.CalibrationPhantom!.Rods.Count - 1, $"{label}: {detection.Evidence}");
        foreach (var (found, rod) in detection.RodCentres.Zip(truth.CalibrationPhantom.Rods).Where(pair => pair.First is not null))
        {
            var at = volume.Geometry.VoxelToPatient(found!.Value.I, found.Value.J, detection.Slice);
            var error = Math.Sqrt(Math.Pow(at.X - rod.CentreX, 2) + Math.Pow(at.Y - rod.CentreY, 2));
            Assert.True(error <= 2, $"{label}: rod {rod.Name} found {error:0.0} mm from its centre");
        }

        var calibration = PhantomCalibrator.Fit(volume, detection, new CalibrationOptions());
        var error100 = calibration.DensityAt(truth.CalibrationPhantom.ReferenceLine.HuAt(100)) - 100;
        output.WriteLine(Invariant($"{label}: {detection.Evidence}; line error at 100 mg/cm³ {error100:+0.00;-0.00} mg/cm³; {string.Join(" | ", calibration.Warnings)}"));
        // The issue's synchronous tolerance, max(1 mg/cm³, 1.5 %), at 100 mg/cm³; on this coarse 1.9 mm grid at σ 25 HU
        // the rods' noise is most of it.
        Assert.True(Math.Abs(error100) <= 1.5, $"{label}: line error {error100:0.00} mg/cm³ at 100 mg/cm³");
        Assert.Equal(yaw != 0, calibration.Warnings.Any(w => w.Contains("not parallel to the table", StringComparison.Ordinal)));
    }

    [Fact]
    public void FitsTheRodsInViewOfAPhantomCutByTheFieldOfViewAndSaysSo()
    {
        var (volume, _, truth) = CalibrationPhantoms.Generate(Options(CalibrationPhantomKind.Mindways, 2.5) with { CalibrationPhantomShiftMm = 110 });

        var calibration = PhantomCalibrator.Calibrate(volume, 120, new CalibrationOptions());

        Assert.True(calibration.HasLine, calibration.NoneReason);
        Assert.InRange(calibration.Points.Count, 3, 4);
        Assert.Contains(calibration.Warnings, w => w.Contains("partly outside the field of view", StringComparison.Ordinal));
        var error100 = calibration.DensityAt(truth.CalibrationPhantom!.ReferenceLine.HuAt(100)) - 100;
        Assert.True(Math.Abs(error100) <= 1, $"line error {error100:0.00} mg/cm³ at 100 mg/cm³");
    }

    /// <summary>
    /// Three B-MAS rods (HA0, HA50, HA100) left in view read as a whole QRM-BDC 3-rod (HA0, HA100, HA200) just as well:
    /// at 80 kVp the halved slope of that reading still lies in the 80–140 kVp span, so without the tube voltage the
    /// finder abstains rather than guess a line off by a factor of two; with it, the slope expected at 80 kVp names the B-MAS.
    /// </summary>
    [Fact]
    public void ThreeRodsThatFitTwoPhantomsAreAmbiguousUntilTheTubeVoltageDecides()
    {
        var (volume, _, _) = CalibrationPhantoms.Generate(Options(CalibrationPhantomKind.Bmas, 2.5) with { CalibrationPhantomShiftMm = 130, Kvp = 80 });

        var (withoutKvp, reason) = PhantomFinder.Find(volume, null);
        var (withKvp, _) = PhantomFinder.Find(volume, 80);

        Assert.Null(withoutKvp);
        Assert.Contains("ambiguous", reason, StringComparison.Ordinal);
        Assert.Contains("B-MAS 200", reason, StringComparison.Ordinal);
        Assert.Equal(PhantomKind.Bmas200, withKvp?.Phantom.Kind);
        Assert.Equal(3, withKvp!.RodsInView);
    }

    [Theory]
    [InlineData(11, ArmPosition.Down, ContrastPhase.Venous)]
    [InlineData(12, ArmPosition.Up, ContrastPhase.Arterial)]
    [InlineData(13, ArmPosition.Up, ContrastPhase.None)]
    public void ReportsNoPhantomInAnatomyAlone(long seed, ArmPosition arms, ContrastPhase contrast)
    {
        var (volume, _, _) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options with { Seed = seed, Arms = arms, Contrast = contrast, FromLevel = "T11", ToLevel = "L3" });

        var (detection, reason) = PhantomFinder.Find(volume, 120);

        Assert.True(detection is null, detection?.Evidence);
        Assert.Contains("no calibration phantom found", reason, StringComparison.Ordinal);
    }

    private static PhantomOptions Options(CalibrationPhantomKind kind, double sliceMm) => CalibrationPhantoms.Options with
    {
        Matrix = 256,
        CalibrationPhantom = kind,
        Kvp = 120,
        SliceThicknessMm = sliceMm,
        SliceSpacingMm = sliceMm,
        FromLevel = "T12",
        ToLevel = "L2",
    };

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
