using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>The row the results store keeps for one analysed series, built from what the chain returned.</summary>
internal static class ExamRecords
{
    public static ExamRecord From(SeriesMetadata metadata, AnalysisResult analysis, ModelManifest model, Func<string, string> pseudonym, DateTimeOffset analysedAt)
    {
        var measurement = analysis.Measurement;
        var calibration = analysis.Calibration.Calibration;
        var eroded = measurement?.ErodedBody;
        var patientId = string.IsNullOrWhiteSpace(metadata.PatientId) ? null : metadata.PatientId;
        return new ExamRecord
        {
            PatientId = patientId,
            PatientPseudonym = patientId is null ? null : pseudonym(patientId),
            StudyDate = metadata.StudyDate,
            StudyInstanceUid = metadata.StudyInstanceUid,
            SeriesInstanceUid = metadata.SeriesInstanceUid,
            Manufacturer = metadata.Manufacturer,
            ManufacturerModelName = metadata.ManufacturerModelName,
            DeviceSerialNumber = metadata.DeviceSerialNumber,
            Kvp = metadata.Kvp,
            ConvolutionKernel = metadata.ConvolutionKernel,
            SliceThicknessMm = metadata.SliceThickness,
            ContrastDetected = analysis.Calibration.Contrast.Detected,
            ContrastPhase = analysis.Calibration.Contrast.Detected ? analysis.Calibration.Contrast.Phase.ToString().ToLowerInvariant() : "none",
            CalibrationMethod = CalibrationReport.MethodName(calibration.Method),
            CalibrationSlope = calibration.HasLine ? calibration.SlopeHuPerMgPerCm3 : null,
            CalibrationIntercept = calibration.HasLine ? calibration.InterceptHu : null,
            CalibrationR = calibration.R,
            ModelName = model.Name,
            ModelVersion = model.Version,
            MeasuredLevel = measurement?.Choice.Level is { } level ? MeasuredLevelReport.LevelName(level, L1Report.AboveL1Name(analysis.Segmentation)) : null,
            LevelUsable = measurement?.Choice.Usable == true,
            MeanHu = Finite(eroded?.Hu.Mean),
            MedianHu = Finite(eroded?.Hu.Median),
            SdHu = Finite(eroded?.Hu.StandardDeviation),
            EllipseMeanHu = Finite(measurement?.Ellipse?.Hu.Mean),
            RoiVoxels = eroded?.Voxels,
            RoiVolumeMl = eroded?.VolumeMl,
            VbmdMgPerCm3 = Finite(measurement?.VbmdMgPerCm3),
            EllipseVbmdMgPerCm3 = Finite(measurement?.EllipseVbmdMgPerCm3),
            Category = MeasuredLevelReport.CategoryName(measurement?.Category),
            L1L2VbmdMgPerCm3 = Finite(measurement?.L1L2?.VbmdMgPerCm3),
            L1L2Category = MeasuredLevelReport.CategoryName(measurement?.L1L2?.Category),
            VbmdCi95 = measurement?.Ci95 is { } ci && double.IsFinite(ci.Lower) && double.IsFinite(ci.Upper) ? (ci.Lower, ci.Upper) : null,
            VbmdCalibrationSd = measurement?.Ci95 is { } parts && double.IsFinite(parts.CalibrationSdMg) ? parts.CalibrationSdMg : null,
            L1L2Ci95 = measurement?.L1L2?.Ci95 is { } mean && double.IsFinite(mean.Lower) && double.IsFinite(mean.Upper) ? (mean.Lower, mean.Upper) : null,
            QcFlags = QcFlags(analysis),
            Warnings = [.. analysis.Segmentation.Warnings, .. calibration.Warnings, .. measurement?.Warnings ?? []],
            SoftwareVersion = SoftwareVersion.Current,
            AnalysedAt = analysedAt,
        };
    }

    private static List<string> QcFlags(AnalysisResult analysis)
    {
        var flags = new List<string>();
        var measurement = analysis.Measurement;
        if (analysis.Status != SegmentationStatus.Ok)
        {
            flags.Add(AnalyzeReport.StatusName(analysis.Status));
        }

        if (measurement is { Choice.Level: not null, Choice.Usable: false })
        {
            flags.Add("level-unusable");
        }

        if (measurement?.Choice.Level is { } level && level != VertebralLevel.L1)
        {
            flags.Add("fallback-level");
        }

        if (analysis.Calibration.Contrast.Detected)
        {
            flags.Add("contrast-affected");
        }

        if (!analysis.Calibration.Calibration.HasLine)
        {
            flags.Add("no-calibration");
        }

        return flags;
    }

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? Math.Round(v, 3) : null;
}
