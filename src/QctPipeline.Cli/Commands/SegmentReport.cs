using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>What `qct analyze` wrote besides its JSON: the density map, the store row and the comparison it made, and their warnings.</summary>
internal sealed record AnalyzeOutputs(string? DensityMap, string? Store, Comparison? Comparison, IReadOnlyList<string> Warnings);

/// <summary>
/// The JSON `qct analyze` prints. Field names are a contract (issue 4): later stages add fields, never rename.
/// Every field is always present, null when unknown.
/// </summary>
internal sealed record AnalyzeReport(
    string Status,
    string? Reason,
    string? PatientId,
    string? StudyDate,
    string? StudyInstanceUid,
    string? SeriesInstanceUid,
    L1Report L1,
    IReadOnlyList<LevelReport> Levels,
    IReadOnlyList<CountReport> Counts,
    CalibrationReport? Calibration,
    ContrastReport? Contrast,
    double? Kvp,
    string? DensityMap,
    string? Store,
    Comparison? Comparison,
    IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, double> TimingsMs)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,

        // Reasons and warnings are read by people: keep "≥", "×" and quotes as they are (the output is UTF-8, never HTML).
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static AnalyzeReport From(LoadedSeries loaded, AnalysisResult analysis, AnalyzeOutputs outputs, IReadOnlyDictionary<string, double> timings)
    {
        var metadata = loaded.Series.Metadata;
        var (result, calibration, measurement) = (analysis.Segmentation, analysis.Calibration, analysis.Measurement);
        return new AnalyzeReport(
            StatusName(analysis.Status),
            analysis.Reason,
            metadata.PatientId,
            metadata.StudyDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            metadata.StudyInstanceUid,
            metadata.SeriesInstanceUid,
            L1Report.From(result, measurement),
            [.. result.Levels.Select(level => new LevelReport(level.Name, Rounded(level.CentroidLps)))],
            [.. result.Counts.Select(CountReport.From)],
            CalibrationReport.From(calibration.Calibration),
            ContrastReport.From(calibration.Contrast),
            metadata.Kvp,
            outputs.DensityMap,
            outputs.Store,
            outputs.Comparison,
            [.. loaded.Warnings, .. result.Warnings, .. calibration.Calibration.Warnings, .. measurement?.Warnings ?? [], .. outputs.Warnings],
            timings);
    }

    public static AnalyzeReport Error(string reason, SeriesMetadata? metadata, IReadOnlyDictionary<string, double> timings) => new(
        "error",
        reason,
        metadata?.PatientId,
        metadata?.StudyDate?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        metadata?.StudyInstanceUid,
        metadata?.SeriesInstanceUid,
        L1Report.NotFound,
        [],
        [],
        null,
        null,
        metadata?.Kvp,
        null,
        null,
        null,
        [],
        timings);

    public static string StatusName(SegmentationStatus status) => status switch
    {
        SegmentationStatus.Ok => "ok",
        SegmentationStatus.Review => "review",
        _ => "no-l1",
    };

    public static double[] Rounded(Vector3 point) => [Math.Round(point.X, 2), Math.Round(point.Y, 2), Math.Round(point.Z, 2)];
}

/// <summary>
/// L1 as found and as measured. <see cref="MeasuredLevel"/> says which vertebra the trabecular figures come from: L1,
/// or its neighbour when L1 was unusable (fracture, lesion). <see cref="Category"/> is null without a calibration.
/// </summary>
internal sealed record L1Report(
    bool Found,
    double[]? CentroidLps,
    double? VolumeMl,
    double? Confidence,
    MeasuredLevelReport? MeasuredLevel,
    TrabecularReport? Trabecular,
    VbmdReport? Vbmd,
    string? Category,
    bool CategoryContrastAffected,
    HuFlagsReport? HuFlags,
    string? CategoryBasis,
    string? CategoryUncertain,
    [property: JsonPropertyName("l1l2")] TwoLevelReport? L1L2)
{
    public static readonly L1Report NotFound = new(false, null, null, null, null, null, null, null, false, null, null, null, null);

    public static L1Report From(SegmentationResult result, Measurement? measurement)
    {
        var found = L1FoundReport.From(result);
        return new(
            found.Found,
            found.CentroidLps,
            found.VolumeMl,
            found.Confidence,
            MeasuredLevelReport.From(measurement, AboveL1Name(result)),
            TrabecularReport.From(measurement),
            VbmdReport.From(measurement),
            MeasuredLevelReport.CategoryName(measurement?.Category),
            measurement?.ContrastAffected == true && measurement.Category is not null,
            HuFlagsReport.From(measurement, AboveL1Name(result)),
            measurement is { Category: not null, Choice.Level: { } level } ? $"{MeasuredLevelReport.LevelName(level, AboveL1Name(result))} alone (the ACR two-level figure is l1l2)" : null,
            measurement?.CategoryUncertain,
            TwoLevelReport.From(measurement));
    }

    /// <summary>
    /// The name the localizer gave the nearest level above L1 (the last rib-bearing vertebra), among the classes above
    /// its L1 class: the localizer's own L1 centroid can lie a few mm above the refined one and is not that vertebra.
    /// </summary>
    internal static string? AboveL1Name(SegmentationResult result)
    {
        if (result.L1CentroidLps is not { } l1)
        {
            return null;
        }

        var l1Class = result.Levels.FirstOrDefault(level => level.Name == "L1")?.ClassIndex ?? int.MaxValue;
        return result.Levels
            .Where(level => level.ClassIndex < l1Class && level.Name != "L1" && level.CentroidLps.Z > l1.Z)
            .MinBy(level => level.CentroidLps.Z - l1.Z)?.Name;
    }
}

internal sealed record LevelReport(string Name, double[] CentroidLps);

/// <summary>L1 as the segment stage found it (`qct segment --json`; analyze adds the measurement).</summary>
internal sealed record L1FoundReport(bool Found, double[]? CentroidLps, double? VolumeMl, double? Confidence)
{
    public static L1FoundReport From(SegmentationResult result) => new(
        result.Status == SegmentationStatus.Ok,
        result.L1CentroidLps is { } centroid ? AnalyzeReport.Rounded(centroid) : null,
        result.L1VolumeMl is { } volume ? Math.Round(volume, 2) : null,
        Math.Round(result.Confidence, 3));
}

/// <summary>`qct segment --json`: the analyze fields of the stage plus its evidence (levels, counts, neighbours, steps).</summary>
internal sealed record SegmentReport(
    string Status,
    string? Reason,
    string SeriesInstanceUid,
    L1FoundReport L1,
    IReadOnlyList<LevelDetail> Levels,
    IReadOnlyList<CountReport> Counts,
    NeighbourReport? AboveL1,
    NeighbourReport? L2,
    string Model,
    IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, double> TimingsMs)
{
    public static SegmentReport From(LoadedSeries loaded, SegmentationResult result, ModelManifest manifest) => new(
        AnalyzeReport.StatusName(result.Status),
        result.Reason,
        loaded.Series.Metadata.SeriesInstanceUid,
        L1FoundReport.From(result),
        [.. result.Levels.Select(LevelDetail.From)],
        [.. result.Counts.Select(CountReport.From)],
        NeighbourReport.From(result.AboveL1Mask),
        NeighbourReport.From(result.L2Mask),
        $"{manifest.Name} {manifest.Version} ({manifest.ManifestPath})",
        [.. loaded.Warnings, .. result.Warnings],
        Timings(result));

    public static IReadOnlyDictionary<string, double> Timings(SegmentationResult result)
    {
        var timings = result.Timings.ToDictionary(t => t.Step, t => Math.Round(t.Milliseconds, 1));
        timings["total"] = Math.Round(result.TotalMilliseconds, 1);
        return timings;
    }

    public string ToText()
    {
        var lines = new List<string> { $"series {SeriesInstanceUid}: {Status}{(Reason is null ? string.Empty : $" — {Reason}")}" };
        if (L1.Found)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  L1 body: centroid LPS ({string.Join(", ", L1.CentroidLps!)}) mm, {L1.VolumeMl:0.0} ml, confidence {L1.Confidence:0.00}"));
        }

        lines.AddRange(Levels.Select(level => string.Create(CultureInfo.InvariantCulture,
            $"  level {level.Name,-4} centroid ({string.Join(", ", level.CentroidLps)}), {level.VoxelCount} voxels, p {level.MeanProbability:0.00}{(level.CutByEdge ? ", cut by the scan's edge" : string.Empty)}")));
        lines.AddRange(Counts.Select(count => $"  count {count.Method}: {count.Outcome} — {count.Detail}"));
        lines.AddRange(Warnings.Select(warning => $"  warning: {warning}"));
        lines.Add($"  model {Model}");
        lines.Add("  time " + string.Join(", ", TimingsMs.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value:0} ms"))));
        return string.Join(Environment.NewLine, lines);
    }
}

internal sealed record LevelDetail(string Name, double[] CentroidLps, long VoxelCount, double MeanProbability, bool CutByEdge)
{
    public static LevelDetail From(LevelFound level) =>
        new(level.Name, AnalyzeReport.Rounded(level.CentroidLps), level.VoxelCount, Math.Round(level.MeanProbability, 3), level.CutByEdge);
}

/// <summary>One count of the levels: how it counted, how it compares with the decision, what it found, where it puts L1 and the evidence it rests on.</summary>
internal sealed record CountReport(string Method, string Outcome, string Detail, double[]? L1CentroidLps, IReadOnlyList<EvidenceReport> Evidence)
{
    public static CountReport From(LevelCount count) => new(
        count.Method,
        JsonNamingPolicy.KebabCaseLower.ConvertName(count.Outcome.ToString()),
        count.Detail,
        count.L1CentroidLps is { } centroid ? AnalyzeReport.Rounded(centroid) : null,
        [.. count.Evidence.Select(mark => new EvidenceReport(JsonNamingPolicy.KebabCaseLower.ConvertName(mark.Kind.ToString()), mark.Text, AnalyzeReport.Rounded(mark.FromLps)))]);
}

/// <summary>A piece of a count's evidence: a rib head, a label, the sacrum, the scan's top; where it lies.</summary>
internal sealed record EvidenceReport(string Kind, string Text, double[] PointLps);

internal sealed record NeighbourReport(double[] CentroidLps, double VolumeMl)
{
    public static NeighbourReport? From(Mask? mask) =>
        mask?.Centroid() is { } centroid ? new NeighbourReport(AnalyzeReport.Rounded(centroid), Math.Round(mask.VolumeMm3 / 1000, 2)) : null;
}
