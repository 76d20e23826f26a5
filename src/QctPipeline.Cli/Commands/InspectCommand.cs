using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using QctPipeline.Ingest;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct inspect`: every series in the input, what became of it, and the one chosen for measurement.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("inspect", "List the series in a DICOM folder, which one would be measured and why.");
        arguments.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var options = arguments.Options(parsed);
            var (survey, code) = IngestArguments.Survey(parsed.GetValue(arguments.Input)!, options);
            var loaded = survey.Selection.Selected is { } selected ? DicomIngest.Load(selected, options) : null;
            var report = InspectReport.From(survey, loaded);
            Console.WriteLine(parsed.GetValue(json) ? JsonSerializer.Serialize(report, InspectReport.JsonOptions) : report.ToText());
            return code;
        }));
        return command;
    }
}

/// <summary>The inspect report, shaped for JSON (camelCase) and for people.</summary>
internal sealed record InspectReport(
    string Input,
    int FilesSeen,
    string? SelectedSeriesInstanceUid,
    string SelectionReason,
    IReadOnlyList<SeriesReport> Series,
    IReadOnlyList<FileProblem> Problems,
    IReadOnlyList<FileProblem> IgnoredFiles)
{
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static InspectReport From(IngestSurvey survey, LoadedSeries? loaded) => new(
        survey.Input,
        survey.FilesSeen,
        survey.Selection.Selected?.SeriesInstanceUid,
        survey.Selection.Reason,
        survey.Series.Select(s => SeriesReport.From(s, ReferenceEquals(s, survey.Selection.Selected) ? loaded : null)).ToArray(),
        survey.Problems,
        survey.Ignored);

    public string ToText()
    {
        var lines = new List<string> { $"{Input}: {FilesSeen} files, {Series.Count} series, {Problems.Count} unreadable, {IgnoredFiles.Count} not DICOM (ignored)" };
        foreach (var series in Series)
        {
            var mark = series.Selected ? "*" : series.SkipReason is null ? "+" : "-";
            lines.Add($"{mark} {series.SeriesInstanceUid}{(series.Part is null ? string.Empty : $" ({series.Part})")}");
            lines.Add($"    {series.Modality} '{series.Description}' [{string.Join('\\', series.ImageType)}] {series.SliceCount} x {series.Rows}x{series.Columns}, {string.Join(", ", series.TransferSyntaxes)}");
            if (series.Spacing is { } spacing)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"    spacing {spacing[0]:0.###} x {spacing[1]:0.###} x {spacing[2]:0.###} mm, gaps {series.MinGap:0.###}–{series.MaxGap:0.###} mm, tilt {series.TiltDegrees:0.##}°, origin ({string.Join(", ", series.Origin!.Select(v => v.ToString("0.##", CultureInfo.InvariantCulture)))})"));
            }

            if (series.HuMin is not null)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"    HU min {series.HuMin:0} max {series.HuMax:0} mean {series.HuMean:0.0}"));
            }

            if (series.SkipReason is not null)
            {
                lines.Add($"    skipped: {series.SkipReason}");
            }

            lines.AddRange(series.Warnings.Select(w => $"    warning: {w}"));
        }

        lines.Add(SelectedSeriesInstanceUid is null ? $"no series selected: {SelectionReason}" : $"selected {SelectedSeriesInstanceUid}: {SelectionReason}");
        return string.Join(Environment.NewLine, lines);
    }
}

internal sealed record SeriesReport(
    string SeriesInstanceUid,
    string? Part,
    string? Modality,
    string? Description,
    IReadOnlyList<string> ImageType,
    int SliceCount,
    int Rows,
    int Columns,
    double[]? Spacing,
    double[]? DirectionCosines,
    double[]? Origin,
    IReadOnlyList<string> TransferSyntaxes,
    double? TiltDegrees,
    double? MinGap,
    double? MaxGap,
    bool Selected,
    string? SkipReason,
    IReadOnlyList<string> Warnings,
    float? HuMin,
    float? HuMax,
    double? HuMean)
{
    public static SeriesReport From(SeriesCandidate series, LoadedSeries? loaded)
    {
        var stack = series.Geometry;
        return new SeriesReport(
            series.SeriesInstanceUid,
            series.Part,
            series.Metadata.Modality,
            series.Metadata.SeriesDescription,
            series.Metadata.ImageType,
            series.Frames.Count,
            series.Rows,
            series.Columns,
            stack is null ? null : [stack.ColumnSpacing, stack.RowSpacing, stack.SliceSpacing],
            stack is null ? null : [stack.RowDirection.X, stack.RowDirection.Y, stack.RowDirection.Z, stack.ColumnDirection.X, stack.ColumnDirection.Y, stack.ColumnDirection.Z],
            stack?.Origin.ToArray(),
            series.TransferSyntaxes,
            stack?.TiltDegrees,
            stack?.MinGap,
            stack?.MaxGap,
            loaded is not null,
            series.SkipReason,
            loaded?.Warnings ?? series.Warnings,
            loaded?.Summary.Min,
            loaded?.Summary.Max,
            loaded?.Summary.Mean);
    }
}
