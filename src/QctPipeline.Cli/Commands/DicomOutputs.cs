using System.Globalization;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Report;

namespace QctPipeline.Cli.Commands;

/// <summary>The DICOM objects a study's analysis goes back to PACS as, with UIDs derived from the source series and the versions (a rerun makes the same object).</summary>
internal static class DicomOutputs
{
    /// <summary>L1 and the neighbours found (SNOMED CT codes of CID 7603 "Vertebra"); null when no body was segmented.</summary>
    /// <param name="pseudonym">Research mode: the patient is named by this alone.</param>
    public static DicomWriter? Segmentation(LoadedSeries loaded, AnalysisResult analysis, ExamRecord exam, string? pseudonym)
    {
        var segmentation = analysis.Segmentation;
        var above = L1Report.AboveL1Name(segmentation) ?? "T12";
        var segments = new List<SegmentMask>();
        foreach (var (name, mask) in new[] { (above, segmentation.AboveL1Mask), ("L1", segmentation.L1Mask), ("L2", segmentation.L2Mask) })
        {
            if (mask is not null && mask.Count > 0 && Snomed(name) is { } code)
            {
                segments.Add(new SegmentMask($"{name} vertebral body", code.Value, code.Meaning, mask));
            }
        }

        if (segments.Count == 0)
        {
            return null;
        }

        var series = loaded.Series;
        var key = $"{series.SeriesInstanceUid}/{exam.SoftwareVersion}/{exam.ModelVersion}";
        return DicomSegmentation.Build(Source(series, pseudonym), segments,
            DicomUids.FromText(key + "/seg-series"), DicomUids.FromText(key + "/seg"), exam.AnalysedAt, exam.SoftwareVersion);
    }

    /// <summary>The TID 1500 measurement report of the measured vertebra; null when nothing was measured.</summary>
    public static DicomWriter? MeasurementReport(LoadedSeries loaded, ExamRecord exam, Comparison? comparison, string? pseudonym)
    {
        if (exam.VbmdMgPerCm3 is not { } vbmd || exam.MeasuredLevel is not { } level || Snomed(level) is not { } site)
        {
            return null;
        }

        CodedConcept Local(string value, string meaning) => new(value, "99QCT", meaning);
        var items = new List<ReportedItem>
        {
            new ReportedNumber(Local("vbmd-eroded", "Trabecular vBMD, eroded body (HA-equivalent)"), vbmd, CodedConcept.MilligramPerCubicCentimetre),
        };
        if (exam.VbmdCi95 is var (lower, upper))
        {
            items.Add(new ReportedNumber(Local("vbmd-ci95-lower", "Trabecular vBMD, lower bound of the 95 % interval"), lower, CodedConcept.MilligramPerCubicCentimetre));
            items.Add(new ReportedNumber(Local("vbmd-ci95-upper", "Trabecular vBMD, upper bound of the 95 % interval"), upper, CodedConcept.MilligramPerCubicCentimetre));
        }

        if (exam.EllipseVbmdMgPerCm3 is { } ellipse)
        {
            items.Add(new ReportedNumber(Local("vbmd-ellipse", "Trabecular vBMD, mid-vertebral ellipse (HA-equivalent)"), ellipse, CodedConcept.MilligramPerCubicCentimetre));
        }

        if (exam.MeanHu is { } hu)
        {
            items.Add(new ReportedNumber(new CodedConcept("112031", "DCM", "Attenuation Coefficient"), hu, CodedConcept.HounsfieldUnit));
        }

        if (exam.Category is { } category)
        {
            items.Add(new ReportedCode(Local("acr-category", "ACR QCT category"), Local(category, category.Replace('-', ' '))));
        }

        items.Add(new ReportedText(Local("calibration", "Calibration method"), exam.CalibrationSlope is { } slope
            ? string.Create(CultureInfo.InvariantCulture, $"{exam.CalibrationMethod}: HU = {exam.CalibrationIntercept:0.00} + {slope:0.0000} x mg/cm3")
            : exam.CalibrationMethod));
        items.Add(new ReportedText(Local("contrast", "Contrast phase"), exam.ContrastPhase));
        if (comparison?.PercentChangeFromBaseline is { } change)
        {
            items.Add(new ReportedNumber(Local("change-baseline", "Percent change from baseline"), change, CodedConcept.Percent));
            items.Add(new ReportedCode(Local("decline-from-baseline", string.Create(CultureInfo.InvariantCulture, $"Decline of {comparison.DeclineThresholdPercent:0.##} % or more from baseline")),
                comparison.DeclineFromBaseline ? new CodedConcept("373066001", "SCT", "Yes") : new CodedConcept("373067005", "SCT", "No")));
            items.Add(new ReportedCode(Local("exceeds-lsc", "Change exceeds the least significant change"),
                comparison.ExceedsLsc ? new CodedConcept("373066001", "SCT", "Yes") : new CodedConcept("373067005", "SCT", "No")));
        }

        if (exam.QcFlags.Count > 0)
        {
            items.Add(new ReportedText(Local("qc-flags", "Quality flags"), string.Join(" ", exam.QcFlags)));
        }

        var series = loaded.Series;
        var key = $"{series.SeriesInstanceUid}/{exam.SoftwareVersion}/{exam.ModelVersion}";
        var groups = new List<MeasurementGroup> { new(new CodedConcept(site.Value, "SCT", site.Meaning), $"{level} trabecular bone", DicomUids.FromText(key + "/tracking"), items) };

        // The ACR two-level figure spans two vertebrae: a group of its own, at the lumbar spine.
        if (exam.L1L2VbmdMgPerCm3 is { } twoLevels && exam.L1L2Category is { } twoLevelCategory)
        {
            groups.Add(new MeasurementGroup(new CodedConcept("122496007", "SCT", "Lumbar spine"), "L1-L2 trabecular bone", DicomUids.FromText(key + "/tracking-l1l2"),
            [
                new ReportedNumber(Local("vbmd-l1l2", "Trabecular vBMD, mean of L1 and L2 (ACR two-level figure, HA-equivalent)"), twoLevels, CodedConcept.MilligramPerCubicCentimetre),
                .. exam.L1L2Ci95 is var (low, high)
                    ? new ReportedItem[]
                    {
                        new ReportedNumber(Local("vbmd-l1l2-ci95-lower", "Mean of L1 and L2, lower bound of the 95 % interval"), low, CodedConcept.MilligramPerCubicCentimetre),
                        new ReportedNumber(Local("vbmd-l1l2-ci95-upper", "Mean of L1 and L2, upper bound of the 95 % interval"), high, CodedConcept.MilligramPerCubicCentimetre),
                    }
                    : [],
                new ReportedCode(Local("acr-category", "ACR QCT category"), Local(twoLevelCategory, twoLevelCategory.Replace('-', ' '))),
            ]));
        }

        return DicomMeasurementReport.Build(Source(series, pseudonym), new MeasurementReportContent(groups), DicomUids.FromText(key + "/sr-series"), DicomUids.FromText(key + "/sr"), exam.AnalysedAt, exam.SoftwareVersion);
    }

    private static SegmentationSource Source(SeriesCandidate series, string? pseudonym) => new(
        series.Frames[0].Header,
        series.SeriesInstanceUid,
        [.. series.Frames
            .Select(f => (f.Header.GetString(DicomTag.SopClassUid) ?? string.Empty, f.Header.GetString(DicomTag.SopInstanceUid) ?? string.Empty))
            .Where(i => i.Item2.Length > 0)
            .Distinct()],
        pseudonym);

    private static (string Value, string Meaning)? Snomed(string level) => level switch
    {
        "T11" => ("12989004", "T11 vertebra"),
        "T12" => ("23215003", "T12 vertebra"),
        "T13" => null,
        "L1" => ("66794005", "L1 vertebra"),
        "L2" => ("14293000", "L2 vertebra"),
        _ => null,
    };
}
