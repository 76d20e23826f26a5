using System.Globalization;
using System.Text;
using QctPipeline.Domain;
using QctPipeline.Ingest;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// Worker K of N (0-based): takes the manifest rows, or the studies of a folder, whose key hashes to K modulo N — a
/// deterministic split with no coordinator, so N independent workers share the work and together cover it. The key is
/// the patient where it is known (the DICOM PatientID of a folder's study, a manifest's patient_id column), so all of a
/// patient's studies fall in one shard and are compared there; a manifest row without patient_id goes by its folder.
/// </summary>
internal sealed record Shard(int Index, int Count)
{
    /// <summary>The key a study is sharded by: its patient when known, else <paramref name="fallback"/>.</summary>
    public static string Key(string? patientId, string fallback) => string.IsNullOrWhiteSpace(patientId) ? fallback : "patient:" + patientId.Trim();

    public bool Takes(string key) => Count <= 1 || (int)(BitConverter.ToUInt64(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0) % (ulong)Count) == Index;

    /// <summary>
    /// "K/N", or "N" with K from $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX (a SLURM array task, a Kubernetes
    /// Indexed Job pod); null with the reason when it is not one of those.
    /// </summary>
    public static (Shard? Shard, string? Problem) Parse(string text)
    {
        var parts = text.Split('/');
        var countText = parts[^1];
        var indexText = parts.Length == 2 ? parts[0]
            : Environment.GetEnvironmentVariable("SLURM_ARRAY_TASK_ID") ?? Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX");
        if (parts.Length > 2 || !int.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            return (null, $"--shard {text}: expected K/N (0 ≤ K < N) or N");
        }

        if (indexText is null)
        {
            return (null, $"--shard {text}: no K given and neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set");
        }

        return int.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < count
            ? (new Shard(index, count), null)
            : (null, $"--shard {text}: shard index {indexText} is not 0…{count - 1}");
    }
}

/// <summary>One study a batch will take: where it came from, the series chosen (or why none), and a manifest's overrides.</summary>
internal sealed record BatchStudy(string Key, string Source, SeriesCandidate? Series, string? Problem, string? PatientIdOverride, DateOnly? StudyDateOverride);

/// <summary>A file a batch could not use (unreadable DICOM; or, ignored, not DICOM at all) or a manifest row that failed: logged, never fatal.</summary>
internal sealed record BatchProblem(string Path, string Reason, bool Ignored = false);

/// <summary>
/// What a batch takes: every study under a root folder (any layout: series grouped by StudyInstanceUID across
/// folders), or the folders a manifest lists (CSV with a `path` column and optional `patient_id` and `study_date`
/// overrides; relative paths are relative to the manifest).
/// </summary>
internal static class BatchInputs
{
    /// <summary>Whether the input names a manifest (a .csv file) rather than a root folder.</summary>
    public static bool IsManifest(string input) => File.Exists(input) && input.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    public static (IReadOnlyList<BatchStudy> Studies, IReadOnlyList<BatchProblem> Problems) Discover(string input, IngestOptions options, Shard shard)
    {
        if (IsManifest(input))
        {
            return FromManifest(input, options, shard);
        }

        if (!Directory.Exists(input))
        {
            throw new DirectoryNotFoundException($"{input}: no such folder or manifest (.csv)");
        }

        var studies = new List<BatchStudy>();
        var problems = new List<BatchProblem>();
        Survey(input, input, null, null, options, studies, problems);
        return (InDateOrder([.. studies.Where(study => shard.Takes(Shard.Key(study.PatientIdOverride ?? study.Series?.Metadata.PatientId, study.Key)))]), problems);
    }

    /// <summary>Oldest study first (then by key), so each follow-up is analysed after its baseline and its report compares them.</summary>
    private static List<BatchStudy> InDateOrder(List<BatchStudy> studies) => [.. studies
        .OrderBy(s => s.StudyDateOverride ?? s.Series?.Metadata.StudyDate ?? DateOnly.MaxValue)
        .ThenBy(s => s.Key, StringComparer.Ordinal)];

    private static void Survey(string folder, string source, string? patientId, DateOnly? studyDate, IngestOptions options, List<BatchStudy> studies, List<BatchProblem> problems)
    {
        var survey = DicomIngest.Survey(folder, options);
        problems.AddRange(survey.Problems.Select(p => new BatchProblem(p.Path, p.Reason)));
        problems.AddRange(survey.Ignored.Select(p => new BatchProblem(p.Path, p.Reason, Ignored: true)));
        var found = DicomIngest.Studies(survey, options);
        if (found.Count == 0)
        {
            studies.Add(new BatchStudy("folder:" + source, source, null, $"no DICOM series in {folder} ({survey.FilesSeen} file(s) seen)", patientId, studyDate));
        }

        foreach (var study in found)
        {
            var problem = study.Selection.Selected is null
                ? $"no usable CT series: {study.Selection.Reason}; {string.Join("; ", study.Series.Select(s => $"{s.Label}: {s.SkipReason ?? "not chosen"}"))}"
                : null;
            studies.Add(new BatchStudy(study.Key, source, study.Selection.Selected, problem, patientId, studyDate));
        }
    }

    /// <summary>The folders a shard of a manifest takes, as full paths, without surveying them.</summary>
    public static IReadOnlyList<string> ManifestFolders(string manifest, Shard shard) => [.. ManifestRows(manifest)
        .Where(row => row.Folder is { } folder && shard.Takes(Shard.Key(PatientColumn(row.Row, row.Header), folder)))
        .Select(row => row.Folder!)];

    private static string? PatientColumn(string[] row, string[] header) =>
        Array.IndexOf(header, "patient_id") is >= 0 and var column && column < row.Length && row[column].Length > 0 ? row[column] : null;

    private static IEnumerable<(int Line, string? Folder, string[] Row, string[] Header)> ManifestRows(string manifest)
    {
        var rows = CsvText.Parse(File.ReadAllText(manifest, Encoding.UTF8));
        if (rows.Count == 0 || !rows[0].Contains("path"))
        {
            throw new InvalidDataException($"{manifest}: a manifest needs a header row with a 'path' column (and optionally patient_id, study_date)");
        }

        var pathColumn = Array.IndexOf(rows[0], "path");
        var baseFolder = Path.GetDirectoryName(Path.GetFullPath(manifest))!;
        for (var line = 1; line < rows.Count; line++)
        {
            var path = pathColumn < rows[line].Length && rows[line][pathColumn].Length > 0 ? rows[line][pathColumn] : null;
            yield return (line, path is null ? null : Path.GetFullPath(Path.Combine(baseFolder, path)), rows[line], rows[0]);
        }
    }

    private static (IReadOnlyList<BatchStudy> Studies, IReadOnlyList<BatchProblem> Problems) FromManifest(string manifest, IngestOptions options, Shard shard)
    {
        var studies = new List<BatchStudy>();
        var problems = new List<BatchProblem>();
        foreach (var (line, folder, row, header) in ManifestRows(manifest))
        {
            int Column(string name) => Array.IndexOf(header, name);
            string? Field(int column) => column >= 0 && column < row.Length && row[column].Length > 0 ? row[column] : null;
            var where = $"{manifest}:{line + 1}";
            if (folder is null)
            {
                problems.Add(new BatchProblem(where, "no path"));
                continue;
            }

            if (!shard.Takes(Shard.Key(PatientColumn(row, header), folder)))
            {
                continue;
            }

            DateOnly? date = null;
            if (Field(Column("study_date")) is { } text)
            {
                if (!DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                {
                    problems.Add(new BatchProblem(where, $"study_date '{text}' is not yyyy-MM-dd or yyyyMMdd: row skipped"));
                    continue;
                }

                date = parsed;
            }

            if (!Directory.Exists(folder) && !File.Exists(folder))
            {
                studies.Add(new BatchStudy("folder:" + folder, where, null, $"{folder}: no such folder", Field(Column("patient_id")), date));
                continue;
            }

            try
            {
                Survey(folder, where, Field(Column("patient_id")), date, options, studies, problems);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One row's folder that cannot be surveyed is that row's error; the other rows go on.
                studies.Add(new BatchStudy("folder:" + folder, where, null, $"{folder}: could not be surveyed ({ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")})", Field(Column("patient_id")), date));
            }
        }

        return (InDateOrder(studies), problems);
    }
}
