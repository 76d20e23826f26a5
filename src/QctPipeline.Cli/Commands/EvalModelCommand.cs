using System.CommandLine;
using System.Globalization;
using QctPipeline.Evaluation;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct eval-model --seeds A..B [--save-failures DIR]`: the L1 stage on phantom cases never used in training, scored (<see cref="PhantomLevelEvaluation"/>).</summary>
internal static class EvalModelCommand
{
    public static Command Create()
    {
        var seeds = new Option<string>("--seeds") { Description = "Seed range A..B (inclusive); use seeds never used in training.", Required = true };
        var saveFailures = new Option<DirectoryInfo?>("--save-failures") { Description = "Write each case not right (wrong, or abstained with L1 in the scan) as a phantom study under this folder, to open." };
        var model = new ModelArguments();
        var command = new Command("eval-model", "Score the L1 stage on generated phantom cases: L1 right, Dice, status, abstention when L1 is absent.");
        command.Options.Add(seeds);
        command.Options.Add(saveFailures);
        model.AddTo(command);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            if (ParseRange(parsed.GetValue(seeds)!) is not { } range)
            {
                return ExitCodes.Fail($"--seeds {parsed.GetValue(seeds)}: expected A..B with A ≤ B", ExitCodes.Usage);
            }

            using var segmentationModel = model.Load(parsed);
            Console.WriteLine($"model {segmentationModel.Manifest.Name} {segmentationModel.Manifest.Version}; seeds {range.First}..{range.Last}");
            Console.WriteLine(PhantomLevelCase.Header);
            var cases = new List<PhantomLevelCase>();
            for (var seed = range.First; seed <= range.Last; seed++)
            {
                var score = PhantomLevelEvaluation.Evaluate(seed, segmentationModel);
                cases.Add(score);
                Console.WriteLine(score.Row());
                if (parsed.GetValue(saveFailures) is { } folder && (score.Wrong || (score.L1InScan && !score.Right)))
                {
                    PhantomLevelEvaluation.Save(seed, Path.Combine(folder.FullName, seed.ToString(CultureInfo.InvariantCulture)));
                }
            }

            foreach (var line in PhantomLevelEvaluation.Summary(cases))
            {
                Console.WriteLine(line);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static (long First, long Last)? ParseRange(string text)
    {
        var parts = text.Split("..");
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            && first <= last
            ? (first, last)
            : null;
    }
}
