using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Measure;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Measure;

/// <summary>
/// Issue 5's must-holds on the truth body masks, through the automatic calibration choice and the Measure stage. The
/// truth of a measurement is that of the voxels its eroded ROI holds (<see cref="PhantomStudy.TrueTrabecularDensity"/>),
/// read as an error-free calibration would (<see cref="PhantomTruth.EquivalentDensity"/>): the phantom's marrow fat moves
/// every single-energy reading off the mineral density, which is printed but not the calibration's error.
/// `qct eval-vbmd` runs the full grid, with the shipped model too.
/// </summary>
public sealed class VbmdMustHoldTests(ITestOutputHelper output)
{
    /// <summary>A 512² grid at 0.74 mm takes 5–17 s per case (`qct eval-vbmd` runs those): 1.4 mm pixels, T11–L2, as the Measure tests use.</summary>
    private static PhantomOptions Options(long seed) => MeasurePhantoms.Options with { Seed = seed, FromLevel = "T11", ToLevel = "L2" };

    /// <summary>Down to L3, so that L2 is whole for the L1–L2 mean.</summary>
    private static PhantomOptions Acquired(long seed, double kvp, double density, double noise, double sliceMm) => Options(seed) with
    {
        ToLevel = "L3",
        Kvp = kvp,
        L1BmdMgPerCm3 = density,
        NoiseSigmaHu = noise,
        SliceThicknessMm = sliceMm,
        SliceSpacingMm = sliceMm,
    };

    public static TheoryData<CalibrationPhantomKind, double, double, double, double> SynchronousCases => new()
    {
        { CalibrationPhantomKind.Mindways, 80, 50, 30, 0.625 },
        { CalibrationPhantomKind.Qrm3, 100, 250, 12, 3 },
        { CalibrationPhantomKind.Qrm6, 120, 150, 20, 1.25 },
        { CalibrationPhantomKind.Bmas, 140, 100, 30, 2.5 },
        { CalibrationPhantomKind.Mindways, 140, 250, 8, 1 },
        { CalibrationPhantomKind.Qrm6, 80, 200, 30, 3 },
    };

    [Theory]
    [MemberData(nameof(SynchronousCases))]
    public void SynchronousPhantomReadsTheRoiWithinOneMgOrOnePercent(CalibrationPhantomKind phantom, double kvp, double density, double noise, double sliceMm)
    {
        var study = PhantomGenerator.Generate(Acquired(600 + (long)density, kvp, density, noise, sliceMm) with { CalibrationPhantom = phantom });

        var (measurement, calibration, score) = MeasureL1(study);

        Assert.Equal(CalibrationMethod.Phantom, calibration.Calibration.Method);
        Assert.Equal(VertebralLevel.L1, measurement.Choice.Level);
        Assert.True(Math.Abs(score.ErrorMg) <= Math.Max(1, 0.01 * score.Equivalent), score.ToString());

        // The ACR two-level figure against the truth of both levels' ROIs, within the same tolerance as L1 (issue 16).
        var twoLevels = TwoLevelScore(study, measurement, calibration);
        Assert.True(Math.Abs(twoLevels.ErrorMg) <= Math.Max(1, 0.01 * twoLevels.Equivalent), $"L1–L2 mean: {twoLevels}");
    }

    [Theory]
    [InlineData(80, 50, 12, 1.25)]
    [InlineData(100, 250, 30, 2.5)]
    [InlineData(120, 50, 20, 1.25)]
    [InlineData(120, 150, 30, 0.625)]
    [InlineData(140, 50, 12, 3)]
    public void InternalCalibrationReadsTheRoiWithinFivePercentWithoutContrast(double kvp, double density, double noise, double sliceMm)
    {
        var study = PhantomGenerator.Generate(Acquired(700 + (long)kvp, kvp, density, noise, sliceMm));

        var (measurement, calibration, score) = MeasureL1(study);

        Assert.Equal(CalibrationMethod.Internal, calibration.Calibration.Method);
        Assert.InRange(score.ErrorPercent, -5, 5);
        var twoLevels = TwoLevelScore(study, measurement, calibration);
        Assert.True(Math.Abs(twoLevels.ErrorPercent) <= 5, $"L1–L2 mean: {twoLevels}");
    }

    [Fact]
    public void RepositionedRescansAgreeWithinHalfAPercent()
    {
        var values = new List<double>();
        for (var repeat = 0; repeat < 10; repeat++)
        {
            var study = PhantomGenerator.Generate(Options(800) with
            {
                CalibrationPhantom = CalibrationPhantomKind.Mindways,
                NoiseSigmaHu = 12,
                StudyDate = new DateOnly(2025, 1, 10).AddDays(7 * repeat),
            });
            var (measurement, _, _) = MeasureL1(study);
            values.Add(measurement.VbmdMgPerCm3!.Value);
        }

        var mean = values.Average();
        var cv = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) / mean;
        output.WriteLine(Invariant($"10 repositioned rescans: mean {mean:0.00} mg/cm³, CV {cv:0.000%}; {string.Join(", ", values.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)))}"));
        Assert.InRange(cv, 0, 0.005);

        // Each rescan really moved: the first two differ in table position.
        var first = PhantomStudyWriter.BuildTruth(PhantomGenerator.Generate(Options(800)), new PhantomStudyWriter.StudyUids(Options(800)));
        var second = Options(800) with { StudyDate = new DateOnly(2025, 1, 17) };
        Assert.NotEqual(first.Series.AnatomyToPatientTranslation, PhantomStudyWriter.BuildTruth(PhantomGenerator.Generate(second), new PhantomStudyWriter.StudyUids(second)).Series.AnatomyToPatientTranslation);
    }

    [Theory]
    [InlineData(ContrastPhase.Arterial)]
    [InlineData(ContrastPhase.Venous)]
    public void ContrastIsDetectedAndTheCategoryMarked(ContrastPhase phase)
    {
        var study = PhantomGenerator.Generate(Options(900) with { Contrast = phase });

        var (measurement, calibration, _) = MeasureL1(study);

        Assert.True(calibration.Contrast.Detected);
        Assert.True(measurement.ContrastAffected);
        Assert.NotNull(measurement.Category);
        Assert.Contains(measurement.Warnings, w => w.Contains("contrast-affected", StringComparison.Ordinal));
        Assert.Contains(calibration.Calibration.Warnings, w => w.Contains("aortic blood not used", StringComparison.Ordinal));
    }

    /// <summary>Calibration chosen as `analyze` does (L1's truth centroid for the reference tissues) and the three truth bodies measured.</summary>
    private (Measurement Measurement, CalibrationOutcome Calibration, Score Score) MeasureL1(PhantomStudy study)
    {
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options));
        var l1 = truth.Levels.Single(level => level.Name == "L1");
        var metadata = new SeriesMetadata
        {
            SeriesInstanceUid = truth.Series.SeriesInstanceUid,
            Modality = "CT",
            Kvp = truth.Series.Kvp,
            ContrastBolusAgent = truth.Series.ContrastBolusAgent,
        };
        var calibration = CalibrationChooser.Choose(study.Volume, metadata, new Vector3(l1.BodyCentroidLps[0], l1.BodyCentroidLps[1], l1.BodyCentroidLps[2]), new CalibrationOptions());
        var measurement = VertebralMeasurement.Measure(study.Volume, new VertebraInput(MeasurePhantoms.Body(study, "L1")), new VertebraInput(MeasurePhantoms.Body(study, "T12")), new VertebraInput(MeasurePhantoms.Body(study, "L2")),
            calibration.Calibration, calibration.Contrast.Detected, new MeasureOptions { Kvp = metadata.Kvp });
        var roi = measurement.ErodedBody!;
        var mineral = study.TrueTrabecularDensity("L1", study.Volume.Geometry, roi.VoxelIndices.Span, roi.Weights.Span);
        var score = new Score(measurement.VbmdMgPerCm3 ?? double.NaN, truth.EquivalentDensity("L1", mineral, calibration.Calibration.Method == CalibrationMethod.Phantom), mineral);
        output.WriteLine(Invariant($"{study.Options.CalibrationPhantom} {study.Options.Kvp} kVp, {study.Options.NoiseSigmaHu} HU, {study.Options.SliceThicknessMm} mm: {calibration.Calibration.Method} {score}"));
        return (measurement, calibration, score);
    }

    /// <summary>The L1–L2 mean against the mean of both levels' ROI truths, each read as an error-free calibration would.</summary>
    private Score TwoLevelScore(PhantomStudy study, Measurement measurement, CalibrationOutcome calibration)
    {
        var mean = measurement.L1L2 ?? throw new Xunit.Sdk.XunitException($"no L1–L2 mean: {measurement.TwoLevelMeanMissing}");
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options));
        var phantom = calibration.Calibration.Method == CalibrationMethod.Phantom;
        double Truth(string level, TrabecularRoi roi) =>
            truth.EquivalentDensity(level, study.TrueTrabecularDensity(level, study.Volume.Geometry, roi.VoxelIndices.Span, roi.Weights.Span), phantom);
        var l1 = measurement.ErodedBody!;
        var score = new Score(mean.VbmdMgPerCm3, (Truth("L1", l1) + Truth("L2", mean.L2)) / 2, double.NaN);
        output.WriteLine(Invariant($"L1–L2 mean: {score}"));
        return score;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Score(double Vbmd, double Equivalent, double Mineral)
    {
        public double ErrorMg => Vbmd - Equivalent;

        public double ErrorPercent => 100 * ErrorMg / Equivalent;

        public override string ToString() => Invariant(
            $"vBMD {Vbmd:0.00} mg/cm³, ROI truth {Equivalent:0.00} (error {ErrorMg:+0.00;-0.00}, {ErrorPercent:+0.0;-0.0} %), mineral {Mineral:0.00}");
    }
}
