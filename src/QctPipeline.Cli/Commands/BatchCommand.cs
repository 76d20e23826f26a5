using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
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

/// <summary>One line of a batch's run log (NDJSON): a study's outcome, or a file the batch could not use.</summary>
internal sealed record BatchLogLine(
    string Study,
    string Status,
    string? Reason,
    string Source,
    string? SeriesInstanceUid,
    string? Patient,
    string? StudyDate,
    double? VbmdMgPerCm3,
    IReadOnlyDictionary<string, double>? TimingsMs,
    IReadOnlyList<string> Outputs);

/// <summary>
/// `qct batch ROOT|MANIFEST.csv`: every study through the pipeline, the next study's decode overlapping the current
/// one's analysis (a bounded channel between one loader and --jobs analysis workers). A study already stored with this
/// software and model version is skipped, so a rerun after Ctrl-C or SIGKILL finishes the rest; one bad study is logged
/// and the batch goes on. Outputs under --out: logs/run-TIME.ndjson (one line per study, each written whole),
/// summary.csv and index.html (rebuilt from the store at the end, so an interrupted and resumed batch writes the same
/// files as an uninterrupted one) and studies/ID/result.json and report.html, every file written under a temporary
/// name and renamed. Folder names
/// come from a hash of the study key, never from DICOM strings; logs and progress never name a patient (pseudonyms).
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
        var studyTimeout = new Option<int>("--study-timeout") { Description = "Seconds a study may take to decode, and again to analyse, before it is abandoned (logged) and the batch goes on.", DefaultValueFactory = _ => 900 };
        var store = new StoreArguments();
        var model = new ModelArguments();
        var command = new Command("batch", "Analyse every study under a folder or in a manifest: resumable, logged, summarised.");
        command.Arguments.Add(input);
        command.Options.Add(jobs);
        command.Options.Add(output);
        command.Options.Add(pseudonymize);
        command.Options.Add(studyTimeout);
        command.Options.Add(logPhi);
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

            // Each worker holds its own model; the cores are shared out among them instead of each taking them all.
            var workers = Math.Clamp(parsed.GetValue(jobs), 1, 16);
            SegmentationModel LoadModel() => model.Load(parsed, OnnxSessionOptions.ForWorkers(workers, Environment.ProcessorCount));
            if (folder is not null)
            {
                return Run(folder, part, workers, outDirectory, parsed.GetValue(pseudonymize), store.Path(parsed), LoadModel, TimeSpan.FromSeconds(Math.Max(1, parsed.GetValue(studyTimeout))), parsed.GetValue(logPhi));
            }

            using var client = dicomWeb.Client(parsed);
            var cache = Path.Combine(outDirectory, "cache");
            Directory.CreateDirectory(cache);
            var pulled = DicomWebArguments.Pull(client, dicomWeb.SinceDate(parsed), parsed.GetValue(dicomWeb.Modality), cache, Console.WriteLine).GetAwaiter().GetResult();
            var code = Run(cache, part, workers, outDirectory, parsed.GetValue(pseudonymize), store.Path(parsed), LoadModel, TimeSpan.FromSeconds(Math.Max(1, parsed.GetValue(studyTimeout))), parsed.GetValue(logPhi));
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
            catch (Pacs.DicomWebException ex)
            {
                Console.Error.WriteLine($"qct: {Path.GetFileName(folder)}: not stored back: {ex.Message}");
            }
        }

        return pushed;
    }

    private static int Run(string input, Shard shard, int jobs, string outDirectory, bool pseudonymize, string storePath, Func<SegmentationModel> loadModel, TimeSpan studyLimit, bool logPhi)
    {
        var clock = Stopwatch.StartNew();
        var ingest = new IngestOptions();
        var (studies, problems) = BatchInputs.Discover(input, ingest, shard);
        using var store = ResultStore.Open(storePath);
        Directory.CreateDirectory(Path.Combine(outDirectory, "logs"));
        var logPath = Path.Combine(outDirectory, "logs", $"run-{DateTime.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Environment.ProcessId}.ndjson");
        using var log = new RunLog(logPath);
        foreach (var problem in problems)
        {
            log.Write(new BatchLogLine(problem.Path, problem.Ignored ? "ignored" : "file-problem", problem.Reason, problem.Path, null, null, null, null, null, []));
        }

        var models = new List<SegmentationModel> { loadModel() };
        var manifest = models[0].Manifest;
        var run = new RunState(studies.Count, store, log, pseudonymize, logPhi);
        var interactive = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
        try
        {
            for (var worker = 1; worker < jobs; worker++)
            {
                models.Add(loadModel());
            }

            void Process(Action<BatchLogLine> progress) => RunPipeline(studies, models, loadModel, studyLimit, ingest, outDirectory, run, progress);
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
        }
        finally
        {
            lock (models)
            {
                models.ForEach(m => m.Dispose());
            }
        }

        var summary = Path.Combine(outDirectory, "summary.csv");
        var rows = Summary(studies, store, run, manifest, pseudonymize);
        WriteAtomically(summary, SummaryCsv(rows));
        WriteAtomically(Path.Combine(outDirectory, "index.html"), CohortIndex(rows, outDirectory));
        Console.WriteLine(run.Describe(clock.Elapsed));
        Console.WriteLine($"log {logPath}; summary {summary}; store {store.Path}");
        // An empty shard has nothing to do and is no failure; a batch that found studies and could use none is.
        return studies.Count > 0 && run.Analysed + run.Skipped == 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>
    /// The loader and the workers. A study that takes longer than <paramref name="limit"/> to decode or to analyse is
    /// abandoned: logged as an error, never stored (the analysis checks before it stores), and its worker goes on with a
    /// fresh model while the runaway computation ends on its own or with the process.
    /// </summary>
    private static void RunPipeline(IReadOnlyList<BatchStudy> studies, List<SegmentationModel> models, Func<SegmentationModel> loadModel, TimeSpan limit, IngestOptions ingest, string outDirectory, RunState run, Action<BatchLogLine> progress)
    {
        var manifest = models[0].Manifest;
        var seconds = limit.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        var loaded = Channel.CreateBounded<(BatchStudy Study, LoadedSeries Series, double LoadMs)>(models.Count);
        void Finish(BatchLogLine line)
        {
            run.Record(line);
            progress(line);
        }

        var loader = Task.Run(async () =>
        {
            try
            {
                foreach (var study in studies)
                {
                    if (study.Series is not { } series)
                    {
                        Finish(run.Line(study, "error", study.Problem, null, null, null, []));
                        continue;
                    }

                    if (run.IsStored(series.SeriesInstanceUid, manifest.Version))
                    {
                        Finish(run.Line(study, "skipped", "already stored with this software and model version", null, null, null, []));
                        continue;
                    }

                    var watch = Stopwatch.StartNew();
                    LoadedSeries volume;
                    try
                    {
                        var load = Task.Run(() => DicomIngest.Load(series, ingest));
                        if (!load.Wait(limit))
                        {
                            Finish(run.Line(study, "error", $"decoding took longer than the {seconds} s per-study limit: abandoned", null, null, null, []));
                            continue;
                        }

                        volume = load.Result;
                    }
                    catch (AggregateException ex) when (ex.InnerException is { } inner and not OutOfMemoryException)
                    {
                        Finish(run.Line(study, "error", OneLine(inner.Message), null, null, null, []));
                        continue;
                    }

                    await loaded.Writer.WriteAsync((study, volume, watch.Elapsed.TotalMilliseconds));
                }
            }
            finally
            {
                loaded.Writer.Complete();
            }
        });

        var workers = models.ToArray().Select(first => Task.Run(async () =>
        {
            var model = first;
            await foreach (var (study, series, loadMs) in loaded.Reader.ReadAllAsync())
            {
                var abandoned = new StrongBox<bool>(false);
                var work = Task.Run(() => Analyse(study, series, loadMs, model, outDirectory, run, abandoned));
                try
                {
                    if (work.Wait(limit))
                    {
                        Finish(work.Result);
                        continue;
                    }
                }
                catch (AggregateException ex) when (ex.InnerException is { } inner and not (OutOfMemoryException or ResultStoreException))
                {
                    Finish(run.Line(study, "error", OneLine(inner.Message), null, null, null, []));
                    continue;
                }

                abandoned.Value = true;
                Finish(run.Line(study, "error", $"analysis took longer than the {seconds} s per-study limit: abandoned", null, null, null, []));
                model = loadModel();
                lock (models)
                {
                    models.Add(model);
                }
            }
        })).ToArray();
        Task.WaitAll([loader, .. workers]);
    }

    private static BatchLogLine Analyse(BatchStudy study, LoadedSeries series, double loadMs, SegmentationModel model, string outDirectory, RunState run, StrongBox<bool> abandoned)
    {
        var metadata = series.Series.Metadata with
        {
            PatientId = study.PatientIdOverride ?? series.Series.Metadata.PatientId,
            StudyDate = study.StudyDateOverride ?? series.Series.Metadata.StudyDate,
        };
        var loaded = series with { Series = series.Series with { Metadata = metadata } };
        var timings = new Dictionary<string, double> { ["ingest"] = Math.Round(loadMs, 1) };
        var total = Stopwatch.StartNew();
        var analysis = AnalysisChain.Run(loaded.Volume, metadata, model, new CalibrationOptions(), timings);
        if (abandoned.Value)
        {
            throw new OperationCanceledException($"study {study.Key} was abandoned at the time limit");
        }

        var (exam, comparison, history) = run.Store(metadata, analysis, model.Manifest);
        timings["total"] = Math.Round(loadMs + total.Elapsed.TotalMilliseconds, 1);
        var report = AnalyzeReport.From(loaded, analysis, new AnalyzeOutputs(null, run.StorePath, comparison, []), timings);
        var patient = run.Patient(exam.PatientId);
        if (run.Pseudonymize)
        {
            report = report with { PatientId = patient };
        }

        var folder = Path.Combine(outDirectory, "studies", StudyFolder(study.Key));
        Directory.CreateDirectory(folder);
        var result = Path.Combine(folder, "result.json");
        WriteAtomically(result, JsonSerializer.Serialize(report, AnalyzeReport.JsonOptions) + "\n");
        var html = Path.Combine(folder, "report.html");
        WriteAtomically(html, StudyReports.Html(report, loaded.Volume, analysis, exam, history, run.Pseudonymize ? patient : exam.PatientId));
        var outputs = new List<string> { result, html };
        var pseudonym = run.Pseudonymize ? patient ?? "anonymous" : null;
        if (DicomOutputs.Segmentation(loaded, analysis, exam, pseudonym) is { } segmentation)
        {
            var seg = Path.Combine(folder, "seg.dcm");
            segmentation.WriteFile(seg);
            outputs.Add(seg);
        }

        if (DicomOutputs.MeasurementReport(loaded, exam, comparison, pseudonym) is { } measurementReport)
        {
            var sr = Path.Combine(folder, "sr.dcm");
            measurementReport.WriteFile(sr);
            outputs.Add(sr);
        }

        return run.Line(study, report.Status, report.Reason, exam, timings, analysis.Measurement?.VbmdMgPerCm3, outputs);
    }

    /// <summary>A study's output folder: a hash of its key (StudyInstanceUID), never a DICOM string.</summary>
    internal static string StudyFolder(string key) => "study-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];

    /// <summary>A study's line in the summary: from the store as it stands at the end of the run; only this run's errors come from the run.</summary>
    private sealed record SummaryRow(BatchStudy Study, ExamRecord? Exam, Comparison? Comparison, string? Error, string? Patient);

    /// <summary>One row per study in the batch's order (oldest first).</summary>
    private static List<SummaryRow> Summary(IReadOnlyList<BatchStudy> studies, ResultStore store, RunState run, ModelManifest manifest, bool pseudonymize) =>
        [.. studies.Select(study =>
        {
            var exam = study.Series is { } series && store.Contains(series.SeriesInstanceUid, SoftwareVersion.Current, manifest.Version)
                ? store.Series(series.SeriesInstanceUid)
                : null;
            if (exam is null)
            {
                return new SummaryRow(study, null, null, run.ErrorOf(study.Key) ?? study.Problem, null);
            }

            var comparison = LongitudinalComparator.Compare(exam, exam.PatientId is { } id ? store.History(id) : [], new ComparisonOptions());
            return new SummaryRow(study, exam, comparison, null, pseudonymize ? exam.PatientPseudonym : exam.PatientId);
        })];

    private static string SummaryCsv(IReadOnlyList<SummaryRow> rows)
    {
        var text = new StringBuilder(Csv.Row(["study", "source", "patient", "study_date", "series_uid", "status", "reason", "level", "vbmd_mg_cm3",
            "category", "calibration_method", "percent_change_from_baseline", "decline5", "exceeds_lsc", "protocol_mismatch", "qc_flags"]));
        foreach (var (study, exam, comparison, error, patient) in rows)
        {
            text.Append(exam is null || comparison is null
                ? Csv.Row([study.Key, study.Source, null, null, study.Series?.SeriesInstanceUid, "error", error, null, null, null, null, null, null, null, null, null])
                : Csv.Row([
                    study.Key, study.Source, patient, HumanSummary.Date(exam.StudyDate), exam.SeriesInstanceUid, Status(exam), null, exam.MeasuredLevel,
                    Csv.Number(exam.VbmdMgPerCm3), exam.Category, exam.CalibrationMethod, Csv.Number(comparison.PercentChangeFromBaseline),
                    Csv.Bool(comparison.Decline5), Csv.Bool(comparison.ExceedsLsc), string.Join(" | ", comparison.ProtocolMismatch), string.Join(" ", exam.QcFlags)]));
        }

        return text.ToString();
    }

    private static string CohortIndex(IReadOnlyList<SummaryRow> rows, string outDirectory) => CohortIndexHtml.Render(
        "QctPipeline cohort",
        [.. rows.Select(r => new CohortRow(
            r.Patient ?? "(none)",
            HumanSummary.Date(r.Exam?.StudyDate),
            r.Exam?.MeasuredLevel,
            r.Exam?.VbmdMgPerCm3,
            r.Exam?.Category,
            r.Comparison?.PercentChangeFromBaseline,
            r.Comparison?.Decline5 == true,
            r.Exam is null ? "error: " + r.Error : Status(r.Exam),
            r.Exam is null || !File.Exists(Path.Combine(outDirectory, "studies", StudyFolder(r.Study.Key), "report.html")) ? null : $"studies/{StudyFolder(r.Study.Key)}/report.html"))]);

    private static string Status(ExamRecord exam) => exam.QcFlags.Contains("no-l1") ? "no-l1" : exam.QcFlags.Contains("review") ? "review" : "ok";

    private static void WriteAtomically(string path, string content)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, content, new UTF8Encoding(false));
        File.Move(temporary, path, overwrite: true);
    }

    private static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>The run log: one whole line per write call, so a killed batch leaves complete lines only.</summary>
    private sealed class RunLog(string path) : IDisposable
    {
        private static readonly JsonSerializerOptions LineOptions = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };

        private readonly FileStream file = new(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1);
        private readonly Lock gate = new();

        public void Write(BatchLogLine line)
        {
            var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, LineOptions) + "\n");
            lock (gate)
            {
                file.Write(bytes);
                file.Flush();
            }
        }

        public void Dispose() => file.Dispose();
    }

    /// <summary>What the workers share: the store (one writer at a time), the log, the counts and this run's errors.</summary>
    private sealed class RunState(int total, ResultStore store, RunLog log, bool pseudonymize, bool logPhi)
    {
        private readonly Lock gate = new();
        private readonly Dictionary<string, string> errors = [];

        public bool Pseudonymize => pseudonymize;

        public string StorePath => store.Path;

        public int Done { get; private set; }

        public int Analysed { get; private set; }

        public int Skipped { get; private set; }

        public int Failed { get; private set; }

        public bool IsStored(string seriesUid, string modelVersion)
        {
            lock (gate)
            {
                return store.Contains(seriesUid, SoftwareVersion.Current, modelVersion);
            }
        }

        public (ExamRecord Exam, Comparison Comparison, IReadOnlyList<ExamRecord> History) Store(SeriesMetadata metadata, AnalysisResult analysis, ModelManifest model)
        {
            lock (gate)
            {
                var exam = ExamRecords.From(metadata, analysis, model, store.Pseudonym, DateTimeOffset.UtcNow);
                store.Upsert(exam);
                IReadOnlyList<ExamRecord> history = exam.PatientId is { } id ? store.History(id) : [exam];
                return (exam, LongitudinalComparator.Compare(exam, history, new ComparisonOptions()), history);
            }
        }

        /// <summary>The patient as the outputs name them: the pseudonym (the PatientID only in a --log-phi log).</summary>
        public string? Patient(string? patientId)
        {
            lock (gate)
            {
                return patientId is null ? null : store.Pseudonym(patientId);
            }
        }

        private string? LoggedPatient(string? patientId) => logPhi ? patientId : Patient(patientId);

        public BatchLogLine Line(BatchStudy study, string status, string? reason, ExamRecord? exam, IReadOnlyDictionary<string, double>? timings, double? vbmd, IReadOnlyList<string> outputs) =>
            new(study.Key, status, reason, study.Source, study.Series?.SeriesInstanceUid, LoggedPatient(exam?.PatientId), HumanSummary.Date(exam?.StudyDate), vbmd is { } v && double.IsFinite(v) ? Math.Round(v, 2) : null, timings, outputs);

        public void Record(BatchLogLine line)
        {
            log.Write(line);
            lock (gate)
            {
                Done++;
                switch (line.Status)
                {
                    case "skipped":
                        Skipped++;
                        break;
                    case "error":
                        Failed++;
                        errors[line.Study] = line.Reason ?? "error";
                        break;
                    default:
                        Analysed++;
                        break;
                }
            }
        }

        public string? ErrorOf(string key)
        {
            lock (gate)
            {
                return errors.GetValueOrDefault(key);
            }
        }

        public string Describe(TimeSpan elapsed)
        {
            lock (gate)
            {
                var rate = Analysed == 0 ? 0 : Analysed / elapsed.TotalHours;
                return string.Create(CultureInfo.InvariantCulture, $"{Done}/{total} studies: {Analysed} analysed, {Skipped} skipped, {Failed} failed; {rate:0} studies/hour");
            }
        }
    }
}
