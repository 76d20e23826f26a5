using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct analyze` without --json: what was measured, how it compares with the patient's history, where it went.</summary>
internal static class HumanSummary
{
    public static IEnumerable<string> Lines(AnalyzeReport report, ExamRecord? exam)
    {
        yield return $"{report.PatientId ?? "(no PatientID)"} {report.StudyDate ?? "(no date)"} series {report.SeriesInstanceUid}: {report.Status}{(report.Reason is { } reason ? $" ({reason})" : string.Empty)}";
        if (report.L1.Vbmd is { MgPerCm3: { } vbmd } density)
        {
            var level = report.L1.MeasuredLevel?.Level ?? "L1";
            var category = report.L1.Category is { } c
                ? $", {c}{(report.L1.CategoryContrastAffected ? " (contrast-affected)" : string.Empty)}{(report.L1.CategoryUncertain is { } uncertain ? $" (not certain: {uncertain})" : string.Empty)}"
                : string.Empty;
            var spread = density.Ci95 is [var lower, var upper] ? Invariant($" (95 % {lower:0.0}–{upper:0.0})") : string.Empty;
            yield return Invariant($"{level} vBMD {vbmd:0.0} mg/cm³ HA{spread} ({density.Method} calibration){category}; mean {report.L1.Trabecular?.MeanHu:0.0} HU");
            yield return report.L1.L1L2 is { VbmdMgPerCm3: { } mean } twoLevels
                ? Invariant($"ACR L1–L2 mean {mean:0.0} mg/cm³ HA{(twoLevels.Ci95 is [var low, var high] ? Invariant($" (95 % {low:0.0}–{high:0.0})") : string.Empty)}, {twoLevels.Category}")
                : $"no ACR L1–L2 mean: {report.L1.L1L2?.Missing}";
        }
        else if (report.L1.Trabecular is { MeanHu: { } hu })
        {
            yield return Invariant($"{report.L1.MeasuredLevel?.Level ?? "L1"} mean {hu:0.0} HU (no calibration: {report.Calibration?.Reason})");
        }

        if (report.Comparison is { } comparison)
        {
            yield return OneLine(comparison);
        }

        if (report.Store is { } store && exam is not null)
        {
            yield return $"stored in {store} (software {exam.SoftwareVersion}, model {exam.ModelVersion})";
        }

        if (report.Warnings.Count > 0)
        {
            yield return $"{report.Warnings.Count} warning(s); --json lists them";
        }
    }

    /// <summary>The comparison in one line: change from baseline and previous, the flags, what differs.</summary>
    public static string OneLine(Comparison c)
    {
        if (c.PercentChangeFromBaseline is not { } fromBaseline)
        {
            return $"history: {c.Reason}";
        }

        var parts = new List<string>
        {
            Invariant($"vs baseline {c.BaselineDate:yyyy-MM-dd} ({c.DaysFromBaseline} days): {fromBaseline:+0.0;-0.0} % ({c.ChangeFromBaselineMgPerCm3:+0.0;-0.0} mg/cm³, {c.AnnualizedPercent:+0.0;-0.0} %/year)"),
        };
        if (c.ChangeFromBaselineCi95 is [var low, var high])
        {
            parts.Add(Invariant($"change 95 % {low:+0.0;-0.0} to {high:+0.0;-0.0} mg/cm³, {(c.SignificantChange == true ? "significant for this exam pair" : "not significant for this exam pair")}"));
        }

        if (c.PreviousDate != c.BaselineDate && c.PercentChangeFromPrevious is { } fromPrevious)
        {
            parts.Add(Invariant($"vs previous {c.PreviousDate:yyyy-MM-dd}: {fromPrevious:+0.0;-0.0} %"));
        }

        parts.Add(Invariant($"{(c.DeclineFromBaseline || c.DeclineFromPrevious ? "DECLINE" : "no decline")} ≥ {c.DeclineThresholdPercent:0.##} %"));
        parts.Add(Invariant($"{(c.ExceedsLsc ? "exceeds" : "within")} the least significant change ({c.LscPercent:0.0} %)"));
        parts.AddRange(c.CategoryTransitions.Select(t => $"category {t}"));
        if (c.ProtocolMismatch.Count > 0)
        {
            parts.Add($"PROTOCOL DIFFERS: {string.Join("; ", c.ProtocolMismatch)}");
        }

        return string.Join("; ", parts);
    }

    /// <summary>A date as the reports print it, ISO 8601.</summary>
    public static string? Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
