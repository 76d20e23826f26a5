using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using QctPipeline.Calibrate;
using QctPipeline.Compare;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Report;
using QctPipeline.Segment;
using QctPipeline.Segment.Onnx;
using QctPipeline.Store;
using Spectre.Console;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct batch ROOT|MANIFEST.csv`: every study through the pipeline, the next study's decode overlapping the current
/// one's analysis (a bounded channel between one loader and --jobs analysis workers). A study already stored with this
/// software and model version is skipped, so a rerun after Ctrl-C or SIGKILL finishes the rest; one bad study is logged
/// and the batch goes on (<see cref="BatchWorkers"/>: time limits, the commit of each study's outputs). Outputs under
/// --out: logs/run-TIME.ndjson (one line per study, each written whole), summary.csv and index.html (rebuilt from the
/// store at the end, so an interrupted and resumed batch writes the same files as an uninterrupted one) and
/// studies/ID/result.json, report.html, seg.dcm and sr.dcm. Folder names come from a hash of the study key, never from
/// DICOM strings; logs and progress never name a patient (pseudonyms).
/// </summary>
internal static class BatchCommand
{
    public static Command Create()
    {
        var input = new Argument<string?>("input") { Description = "A root folder (any layout) or a manifest .csv (columns path, patient_id, study_date); not with --dicomweb.", Arity = ArgumentArity.ZeroOrOne };
        var dicomWeb = new DicomWebArguments();
        var shard = new Option<string?>("--shard") { Description = "K/N: take only shard K (0-based) of N, by a hash of each study's key; N alone takes K from $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the studies this run (shard) would take and process nothing." };
        var json = new Option<bool>("--json") { Description = "With --dry-run: print them as a JSON array of paths." };
        var jobs = new Option<int>("--jobs") { Description = "Analysis workers (each holds its own model).", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Folder for the run log, the summary CSV and per-study results.", DefaultValueFactory = _ => "qct-batch" };
        var pseudonymize = new Option<bool>("--pseudonymize") { Description = "Research mode: PatientIDs replaced by the store's keyed pseudonyms in every output." };
        var logPhi = new Option<bool>("--log-phi") { Description = "Name patients by their PatientID in the run log (otherwise only by pseudonym)." };
        var studyTimeout = new Option<double>("--study-timeout") { Description = "Seconds a study may take to decode, and again to analyse, before it is stopped (logged) and the batch goes on.", DefaultValueFactory = _ => 900 };
        var calibrationMethod = new Option<CalibrationRequest>("--calibration")
        {
            Description = "auto (phantom in the scan, else a matching --calibration-file, else reference tissues), or one method alone: phantom, async, internal, none.",
            DefaultValueFactory = _ => CalibrationRequest.Auto,
        };
        var calibrationFile = new Option<string?>("--calibration-file") { Description = "A calibration saved by `qct calibrate --save`, or a folder of them (asynchronous calibration): each study uses the one matching its scanner, kVp and kernel." };
        var store = new StoreArguments();
        var declineThreshold = new DeclineThresholdArgument();
        var model = new ModelArguments();
        var command = new Command("batch", "Analyse every study under a folder or in a manifest: resumable, logged, summarised.");
        command.Arguments.Add(input);
        command.Options.Add(jobs);
        command.Options.Add(output);
        command.Options.Add(pseudonymize);
        command.Options.Add(studyTimeout);
        command.Options.Add(logPhi);
        command.Options.Add(calibrationMethod);
        command.Options.Add(calibrationFile);
        declineThreshold.AddTo(command);
        store.AddTo(command);
        model.AddTo(command);
        dicomWeb.AddTo(command);
        command.Options.Add(shard);
        command.Options.Add(dryRun);
        command.Options.Add(json);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var outDirectory = Path.GetFullPath(parsed.GetValue(output)!);
            var folder = parsed.GetValue(input);
            if ((folder is null) == (parsed.GetValue(dicomWeb.Url) is null))
            {
                return ExitCodes.Fail("batch needs an input folder or manifest, or --dicomweb URL (not both)", ExitCodes.Usage);
            }

            var (part, problem) = parsed.GetValue(shard) is { } text ? Shard.Parse(text) : (new Shard(0, 1), null);
            if (part is null)
            {
                return ExitCodes.Fail(problem!, ExitCodes.Usage);
            }

            if (parsed.GetValue(dryRun))
            {
                return folder is null ? ExitCodes.Fail("--dry-run needs an input folder or manifest", ExitCodes.Usage) : DryRun(folder, part, parsed.GetValue(json));
            }

            if (parsed.GetValue(studyTimeout) is not (> 0 and < 1e6) and var seconds)
            {
                return ExitCodes.Fail($"--study-timeout {seconds.ToString(CultureInfo.InvariantCulture)}: expected seconds above 0", ExitCodes.Usage);
            }

            // A calibration file that cannot be read fails the run before any study, not every study one by one.
            if (parsed.GetValue(calibrationFile) is { } calibrations)
            {
                CalibrationFile.LoadAll(calibrations);
            }

            var options = new BatchRunOptions(
                TimeSpan.FromSeconds(parsed.GetValue(studyTimeout)),
                new IngestOptions(),
                new CalibrationOptions { Request = parsed.GetValue(calibrationMethod), CalibrationFileOrFolder = parsed.GetValue(calibrationFile) },
                declineThreshold.Options(parsed),
                outDirectory);

            // Each worker holds its own model; the cores are shared out among them instead of each taking them all.
            var workers = Math.Clamp(parsed.GetValue(jobs), 1, 16);
            SegmentationModel LoadModel() => model.Load(parsed, OnnxSessionOptions.ForWorkers(workers, Environment.ProcessorCount));
            if (folder is not null)
            {
                return Run(folder, part, workers, options, parsed.GetValue(pseudonymize), store.Path(parsed), LoadModel, parsed.GetValue(logPhi));
            }

            using var client = dicomWeb.Client(parsed);
            var cache = Path.Combine(outDirectory, "cache");
            Directory.CreateDirectory(cache);
            var pulled = DicomWebArguments.Pull(client, dicomWeb.SinceDate(parsed), parsed.GetValue(dicomWeb.Modality), cache, Console.WriteLine).GetAwaiter().GetResult();
            var code = Run(cache, part, workers, options, parsed.GetValue(pseudonymize), store.Path(parsed), LoadModel, parsed.GetValue(logPhi));
            var pushed = Push(client, outDirectory);
            Console.WriteLine($"{pulled.Count} stud(ies) from DICOMweb; SEG and SR of {pushed} stud(ies) stored back");
            return code;
        }));
        return command;
    }

    /// <summary>The paths a shard would take: a manifest's folders as listed (unsurveyed), or a root folder's studies (the folder of each chosen series' first file).</summary>
    private static int DryRun(string input, Shard shard, bool json)
    {
        IReadOnlyList<string> paths = BatchInputs.IsManifest(input)
            ? BatchInputs.ManifestFolders(input, shard)
            : [.. BatchInputs.Discover(input, new IngestOptions(), shard).Studies.Select(s => s.Series is { } series ? Path.GetDirectoryName(series.Frames[0].FilePath)! : s.Source)];
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(paths));
        }
        else
        {
            paths.ToList().ForEach(Console.WriteLine);
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// STOW-RS of every study's SEG and SR not yet stored back; a `.pushed` marker after each success, so a rerun
    /// stores only what a failed or killed run left. A refused study is reported and the others still go.
    /// </summary>
    private static int Push(Pacs.DicomWebClient client, string outDirectory)
    {
        var pushed = 0;
        var studies = Path.Combine(outDirectory, "studies");
        foreach (var folder in Directory.Exists(studies) ? Directory.GetDirectories(studies).Order(StringComparer.Ordinal).ToArray() : [])
        {
            var marker = Path.Combine(folder, ".pushed");
            var files = new[] { "seg.dcm", "sr.dcm" }.Select(f => Path.Combine(folder, f)).Where(File.Exists).ToList();
            if (files.Count == 0 || File.Exists(marker))
            {
                continue;
            }

            try
            {
                client.Store([.. files.Select(File.ReadAllBytes)], CancellationToken.None).GetAwaiter().GetResult();
                File.WriteAllText(marker, string.Join('\n', files.Select(Path.GetFileName)) + "\n");
                pushed++;
            }
            catch (Exception ex) when (ex is Pacs.DicomWebException or HttpRequestException or IOException or TaskCanceledException)
            {
                Console.Error.WriteLine($"qct: {Path.GetFileName(folder)}: not stored back: {ex.Message}");
            }
        }

        return pushed;
    }

    private static int Run(string input, Shard shard, int jobs, BatchRunOptions options, bool pseudonymize, string storePath, Func<SegmentationModel> loadModel, bool logPhi)
    {
        var clock = Stopwatch.StartNew();
        var outDirectory = options.OutDirectory;
        var (studies, problems) = BatchInputs.Discover(input, options.Ingest, shard);
        using var store = ResultStore.Open(storePath);
        Directory.CreateDirectory(Path.Combine(outDirectory, "logs"));
        var logPath = Path.Combine(outDirectory, "logs", $"run-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Environment.ProcessId}.ndjson");
        using var log = new RunLog(logPath);
        foreach (var problem in problems)
        {
            log.Write(new BatchLogLine(problem.Path, problem.Ignored ? "ignored" : "file-problem", problem.Reason, problem.Path, null, null, null, null, null, []));
        }

        var models = new List<SegmentationModel> { loadModel() };
        (double WorkingSetMb, double ManagedMb) held = default;
        var manifest = models[0].Manifest;
        var run = new RunState(studies.Count, store, log, pseudonymize, logPhi);
        var interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
        try
        {
            for (var worker = 1; worker < jobs; worker++)
            {
                models.Add(loadModel());
            }

            void Process(Action<BatchLogLine> progress) => BatchWorkers.Run(studies, models, loadModel, options, run, progress);
            if (interactive)
            {
                AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(context =>
                    {
                        var task = context.AddTask("studies", maxValue: Math.Max(1, studies.Count));
                        Process(_ =>
                        {
                            task.Increment(1);
                            task.Description = run.Describe(clock.Elapsed);
                        });
                    });
            }
            else
            {
                Process(line => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{run.Done}/{studies.Count}] {line.Status,-7} {line.Study}{(line.Reason is { } reason ? $": {reason}" : string.Empty)}")));
            }

            held = HeldMemory();
        }
        finally
        {
            lock (models)
            {
                models.ForEach(m => m.Dispose());
            }
        }

        var summary = Path.Combine(outDirectory, "summary.csv");
        var rows = Summary(studies, store, run, manifest, pseudonymize, options.Comparison);
        BatchWorkers.WriteAtomically(summary, SummaryCsv(rows));
        BatchWorkers.WriteAtomically(Path.Combine(outDirectory, "index.html"), CohortIndex(rows, outDirectory, options.Comparison));
        Console.WriteLine(run.Describe(clock.Elapsed));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak memory {Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0):0} MB; held after the last study {held.WorkingSetMb:0} MB (managed heap {held.ManagedMb:0} MB)"));
        Console.WriteLine($"log {logPath}; summary {summary}; store {store.Path}");
        // An empty shard has nothing to do and is no failure; a batch that found studies and could use none is.
        return studies.Count > 0 && run.Analysed + run.Skipped == 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>
    /// What the process still holds once every study has ended and its memory was released, models still loaded: a
    /// stopped study whose volume or network run lingered shows here, whatever the timing of its stop did to the peak.
    /// </summary>
    private static (double WorkingSetMb, double ManagedMb) HeldMemory()
    {
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return (process.WorkingSet64 / (1024.0 * 1024.0), managed / (1024.0 * 1024.0));
    }

    /// <summary>A study's output folder: a hash of its key (StudyInstanceUID), never a DICOM string.</summary>
    internal static string StudyFolder(string key) => "study-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    /// <summary>A study's line in the summary: from the store as it stands at the end of the run; only this run's errors come from the run.</summary>
    private sealed record SummaryRow(BatchStudy Study, ExamRecord? Exam, Comparison? Comparison, string? Error, string? Patient);

    /// <summary>One row per study in the batch's order (oldest first).</summary>
    private static List<SummaryRow> Summary(IReadOnlyList<BatchStudy> studies, ResultStore store, RunState run, ModelManifest manifest, bool pseudonymize, ComparisonOptions comparisonOptions) =>
        [.. studies.Select(study =>
        {
            var exam = study.Series is { } series && store.Contains(series.SeriesInstanceUid, SoftwareVersion.Current, manifest.Version)
                ? store.Series(series.SeriesInstanceUid)
                : null;
            if (exam is null)
            {
                return new SummaryRow(study, null, null, run.ErrorOf(study.Key) ?? study.Problem, null);
            }

            try
            {
                var comparison = LongitudinalComparator.Compare(exam, exam.PatientId is { } id ? store.History(id) : [], comparisonOptions);
                return new SummaryRow(study, exam, comparison, null, pseudonymize ? exam.PatientPseudonym : exam.PatientId);
            }
            catch (Exception ex) when (ex is not (OutOfMemoryException or ResultStoreException))
            {
                // One study's history that cannot be compared costs its own row, not the summary.
                return new SummaryRow(study, null, null, $"stored, but not comparable ({ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")})", null);
            }
        })];

    private static string SummaryCsv(IReadOnlyList<SummaryRow> rows)
    {
        var text = new StringBuilder(Csv.Row(["study", "source", "patient", "study_date", "series_uid", "status", "reason", "level", "vbmd_mg_cm3",
            "vbmd_ci95_low", "vbmd_ci95_high", "category", "l1l2_vbmd_mg_cm3", "l1l2_category", "calibration_method", "percent_change_from_baseline", "decline_threshold_percent", "decline_from_baseline", "exceeds_lsc", "significant_change", "protocol_mismatch", "qc_flags"]));
        foreach (var (study, exam, comparison, error, patient) in rows)
        {
            text.Append(exam is null || comparison is null
                ? Csv.Row([study.Key, study.Source, null, null, study.Series?.SeriesInstanceUid, "error", error, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null])
                : Csv.Row([
                    study.Key, study.Source, patient, HumanSummary.Date(exam.StudyDate), exam.SeriesInstanceUid, Status(exam), null, exam.MeasuredLevel,
                    Csv.Number(exam.VbmdMgPerCm3), Csv.Number(exam.VbmdCi95?.Lower), Csv.Number(exam.VbmdCi95?.Upper), exam.Category, Csv.Number(exam.L1L2VbmdMgPerCm3), exam.L1L2Category, exam.CalibrationMethod, Csv.Number(comparison.PercentChangeFromBaseline),
                    Csv.Number(comparison.DeclineThresholdPercent), Csv.Bool(comparison.DeclineFromBaseline), Csv.Bool(comparison.ExceedsLsc), comparison.SignificantChange is { } significant ? Csv.Bool(significant) : null, string.Join(" | ", comparison.ProtocolMismatch), string.Join(" ", exam.QcFlags)]));
        }

        return text.ToString();
    }

    private static string CohortIndex(IReadOnlyList<SummaryRow> rows, string outDirectory, ComparisonOptions comparisonOptions) => CohortIndexHtml.Render(
        "QctPipeline cohort",
        [.. rows.Select(r => new CohortRow(
            r.Patient ?? "(none)",
            HumanSummary.Date(r.Exam?.StudyDate),
            r.Exam?.MeasuredLevel,
            r.Exam?.VbmdMgPerCm3,
            r.Exam?.Category,
            r.Comparison?.PercentChangeFromBaseline,
            r.Comparison?.DeclineFromBaseline == true,
            r.Exam is null ? "error: " + r.Error : Status(r.Exam),
            r.Exam is null || !File.Exists(Path.Combine(outDirectory, "studies", StudyFolder(r.Study.Key), "report.html")) ? null : $"studies/{StudyFolder(r.Study.Key)}/report.html"))],
        comparisonOptions.DeclineThresholdPercent);

    private static string Status(ExamRecord exam) => exam.QcFlags.Contains("no-l1") ? "no-l1" : exam.QcFlags.Contains("review") ? "review" : "ok";
}
