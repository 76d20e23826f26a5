using System.Diagnostics;

namespace QctPipeline.Tests.Cli;

public sealed record QctResult(int ExitCode, string Output, string Error);

/// <summary>Runs the real `qct` command line (built beside the tests) as a child process.</summary>
public static class QctProcess
{
    public static QctResult Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qct.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"qct {string.Join(' ', arguments)} did not finish");
        }

        return new QctResult(process.ExitCode, output.Result, error.Result);
    }
}
