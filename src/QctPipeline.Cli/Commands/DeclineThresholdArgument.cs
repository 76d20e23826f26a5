using System.CommandLine;
using QctPipeline.Compare;

namespace QctPipeline.Cli.Commands;

/// <summary>The --decline-threshold option of every command that compares exams; its value is named in every flag and text.</summary>
internal sealed class DeclineThresholdArgument
{
    public Option<double> Threshold { get; } = new("--decline-threshold")
    {
        Description = "Percent decline from the baseline or the previous exam that sets the decline flags (declineFromBaseline, declineFromPrevious).",
        DefaultValueFactory = _ => new ComparisonOptions().DeclineThresholdPercent,
        Validators =
        {
            result =>
            {
                if (result.GetValueOrDefault<double>() is not (> 0 and < 100))
                {
                    result.AddError("--decline-threshold: expected a percent above 0 and below 100");
                }
            },
        },
    };

    public void AddTo(Command command) => command.Options.Add(Threshold);

    public ComparisonOptions Options(ParseResult parsed) => new() { DeclineThresholdPercent = parsed.GetValue(Threshold) };
}
