using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using QctPipeline.Calibrate;
using QctPipeline.Compare;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Segment;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>What every study of one batch run is analysed with.</summary>
internal sealed record BatchRunOptions(TimeSpan StudyLimit, IngestOptions Ingest, CalibrationOptions Calibration, ComparisonOptions Comparison, string OutDirectory);

/// <summary>
/// The loader and the analysis workers of a batch. Each study fails alone: whatever it throws (other than a broken
/// store or exhausted memory, which end the run) becomes its logged error. A study over the time limit is stopped: its
/// decode and its network run are cancelled, and the worker goes on with the same model.
/// <para>
/// A study is done only when its result and all its outputs are written. They are written into the study folder's
/// <c>.pending-VERSION</c> folder first (named by the software and model version), then the result is stored, then they
/// are moved into place; a rerun finds a study stored with that version and its staging folder (a kill between the
/// store write and the moves) and moves them in, analysing nothing. Staged outputs of any other version were never
/// stored and are thrown away.
/// </para>
/// </summary>
internal static class BatchWorkers
{
    private const string PendingPrefix = ".pending-";

    /// <summary>
    /// How long a stopped study may take to unwind (a stage that does not watch the token runs to its end) before its
    /// worker gives it up and takes a fresh model.
    /// </summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Set to <c>kill-after-store-write</c>, the process kills itself (SIGKILL) right after a study's result is stored
    /// and before its outputs are in place: the crash the consistency test reruns from.
    /// </summary>
    internal const string FaultVariable = "QCT_FAULT";

    public static void Run(IReadOnlyList<BatchStudy> studies, List<SegmentationModel> models, Func<SegmentationModel> loadModel, BatchRunOptions options, RunState run, Action<BatchLogLine> progress)
    {
        var manifest = models[0].Manifest;
        var seconds = options.StudyLimit.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var loaded = Channel.CreateBounded<(BatchStudy Study, LoadedSeries Series, double LoadMs)>(models.Count);
        void Finish(BatchLogLine line)
        {
            run.Record(line);
            progress(line);
        }

        // The study's outcome when it ends here (no series, already stored, decoding over the limit); null with its volume when it goes on to a worker.
        BatchLogLine? DecodeOrSettle(BatchStudy study, out LoadedSeries? volume, out double loadMs)
        {
            volume = null;
            loadMs = 0;
            if (study.Series is not { } series)
            {
                return run.Line(study, "error", study.Problem, null, null, null, []);
            }

            if (run.IsStored(series.SeriesInstanceUid, manifest.Version))
            {
                var completed = CompleteFromPending(Path.Combine(options.OutDirectory, "studies", BatchCommand.StudyFolder(study.Key)), manifest.Version);
                return run.Line(study, "skipped", "already stored with this software and model version" + (completed.Count > 0 ? $"; its staged outputs ({string.Join(", ", completed.Select(Path.GetFileName))}) were moved into place" : string.Empty), null, null, null, completed);
            }

            var watch = Stopwatch.StartNew();
            using var limit = new CancellationTokenSource(options.StudyLimit);
            try
            {
                volume = DicomIngest.Load(series, options.Ingest, limit.Token);
                loadMs = watch.Elapsed.TotalMilliseconds;
                return null;
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested)
            {
                return run.Line(study, "error", $"decoding took longer than the {seconds} s per-study limit: stopped", null, null, null, []);
            }
        }

        var loader = Task.Run(async () =>
        {
            try
            {
                foreach (var study in studies)
                {
                    // Decode only when the channel has room: one study decoded ahead of each worker, not two.
                    await loaded.Writer.WaitToWriteAsync();
                    BatchLogLine? outcome;
                    LoadedSeries? volume;
                    double loadMs;
                    try
                    {
                        outcome = DecodeOrSettle(study, out volume, out loadMs);
                    }
                    catch (Exception ex) when (ex is not (OutOfMemoryException or ResultStoreException))
                    {
                        outcome = run.Line(study, "error", OneLine(ex), null, null, null, []);
                        volume = null;
                        loadMs = 0;
                    }

                    if (outcome is not null)
                    {
                        Finish(outcome);
                    }
                    else
                    {
                        await loaded.Writer.WriteAsync((study, volume!, loadMs));
                        volume = null;
                    }
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
            while (await loaded.Reader.WaitToReadAsync())
            {
                if (!loaded.Reader.TryRead(out var item))
                {
                    continue;
                }

                var (line, stuck) = Supervise(item.Study, item.Series, item.LoadMs, model, options, run, seconds);

                // The study's volume goes with it: nothing of it may stay reachable while the next one waits.
                item = default;
                ReleaseStudyMemory();
                Finish(line);
                if (stuck)
                {
                    // A stage that ignores the token is still running: it keeps its model, and this worker takes a new one.
                    model = loadModel();
                    lock (models)
                    {
                        models.Add(model);
                    }
                }
            }
        })).ToArray();
        Task.WaitAll([loader, .. workers]);
    }

    /// <summary>One study's analysis under its time limit: its log line, and whether it failed to stop (so its model is still busy).</summary>
    private static (BatchLogLine Line, bool Stuck) Supervise(BatchStudy study, LoadedSeries series, double loadMs, SegmentationModel model, BatchRunOptions options, RunState run, string seconds)
    {
        using var limit = new CancellationTokenSource(options.StudyLimit);
        var work = Task.Run(() => Analyse(study, series, loadMs, model, options, run, limit.Token));
        try
        {
            if (work.Wait(options.StudyLimit + StopGrace))
            {
                return (work.Result, false);
            }
        }
        catch (AggregateException ex) when (ex.InnerException is OperationCanceledException && limit.IsCancellationRequested)
        {
            return (run.Line(study, "error", $"analysis took longer than the {seconds} s per-study limit: stopped", null, null, null, []), false);
        }
        catch (AggregateException ex) when (ex.InnerException is { } inner and not (OutOfMemoryException or ResultStoreException))
        {
            return (run.Line(study, "error", OneLine(inner), null, null, null, []), false);
        }

        return (run.Line(study, "error", $"analysis took longer than the {seconds} s per-study limit and did not stop: abandoned", null, null, null, []), true);
    }

    private static BatchLogLine Analyse(BatchStudy study, LoadedSeries series, double loadMs, SegmentationModel model, BatchRunOptions options, RunState run, CancellationToken cancellation)
    {
        var metadata = series.Series.Metadata with
        {
            PatientId = study.PatientIdOverride ?? series.Series.Metadata.PatientId,
            StudyDate = study.StudyDateOverride ?? series.Series.Metadata.StudyDate,
        };
        var loaded = series with { Series = series.Series with { Metadata = metadata } };
        var timings = new Dictionary<string, double> { ["ingest"] = Math.Round(loadMs, 1) };
        var total = Stopwatch.StartNew();
        var analysis = AnalysisChain.Run(loaded.Volume, metadata, model, options.Calibration, timings, cancellation);

        // Past this point the study is committed: a result over the limit is never stored.
        cancellation.ThrowIfCancellationRequested();
        var folder = Path.Combine(options.OutDirectory, "studies", BatchCommand.StudyFolder(study.Key));
        var pending = PendingFolder(folder, model.Manifest.Version);
        lock (run.PatientGate(metadata.PatientId))
        {
            var (exam, comparison, history) = run.Prepare(metadata, analysis, model.Manifest, options.Comparison);
            timings["total"] = Math.Round(loadMs + total.Elapsed.TotalMilliseconds, 1);
            var report = AnalyzeReport.From(loaded, analysis, new AnalyzeOutputs(null, run.StorePath, comparison, []), timings);
            var patient = run.Patient(exam.PatientId);
            if (run.Pseudonymize)
            {
                report = report with { PatientId = patient };
            }

            if (Directory.Exists(pending))
            {
                Directory.Delete(pending, recursive: true);
            }

            Directory.CreateDirectory(pending);
            WriteAtomically(Path.Combine(pending, "result.json"), JsonSerializer.Serialize(report, AnalyzeReport.JsonOptions) + "\n");
            WriteAtomically(Path.Combine(pending, "report.html"), StudyReports.Html(report, loaded.Volume, analysis, exam, history, run.Pseudonymize ? patient : exam.PatientId));
            var pseudonym = run.Pseudonymize ? patient ?? "anonymous" : null;
            DicomOutputs.Segmentation(loaded, analysis, exam, pseudonym)?.WriteFile(Path.Combine(pending, "seg.dcm"));
            DicomOutputs.MeasurementReport(loaded, exam, comparison, pseudonym)?.WriteFile(Path.Combine(pending, "sr.dcm"));
            run.Commit(exam);
            if (Environment.GetEnvironmentVariable(FaultVariable) == "kill-after-store-write")
            {
                Process.GetCurrentProcess().Kill();
            }

            var outputs = CompleteFromPending(folder, model.Manifest.Version);
            return run.Line(study, report.Status, report.Reason, exam, timings, analysis.Measurement?.VbmdMgPerCm3, outputs);
        }
    }

    /// <summary>
    /// Moves a stored study's staged outputs into its folder (overwriting older ones) and removes the staging folder;
    /// the full paths moved, none when nothing was staged.
    /// </summary>
    private static List<string> CompleteFromPending(string folder, string modelVersion)
    {
        var pending = PendingFolder(folder, modelVersion);
        foreach (var other in Directory.Exists(folder) ? Directory.GetDirectories(folder, PendingPrefix + "*").Where(d => d != pending) : [])
        {
            Directory.Delete(other, recursive: true);
        }

        if (!Directory.Exists(pending))
        {
            return [];
        }

        // Outputs of an earlier analysis that this one did not make (a SEG when it found no L1) go, and so does the
        // marker of their DICOMweb push, so the new SEG and SR are stored back.
        var staged = Directory.GetFiles(pending).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var stale in new[] { "result.json", "report.html", "seg.dcm", "sr.dcm", ".pushed" }.Where(name => !staged.Contains(name)))
        {
            File.Delete(Path.Combine(folder, stale));
        }

        // result.json goes last, so a study folder with a result.json and no staging folder holds every output.
        var files = Directory.GetFiles(pending).Where(f => !Path.GetFileName(f).StartsWith('.'))
            .OrderBy(f => Path.GetFileName(f) == "result.json").ThenBy(f => f, StringComparer.Ordinal).ToList();
        var moved = new List<string>();
        foreach (var file in files)
        {
            var target = Path.Combine(folder, Path.GetFileName(file));
            File.Move(file, target, overwrite: true);
            moved.Add(target);
        }

        Directory.Delete(pending, recursive: true);
        return moved;
    }

    /// <summary>The staging folder of an analysis by this software and <paramref name="modelVersion"/>.</summary>
    private static string PendingFolder(string folder, string modelVersion) =>
        Path.Combine(folder, PendingPrefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{SoftwareVersion.Current}/{modelVersion}")))[..12]);

    /// <summary>
    /// A study's volumes and masks are dead once it ends (analysed or stopped), but the runtime, seeing gigabytes free,
    /// collects the large-object heap only after it has grown by several studies' worth. One blocking full collection
    /// per study (tens of ms against seconds of analysis) keeps a worker near one study's working set (decision 0013).
    /// </summary>
    private static void ReleaseStudyMemory()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    internal static void WriteAtomically(string path, string content)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        File.WriteAllText(temporary, content, new UTF8Encoding(false));
        File.Move(temporary, path, overwrite: true);
    }

    private static string OneLine(Exception ex) =>
        (ex is DicomFormatException or IOException or InvalidDataException or CalibrationFileException ? string.Empty : ex.GetType().Name + ": ")
        + string.Join(' ', ex.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
