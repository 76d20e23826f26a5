using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Compare;

/// <summary>
/// The Compare stage: one exam against the patient's earlier ones with a usable vBMD of the same vertebra. History is
/// taken in date order whatever order it arrived in, so a baseline analysed after its follow-up still becomes the
/// baseline, and the baseline is the first usable exam at that level, not the first exam. Several series of one day count
/// as one exam: the preferred one (<see cref="Preferred"/>) stands for the day, the others are listed as same-day
/// duplicates; the exam being compared always stands for its own day.
/// </summary>
public static class LongitudinalComparator
{
    /// <param name="history">The patient's stored exams, in any order; rows for <paramref name="current"/>'s own series are ignored.</param>
    public static Comparison Compare(ExamRecord current, IReadOnlyList<ExamRecord> history, ComparisonOptions options)
    {
        var lsc = options.LscFactor * options.PrecisionCv(current.CalibrationMethod);
        var nothing = new Comparison { DeclineThresholdPercent = options.DeclineThresholdPercent, LscPercent = Math.Round(lsc, 2), Reason = string.Empty };
        if (current.PatientId is null)
        {
            return nothing with { Reason = "no PatientID: stored, not compared" };
        }

        if (current.StudyDate is not { } date)
        {
            return nothing with { Reason = "no valid StudyDate (absent, or not a DICOM date): stored, not compared" };
        }

        var others = history
            .Where(e => e.PatientId == current.PatientId && e.StudyDate is not null && e.SeriesInstanceUid != current.SeriesInstanceUid)
            .ToList();
        var sameDay = others.Where(e => e.StudyDate == date).Select(e => e.SeriesInstanceUid).Order(StringComparer.Ordinal).ToList();
        nothing = nothing with { SameDayDuplicates = sameDay };
        if (Unusable(current) is { } why)
        {
            return nothing with { Reason = $"this exam has no usable vBMD ({why}): stored, not compared" };
        }

        // Like with like: only earlier exams with a usable vBMD of this exam's vertebra; the rest are named.
        var level = current.MeasuredLevel!;
        var earlier = others.Where(e => e.StudyDate < date).ToList();
        var comparable = earlier.Where(e => Unusable(e) is null && e.MeasuredLevel == level).ToList();
        var notCompared = earlier.Except(comparable)
            .OrderBy(e => e.StudyDate)
            .Select(e => $"{e.StudyDate:yyyy-MM-dd}: {Unusable(e) ?? $"measured at {e.MeasuredLevel}, this exam at {level}"}")
            .Distinct()
            .ToList();
        nothing = nothing with { Level = level, NotCompared = notCompared };
        var days = comparable.GroupBy(e => e.StudyDate!.Value).OrderBy(g => g.Key).ToList();
        if (days.Count == 0)
        {
            var first = earlier.Count == 0 ? "first exam of this patient" : $"first usable exam at {level}";
            return nothing with { BaselineDate = date, Reason = $"{first}: the baseline" };
        }

        var baseline = Preferred(days[0]);
        var previous = Preferred(days[^1]);
        var fromBaseline = Change(baseline, current);
        var fromPrevious = Change(previous, current);
        lsc = options.LscFactor * Math.Max(options.PrecisionCv(current.CalibrationMethod), Math.Max(options.PrecisionCv(baseline.CalibrationMethod), options.PrecisionCv(previous.CalibrationMethod)));
        var daysFromBaseline = date.DayNumber - baseline.StudyDate!.Value.DayNumber;
        var transitions = new List<string>();
        var mismatch = new List<string>();
        var earlierExams = previous == baseline ? new[] { ("baseline", baseline) } : new[] { ("baseline", baseline), ("previous", previous) };
        foreach (var (label, exam) in earlierExams)
        {
            if (exam.Category is { } before && current.Category is { } after && before != after)
            {
                transitions.Add($"{label} {exam.StudyDate:yyyy-MM-dd}: {before} → {after}");
            }

            mismatch.AddRange(Differences(exam, current, options).Select(d => $"{label} {exam.StudyDate:yyyy-MM-dd}: {d}"));
        }

        var (baselineInterval, previousInterval) = (ChangeInterval(baseline, current, options), ChangeInterval(previous, current, options));
        var reason = mismatch.Count > 0 ? "compared; the protocols differ, so the change is not like for like" : "compared";
        if (notCompared.Count > 0)
        {
            reason += $" at {level}; {notCompared.Count} earlier exam(s) left out";
        }

        return nothing with
        {
            BaselineDate = baseline.StudyDate,
            PreviousDate = previous.StudyDate,
            ChangeFromBaselineMgPerCm3 = Math.Round(fromBaseline.Mg, 2),
            PercentChangeFromBaseline = Math.Round(fromBaseline.Percent, 2),
            ChangeFromPreviousMgPerCm3 = Math.Round(fromPrevious.Mg, 2),
            PercentChangeFromPrevious = Math.Round(fromPrevious.Percent, 2),
            DaysFromBaseline = daysFromBaseline,
            DaysFromPrevious = date.DayNumber - previous.StudyDate!.Value.DayNumber,
            AnnualizedPercent = Math.Round(fromBaseline.Percent * 365.25 / daysFromBaseline, 2),

            // Flags on the unrounded change: a 4.996 % fall is not a 5 % decline.
            DeclineFromBaseline = fromBaseline.Percent <= -options.DeclineThresholdPercent,
            DeclineFromPrevious = fromPrevious.Percent <= -options.DeclineThresholdPercent,
            ExceedsLsc = Math.Abs(fromBaseline.Percent) > lsc,
            ChangeFromBaselineCi95 = baselineInterval,
            SignificantChange = ExcludesZero(baselineInterval),
            ChangeFromPreviousCi95 = previousInterval,
            SignificantChangeFromPrevious = ExcludesZero(previousInterval),
            ExceedsLscFromPrevious = Math.Abs(fromPrevious.Percent) > lsc,
            LscPercent = Math.Round(lsc, 2),
            CategoryTransitions = transitions,
            ProtocolMismatch = mismatch,
            Reason = reason,
        };
    }

    /// <summary>
    /// Why an exam's vBMD cannot enter a comparison (none measured, or its level fractured, lesioned or otherwise
    /// unusable); null when it can.
    /// </summary>
    public static string? Unusable(ExamRecord exam) =>
        exam.MeasuredLevel is null ? "no vertebra measured"
        : exam.VbmdMgPerCm3 is not > 0 ? $"no vBMD at {exam.MeasuredLevel}"
        : !exam.LevelUsable ? $"{exam.MeasuredLevel} not usable (fracture, lesion or too little trabecular bone)"
        : null;

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

    /// <summary>
    /// The 95 % interval of later − earlier, unrounded; null when either exam has none. Each exam's interval is read back
    /// as a normal SD (half-width / 1.96). Noise, ROI placement and definition are each scan's own and add. The
    /// calibration part adds too when each exam has its own (synchronous rods, or a changed protocol); when both were
    /// calibrated from the same reference on the same protocol (the patient's own tissues, or one calibration file),
    /// its error is one and the same in both and largely cancels: only the difference of the two parts remains.
    /// </summary>
    private static double[]? ChangeInterval(ExamRecord earlier, ExamRecord later, ComparisonOptions options)
    {
        if (earlier.VbmdCi95 is not var (earlierLow, earlierHigh) || later.VbmdCi95 is not var (laterLow, laterHigh)
            || earlier.VbmdMgPerCm3 is not { } before || later.VbmdMgPerCm3 is not { } after)
        {
            return null;
        }

        const double z95 = 1.96;
        var (earlierSd, laterSd) = ((earlierHigh - earlierLow) / (2 * z95), (laterHigh - laterLow) / (2 * z95));
        var (earlierCalibration, laterCalibration) = (earlier.VbmdCalibrationSd ?? 0, later.VbmdCalibrationSd ?? 0);
        var shared = earlier.CalibrationMethod == later.CalibrationMethod && earlier.CalibrationMethod is "internal" or "async"
            && Differences(earlier, later, options).Count == 0;
        var variance = shared
            ? Math.Max(0, (earlierSd * earlierSd) - (earlierCalibration * earlierCalibration)) + Math.Max(0, (laterSd * laterSd) - (laterCalibration * laterCalibration))
                + ((laterCalibration - earlierCalibration) * (laterCalibration - earlierCalibration))
            : (earlierSd * earlierSd) + (laterSd * laterSd);
        var half = z95 * Math.Sqrt(variance);
        return [after - before - half, after - before + half];
    }

    private static bool? ExcludesZero(double[]? interval) => interval is [var low, var high] ? low > 0 || high < 0 : null;

    private static (double Mg, double Percent) Change(ExamRecord earlier, ExamRecord later)
    {
        var (before, after) = (earlier.VbmdMgPerCm3!.Value, later.VbmdMgPerCm3!.Value);
        return (after - before, 100 * (after - before) / before);
    }
}
