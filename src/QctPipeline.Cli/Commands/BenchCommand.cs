using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Ingest;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct bench ingest`: the median time to build the volume against the median time to only read the same files'
/// bytes, measured alternately in one run (warm file cache for both), and their ratio.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Measure the speed of pipeline stages on this machine.");
        var ingest = new Command("ingest", "Time building a volume from a DICOM folder against reading its bytes.");
        var arguments = new IngestArguments();
        var runs = new Option<int>("--runs") { Description = "Timed repetitions (after one warm-up).", DefaultValueFactory = _ => 7 };
        arguments.AddTo(ingest);
        ingest.Options.Add(runs);
        ingest.SetAction(parsed => ExitCodes.Guard(() => RunIngest(parsed.GetValue(arguments.Input)!, arguments.Options(parsed), Math.Max(1, parsed.GetValue(runs)))));
        bench.Subcommands.Add(ingest);
        bench.Subcommands.Add(BenchSegmentCommand.Create());
        bench.Subcommands.Add(BenchCalibrateCommand.Create());
        return bench;
    }

    private static int RunIngest(string input, IngestOptions options, int runs)
    {
        var (survey, code) = IngestArguments.Survey(input, options);
        if (survey.Selection.Selected is not { } selected)
        {
            return code;
        }

        var files = Directory.Exists(input)
            ? Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).ToArray()
            : [input];
        var bytes = files.Sum(f => new FileInfo(f).Length);
        var buildTimes = new List<double>();
        var readTimes = new List<double>();
        for (var run = 0; run <= runs; run++)
        {
            var read = Time(() => Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = options.MaxParallelism }, f => File.ReadAllBytes(f)));
            var build = Time(() => DicomIngest.Load(DicomIngest.Survey(input, options).Selection.Selected!, options));
            if (run > 0)
            {
                readTimes.Add(read);
                buildTimes.Add(build);
            }
        }

        var buildMedian = Statistics.Median(buildTimes);
        var readMedian = Statistics.Median(readTimes);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest {input}: {files.Length} files, {bytes / 1e6:0.0} MB, {selected.Frames.Count} x {selected.Rows}x{selected.Columns} slices, {runs} runs, {options.MaxParallelism} threads"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  build volume (headers, select, decode, HU): median {buildMedian:0.0} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  read bytes only:                           median {readMedian:0.0} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  ratio build/read: {buildMedian / readMedian:0.00}"));
        return ExitCodes.Ok;
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

}
