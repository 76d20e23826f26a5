using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace QctPipeline.Tests;

/// <summary>Runs a program the tests check against (dcmdump, dsrdump, chromium, initdb…) and returns what it printed.</summary>
public static class ExternalProcess
{
    public static (int ExitCode, string Output, string Error) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
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
            throw new TimeoutException($"{program} did not finish");
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>Ports for the servers the tests start (Orthanc, PostgreSQL) on 127.0.0.1.</summary>
public static class FreePorts
{
    /// <summary>A port nothing listens on now (the system's choice for an ephemeral listener).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
