using System.Globalization;

namespace QctPipeline.Phantom;

/// <summary>One study of a longitudinal patient: its date and L1 trabecular density.</summary>
public readonly record struct Timepoint(DateOnly StudyDate, double L1BmdMgPerCm3)
{
    /// <summary>
    /// Parses "2025-01-10:110,2025-07-12:103". Dates must be distinct and in order, since a follow-up before its
    /// baseline is a typo more often than an intent. Throws <see cref="FormatException"/> naming the bad part.
    /// </summary>
    public static IReadOnlyList<Timepoint> ParseList(string text)
    {
        var timepoints = new List<Timepoint>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var pieces = part.Split(':');
            if (pieces.Length != 2
                || !DateOnly.TryParseExact(pieces[0], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                || !double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var bmd)
                || !double.IsFinite(bmd))
            {
                throw new FormatException($"'{part}' is not DATE:BMD (e.g. 2025-01-10:110)");
            }

            if (timepoints.Count > 0 && date <= timepoints[^1].StudyDate)
            {
                throw new FormatException($"'{part}': dates must increase ({date:yyyy-MM-dd} is not after {timepoints[^1].StudyDate:yyyy-MM-dd})");
            }

            timepoints.Add(new Timepoint(date, bmd));
        }

        if (timepoints.Count == 0)
        {
            throw new FormatException("no timepoints given");
        }

        return timepoints;
    }

    /// <summary>The folder name of this timepoint's study.</summary>
    public string FolderName => StudyDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The options of this timepoint: same seed (same anatomy), its date (new positioning and noise) and density.</summary>
    public PhantomOptions Apply(PhantomOptions options) => options with { StudyDate = StudyDate, L1BmdMgPerCm3 = L1BmdMgPerCm3 };
}
