using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using QctPipeline.Calibrate;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Measure;
using QctPipeline.Nifti;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct analyze`: the whole pipeline on one folder, printed as one JSON object (<see cref="AnalyzeReport"/>). Every
/// failure is still that object, with status "error" and the reason, and a non-zero exit code.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var model = new ModelArguments();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON (the only output format so far)." };
        var calibrationMethod = new Option<CalibrationRequest>("--calibration")
        {
            Description = "auto (phantom in the scan, else a matching --calibration-file, else reference tissues), or one method alone: phantom, async, internal, none.",
            DefaultValueFactory = _ => CalibrationRequest.Auto,
        };
        var calibrationFile = new Option<string?>("--calibration-file") { Description = "A calibration saved by `qct calibrate --save`, or a folder of them; the one matching scanner, kVp and kernel is used." };
        var command = new Command("analyze", "Run the pipeline on a DICOM folder: find L1, calibrate, measure trabecular vBMD; print the result as JSON.");
        arguments.AddTo(command);
        model.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(calibrationMethod);
        command.Options.Add(calibrationFile);
        command.SetAction(parsed =>
        {
            var timings = new Dictionary<string, double>();
            var total = Stopwatch.StartNew();
            SeriesMetadata? metadata = null;
            int Error(string reason, int code)
            {
                timings["total"] = Math.Round(total.Elapsed.TotalMilliseconds, 1);
                Console.WriteLine(JsonSerializer.Serialize(AnalyzeReport.Error(reason, metadata, timings), AnalyzeReport.JsonOptions));
                return code;
            }

            try
            {
                var watch = Stopwatch.StartNew();
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
                watch.Restart();
                var result = L1Segmenter.Segment(loaded.Volume, metadata, segmentationModel, new SegmentOptions());
                timings["segment"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
                watch.Restart();
                var calibrationOptions = new CalibrationOptions { Request = parsed.GetValue(calibrationMethod), CalibrationFileOrFolder = parsed.GetValue(calibrationFile) };
                var calibration = CalibrationChooser.Choose(loaded.Volume, metadata, result.L1CentroidLps, calibrationOptions);
                timings["calibrate"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
                watch.Restart();
                var measurement = result.Status == SegmentationStatus.Ok
                    ? VertebralMeasurement.Measure(loaded.Volume, result.L1Mask, result.AboveL1Mask, result.L2Mask, calibration.Calibration, calibration.Contrast.Detected, new MeasureOptions())
                    : null;
                timings["measure"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
                timings["total"] = Math.Round(total.Elapsed.TotalMilliseconds, 1);
                Console.WriteLine(JsonSerializer.Serialize(AnalyzeReport.From(loaded, result, calibration, measurement, timings), AnalyzeReport.JsonOptions));
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or DicomFormatException or NiftiFormatException or CalibrationFileException)
            {
                return Error(ex.Message, ExitCodes.UnreadableInput);
            }
            catch (Exception ex) when (ex is ModelManifestException or IOException or UnauthorizedAccessException or Segment.Onnx.OnnxRuntimeException or DllNotFoundException)
            {
                return Error(ex.Message, ExitCodes.Failure);
            }
        });
        return command;
    }
}
