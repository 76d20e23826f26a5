using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using QctPipeline.Calibrate;
using QctPipeline.Compare;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Measure;
using QctPipeline.Nifti;
using QctPipeline.Segment;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct analyze`: the whole pipeline on one folder, stored in the results store and compared with the patient's
/// history, printed as one JSON object (<see cref="AnalyzeReport"/>) or as a few lines for people. With --json every
/// failure is still that object, with status "error" and the reason, and a non-zero exit code.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var model = new ModelArguments();
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object (otherwise a few lines for people)." };
        var store = new StoreArguments();
        var noStore = new Option<bool>("--no-store") { Description = "Do not store the result (nor compare it with the patient's history)." };
        var declineThreshold = new DeclineThresholdArgument();
        var calibrationMethod = new Option<CalibrationRequest>("--calibration")
        {
            Description = "auto (phantom in the scan, else a matching --calibration-file, else reference tissues), or one method alone: phantom, async, internal, none.",
            DefaultValueFactory = _ => CalibrationRequest.Auto,
        };
        var calibrationFile = new Option<string?>("--calibration-file") { Description = "A calibration saved by `qct calibrate --save`, or a folder of them; the one matching scanner, kVp and kernel is used." };
        var densityMap = new Option<string?>("--density-map") { Description = "Also write the QC density map (mg/cm³ HA, float32 NIfTI .nii or .nii.gz): whole slices through the measured vertebra ± 10 mm." };
        var command = new Command("analyze", "Run the pipeline on a DICOM folder: find L1, calibrate, measure trabecular vBMD; print the result as JSON.");
        arguments.AddTo(command);
        model.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(calibrationMethod);
        command.Options.Add(calibrationFile);
        command.Options.Add(densityMap);
        store.AddTo(command);
        command.Options.Add(noStore);
        declineThreshold.AddTo(command);
        command.SetAction(parsed =>
        {
            var timings = new Dictionary<string, double>();
            var total = Stopwatch.StartNew();
            SeriesMetadata? metadata = null;
            int Error(string reason, int code)
            {
                timings["total"] = Math.Round(total.Elapsed.TotalMilliseconds, 1);
                if (parsed.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(AnalyzeReport.Error(reason, metadata, timings), AnalyzeReport.JsonOptions));
                }
                else
                {
                    Console.Error.WriteLine($"qct analyze: {reason}");
                }

                return code;
            }

            try
            {
                var watch = Stopwatch.StartNew();
                var mapPath = parsed.GetValue(densityMap);
                if (mapPath is not null && !mapPath.EndsWith(".nii", StringComparison.Ordinal) && !mapPath.EndsWith(".nii.gz", StringComparison.Ordinal))
                {
                    return Error($"{mapPath}: --density-map must end in .nii or .nii.gz", ExitCodes.Usage);
                }

                var options = arguments.Options(parsed);
                var input = parsed.GetValue(arguments.Input)!;
                var survey = DicomIngest.Survey(input, options);
                if (survey.Selection.Selected is not { } selected)
                {
                    return Error($"{input}: {survey.Selection.Reason}", survey.Series.Count == 0 ? ExitCodes.UnreadableInput : ExitCodes.NoUsableSeries);
                }

                metadata = selected.Metadata;
                var loaded = DicomIngest.Load(selected, options);
                timings["ingest"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
                watch.Restart();
                using var segmentationModel = model.Load(parsed);
                timings["modelLoad"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
                var calibrationOptions = new CalibrationOptions { Request = parsed.GetValue(calibrationMethod), CalibrationFileOrFolder = parsed.GetValue(calibrationFile) };
                var analysis = AnalysisChain.Run(loaded.Volume, metadata, segmentationModel, calibrationOptions, timings);
                var (writtenMap, mapWarnings) = mapPath is null ? (null, []) : WriteDensityMap(loaded.Volume, analysis, mapPath);
                watch.Restart();
                var (storePath, exam, comparison) = parsed.GetValue(noStore)
                    ? (null, null, null)
                    : StoreAndCompare(store.Path(parsed), metadata, analysis, segmentationModel.Manifest, declineThreshold.Options(parsed));
                timings["store"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
                timings["total"] = Math.Round(total.Elapsed.TotalMilliseconds, 1);
                var report = AnalyzeReport.From(loaded, analysis, new AnalyzeOutputs(writtenMap, storePath, comparison, mapWarnings), timings);
                if (parsed.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(report, AnalyzeReport.JsonOptions));
                }
                else
                {
                    foreach (var line in HumanSummary.Lines(report, exam))
                    {
                        Console.WriteLine(line);
                    }
                }

                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or DicomFormatException or NiftiFormatException or CalibrationFileException)
            {
                return Error(ex.Message, ExitCodes.UnreadableInput);
            }
            catch (Exception ex) when (ex is ModelManifestException or IOException or UnauthorizedAccessException or Segment.Onnx.OnnxRuntimeException or DllNotFoundException or ResultStoreException)
            {
                return Error(ex.Message, ExitCodes.Failure);
            }
        });
        return command;
    }

    private const double DensityMapMarginMm = 10;

    /// <summary>Stores the exam (replacing this series' row of the same software and model version) and compares it with the patient's stored history.</summary>
    private static (string Path, ExamRecord Exam, Comparison Comparison) StoreAndCompare(string path, SeriesMetadata metadata, AnalysisResult analysis, ModelManifest model, ComparisonOptions options)
    {
        using var results = ResultStore.Open(path);
        var exam = ExamRecords.From(metadata, analysis, model, results.Pseudonym, DateTimeOffset.UtcNow);
        results.Upsert(exam);
        var history = exam.PatientId is { } patient ? results.History(patient) : [];
        return (results.Path, exam, LongitudinalComparator.Compare(exam, history, options));
    }

    /// <summary>The density map of the measured vertebra, or why there is none (no level measured, no calibration line).</summary>
    private static (string? Path, IReadOnlyList<string> Warnings) WriteDensityMap(CtVolume volume, AnalysisResult analysis, string path)
    {
        var body = analysis.MeasuredBody;
        if (body is null)
        {
            return (null, [$"{path}: density map not written: no vertebra was measured"]);
        }

        if (DensityMaps.Slab(volume, body, analysis.Calibration.Calibration, DensityMapMarginMm) is not { } map)
        {
            return (null, [$"{path}: density map not written: no calibration line (HU only)"]);
        }

        NiftiWriter.Write(map, path);
        return (path, []);
    }
}
