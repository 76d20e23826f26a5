using QctPipeline.Domain;
using QctPipeline.Evaluation;
using QctPipeline.Nifti;

namespace QctPipeline.Tests.Evaluation;

/// <summary>
/// The verdict rules, on the real ts-spine-j2k reference: TotalSegmentator's T12 (label 32) mapped onto the DICOM
/// series' own grid, answered by made-up pipeline answers that name T12 on it, beside it or not at all.
/// </summary>
public sealed class EvalRealScoringTests
{
    private static readonly Lazy<(Mask T12, Mask T11)> Labels = new(() =>
    {
        var grid = NiftiVolumes.Geometry(NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz")));
        MaskExpression Expression(int label) => MaskExpression.Parse($"labels.nii.gz:{label}", RealData.Path("ts-spine-j2k")).Expression!;
        return (ReferenceStandard.MaskOnGrid(Expression(32), grid), ReferenceStandard.MaskOnGrid(Expression(33), grid));
    });

    private static Mask T12 => Labels.Value.T12;

    private static Vector3 T12Centre => T12.Centroid()!.Value;

    private static ReferenceStandard Reference(string level = "T12", bool? l1InView = false, bool withBody = true) =>
        new(level, withBody ? T12 : null, T12Centre, 150, "manifest", l1InView);

    private static PipelineAnswer Answer(string status, params (string Name, Vector3 At)[] levels) => new(
        status, "because", [.. levels.Select(l => new NamedLevel(l.Name, l.At))],
        status == "no-l1" ? null : levels.Where(l => l.Name == "L1").Select(l => (Vector3?)l.At).FirstOrDefault(), new Dictionary<string, Mask>(), null, null);

    [Fact]
    public void The_level_named_within_10_mm_of_the_reference_centroid_is_right_with_its_error()
    {
        var score = CaseScoring.Score("c", Reference(withBody: false), Answer("no-l1", ("T11", T12Centre + new Vector3(0, 0, 25)), ("T12", T12Centre + new Vector3(3, 4, 0))));

        Assert.Equal(LevelVerdict.Right, score.Verdict);
        Assert.Equal(5, score.CentroidErrorMm!.Value, 9);
    }

    [Fact]
    public void The_level_named_inside_the_reference_body_is_right_even_beyond_10_mm_and_outside_it_wrong()
    {
        var rightSide = FarthestInsidePoint(T12);
        Assert.True((rightSide - T12Centre).Length > CaseScoring.CentroidToleranceMm, "the real T12 mask reaches beyond 10 mm of its centroid");

        var inside = CaseScoring.Score("c", Reference(), Answer("no-l1", ("T12", rightSide)));
        var beside = CaseScoring.Score("c", Reference(), Answer("no-l1", ("T12", T12Centre + new Vector3(0, 0, -30))));

        Assert.Equal(LevelVerdict.Right, inside.Verdict);
        Assert.Contains("inside the reference body", inside.Detail, StringComparison.Ordinal);
        Assert.Equal(LevelVerdict.Wrong, beside.Verdict);
        Assert.Contains("outside the reference body", beside.Detail, StringComparison.Ordinal);
        Assert.False(beside.WrongWithStatusOk);
    }

    [Fact]
    public void No_level_of_that_name_an_L1_abstention_and_an_error_are_abstentions()
    {
        Assert.Equal(LevelVerdict.Abstained, CaseScoring.Score("c", Reference(), Answer("no-l1", ("T11", T12Centre))).Verdict);
        Assert.Equal(LevelVerdict.Abstained, CaseScoring.Score("c", Reference("L1", l1InView: true), Answer("no-l1", ("L1", T12Centre))).Verdict);
        var error = CaseScoring.Score("c", Reference(), PipelineAnswer.Failed("OnnxRuntimeException: boom"));
        Assert.Equal((LevelVerdict.Abstained, "error"), (error.Verdict, error.Status));
    }

    [Fact]
    public void Where_no_whole_L1_is_in_view_no_l1_is_right_and_an_L1_with_status_ok_is_wrong_with_ok()
    {
        var abstains = CaseScoring.Score("c", Reference("L1", withBody: false), Answer("no-l1", ("T12", T12Centre)));
        var claimsOk = CaseScoring.Score("c", Reference("L1", withBody: false), Answer("ok", ("L1", T12Centre)));
        var claimsReview = CaseScoring.Score("c", Reference("L1", withBody: false), Answer("review", ("L1", T12Centre)));
        var t12RightButL1Claimed = CaseScoring.Score("c", Reference(), Answer("ok", ("T12", T12Centre), ("L1", T12Centre - new Vector3(0, 0, 30))));

        Assert.Equal(LevelVerdict.Right, abstains.Verdict);
        Assert.True(claimsOk is { Verdict: LevelVerdict.Wrong, WrongWithStatusOk: true }, claimsOk.Detail);
        Assert.True(claimsReview is { Verdict: LevelVerdict.Wrong, WrongWithStatusOk: false }, claimsReview.Detail);
        Assert.True(t12RightButL1Claimed is { Verdict: LevelVerdict.Wrong, WrongWithStatusOk: true }, t12RightButL1Claimed.Detail);
        Assert.StartsWith("L1 claimed with status ok though no whole L1 is in view", t12RightButL1Claimed.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lumbar_or_sacral_name_above_a_thoracic_one_makes_any_case_wrong()
    {
        var up = new Vector3(0, 0, 1);
        var answer = Answer("no-l1", ("L5", T12Centre + (up * 140)), ("S1", T12Centre + (up * 130)), ("T11", T12Centre + (up * 25)), ("T12", T12Centre));

        var score = CaseScoring.Score("c", Reference(), answer);

        Assert.Equal(LevelVerdict.Wrong, score.Verdict);
        Assert.StartsWith("L5 (z ", score.Detail, StringComparison.Ordinal);
        Assert.Contains("named above T12", score.Detail, StringComparison.Ordinal);
        Assert.Null(CaseScoring.LumbarAboveThoracic([new("T12", T12Centre), new("L1", T12Centre - (up * 30)), new("S1", T12Centre - (up * 160))]));
    }

    [Fact]
    public void Dice_and_the_HU_difference_come_from_the_mask_and_ROI_of_the_reference_level()
    {
        var t11 = Labels.Value.T11;
        var answer = new PipelineAnswer("ok", null, [new("T12", T12Centre)], T12Centre - new Vector3(0, 0, 30),
            new Dictionary<string, Mask> { ["T12"] = T12, ["L1"] = t11 }, "T12", 171.5);

        var score = CaseScoring.Score("c", Reference(l1InView: true), answer);
        var otherLevelMeasured = CaseScoring.Score("c", Reference(l1InView: true), answer with { MeasuredLevel = "L1" });

        Assert.Equal(1.0, score.Dice);
        Assert.Equal(21.5, score.HuDifference!.Value, 9);
        Assert.Null(otherLevelMeasured.HuDifference);
        Assert.Equal(0.0, CaseScoring.Dice(T12, t11));
    }

    [Fact]
    public void Totals_count_verdicts_and_take_medians_over_the_cases_that_have_the_figure()
    {
        CaseScore Score(LevelVerdict verdict, string status, double? error, double? dice, double? hu) =>
            new("c", "L1", status, verdict, "", error, dice, null, null, hu);

        var totals = EvaluationTotals.Of(
            [Score(LevelVerdict.Right, "ok", 2, 0.9, -4), Score(LevelVerdict.Wrong, "ok", 30, 0.1, 12), Score(LevelVerdict.Wrong, "review", 20, null, null), Score(LevelVerdict.Abstained, "no-l1", null, null, null)],
            notEvaluated: 1);

        Assert.Equal((4, 1, 1, 2, 1, 1), (totals.Evaluated, totals.NotEvaluated, totals.Right, totals.Wrong, totals.Abstained, totals.WrongWithStatusOk));
        Assert.Equal((20.0, 3), (totals.MedianCentroidErrorMm, totals.CentroidErrors));
        Assert.Equal((0.5, 2), (totals.MedianDice!.Value, totals.Dices));
        Assert.Equal((4.0, 12.0, 2), (totals.MedianHuDifference, totals.MaxAbsHuDifference, totals.HuDifferences));
    }

    private static Vector3 FarthestInsidePoint(Mask mask)
    {
        var centre = mask.Centroid()!.Value;
        var (best, distance) = (centre, 0.0);
        var g = mask.Geometry;
        for (var k = 0; k < g.SizeZ; k++)
        {
            for (var j = 0; j < g.SizeY; j++)
            {
                for (var i = 0; i < g.SizeX; i++)
                {
                    if (mask[i, j, k] && (g.VoxelToPatient(i, j, k) - centre).Length is var d && d > distance)
                    {
                        (best, distance) = (g.VoxelToPatient(i, j, k), d);
                    }
                }
            }
        }

        return best;
    }
}
