using QctPipeline.Compare;
using QctPipeline.Domain;

namespace QctPipeline.Tests.Compare;

public sealed class LongitudinalComparatorTests
{
    private static readonly ComparisonOptions Options = new();

    internal static ExamRecord Exam(string series, string date, double? vbmd, string category = "low-bone-density") => new()
    {
        PatientId = "P1",
        StudyDate = DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture),
        SeriesInstanceUid = series,
        Manufacturer = "ACME",
        ManufacturerModelName = "CT 1",
        Kvp = 120,
        ConvolutionKernel = "STANDARD",
        SliceThicknessMm = 1.25,
        CalibrationMethod = "internal",
        ModelVersion = "1",
        MeasuredLevel = "L1",
        LevelUsable = true,
        VbmdMgPerCm3 = vbmd,
        Category = category,
        SoftwareVersion = "0.5.0",
        AnalysedAt = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public void ChangeFromBaselineAndPreviousWithFlagsAndAnnualisedRate()
    {
        var baseline = Exam("s1", "2025-01-10", 118);
        var previous = Exam("s2", "2025-04-10", 115);
        var current = Exam("s3", "2025-07-10", 109.74);

        // History arrives out of order and includes the current exam's own row.
        var c = LongitudinalComparator.Compare(current, [current, previous, baseline], Options);

        Assert.Equal(new DateOnly(2025, 1, 10), c.BaselineDate);
        Assert.Equal(new DateOnly(2025, 4, 10), c.PreviousDate);
        Assert.Equal(-8.26, c.ChangeFromBaselineMgPerCm3!.Value, 2);
        Assert.Equal(-7.0, c.PercentChangeFromBaseline!.Value, 2);
        Assert.Equal(-4.57, c.PercentChangeFromPrevious!.Value, 2);
        Assert.Equal(181, c.DaysFromBaseline);
        Assert.Equal(91, c.DaysFromPrevious);
        Assert.Equal(-7.0 * 365.25 / 181, c.AnnualizedPercent!.Value, 1);
        Assert.True(c.DeclineFromBaseline);
        Assert.False(c.DeclineFromPrevious);

        // At the default 5 % threshold the flags keep their old names too.
        Assert.Equal(5, c.DeclineThresholdPercent);
        Assert.True(c.Decline5);
        Assert.False(c.Decline5FromPrevious);

        // Internal calibration: LSC = 2.77 × 2 % = 5.54 %.
        Assert.Equal(5.54, c.LscPercent, 2);
        Assert.True(c.ExceedsLsc);
        Assert.False(c.ExceedsLscFromPrevious);
        Assert.Empty(c.ProtocolMismatch);
    }

    [Theory]
    [InlineData(100, 4, 94, 4, -12.0, 0.0, true)]
    [InlineData(100, 4, 95, 4, -11.0, 1.0, false)]
    public void Each_change_gets_the_interval_of_both_exams_and_is_significant_when_it_excludes_zero(double before, double beforeHalfWidth, double after, double afterHalfWidth, double low, double high, bool significant)
    {
        // Half-widths 4 and 4 (SDs 4/1.96): the change's SD is √2 · 4/1.96 and its half-width 4√2 = 5.66 mg/cm³.
        var baseline = Exam("s1", "2025-01-10", before) with { VbmdCi95 = (before - beforeHalfWidth, before + beforeHalfWidth) };
        var current = Exam("s2", "2025-07-10", after) with { VbmdCi95 = (after - afterHalfWidth, after + afterHalfWidth) };

        var c = LongitudinalComparator.Compare(current, [baseline], Options);

        var halfWidth = Math.Sqrt((beforeHalfWidth * beforeHalfWidth) + (afterHalfWidth * afterHalfWidth));
        Assert.Equal(after - before - halfWidth, c.ChangeFromBaselineCi95![0], 6);
        Assert.Equal(after - before + halfWidth, c.ChangeFromBaselineCi95[1], 6);
        Assert.InRange(c.ChangeFromBaselineCi95[0], low - 0.5, low + 0.5);
        Assert.InRange(c.ChangeFromBaselineCi95[1], high - 0.5, high + 0.5);
        Assert.Equal(significant, c.SignificantChange);
        Assert.Equal(c.ChangeFromBaselineCi95, c.ChangeFromPreviousCi95);
    }

    [Fact]
    public void A_calibration_from_the_same_tissues_on_the_same_protocol_counts_once_in_the_change()
    {
        // Each exam: SD 5 mg/cm³ (half-width 9.8), of which 4 from the internal calibration and 3 from noise and ROI.
        var baseline = Exam("s1", "2025-01-10", 100) with { VbmdCi95 = (90.2, 109.8), VbmdCalibrationSd = 4 };
        var current = Exam("s2", "2025-07-10", 90) with { VbmdCi95 = (80.2, 99.8), VbmdCalibrationSd = 4 };

        var shared = LongitudinalComparator.Compare(current, [baseline], Options);

        // Same tissues, same protocol: the calibration's error is in both and cancels; 3 and 3 add: SD √18.
        Assert.Equal(-10 + (1.96 * Math.Sqrt(18)), shared.ChangeFromBaselineCi95![1], 6);
        Assert.True(shared.SignificantChange);

        // Another kVp: each calibration is its own, and the whole intervals add: SD √50, half-width 13.9.
        var otherKvp = LongitudinalComparator.Compare(current with { Kvp = 100 }, [baseline], Options);
        Assert.Equal(-10 + (1.96 * Math.Sqrt(50)), otherKvp.ChangeFromBaselineCi95![1], 6);
        Assert.False(otherKvp.SignificantChange);
    }

    [Fact]
    public void A_change_without_an_interval_on_either_exam_has_none_and_no_significance()
    {
        var baseline = Exam("s1", "2025-01-10", 100);
        var current = Exam("s2", "2025-07-10", 90) with { VbmdCi95 = (86, 94) };

        var c = LongitudinalComparator.Compare(current, [baseline], Options);

        Assert.Null(c.ChangeFromBaselineCi95);
        Assert.Null(c.SignificantChange);
        Assert.True(c.DeclineFromBaseline);
    }

    [Theory]
    [InlineData(131, 128.38, false)]
    [InlineData(100, 95.01, false)]
    [InlineData(100, 95.0, true)]
    [InlineData(100, 95.004, false)]
    public void DeclineFlagAtTheThresholdOnUnroundedValues(double before, double after, bool flagged)
    {
        // 95.004 from 100 is −4.996 %, shown as −5.00 %: the flag follows the value, not its rounding.
        var c = LongitudinalComparator.Compare(Exam("b", "2025-08-04", after), [Exam("a", "2025-02-03", before)], Options);
        Assert.Equal(flagged, c.DeclineFromBaseline);
    }

    [Fact]
    public void ThresholdIsConfigurableAndTheOldNamesGoWithTheFivePercentDefault()
    {
        var c = LongitudinalComparator.Compare(Exam("b", "2025-08-04", 97), [Exam("a", "2025-02-03", 100)], Options with { DeclineThresholdPercent = 3 });

        Assert.True(c.DeclineFromBaseline);
        Assert.Equal(3, c.DeclineThresholdPercent);
        Assert.Null(c.Decline5);
        Assert.Null(c.Decline5FromPrevious);
    }

    [Fact]
    public void AFracturedOrLesionedLevelIsNeitherComparedNorABaseline()
    {
        var baseline = Exam("b", "2025-01-10", 118);
        var fractured = Exam("x", "2025-04-10", 98) with { LevelUsable = false };
        var followUp = Exam("f", "2025-07-10", 112);

        var overFracture = LongitudinalComparator.Compare(followUp, [baseline, fractured], Options);
        Assert.Equal(new DateOnly(2025, 1, 10), overFracture.PreviousDate);
        Assert.Equal(-5.08, overFracture.PercentChangeFromPrevious!.Value, 2);
        Assert.Contains(overFracture.NotCompared, n => n.StartsWith("2025-04-10: L1 not usable", StringComparison.Ordinal));

        var ofFracture = LongitudinalComparator.Compare(fractured, [baseline], Options);
        Assert.Null(ofFracture.PercentChangeFromBaseline);
        Assert.False(ofFracture.DeclineFromBaseline);
        Assert.Contains("no usable vBMD", ofFracture.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void WhenTheMeasuredLevelChangesOnlyExamsOfTheSameVertebraAreCompared()
    {
        var l1Baseline = Exam("b", "2025-01-10", 118);
        var l2First = Exam("m", "2025-04-10", 130) with { MeasuredLevel = "L2" };
        var l2Later = Exam("f", "2025-07-10", 121) with { MeasuredLevel = "L2" };

        // The first exam at L2 is the L2 baseline: nothing to compare it with, and it says why.
        var first = LongitudinalComparator.Compare(l2First, [l1Baseline], Options);
        Assert.Null(first.PercentChangeFromBaseline);
        Assert.Equal("L2", first.Level);
        Assert.Contains("first usable exam at L2", first.Reason, StringComparison.Ordinal);
        Assert.Equal(["2025-01-10: measured at L1, this exam at L2"], first.NotCompared);

        var later = LongitudinalComparator.Compare(l2Later, [l1Baseline, l2First], Options);
        Assert.Equal(new DateOnly(2025, 4, 10), later.BaselineDate);
        Assert.Equal(-6.92, later.PercentChangeFromBaseline!.Value, 2);
        Assert.True(later.DeclineFromBaseline);
        Assert.Contains("at L2", later.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ABaselineWithoutVbmdGivesWayToTheFirstExamWithOne()
    {
        var noCalibration = Exam("n", "2025-01-10", null) with { CalibrationMethod = "none" };
        var first = Exam("b", "2025-04-10", 120);
        var followUp = Exam("f", "2025-10-10", 110);

        var c = LongitudinalComparator.Compare(followUp, [noCalibration, first], Options);

        Assert.Equal(new DateOnly(2025, 4, 10), c.BaselineDate);
        Assert.Equal(-8.33, c.PercentChangeFromBaseline!.Value, 2);
        Assert.True(c.DeclineFromBaseline);
        Assert.Equal(["2025-01-10: no vBMD at L1"], c.NotCompared);
    }

    [Fact]
    public void FirstExamIsTheBaselineAndAFollowUpAnalysedFirstIsComparedOnceItsBaselineArrives()
    {
        var followUp = Exam("f", "2025-07-10", 109);
        var alone = LongitudinalComparator.Compare(followUp, [followUp], Options);
        Assert.Null(alone.PercentChangeFromBaseline);
        Assert.Contains("baseline", alone.Reason, StringComparison.Ordinal);

        var baseline = Exam("b", "2025-01-10", 118);
        var later = LongitudinalComparator.Compare(followUp, [followUp, baseline], Options);
        Assert.Equal(new DateOnly(2025, 1, 10), later.BaselineDate);
        Assert.True(later.DeclineFromBaseline);
    }

    [Fact]
    public void ProtocolDifferencesAreListedAndTheNumbersStillGiven()
    {
        var baseline = Exam("b", "2025-01-10", 118);
        var followUp = Exam("f", "2025-07-10", 125) with
        {
            ContrastDetected = true,
            ContrastPhase = "venous",
            Kvp = 100,
            CalibrationMethod = "phantom",
            ConvolutionKernel = "B30f",
            ManufacturerModelName = "CT 2",
            SliceThicknessMm = 3,
            ModelVersion = "2",
        };

        var c = LongitudinalComparator.Compare(followUp, [baseline], Options);

        Assert.NotNull(c.PercentChangeFromBaseline);
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("contrast phase none → venous", StringComparison.Ordinal));
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("kVp 120 → 100", StringComparison.Ordinal));
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("calibration method internal → phantom", StringComparison.Ordinal));
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("kernel STANDARD → B30f", StringComparison.Ordinal));
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("scanner ACME CT 1 → ACME CT 2", StringComparison.Ordinal));
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("slice thickness 1.25 → 3 mm", StringComparison.Ordinal));
        Assert.Contains(c.ProtocolMismatch, m => m.Contains("model version 1 → 2", StringComparison.Ordinal));
        Assert.Contains("protocols differ", c.Reason, StringComparison.Ordinal);

        // Slices within 1 mm of each other are the same protocol.
        Assert.Empty(LongitudinalComparator.Compare(Exam("f", "2025-07-10", 117) with { SliceThicknessMm = 2 }, [baseline], Options).ProtocolMismatch);
    }

    [Fact]
    public void SameDaySeriesStandForOneExamThePreferredOneCounting()
    {
        var unenhanced = Exam("plain", "2025-01-10", 118);
        var enhanced = Exam("venous", "2025-01-10", 130) with { ContrastDetected = true, ContrastPhase = "venous" };
        var followUp = Exam("f", "2025-07-10", 111);

        var c = LongitudinalComparator.Compare(followUp, [enhanced, unenhanced], Options);
        Assert.Equal(-5.93, c.PercentChangeFromBaseline!.Value, 2);
        Assert.Empty(c.ProtocolMismatch);

        var sameDay = LongitudinalComparator.Compare(enhanced, [unenhanced, enhanced], Options);
        Assert.Equal(["plain"], sameDay.SameDayDuplicates);
        Assert.Null(sameDay.PercentChangeFromBaseline);
        Assert.Equal("plain", LongitudinalComparator.Preferred([enhanced, unenhanced]).SeriesInstanceUid);
    }

    [Fact]
    public void CategoryTransitionsAreNamed()
    {
        var c = LongitudinalComparator.Compare(Exam("f", "2025-07-10", 118, "low-bone-density"), [Exam("b", "2025-01-10", 125, "normal")], Options);

        Assert.Equal(["baseline 2025-01-10: normal → low-bone-density"], c.CategoryTransitions);
    }

    [Fact]
    public void WithoutPatientIdOrDateNothingIsCompared()
    {
        var history = new[] { Exam("b", "2025-01-10", 118) };

        Assert.Contains("no PatientID", LongitudinalComparator.Compare(Exam("f", "2025-07-10", 100) with { PatientId = null }, history, Options).Reason, StringComparison.Ordinal);
        Assert.Contains("no valid StudyDate", LongitudinalComparator.Compare(Exam("f", "2025-07-10", 100) with { StudyDate = null }, history, Options).Reason, StringComparison.Ordinal);
        Assert.False(LongitudinalComparator.Compare(Exam("f", "2025-07-10", 100) with { PatientId = "P2" }, history, Options).DeclineFromBaseline);
    }
}
