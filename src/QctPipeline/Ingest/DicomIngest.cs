namespace QctPipeline.Ingest;

/// <summary>What a survey of an input found: every series with its fate, the unreadable files, the choice.</summary>
public sealed record IngestSurvey(string Input, int FilesSeen, IReadOnlyList<SeriesCandidate> Series, IReadOnlyList<FileProblem> Problems, IReadOnlyList<FileProblem> Ignored, SeriesSelection Selection);

/// <summary>One study found by a survey: its series and the one chosen to measure (or why none).</summary>
public sealed record StudyCandidate(string Key, string? StudyInstanceUid, IReadOnlyList<SeriesCandidate> Series, SeriesSelection Selection);

/// <summary>The ingest stage's surface: survey an input (headers only), then load the chosen series.</summary>
public static class DicomIngest
{
    public static IngestSurvey Survey(string input, IngestOptions options)
    {
        var scan = FolderScanner.Scan(input, options.MaxParallelism);
        var series = SeriesAssembler.Assemble(scan.Frames, options);
        return new IngestSurvey(input, scan.FilesSeen, series, scan.Problems, scan.Ignored, SeriesSelector.Select(series, options));
    }

    public static LoadedSeries Load(SeriesCandidate series, IngestOptions options, CancellationToken cancellation = default) => VolumeLoader.Load(series, options, cancellation);

    /// <summary>
    /// The survey's series grouped into studies (by StudyInstanceUID; a series without one is a study of its own), each
    /// with the series chosen to measure, ordered by key so every run takes them in the same order.
    /// </summary>
    public static IReadOnlyList<StudyCandidate> Studies(IngestSurvey survey, IngestOptions options) => [.. survey.Series
        .GroupBy(series => series.Metadata.StudyInstanceUid is { Length: > 0 } study ? study : "series:" + series.SeriesInstanceUid)
        .Select(group => new StudyCandidate(group.Key, group.First().Metadata.StudyInstanceUid, [.. group], SeriesSelector.Select([.. group], options)))
        .OrderBy(study => study.Key, StringComparer.Ordinal)];
}
