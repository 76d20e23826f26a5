using System.Globalization;

namespace QctPipeline.Evaluation;

/// <summary>One label file and the values that count as inside (null: any non-zero value).</summary>
public sealed class MaskTerm(string path, IReadOnlyList<int>? labels)
{
    private readonly HashSet<int>? labelSet = labels is null ? null : [.. labels];

    /// <summary>Full path of the label file.</summary>
    public string Path { get; } = path;

    public IReadOnlyList<int>? Labels { get; } = labels;

    /// <summary>Whether a voxel value is inside; label files are read as float, so only whole values can match a label.</summary>
    public bool Holds(float value) => labelSet is null ? value != 0 : MathF.Round(value) == value && labelSet.Contains((int)value);

    public override string ToString() => Labels is null ? System.IO.Path.GetFileName(Path) : $"{System.IO.Path.GetFileName(Path)}:{string.Join(',', Labels)}";
}

/// <summary>
/// A reference mask as a selection over published label files, so they can be used as released:
/// <c>labels.nii.gz:32</c> (voxels of value 32), <c>vert.nii.gz:22 &amp; subreg.nii.gz:49,50</c> (value 22 in the first
/// and 49 or 50 in the second), <c>body.nii.gz</c> (any non-zero value); <c>49-50</c> is a range. Paths are relative
/// to the folder given (the manifest's).
/// </summary>
public sealed record MaskExpression(string Text, IReadOnlyList<MaskTerm> Terms)
{
    /// <summary>The expression, or null with the reason it is malformed.</summary>
    public static (MaskExpression? Expression, string? Problem) Parse(string text, string baseFolder)
    {
        var terms = new List<MaskTerm>();
        foreach (var part in text.Split('&'))
        {
            var term = part.Trim();
            if (term.Length == 0)
            {
                return (null, $"reference_mask '{text}': an empty term (expected file[:labels] & file[:labels] …)");
            }

            var colon = term.LastIndexOf(':');
            var (path, labelText) = colon > 0 ? (term[..colon].Trim(), term[(colon + 1)..].Trim()) : (term, null);
            IReadOnlyList<int>? labels = null;
            if (labelText is not null)
            {
                labels = ParseLabels(labelText);
                if (labels is null)
                {
                    return (null, $"reference_mask '{text}': '{labelText}' is not a list of labels (whole numbers, commas, ranges a-b)");
                }
            }

            if (!path.EndsWith(".nii", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".nii.gz", StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"reference_mask '{text}': '{path}' is not a NIfTI file (.nii or .nii.gz)");
            }

            terms.Add(new MaskTerm(System.IO.Path.GetFullPath(System.IO.Path.Combine(baseFolder, path)), labels));
        }

        return (new MaskExpression(text, terms), null);
    }

    private static List<int>? ParseLabels(string text)
    {
        var labels = new List<int>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var bounds = item.Split('-', StringSplitOptions.TrimEntries);
            if (bounds.Length is < 1 or > 2 || !bounds.All(IsLabel))
            {
                return null;
            }

            var (from, to) = (int.Parse(bounds[0], CultureInfo.InvariantCulture), int.Parse(bounds[^1], CultureInfo.InvariantCulture));
            if (to < from || to - from > 10000)
            {
                return null;
            }

            labels.AddRange(Enumerable.Range(from, to - from + 1));
        }

        return labels.Count == 0 ? null : [.. labels.Distinct()];
    }

    private static bool IsLabel(string text) => text.Length is > 0 and <= 9 && text.All(char.IsAsciiDigit);

    public override string ToString() => string.Join(" & ", Terms);
}
