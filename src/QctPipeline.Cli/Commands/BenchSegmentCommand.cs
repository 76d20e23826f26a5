using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct bench segment`: median time of each segmentation step over repeated runs on one loaded series, and peak memory.</summary>
internal static class BenchSegmentCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var model = new ModelArguments();
        var runs = new Option<int>("--runs") { Description = "Timed repetitions (after one warm-up).", DefaultValueFactory = _ => 5 };
        var command = new Command("segment", "Time L1 segmentation (model already loaded, series already in memory).");
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

            using (var segmentationModel = model.Load(parsed))
            {
                var loaded = DicomIngest.Load(selected, options);
                var repetitions = Math.Max(1, parsed.GetValue(runs));
                var results = new List<SegmentationResult>();
                for (var run = 0; run <= repetitions; run++)
                {
                    var result = L1Segmenter.Segment(loaded.Volume, selected.Metadata, segmentationModel, new SegmentOptions());
                    if (run > 0)
                    {
                        results.Add(result);
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

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"segmentation",-16} median {Statistics.Median(results.Select(r => r.TotalMilliseconds)),8:0.0} ms"));
                using var process = Process.GetCurrentProcess();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  peak working set {process.PeakWorkingSet64 / 1e6:0} MB"));
                return ExitCodes.Ok;
            }
        }));
        return command;
    }

}
