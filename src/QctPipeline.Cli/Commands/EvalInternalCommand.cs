using System.CommandLine;
using QctPipeline.Evaluation;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct eval-internal [--seed N] [--count N]`: internal calibration under beams it does not assume, scored (<see cref="InternalCalibrationEvaluation"/>).</summary>
internal static class EvalInternalCommand
{
    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "First seed of the drawn cases.", DefaultValueFactory = _ => 620000 };
        var count = new Option<int>("--count") { Description = "How many studies.", DefaultValueFactory = _ => 20 };
        var command = new Command("eval-internal", "Score internal calibration on phantoms made with a beam (filtration, water path) other than the one the tissue model assumes.");
        command.Options.Add(seed);
        command.Options.Add(count);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            Console.WriteLine(InternalCalibrationCase.Header);
            var cases = new List<InternalCalibrationCase>();
            foreach (var options in InternalCalibrationEvaluation.Cases(parsed.GetValue(seed), parsed.GetValue(count)))
            {
                var result = InternalCalibrationEvaluation.Evaluate(options);
                cases.Add(result);
                Console.WriteLine(result.Row());
            }

            foreach (var line in InternalCalibrationEvaluation.Summary(cases))
            {
                Console.WriteLine(line);
            }

            return cases.All(c => c.Right) ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        return command;
    }
}
