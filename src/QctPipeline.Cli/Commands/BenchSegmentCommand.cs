using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Measure;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct bench segment`: median time of each segmentation step over repeated runs, and of the whole analyze chain around
/// it (series load, segmentation, calibration, measurement; the model is loaded once, as a batch would), and peak memory.
/// </summary>
internal static class BenchSegmentCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var model = new ModelArguments();
        var runs = new Option<int>("--runs") { Description = "Timed repetitions (after one warm-up).", DefaultValueFactory = _ => 5 };
        var command = new Command("segment", "Time L1 segmentation step by step, and the whole analyze chain around it.");
        arguments.AddTo(command);
        model.AddTo(command);
        command.Options.Add(runs);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var options = arguments.Options(parsed);
            var (survey, code) = IngestArguments.Survey(parsed.GetValue(arguments.Input)!, options);
            if (survey.Selection.Selected is not { } selected)
            {
                return code;
            }

            var modelLoad = Stopwatch.StartNew();
            using (var segmentationModel = model.Load(parsed))
            {
                var modelLoadMs = modelLoad.Elapsed.TotalMilliseconds;
                var repetitions = Math.Max(1, parsed.GetValue(runs));
                var results = new List<SegmentationResult>();
                var (ingestMs, calibrateMs, measureMs) = (new List<double>(), new List<double>(), new List<double>());
                LoadedSeries loaded = null!;
                for (var run = 0; run <= repetitions; run++)
                {
                    var watch = Stopwatch.StartNew();
                    loaded = DicomIngest.Load(selected, options);
                    var ingest = watch.Elapsed.TotalMilliseconds;
                    var result = L1Segmenter.Segment(loaded.Volume, selected.Metadata, segmentationModel, new SegmentOptions());
                    watch.Restart();
                    var calibration = CalibrationChooser.Choose(loaded.Volume, selected.Metadata, result.L1CentroidLps, new CalibrationOptions());
                    var calibrate = watch.Elapsed.TotalMilliseconds;
                    watch.Restart();
                    if (result.Status != SegmentationStatus.NoL1)
                    {
                        VertebralMeasurement.Measure(loaded.Volume, VertebraInput.Of(result.L1Outline), VertebraInput.Of(result.AboveL1Outline), VertebraInput.Of(result.L2Outline),
                            calibration.Calibration, calibration.Contrast.Detected, new MeasureOptions());
                    }

                    if (run > 0)
                    {
                        results.Add(result);
                        ingestMs.Add(ingest);
                        calibrateMs.Add(calibrate);
                        measureMs.Add(watch.Elapsed.TotalMilliseconds);
                    }
                }

                var g = loaded.Volume.Geometry;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"segment {selected.SeriesInstanceUid}: {g.SizeX}x{g.SizeY}x{g.SizeZ} voxels, {repetitions} runs, {Environment.ProcessorCount} cores; status {AnalyzeReport.StatusName(results[^1].Status)}"));
                foreach (var step in results[^1].Timings.Select(t => t.Step).Distinct())
                {
                    var median = Statistics.Median(results.Select(r => r.Timings.Where(t => t.Step == step).Sum(t => t.Milliseconds)));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {step,-16} median {median,8:0.0} ms"));
                }

                var segmentationMs = results.Select(r => r.TotalMilliseconds).ToList();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"segmentation",-16} median {Statistics.Median(segmentationMs),8:0.0} ms"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"series load",-16} median {Statistics.Median(ingestMs),8:0.0} ms"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"calibrate",-16} median {Statistics.Median(calibrateMs),8:0.0} ms"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"measure",-16} median {Statistics.Median(measureMs),8:0.0} ms"));
                var chain = Enumerable.Range(0, results.Count).Select(k => ingestMs[k] + segmentationMs[k] + calibrateMs[k] + measureMs[k]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"analyze chain",-16} median {Statistics.Median(chain),8:0.0} ms (+ model load {modelLoadMs:0} ms once per process)"));
                using var process = Process.GetCurrentProcess();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  peak working set {process.PeakWorkingSet64 / 1e6:0} MB"));
                return ExitCodes.Ok;
            }
        }));
        return command;
    }

}
