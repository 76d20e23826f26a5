using System.CommandLine;
using System.Text;
using System.Text.Json;
using QctPipeline.Domain;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct export --format csv|ndjson`: the store's results for cohort analysis, each series' newest analysis (or every version).</summary>
internal static class ExportCommand
{
    public enum Format
    {
        Csv,
        Ndjson,
    }

    private static readonly JsonSerializerOptions LineOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Command Create()
    {
        var store = new StoreArguments();
        var format = new Option<Format>("--format") { Description = "csv (RFC 4180) or ndjson (one JSON object per line).", DefaultValueFactory = _ => Format.Csv };
        var output = new Option<string?>("--out") { Description = "Write to this file (atomically) instead of standard output." };
        var allVersions = new Option<bool>("--all-versions") { Description = "Every stored row, not only each series' newest analysis." };
        var pseudonymize = new Option<bool>("--pseudonymize") { Description = "Patients by the store's pseudonyms only: no PatientID in the export." };
        var command = new Command("export", "Export the results store for cohort analysis.");
        store.AddTo(command);
        command.Options.Add(format);
        command.Options.Add(output);
        command.Options.Add(allVersions);
        command.Options.Add(pseudonymize);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            using var results = ResultStore.Open(store.Path(parsed));
            var rows = (parsed.GetValue(allVersions) ? results.All() : results.Newest())
                .Select(e => parsed.GetValue(pseudonymize) ? e with { PatientId = e.PatientPseudonym } : e)
                .ToList();
            var text = parsed.GetValue(format) == Format.Csv ? AsCsv(rows) : string.Concat(rows.Select(e => JsonSerializer.Serialize(e, LineOptions) + "\n"));
            if (parsed.GetValue(output) is { } path)
            {
                var temporary = path + $".{Environment.ProcessId}.tmp";
                File.WriteAllText(temporary, text, new UTF8Encoding(false));
                File.Move(temporary, path, overwrite: true);
                Console.Error.WriteLine($"{rows.Count} row(s) written to {path}");
            }
            else
            {
                Console.Write(text);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string AsCsv(IReadOnlyList<ExamRecord> rows)
    {
        var text = new StringBuilder(Csv.Row([
            "patient", "study_date", "study_uid", "series_uid", "manufacturer", "scanner_model", "device_serial", "kvp", "kernel", "slice_thickness_mm",
            "contrast_phase", "calibration_method", "calibration_slope", "calibration_intercept", "calibration_r", "model_name", "model_version",
            "measured_level", "level_usable", "mean_hu", "median_hu", "sd_hu", "ellipse_mean_hu", "roi_voxels", "roi_volume_ml", "vbmd_mg_cm3",
            "vbmd_ci95_low", "vbmd_ci95_high", "ellipse_vbmd_mg_cm3", "category", "l1l2_vbmd_mg_cm3", "l1l2_ci95_low", "l1l2_ci95_high", "l1l2_category", "qc_flags", "software_version", "analysed_at"]));
        foreach (var e in rows)
        {
            text.Append(Csv.Row([
                e.PatientId, HumanSummary.Date(e.StudyDate), e.StudyInstanceUid, e.SeriesInstanceUid, e.Manufacturer, e.ManufacturerModelName, e.DeviceSerialNumber,
                Csv.Number(e.Kvp), e.ConvolutionKernel, Csv.Number(e.SliceThicknessMm), e.ContrastPhase, e.CalibrationMethod, Csv.Number(e.CalibrationSlope),
                Csv.Number(e.CalibrationIntercept), Csv.Number(e.CalibrationR), e.ModelName, e.ModelVersion, e.MeasuredLevel, Csv.Bool(e.LevelUsable),
                Csv.Number(e.MeanHu), Csv.Number(e.MedianHu), Csv.Number(e.SdHu), Csv.Number(e.EllipseMeanHu), Csv.Number(e.RoiVoxels), Csv.Number(e.RoiVolumeMl),
                Csv.Number(e.VbmdMgPerCm3), Csv.Number(e.VbmdCi95?.Lower), Csv.Number(e.VbmdCi95?.Upper), Csv.Number(e.EllipseVbmdMgPerCm3), e.Category,
                Csv.Number(e.L1L2VbmdMgPerCm3), Csv.Number(e.L1L2Ci95?.Lower), Csv.Number(e.L1L2Ci95?.Upper), e.L1L2Category, string.Join(" ", e.QcFlags), e.SoftwareVersion,
                e.AnalysedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)]));
        }

        return text.ToString();
    }
}
