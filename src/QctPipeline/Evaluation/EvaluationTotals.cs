using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Evaluation;

/// <summary>
/// The totals of a real-CT evaluation. Medians are over the cases that have the figure (their count beside each);
/// <see cref="WrongWithStatusOk"/> must be 0: a wrong level with status ok is the silent wrong answer issue 14 forbids.
/// </summary>
public sealed record EvaluationTotals(
    int Evaluated,
    int NotEvaluated,
    int Right,
    int Wrong,
    int Abstained,
    int WrongWithStatusOk,
    double? MedianCentroidErrorMm,
    int CentroidErrors,
    double? MedianDice,
    int Dices,
    double? MedianHuDifference,
    double? MaxAbsHuDifference,
    int HuDifferences)
{
    public static EvaluationTotals Of(IReadOnlyList<CaseScore> scores, int notEvaluated)
    {
        double[] Values(Func<CaseScore, double?> pick) => [.. scores.Select(pick).OfType<double>()];
        double? Median(double[] values) => values.Length == 0 ? null : Statistics.Median(values);
        var (errors, dices, differences) = (Values(s => s.CentroidErrorMm), Values(s => s.Dice), Values(s => s.HuDifference));
        return new EvaluationTotals(
            scores.Count,
            notEvaluated,
            scores.Count(s => s.Verdict == LevelVerdict.Right),
            scores.Count(s => s.Verdict == LevelVerdict.Wrong),
            scores.Count(s => s.Verdict == LevelVerdict.Abstained),
            scores.Count(s => s.WrongWithStatusOk),
            Median(errors),
            errors.Length,
            Median(dices),
            dices.Length,
            Median(differences),
            differences.Length == 0 ? null : differences.Max(Math.Abs),
            differences.Length);
    }

    public const string Header = "case                      level  status  verdict    centroid_mm  dice   ref_hu  pipeline_hu  hu_diff  detail";

    public static string Row(CaseScore score) => string.Create(CultureInfo.InvariantCulture,
        $"{score.Case,-25} {score.Level,-6} {score.Status,-7} {score.VerdictName,-10} {Number(score.CentroidErrorMm, "0.0"),11}  {Number(score.Dice, "0.000"),5}  {Number(score.ReferenceHu, "0.0"),6}  {Number(score.PipelineHu, "0.0"),11}  {Number(score.HuDifference, "+0.0;-0.0"),7}  {score.Detail}");

    public IEnumerable<string> Lines()
    {
        yield return $"cases: {Evaluated} evaluated, {NotEvaluated} not (bad input, each named on standard error)";
        yield return $"level: right {Right}, wrong {Wrong}, abstained {Abstained}; wrong with status ok: {WrongWithStatusOk} (must be 0)";
        yield return string.Create(CultureInfo.InvariantCulture, $"median centroid error: {Number(MedianCentroidErrorMm, "0.0")} mm (n = {CentroidErrors})");
        yield return string.Create(CultureInfo.InvariantCulture, $"median Dice: {Number(MedianDice, "0.000")} (n = {Dices})");
        yield return string.Create(CultureInfo.InvariantCulture,
            $"HU difference (pipeline − reference): median {Number(MedianHuDifference, "+0.0;-0.0")}, max |·| {Number(MaxAbsHuDifference, "0.0")} (n = {HuDifferences}; the issue asks for ±10 HU on L1)");
    }

    private static string Number(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
