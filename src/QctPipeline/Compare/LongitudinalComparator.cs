using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Compare;

/// <summary>
/// The Compare stage: one exam against the patient's earlier ones. History is taken in date order whatever order it
/// arrived in, so a baseline analysed after its follow-up still becomes the baseline. Several series of one day count
/// as one exam: the preferred one (<see cref="Preferred"/>) stands for the day, the others are listed as same-day
/// duplicates; the exam being compared always stands for its own day.
/// </summary>
public static class LongitudinalComparator
{
    /// <param name="history">The patient's stored exams, in any order; rows for <paramref name="current"/>'s own series are ignored.</param>
    public static Comparison Compare(ExamRecord current, IReadOnlyList<ExamRecord> history, ComparisonOptions options)
    {
        var lsc = options.LscFactor * options.PrecisionCv(current.CalibrationMethod);
        if (current.PatientId is null)
        {
            return NotCompared(current, lsc, "no PatientID: stored, not compared");
        }

        if (current.StudyDate is not { } date)
        {
            return NotCompared(current, lsc, "no valid StudyDate (absent, or not a DICOM date): stored, not compared");
        }

        var others = history
            .Where(e => e.PatientId == current.PatientId && e.StudyDate is not null && e.SeriesInstanceUid != current.SeriesInstanceUid)
            .ToList();
        var sameDay = others.Where(e => e.StudyDate == date).Select(e => e.SeriesInstanceUid).Order(StringComparer.Ordinal).ToList();
        var earlierDays = others.Where(e => e.StudyDate < date).GroupBy(e => e.StudyDate!.Value).OrderBy(g => g.Key).ToList();
        if (earlierDays.Count == 0)
        {
            return NotCompared(current, lsc, "first exam of this patient: the baseline") with { BaselineDate = date, SameDayDuplicates = sameDay };
        }

        var baseline = Preferred(earlierDays[0]);
        var previous = Preferred(earlierDays[^1]);
        var fromBaseline = Change(baseline, current);
        var fromPrevious = Change(previous, current);
        lsc = options.LscFactor * Math.Max(options.PrecisionCv(current.CalibrationMethod), Math.Max(options.PrecisionCv(baseline.CalibrationMethod), options.PrecisionCv(previous.CalibrationMethod)));
        var daysFromBaseline = date.DayNumber - baseline.StudyDate!.Value.DayNumber;
        var daysFromPrevious = date.DayNumber - previous.StudyDate!.Value.DayNumber;
        var transitions = new List<string>();
        var mismatch = new List<string>();
        var earlierExams = previous == baseline ? new[] { ("baseline", baseline) } : new[] { ("baseline", baseline), ("previous", previous) };
        foreach (var (label, earlier) in earlierExams)
        {
            if (earlier.Category is { } before && current.Category is { } after && before != after)
            {
                transitions.Add($"{label} {earlier.StudyDate:yyyy-MM-dd}: {before} → {after}");
            }

            mismatch.AddRange(Differences(earlier, current, options).Select(d => $"{label} {earlier.StudyDate:yyyy-MM-dd}: {d}"));
        }

        var reason = fromBaseline is null
            ? "no vBMD in this exam or its baseline: days and protocol compared only"
            : mismatch.Count > 0 ? "compared; the protocols differ, so the change is not like for like" : "compared";
        return new Comparison(
            baseline.StudyDate,
            previous.StudyDate,
            fromBaseline?.Mg,
            fromBaseline?.Percent,
            fromPrevious?.Mg,
            fromPrevious?.Percent,
            daysFromBaseline,
            daysFromPrevious,
            fromBaseline is { } b ? Math.Round(b.Percent * 365.25 / daysFromBaseline, 2) : null,
            fromBaseline?.Percent <= -options.DeclineThresholdPercent,
            fromPrevious?.Percent <= -options.DeclineThresholdPercent,
            fromBaseline is { } c && Math.Abs(c.Percent) > lsc,
            fromPrevious is { } p && Math.Abs(p.Percent) > lsc,
            Math.Round(lsc, 2),
            transitions,
            mismatch,
            sameDay,
            reason);
    }

    /// <summary>
    /// The exam that stands for a day with several: without contrast first, then the better calibration (phantom,
    /// file, reference tissues, none), one with a vBMD, thinner slices, then the latest analysed.
    /// </summary>
    public static ExamRecord Preferred(IEnumerable<ExamRecord> sameDay) => sameDay
        .OrderBy(e => e.ContrastDetected)
        .ThenBy(e => MethodRank(e.CalibrationMethod))
        .ThenBy(e => e.VbmdMgPerCm3 is null)
        .ThenBy(e => e.SliceThicknessMm ?? double.MaxValue)
        .ThenByDescending(e => e.AnalysedAt)
        .ThenBy(e => e.SeriesInstanceUid, StringComparer.Ordinal)
        .First();

    /// <summary>What differs between two exams' acquisition and processing, in words ("kVp 120 → 100").</summary>
    public static IReadOnlyList<string> Differences(ExamRecord earlier, ExamRecord later, ComparisonOptions options)
    {
        var differences = new List<string>();
        void Differ(string what, string? a, string? b)
        {
            if (!string.Equals(a ?? "unknown", b ?? "unknown", StringComparison.OrdinalIgnoreCase))
            {
                differences.Add($"{what} {a ?? "unknown"} → {b ?? "unknown"}");
            }
        }

        static string? Number(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture);
        if (earlier.Kvp is null != later.Kvp is null || (earlier.Kvp is { } k1 && later.Kvp is { } k2 && Math.Abs(k1 - k2) > options.KvpToleranceKv))
        {
            differences.Add($"kVp {Number(earlier.Kvp) ?? "unknown"} → {Number(later.Kvp) ?? "unknown"}");
        }

        Differ("contrast phase", earlier.ContrastPhase, later.ContrastPhase);
        Differ("calibration method", earlier.CalibrationMethod, later.CalibrationMethod);
        Differ("kernel", earlier.ConvolutionKernel, later.ConvolutionKernel);
        Differ("scanner", Scanner(earlier), Scanner(later));
        if (earlier.SliceThicknessMm is { } t1 && later.SliceThicknessMm is { } t2 && Math.Abs(t1 - t2) > options.SliceThicknessToleranceMm)
        {
            differences.Add($"slice thickness {Number(t1)} → {Number(t2)} mm");
        }

        Differ("model version", earlier.ModelVersion, later.ModelVersion);
        Differ("measured level", earlier.MeasuredLevel, later.MeasuredLevel);
        return differences;
    }

    private static string? Scanner(ExamRecord e) =>
        e.Manufacturer is null && e.ManufacturerModelName is null && e.DeviceSerialNumber is null
            ? null
            : string.Join(' ', new[] { e.Manufacturer, e.ManufacturerModelName, e.DeviceSerialNumber is { } serial ? $"#{serial}" : null }.OfType<string>());

    private static int MethodRank(string method) => method switch
    {
        "phantom" => 0,
        "async" => 1,
        "internal" => 2,
        _ => 3,
    };

    private static (double Mg, double Percent)? Change(ExamRecord earlier, ExamRecord later) =>
        earlier.VbmdMgPerCm3 is { } before && later.VbmdMgPerCm3 is { } after && before > 0
            ? (Math.Round(after - before, 2), Math.Round(100 * (after - before) / before, 2))
            : null;

    private static Comparison NotCompared(ExamRecord current, double lsc, string reason) =>
        new(null, null, null, null, null, null, null, null, null, false, false, false, false, Math.Round(lsc, 2), [], [], [], reason);
}
