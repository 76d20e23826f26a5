
namespace QctPipeline.Tests.Store;

/// <summary>
/// A real PostgreSQL (Debian `postgresql`) in a temporary data directory on a free 127.0.0.1 port, with a user and a
/// password (scram-sha-256), started for a test class and stopped afterwards. Run as the `postgres` system user when
/// the tests run as root (the server refuses root).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    public const string User = "qct";
    public const string Password = "pg pass phrase";
    private static readonly string Bin = Directory.GetDirectories("/usr/lib/postgresql").Order(StringComparer.Ordinal).Last() + "/bin";
    private readonly string root;

    public PostgresServer()
    {
        root = Path.Combine(Path.GetTempPath(), "qct-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "pw"), Password + "\n");
        Run("chown", "-R", "postgres", root);
        var port = FreePorts.Next();
        AsServerUser($"{Bin}/initdb", "-D", Path.Combine(root, "data"), "-U", User, "--auth=scram-sha-256", $"--pwfile={Path.Combine(root, "pw")}");
        AsServerUser($"{Bin}/pg_ctl", "-D", Path.Combine(root, "data"), "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1", "-w", "-l", Path.Combine(root, "log"), "start");
        Url = $"postgres://{User}@127.0.0.1:{port}/postgres";
    }

    /// <summary>The --db URL (no password in it).</summary>
    public string Url { get; }

    public static IReadOnlyDictionary<string, string> Credentials => new Dictionary<string, string> { ["QCT_DB_PASSWORD"] = Password };

    public void Dispose()
    {
        try
        {
            AsServerUser($"{Bin}/pg_ctl", "-D", Path.Combine(root, "data"), "-m", "immediate", "stop");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static void AsServerUser(string program, params string[] arguments)
    {
        if (Environment.UserName == "root")
        {
            Run("runuser", ["-u", "postgres", "--", program, .. arguments]);
        }
        else
        {
            Run(program, arguments);
        }
    }

    private static void Run(string program, params string[] arguments)
    {
        var (code, output, error) = ExternalProcess.Run(program, arguments);
        if (code != 0)
        {
            throw new InvalidOperationException($"{program} failed ({code}): {output} {error}");
        }
    }
}
