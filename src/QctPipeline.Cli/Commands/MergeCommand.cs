using System.CommandLine;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct merge SOURCE... --db TARGET`: folds results stores (one per worker) into one. Rows are upserted on series,
/// software and model version, so merging twice adds nothing; pseudonyms are recomputed under the target's key. Rows
/// go in transactions of <see cref="BatchSize"/>: a merge killed half-way leaves whole batches, and a rerun finishes it.
/// </summary>
internal static class MergeCommand
{
    private const int BatchSize = 200;

    public static Command Create()
    {
        var sources = new Argument<string[]>("sources") { Description = "Results stores (SQLite files) to fold in.", Arity = ArgumentArity.OneOrMore };
        var store = new StoreArguments();
        var command = new Command("merge", "Fold other results stores into this one without duplicates.");
        command.Arguments.Add(sources);
        store.AddTo(command);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            using var target = ResultStore.Open(store.Path(parsed));
            foreach (var source in parsed.GetValue(sources)!)
            {
                if (string.Equals(Path.GetFullPath(source), target.Path, StringComparison.Ordinal))
                {
                    return ExitCodes.Fail($"{source}: is the target store itself", ExitCodes.Usage);
                }

                if (!File.Exists(source))
                {
                    return ExitCodes.Fail($"{source}: no such results store", ExitCodes.UnreadableInput);
                }

                using var from = ResultStore.Open(source);
                var rows = from.All()
                    .Select(exam => exam with { PatientPseudonym = exam.PatientId is { } id ? target.Pseudonym(id) : null })
                    .ToList();
                foreach (var batch in rows.Chunk(BatchSize))
                {
                    target.UpsertAll(batch);
                }

                Console.WriteLine($"{from.Path}: {rows.Count} row(s) merged into {target.Path}");
            }

            Console.WriteLine($"{target.Path}: {target.Count()} row(s)");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
