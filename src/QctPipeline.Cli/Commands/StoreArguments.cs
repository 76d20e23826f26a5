using System.CommandLine;
using QctPipeline.Store;

namespace QctPipeline.Cli.Commands;

/// <summary>The --db option of every command that reads or writes the results store.</summary>
internal sealed class StoreArguments
{
    public Option<string?> Database { get; } = new("--db")
    {
        Description = "The results store: an SQLite file, or postgres://user@host:port/database (password from $QCT_DB_PASSWORD or $QCT_DB_PASSWORD_FILE). Default: $QCT_DB, else $XDG_DATA_HOME/qctpipeline/results.sqlite, else ~/.local/share/qctpipeline/results.sqlite.",
    };

    public void AddTo(Command command) => command.Options.Add(Database);

    public string Path(ParseResult parsed) => parsed.GetValue(Database) ?? ResultStore.DefaultPath();
}
