using System.Globalization;
using System.Text;
using QctPipeline.Domain;

namespace QctPipeline.Evaluation;

/// <summary>
/// One real-CT case: a series (DICOM folder or NIfTI CT volume) and what a reference says about one vertebra in it.
/// Paths are full paths, resolved against the manifest's folder.
/// </summary>
/// <param name="Where">"manifest.csv:LINE (case NAME)", for messages.</param>
/// <param name="Level">The vertebra the reference describes (L1, T12, L3, …).</param>
/// <param name="L1InView">Whether a whole L1 is in the scan; null when the manifest does not say.</param>
public sealed record EvaluationCase(
    string Where,
    string Name,
    string SeriesPath,
    string Level,
    MaskExpression? ReferenceMask,
    Vector3? CentroidLps,
    double? ReferenceHu,
    bool? L1InView,
    string? Note)
{
    public bool SeriesIsNifti => SeriesPath.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) || SeriesPath.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A manifest row that cannot be evaluated, and why.</summary>
public sealed record ManifestProblem(string Where, string Reason)
{
    public override string ToString() => $"{Where}: {Reason}";
}

/// <summary>
/// The `qct eval-real` manifest: CSV with a header naming the columns case, series, level and optionally
/// reference_mask, centroid_lps ("x y z" mm), reference_hu, l1_in_view (yes/no), note. A row needs a reference mask or
/// a centroid, except an L1 row with l1_in_view no, whose right answer is an abstention. A malformed row becomes a
/// <see cref="ManifestProblem"/> and the other rows stand.
/// </summary>
public sealed record EvaluationManifest(string Path, IReadOnlyList<EvaluationCase> Cases, IReadOnlyList<ManifestProblem> Problems)
{
    private static readonly string[] RequiredColumns = ["case", "series", "level"];
    private static readonly string[] OptionalColumns = ["reference_mask", "centroid_lps", "reference_hu", "l1_in_view", "note"];

    /// <summary>Reads a manifest file; a missing file or a header without the required columns throws (the whole manifest is unusable).</summary>
    public static EvaluationManifest Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such manifest file", path);
        }

        var fullPath = System.IO.Path.GetFullPath(path);
        return Parse(File.ReadAllText(fullPath, Encoding.UTF8), path, System.IO.Path.GetDirectoryName(fullPath)!);
    }

    /// <param name="name">How messages name the manifest.</param>
    /// <param name="baseFolder">What relative paths are relative to.</param>
    public static EvaluationManifest Parse(string text, string name, string baseFolder)
    {
        var rows = CsvText.Rows(text);
        if (rows.Count == 0)
        {
            throw new InvalidDataException($"{name}: empty; a manifest needs a header row ({string.Join(", ", RequiredColumns)}, …)");
        }

        var header = rows[0].Fields;
        if (RequiredColumns.FirstOrDefault(column => !header.Contains(column)) is { } missing)
        {
            throw new InvalidDataException($"{name}: the header has no '{missing}' column (needs {string.Join(", ", RequiredColumns)}; optional {string.Join(", ", OptionalColumns)})");
        }

        if (header.FirstOrDefault(column => !RequiredColumns.Contains(column) && !OptionalColumns.Contains(column)) is { } unknown)
        {
            throw new InvalidDataException($"{name}: unknown column '{unknown}' in the header (known: {string.Join(", ", RequiredColumns.Concat(OptionalColumns))})");
        }

        var cases = new List<EvaluationCase>();
        var problems = new List<ManifestProblem>();
        foreach (var row in rows.Skip(1))
        {
            string? Field(string column) => Array.IndexOf(header, column) is var at and >= 0 && at < row.Fields.Length && row.Fields[at].Length > 0 ? row.Fields[at] : null;
            var caseName = Field("case");
            var where = caseName is null ? $"{name}:{row.Line}" : $"{name}:{row.Line} (case {caseName})";
            var (evaluationCase, problem) = row.Fields.Length > header.Length
                ? (null, $"{row.Fields.Length} fields, the header has {header.Length} (a comma inside a field needs quotes)")
                : ParseRow(Field, where, baseFolder);
            if (problem is null && cases.Any(c => c.Name == evaluationCase!.Name))
            {
                problem = $"case name '{evaluationCase!.Name}' is used by an earlier row";
            }

            if (problem is not null)
            {
                problems.Add(new ManifestProblem(where, problem));
            }
            else
            {
                cases.Add(evaluationCase!);
            }
        }

        return new EvaluationManifest(name, cases, problems);
    }

    private static (EvaluationCase? Case, string? Problem) ParseRow(Func<string, string?> field, string where, string baseFolder)
    {
        if (field("case") is not { } name || field("series") is not { } series || field("level") is not { } level)
        {
            return (null, "case, series and level must all be given");
        }

        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || name.StartsWith('.'))
        {
            return (null, $"case name '{name}' may hold only letters, digits, '-', '_' and '.' (it names the figure file)");
        }

        if (!VertebraNames.IsValid(level))
        {
            return (null, $"level '{level}' is not a vertebra name (C1–C7, T1–T13, L1–L6, S1–S5)");
        }

        MaskExpression? mask = null;
        if (field("reference_mask") is { } maskText)
        {
            (mask, var problem) = MaskExpression.Parse(maskText, baseFolder);
            if (problem is not null)
            {
                return (null, problem);
            }
        }

        Vector3? centroid = null;
        if (field("centroid_lps") is { } centroidText)
        {
            var parts = centroidText.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = parts.Select(part => double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : (double?)null).ToArray();
            if (values.Length != 3 || values.Any(value => value is null))
            {
                return (null, $"centroid_lps '{centroidText}' is not three numbers 'x y z' (mm, LPS)");
            }

            centroid = new Vector3(values[0]!.Value, values[1]!.Value, values[2]!.Value);
        }

        double? referenceHu = null;
        if (field("reference_hu") is { } huText)
        {
            if (!double.TryParse(huText, NumberStyles.Float, CultureInfo.InvariantCulture, out var hu) || !double.IsFinite(hu))
            {
                return (null, $"reference_hu '{huText}' is not a number");
            }

            referenceHu = hu;
        }

        var l1InViewText = field("l1_in_view");
        if (l1InViewText is not (null or "yes" or "no"))
        {
            return (null, $"l1_in_view '{l1InViewText}' is not yes or no");
        }

        bool? l1InView = l1InViewText is null ? null : l1InViewText == "yes";

        if (mask is null && centroid is null && !(level == "L1" && l1InView == false))
        {
            return (null, "needs a reference_mask or a centroid_lps (only an L1 row with l1_in_view no, whose right answer is an abstention, may have neither)");
        }

        return (new EvaluationCase(where, name, System.IO.Path.GetFullPath(System.IO.Path.Combine(baseFolder, series)), level, mask, centroid, referenceHu, l1InView, field("note")), null);
    }
}
