using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Report;

namespace QctPipeline.Cli.Commands;

/// <summary>Composes a study's report.html from what the chain returned, the stored exam and the patient's history.</summary>
internal static class StudyReports
{
    public static string Html(AnalyzeReport report, CtVolume volume, AnalysisResult analysis, ExamRecord exam, IReadOnlyList<ExamRecord> history, string? patientShown)
    {
        var figures = new List<(string, byte[])>();
        if (analysis.MeasuredBody is { } body && analysis.Measurement?.ErodedBody is { } eroded)
        {
            var ellipse = analysis.Measurement.Ellipse?.VoxelIndices ?? ReadOnlyMemory<int>.Empty;
            var (axial, sagittal) = StudyFigures.Vertebra(volume, body, eroded.VoxelIndices.Span, ellipse.Span);
            figures.Add(($"{exam.MeasuredLevel} axial through the body's centre, bone window: body, eroded ROI and elliptical ROI overlaid", axial.ToPng()));
            figures.Add(($"{exam.MeasuredLevel} mid-sagittal, head up, anterior left: body, eroded ROI and elliptical ROI overlaid", sagittal.ToPng()));
        }

        var calibration = analysis.Calibration.Calibration;
        if (calibration.HasLine && calibration.Points.Count > 0)
        {
            var points = calibration.Points.Select(p => new FitPoint(p.Name, p.KnownDensityMgPerCm3, p.MeasuredHu)).ToList();
            figures.Add(($"calibration fit ({CalibrationReport.MethodName(calibration.Method)}: {string.Join(", ", points.Select(p => p.Name))}): HU against mg/cm³ HA, the line HU = β + σ·ρ", StudyFigures.CalibrationFit(points, calibration.InterceptHu, calibration.SlopeHuPerMgPerCm3).ToPng()));
        }

        var comparisonOptions = report.Comparison is { } compared
            ? new Compare.ComparisonOptions { DeclineThresholdPercent = compared.DeclineThresholdPercent }
            : new Compare.ComparisonOptions();
        var trend = HistoryCommand.TrendPoints(HistoryCommand.Rows(history, comparisonOptions));
        if (trend.Count > 0)
        {
            figures.Add((Invariant($"vBMD over time on the ACR bands (red < 80 osteoporosis, amber 80–120 low bone density, green > 120 normal); red points declined ≥ {comparisonOptions.DeclineThresholdPercent:0.##} %"), TrendPlot.Render(trend).ToPng()));
        }

        var flags = new List<string>();
        if (report.Comparison is { } c && (c.DeclineFromBaseline || c.DeclineFromPrevious))
        {
            flags.Add(Invariant($"vBMD declined ≥ {c.DeclineThresholdPercent:0.##} %"));
        }

        if (report.Comparison is { ProtocolMismatch.Count: > 0 })
        {
            flags.Add("protocol differs from an earlier exam");
        }

        flags.AddRange(exam.QcFlags);
        var l1 = report.L1;
        var facts = new List<(string, string)>
        {
            ("patient", patientShown ?? "(no PatientID)"),
            ("study date", report.StudyDate ?? "(no valid date)"),
            ("series", report.SeriesInstanceUid ?? "-"),
            ("level measured", l1.MeasuredLevel is { } level ? $"{level.Level} — {level.Reason}" : report.Reason ?? "none"),
            ("vBMD (eroded body)", l1.Vbmd?.MgPerCm3 is { } v ? Invariant($"{v:0.0} mg/cm³ HA{(l1.Vbmd.Ci95 is [var low, var high] ? Invariant($" (95 % interval {low:0.0}–{high:0.0})") : string.Empty)}") : "-"),
            ("vBMD (mid-vertebral ellipse)", l1.Vbmd?.EllipseMgPerCm3 is { } e ? Invariant($"{e:0.0} mg/cm³ HA") : "-"),
            ("ACR category", l1.Category is { } cat ? $"{cat}{(l1.CategoryContrastAffected ? " (contrast-affected)" : string.Empty)}, from {l1.CategoryBasis}{(l1.CategoryUncertain is { } uncertain ? $"; not certain: {uncertain}" : string.Empty)}" : "-"),
            ("ACR L1–L2 mean", l1.L1L2 is { VbmdMgPerCm3: { } mean } twoLevels ? Invariant($"{mean:0.0} mg/cm³ HA{(twoLevels.Ci95 is [var lo, var hi] ? Invariant($" (95 % interval {lo:0.0}–{hi:0.0})") : string.Empty)}, {twoLevels.Category}") : l1.L1L2?.Missing ?? "-"),
            ("trabecular HU", l1.Trabecular is { } t ? Invariant($"mean {t.MeanHu:0.0}, median {t.MedianHu:0.0}, SD {t.SdHu:0.0}; {t.Voxels:0} voxels, {t.VolumeMl:0.00} ml; {t.BoneIslands} bone island(s)") : "-"),
            ("HU screening", l1.HuFlags is { } h
                ? h.NotApplicable is { } why ? Invariant($"{h.MeanHu:0.0} HU at {h.Level}; not screened: {why}") : Invariant($"{h.MeanHu:0.0} HU at {h.Level}: ≤ 160 HU {(h.AtOrBelow160Hu == true ? "yes" : "no")}, ≤ 110 HU {(h.AtOrBelow110Hu == true ? "yes" : "no")}")
                : "-"),
            ("calibration", calibration.HasLine ? Invariant($"{CalibrationReport.MethodName(calibration.Method)} ({calibration.Reference}): HU = {calibration.InterceptHu:0.00} + {calibration.SlopeHuPerMgPerCm3:0.0000} × ρ, r {calibration.R:0.0000}") : $"none: {calibration.NoneReason}"),
            ("contrast", report.Contrast is { } contrast ? $"{(contrast.Detected ? "detected" : "not detected")} ({contrast.Phase}); {string.Join("; ", contrast.Evidence)}" : "-"),
            ("kVp, kernel, slices", Invariant($"{exam.Kvp} kV, {exam.ConvolutionKernel ?? "?"}, {exam.SliceThicknessMm} mm")),
            ("software, model", $"QctPipeline {exam.SoftwareVersion}, {exam.ModelName} {exam.ModelVersion}"),
        };
        var headline = l1.Vbmd?.MgPerCm3 is { } vbmd
            ? Invariant($"{exam.MeasuredLevel} {vbmd:0.0} mg/cm³ HA — {l1.Category ?? "not categorised"}")
            : $"not measured: {report.Reason ?? "no calibration"}";
        return StudyReportHtml.Render(new StudyReportContent(
            $"L1 bone density — {patientShown ?? "(no PatientID)"}, {report.StudyDate ?? "(no date)"}",
            headline,
            facts,
            report.Comparison is { } comparison ? HumanSummary.OneLine(comparison) : null,
            flags,
            report.Warnings,
            figures));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
