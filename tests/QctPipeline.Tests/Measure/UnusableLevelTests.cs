using QctPipeline.Domain;
using QctPipeline.Measure;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Measure;

/// <summary>A fractured or lesioned L1 is unusable and a neighbour is measured, saying why.</summary>
public sealed class UnusableLevelTests
{
    private static readonly Calibration Identity = new Calibration { Method = CalibrationMethod.Phantom, InterceptHu = 0, SlopeHuPerMgPerCm3 = 1, Reference = "test identity" };

    [Theory]
    [InlineData(0.3)]
    [InlineData(0.4)]
    public void WedgeFracturedL1IsUnusableAndL2IsMeasured(double anteriorHeightLoss)
    {
        var study = PhantomGenerator.Generate(MeasurePhantoms.Options with { L1FractureHeightLoss = anteriorHeightLoss });

        var measurement = MeasureAllThree(study);

        var l1 = measurement.Assessments.Single(a => a.Level == VertebralLevel.L1);
        Assert.False(l1.Usable);
        Assert.InRange(l1.HeightLoss, 0.2, anteriorHeightLoss + 0.05);
        Assert.Contains(l1.UnusableReasons, r => r.Contains("fracture", StringComparison.Ordinal));

        // The posterior wall keeps its height (the phantom's wedge takes nothing there): an axis tilted by the wedge
        // (the centroid line's fault, 20.0 mm here) would cut it shorter.
        var height = MeasurePhantoms.Truth(study, "L1").BodyHeightMm;
        Assert.InRange(l1.PosteriorHeightMm, 0.9 * height, 1.05 * height);
        Assert.Equal(VertebralLevel.L2, measurement.Choice.Level);
        Assert.True(measurement.Choice.Usable);
        Assert.Contains("fracture", measurement.Choice.Reason, StringComparison.Ordinal);
        Assert.Contains(measurement.Choice.Reason, measurement.Warnings);
    }

    [Fact]
    public void GradeOneWedgeIsReportedButMeasured()
    {
        var study = PhantomGenerator.Generate(MeasurePhantoms.Options with { L1FractureHeightLoss = 0.22 });

        var measurement = MeasureAllThree(study);

        var l1 = measurement.Assessments.Single(a => a.Level == VertebralLevel.L1);
        Assert.Equal(1, l1.FractureGrade);
        Assert.True(l1.Usable, string.Join("; ", l1.UnusableReasons));
        Assert.Equal(VertebralLevel.L1, measurement.Choice.Level);
        Assert.Contains(measurement.Warnings, w => w.Contains("Genant grade 1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(LesionKind.Lytic)]
    [InlineData(LesionKind.Sclerotic)]
    public void LesionedL1IsUnusable(LesionKind lesion)
    {
        var study = PhantomGenerator.Generate(MeasurePhantoms.Options with { Lesion = lesion, LesionDiameterMm = 14 });

        var measurement = MeasureAllThree(study);

        var l1 = measurement.Assessments.Single(a => a.Level == VertebralLevel.L1);
        Assert.False(l1.Usable, $"block deviation {l1.MaxBlockDeviationHu:0} HU, bright cluster {l1.LargestBrightClusterMm3:0} mm³");
        Assert.NotEqual(VertebralLevel.L1, measurement.Choice.Level);
    }

    private static Measurement MeasureAllThree(PhantomStudy study) =>
        VertebralMeasurement.Measure(study.Volume, new VertebraInput(MeasurePhantoms.Body(study, "L1")), new VertebraInput(MeasurePhantoms.Body(study, "T12")),
            new VertebraInput(MeasurePhantoms.Body(study, "L2")), Identity, false, new MeasureOptions());
}

/// <summary>The choice itself, on made-up assessments.</summary>
public sealed class LevelSelectionTests
{
    private static VertebraAssessment Usable(VertebralLevel level) => new(level, true, [], 25, 25, 0, 5, 5000, 150, 0) { ErodedVolumeMl = 8 };

    private static VertebraAssessment Unusable(VertebralLevel level, string reason, long erodedVoxels = 5000) =>
        new(level, false, [reason], 18, 25, 0.28, 5, erodedVoxels, 150, 0);

    [Fact]
    public void UsableL1IsMeasured()
    {
        var choice = LevelSelection.Choose(Usable(VertebralLevel.L1), Usable(VertebralLevel.AboveL1), Usable(VertebralLevel.L2), new MeasureOptions());

        Assert.Equal(new LevelChoice(VertebralLevel.L1, true, "L1 measured"), choice);
    }

    [Fact]
    public void L2IsTheFirstFallbackAndTheReasonNamesL1sProblem()
    {
        var choice = LevelSelection.Choose(Unusable(VertebralLevel.L1, "fracture"), Usable(VertebralLevel.AboveL1), Usable(VertebralLevel.L2), new MeasureOptions());

        Assert.Equal(VertebralLevel.L2, choice.Level);
        Assert.True(choice.Usable);
        Assert.Contains("L1 unusable (fracture)", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AboveL1IsUsedWhenL2IsMissing()
    {
        var choice = LevelSelection.Choose(null, Usable(VertebralLevel.AboveL1), null, new MeasureOptions());

        Assert.Equal(VertebralLevel.AboveL1, choice.Level);
        Assert.StartsWith("L1 not segmented", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WithNoUsableLevelL1IsMeasuredForReferenceOnly()
    {
        var choice = LevelSelection.Choose(Unusable(VertebralLevel.L1, "lesion"), Unusable(VertebralLevel.AboveL1, "fracture"), null, new MeasureOptions());

        Assert.Equal(VertebralLevel.L1, choice.Level);
        Assert.False(choice.Usable);
        Assert.Contains("L2 not segmented", choice.Reason, StringComparison.Ordinal);
        Assert.Contains("reference only", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void NothingMeasurableGivesNoLevel()
    {
        var choice = LevelSelection.Choose(Unusable(VertebralLevel.L1, "too small", erodedVoxels: 0), null, null, new MeasureOptions());

        Assert.Null(choice.Level);
        Assert.StartsWith("no level can be measured", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AFallbackCutByTheScanOrHoldingTooLittleBoneIsNotMeasured()
    {
        var options = new MeasureOptions();
        var cut = Usable(VertebralLevel.L2) with { Whole = false };
        var thin = Usable(VertebralLevel.AboveL1) with { ErodedVolumeMl = 0.5 };

        var choice = LevelSelection.Choose(Unusable(VertebralLevel.L1, "fracture"), thin, cut, options);

        Assert.False(choice.Usable);
        Assert.Contains("L2 is cut by the scan's edge", choice.Reason, StringComparison.Ordinal);
        Assert.Contains("holds only 0.5 ml", choice.Reason, StringComparison.Ordinal);
    }
}

public sealed class BoneDensityInterpretationTests
{
    [Theory]
    [InlineData(120.001, BoneDensityCategory.Normal)]
    [InlineData(120, BoneDensityCategory.LowBoneDensity)]
    [InlineData(80, BoneDensityCategory.LowBoneDensity)]
    [InlineData(79.999, BoneDensityCategory.Osteoporosis)]
    [InlineData(-5, BoneDensityCategory.Osteoporosis)]
    public void AcrCategoryBoundaries(double vbmd, BoneDensityCategory expected) =>
        Assert.Equal(expected, BoneDensityInterpretation.Categorize(vbmd));

    [Fact]
    public void NonFiniteDensityIsNotCategorised() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BoneDensityInterpretation.Categorize(double.NaN));

    [Theory]
    [InlineData(160.01, false, false)]
    [InlineData(160, true, false)]
    [InlineData(110.01, true, false)]
    [InlineData(110, true, true)]
    public void HuScreeningBoundaries(double meanHu, bool sensitive, bool specific) =>
        Assert.Equal(new HuScreeningFlags(meanHu, VertebralLevel.L1, sensitive, specific, null), BoneDensityInterpretation.Screen(meanHu, VertebralLevel.L1, 120));

    [Theory]
    [InlineData(VertebralLevel.L2, 120.0, "defined at L1; L2 was measured")]
    [InlineData(VertebralLevel.AboveL1, 120.0, "defined at L1; the vertebra above L1 was measured")]
    [InlineData(VertebralLevel.L1, 100.0, "100 kVp: the 160/110 HU cut-offs are defined for 110–130 kVp")]
    [InlineData(VertebralLevel.L1, 140.0, "140 kVp")]
    [InlineData(VertebralLevel.L1, null, "kVp not stated")]
    public void HuScreeningIsNotAppliedWhereItsCutOffsAreNotDefined(VertebralLevel level, double? kvp, string reason)
    {
        // 95 HU would raise both flags at L1 and 120 kVp; elsewhere the HU stays and the flags are null with the reason.
        var flags = BoneDensityInterpretation.Screen(95, level, kvp);

        Assert.Equal(95, flags.MeanHu);
        Assert.Null(flags.AtOrBelowSensitiveCutoff);
        Assert.Null(flags.AtOrBelowSpecificCutoff);
        Assert.Contains(reason, flags.NotApplicable, StringComparison.Ordinal);
        Assert.True(BoneDensityInterpretation.Screen(95, VertebralLevel.L1, 110).AtOrBelowSpecificCutoff);
    }
}
