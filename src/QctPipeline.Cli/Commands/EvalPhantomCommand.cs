using System.CommandLine;
using QctPipeline.Evaluation;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct eval-phantom [--seed N]`: the calibration-phantom finder and fit on generated studies, scored (<see cref="PhantomFinderEvaluation"/>).</summary>
internal static class EvalPhantomCommand
{
    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "First seed of the drawn cases (seeds 5103–5105 are always included).", DefaultValueFactory = _ => 610000 };
        var only = new Option<string?>("--only") { Description = "Run only these seeds of the set (comma-separated), e.g. to look again at a failure." };
        var command = new Command("eval-phantom", "Score the calibration-phantom finder on generated studies: placed at random, cut by the field of view, and absent.");
        command.Options.Add(seed);
        command.Options.Add(only);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            Console.WriteLine(PhantomFinderCase.Header);
            var cases = new List<PhantomFinderCase>();
            var chosen = parsed.GetValue(only)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            foreach (var (kind, options) in PhantomFinderEvaluation.Cases(parsed.GetValue(seed)))
            {
                if (chosen is not null && !chosen.Contains(options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                {
                    continue;
                }

                var score = PhantomFinderEvaluation.Evaluate(kind, options);
                cases.Add(score);
                Console.WriteLine(score.Row());
            }

            foreach (var line in PhantomFinderEvaluation.Summary(cases))
            {
                Console.WriteLine(line);
            }

            return cases.All(c => c.Right) ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        return command;
    }
}
