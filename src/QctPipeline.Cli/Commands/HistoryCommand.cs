using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using QctPipeline.Compare;
using QctPipeline.Domain;
using QctPipeline.Report;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>One exam in a patient's history with its comparison against the exams before it.</summary>
internal sealed record HistoryRow(
    string? StudyDate,
    string SeriesInstanceUid,
    string? MeasuredLevel,
    double? VbmdMgPerCm3,
    string? Category,
    string CalibrationMethod,
    double? Kvp,
    string ContrastPhase,
    string? SameDayDuplicateOf,
    Comparison Comparison);

/// <summary>`qct history PATIENT`: the patient's stored exams in date order with changes and flags, as a table, JSON or CSV, and a trend plot.</summary>
internal static class HistoryCommand
{
    public static Command Create()
    {
        var patient = new Argument<string>("patientId") { Description = "The PatientID as the series state it." };
        var store = new StoreArguments();
        var declineThreshold = new DeclineThresholdArgument();
        var json = new Option<bool>("--json") { Description = "Print the history as JSON." };
        var csv = new Option<bool>("--csv") { Description = "Print the history as CSV (RFC 4180)." };
        var plot = new Option<string?>("--plot") { Description = "Also write the vBMD trend plot with the ACR bands (PNG)." };
        var command = new Command("history", "A patient's exams from the results store: vBMD, change from baseline and previous, flags; optionally a trend plot.");
        command.Arguments.Add(patient);
        store.AddTo(command);
        declineThreshold.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(csv);
        command.Options.Add(plot);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var plotPath = parsed.GetValue(plot);
            if (plotPath is not null && !plotPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                return ExitCodes.Fail($"{plotPath}: --plot must end in .png", ExitCodes.Usage);
            }

            using var results = ResultStore.Open(store.Path(parsed));
            var patientId = parsed.GetValue(patient)!;
            var exams = results.History(patientId);
            if (exams.Count == 0)
            {
                return ExitCodes.Fail($"{results.Path}: no exams stored for PatientID {JsonSerializer.Serialize(patientId)}", ExitCodes.Failure);
            }

            var rows = Rows(exams, declineThreshold.Options(parsed));
            if (plotPath is not null)
            {
                PngEncoder.WriteFile(plotPath, TrendPlot.Render(TrendPoints(rows)).ToPng());
            }

            if (parsed.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { patientId, patientPseudonym = results.Pseudonym(patientId), store = results.Path, plot = plotPath, exams = rows }, AnalyzeReport.JsonOptions));
            }
            else if (parsed.GetValue(csv))
            {
                Console.Write(CsvTable(rows));
            }
            else
            {
                Console.WriteLine($"{patientId}: {rows.Count} exam(s) in {results.Path}");
                foreach (var row in rows)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{row.StudyDate ?? "(no date)",-10}  {row.MeasuredLevel ?? "-",-4} {(row.VbmdMgPerCm3 is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "-"),7} mg/cm³  {row.Category ?? "-",-17} {row.CalibrationMethod,-8} {row.SeriesInstanceUid}"));
                    Console.WriteLine($"            {(row.SameDayDuplicateOf is { } of ? $"same-day duplicate of {of}" : HumanSummary.OneLine(row.Comparison))}");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The exams the trend plot shows: one per day with a vBMD, red where it declined by the threshold in force.</summary>
    internal static List<TrendPoint> TrendPoints(IEnumerable<HistoryRow> rows) => [.. rows
        .Where(r => r.SameDayDuplicateOf is null && r.VbmdMgPerCm3 is not null && r.StudyDate is not null)
        .Select(r => new TrendPoint(DateOnly.ParseExact(r.StudyDate!, "yyyy-MM-dd", CultureInfo.InvariantCulture), r.VbmdMgPerCm3!.Value, r.Comparison.DeclineFromBaseline || r.Comparison.DeclineFromPrevious))];

    /// <summary>Every exam compared with those before it; same-day series other than the day's preferred one are marked.</summary>
    internal static List<HistoryRow> Rows(IReadOnlyList<ExamRecord> exams, ComparisonOptions options)
    {
        var preferred = exams.Where(e => e.StudyDate is not null).GroupBy(e => e.StudyDate).ToDictionary(g => g.Key!.Value, g => LongitudinalComparator.Preferred(g).SeriesInstanceUid);
        return [.. exams.Select(exam => new HistoryRow(
            HumanSummary.Date(exam.StudyDate),
            exam.SeriesInstanceUid,
            exam.MeasuredLevel,
            exam.VbmdMgPerCm3,
            exam.Category,
            exam.CalibrationMethod,
            exam.Kvp,
            exam.ContrastPhase,
            exam.StudyDate is { } date && preferred[date] != exam.SeriesInstanceUid ? preferred[date] : null,
            LongitudinalComparator.Compare(exam, exams, options)))];
    }

    private static string CsvTable(IReadOnlyList<HistoryRow> rows)
    {
        var text = new StringBuilder();
        text.Append("study_date,series_uid,measured_level,vbmd_mg_cm3,category,calibration_method,kvp,contrast_phase,same_day_duplicate_of,")
            .Append("baseline_date,previous_date,percent_change_from_baseline,percent_change_from_previous,days_from_baseline,annualized_percent,")
            .Append("decline_threshold_percent,decline_from_baseline,decline_from_previous,exceeds_lsc,lsc_percent,category_transitions,protocol_mismatch\r\n");
        foreach (var r in rows)
        {
            var c = r.Comparison;
            string?[] fields =
            [
                r.StudyDate, r.SeriesInstanceUid, r.MeasuredLevel, Csv.Number(r.VbmdMgPerCm3), r.Category, r.CalibrationMethod, Csv.Number(r.Kvp), r.ContrastPhase,
                r.SameDayDuplicateOf, HumanSummary.Date(c.BaselineDate), HumanSummary.Date(c.PreviousDate), Csv.Number(c.PercentChangeFromBaseline), Csv.Number(c.PercentChangeFromPrevious),
                c.DaysFromBaseline?.ToString(CultureInfo.InvariantCulture), Csv.Number(c.AnnualizedPercent), Csv.Number(c.DeclineThresholdPercent), Csv.Bool(c.DeclineFromBaseline), Csv.Bool(c.DeclineFromPrevious),
                Csv.Bool(c.ExceedsLsc), Csv.Number(c.LscPercent), string.Join(" | ", c.CategoryTransitions), string.Join(" | ", c.ProtocolMismatch),
            ];
            text.Append(Csv.Row(fields));
        }

        return text.ToString();
    }
}
