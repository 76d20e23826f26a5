using System.CommandLine;
using QctPipeline.Cli;
using QctPipeline.Cli.Commands;

var root = new RootCommand("QctPipeline: volumetric bone mineral density of L1 from ordinary CT scans.");
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(PhantomCommand.Create());
root.Subcommands.Add(SegmentCommand.Create());
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(CalibrateCommand.Create());
root.Subcommands.Add(EvalModelCommand.Create());
root.Subcommands.Add(EvalPhantomCommand.Create());
root.Subcommands.Add(EvalInternalCommand.Create());
root.Subcommands.Add(EvalIntervalCommand.Create());
root.Subcommands.Add(EvalVbmdCommand.Create());
root.Subcommands.Add(EvalRealCommand.Create());
root.Subcommands.Add(HistoryCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(BatchCommand.Create());
root.Subcommands.Add(PullCommand.Create());
root.Subcommands.Add(ExportCommand.Create());

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        // One line per problem: System.CommandLine puts its "did you mean" suggestions on lines of their own.
        var message = string.Join(' ', error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Console.Error.WriteLine($"qct: {message}");
    }

    return ExitCodes.Usage;
}

return parsed.Invoke();
