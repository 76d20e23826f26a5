namespace QctPipeline.Ingest;

/// <summary>What a survey of an input found: every series with its fate, the unreadable files, the choice.</summary>
public sealed record IngestSurvey(string Input, int FilesSeen, IReadOnlyList<SeriesCandidate> Series, IReadOnlyList<FileProblem> Problems, IReadOnlyList<FileProblem> Ignored, SeriesSelection Selection);

/// <summary>The ingest stage's surface: survey an input (headers only), then load the chosen series.</summary>
public static class DicomIngest
{
    public static IngestSurvey Survey(string input, IngestOptions options)
    {
        var scan = FolderScanner.Scan(input, options.MaxParallelism);
        var series = SeriesAssembler.Assemble(scan.Frames, options);
        return new IngestSurvey(input, scan.FilesSeen, series, scan.Problems, scan.Ignored, SeriesSelector.Select(series, options));
    }

    public static LoadedSeries Load(SeriesCandidate series, IngestOptions options) => VolumeLoader.Load(series, options);
}
