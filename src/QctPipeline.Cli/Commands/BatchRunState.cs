using System.Globalization;
using System.Text;
using System.Text.Json;
using QctPipeline.Compare;
using QctPipeline.Domain;
using QctPipeline.Segment;
using QctPipeline.Store;

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

/// <summary>The run log: one whole line per write call, so a killed batch leaves complete lines only.</summary>
internal sealed class RunLog(string path) : IDisposable
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
internal sealed class RunState(int total, ResultStore store, RunLog log, bool pseudonymize, bool logPhi)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, string> errors = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> patientGates = new(StringComparer.Ordinal);

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

    /// <summary>
    /// The study's record, its comparison with the patient's stored exams and that history with it: all that its
    /// outputs show, worked out before anything is stored (<see cref="Commit"/> stores it).
    /// </summary>
    public (ExamRecord Exam, Comparison Comparison, IReadOnlyList<ExamRecord> History) Prepare(SeriesMetadata metadata, AnalysisResult analysis, ModelManifest model, ComparisonOptions comparisonOptions)
    {
        lock (gate)
        {
            var exam = ExamRecords.From(metadata, analysis, model, store.Pseudonym, DateTimeOffset.UtcNow);
            IReadOnlyList<ExamRecord> history = exam.PatientId is { } id
                ? [.. store.History(id).Where(e => e.SeriesInstanceUid != exam.SeriesInstanceUid).Append(exam).OrderBy(e => e.StudyDate).ThenBy(e => e.AnalysedAt)]
                : [exam];
            return (exam, LongitudinalComparator.Compare(exam, history, comparisonOptions), history);
        }
    }

    public void Commit(ExamRecord exam)
    {
        lock (gate)
        {
            store.Upsert(exam);
        }
    }

    /// <summary>
    /// Held from <see cref="Prepare"/> to <see cref="Commit"/>: two exams of one patient analysed side by side are
    /// stored one after the other, so the later one's comparison sees the earlier.
    /// </summary>
    public object PatientGate(string? patientId) => patientId is null ? new object() : patientGates.GetOrAdd(patientId, _ => new object());

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
