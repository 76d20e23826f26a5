using System.Globalization;
using System.Text;
using QctPipeline.Ingest;

namespace QctPipeline.Cli.Commands;

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
    public static (IReadOnlyList<BatchStudy> Studies, IReadOnlyList<BatchProblem> Problems) Discover(string input, IngestOptions options)
    {
        if (File.Exists(input) && input.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            return FromManifest(input, options);
        }

        if (!Directory.Exists(input))
        {
            throw new DirectoryNotFoundException($"{input}: no such folder or manifest (.csv)");
        }

        var studies = new List<BatchStudy>();
        var problems = new List<BatchProblem>();
        Survey(input, input, null, null, options, studies, problems);
        return (InDateOrder(studies), problems);
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

    private static (IReadOnlyList<BatchStudy> Studies, IReadOnlyList<BatchProblem> Problems) FromManifest(string manifest, IngestOptions options)
    {
        var rows = ParseCsv(File.ReadAllText(manifest, Encoding.UTF8));
        if (rows.Count == 0 || !rows[0].Contains("path"))
        {
            throw new InvalidDataException($"{manifest}: a manifest needs a header row with a 'path' column (and optionally patient_id, study_date)");
        }

        var header = rows[0];
        int Column(string name) => Array.IndexOf(header, name);
        var (pathColumn, patientColumn, dateColumn) = (Column("path"), Column("patient_id"), Column("study_date"));
        var baseFolder = Path.GetDirectoryName(Path.GetFullPath(manifest))!;
        var studies = new List<BatchStudy>();
        var problems = new List<BatchProblem>();
        for (var line = 1; line < rows.Count; line++)
        {
            var row = rows[line];
            string? Field(int column) => column >= 0 && column < row.Length && row[column].Length > 0 ? row[column] : null;
            var where = $"{manifest}:{line + 1}";
            if (Field(pathColumn) is not { } path)
            {
                problems.Add(new BatchProblem(where, "no path"));
                continue;
            }

            DateOnly? date = null;
            if (Field(dateColumn) is { } text)
            {
                if (!DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                {
                    problems.Add(new BatchProblem(where, $"study_date '{text}' is not yyyy-MM-dd or yyyyMMdd: row skipped"));
                    continue;
                }

                date = parsed;
            }

            var folder = Path.GetFullPath(Path.Combine(baseFolder, path));
            if (!Directory.Exists(folder) && !File.Exists(folder))
            {
                studies.Add(new BatchStudy("folder:" + folder, where, null, $"{folder}: no such folder", Field(patientColumn), date));
                continue;
            }

            Survey(folder, where, Field(patientColumn), date, options, studies, problems);
        }

        return (InDateOrder(studies), problems);
    }

    /// <summary>RFC 4180: fields separated by commas, optionally quoted with doubled quotes inside; CRLF or LF rows.</summary>
    internal static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var index = 0; index < text.Length; index++)
        {
            var c = text[index];
            if (quoted)
            {
                if (c == '"' && index + 1 < text.Length && text[index + 1] == '"')
                {
                    field.Append('"');
                    index++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && index + 1 < text.Length && text[index + 1] == '\n')
                {
                    index++;
                }

                fields.Add(field.ToString());
                field.Clear();
                if (fields.Any(f => f.Length > 0))
                {
                    rows.Add([.. fields.Select(f => f.Trim())]);
                }

                fields.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        if (fields.Any(f => f.Length > 0))
        {
            rows.Add([.. fields.Select(f => f.Trim())]);
        }

        return rows;
    }
}
