using System.CommandLine;
using QctPipeline.Ingest;

namespace QctPipeline.Cli.Commands;

/// <summary>The input argument and ingest options shared by every command that reads a DICOM folder.</summary>
internal sealed class IngestArguments
{
    public Argument<string> Input { get; } = new("input") { Description = "A folder (searched recursively) or a single DICOM file." };

    public Option<bool> AnyModality { get; } = new("--any-modality") { Description = "Accept non-CT image series (e.g. MR validation files)." };

    public Option<string?> Series { get; } = new("--series") { Description = "Use this SeriesInstanceUID instead of the automatic choice." };

    public Option<int> MinSlices { get; } = new("--min-slices") { Description = "Fewest slices a series needs to count as a volume.", DefaultValueFactory = _ => new IngestOptions().MinSlices };

    public void AddTo(Command command)
    {
        command.Arguments.Add(Input);
        command.Options.Add(AnyModality);
        command.Options.Add(Series);
        command.Options.Add(MinSlices);
    }

    public IngestOptions Options(ParseResult parsed) => new()
    {
        AnyModality = parsed.GetValue(AnyModality),
        SeriesInstanceUid = parsed.GetValue(Series),
        MinSlices = Math.Max(1, parsed.GetValue(MinSlices)),
    };

    /// <summary>
    /// Surveys the input and loads the chosen series, printing each file problem and skipped series as one line
    /// on standard error; returns the exit code to use when nothing could be chosen.
    /// </summary>
    public static (IngestSurvey Survey, int ExitCode) Survey(string input, IngestOptions options)
    {
        var survey = DicomIngest.Survey(input, options);
        foreach (var problem in survey.Problems)
        {
            Console.Error.WriteLine($"{problem.Path}: {problem.Reason}");
        }

        if (survey.Selection.Selected is not null)
        {
            return (survey, ExitCodes.Ok);
        }

        if (survey.Series.Count == 0)
        {
            foreach (var ignored in survey.Ignored)
            {
                Console.Error.WriteLine($"{ignored.Path}: {ignored.Reason}");
            }
        }

        foreach (var series in survey.Series)
        {
            Console.Error.WriteLine($"series {series.Label}: {series.SkipReason ?? "usable but not requested"}");
        }

        var code = survey.Series.Count == 0 ? ExitCodes.UnreadableInput : ExitCodes.NoUsableSeries;
        Console.Error.WriteLine($"qct: {input}: {survey.Selection.Reason}");
        return (survey, code);
    }
}
