using System.Diagnostics;

namespace QctPipeline.Tests.Cli;

public sealed record QctResult(int ExitCode, string Output, string Error);

/// <summary>
/// Runs the real `qct` command line (built beside the tests) as a child process. Its default results store is one
/// temporary file per test run ($QCT_DB), never the user's own.
/// </summary>
public static class QctProcess
{
    public static readonly string TestRunStore = Path.Combine(Path.GetTempPath(), $"qct-tests-{Environment.ProcessId}.sqlite");

    public static QctResult Run(params string[] arguments) => Run(new Dictionary<string, string>(), arguments);

    /// <summary>With extra environment variables (credentials, say), never put on the command line.</summary>
    public static QctResult Run(IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Start(environment, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"qct {string.Join(' ', arguments)} did not finish");
        }

        return new QctResult(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Starts `qct` with its output redirected, for a test that stops it itself.</summary>
    public static Process Start(params string[] arguments) => Start(new Dictionary<string, string>(), arguments);

    private static Process Start(IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["QCT_DB"] = TestRunStore;
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qct.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
