namespace QctPipeline.Tests;

/// <summary>
/// The shared real-scanner test data (shared/realdata), found by walking up from the test binaries so the tests
/// run from any checkout or build output folder that sits below it.
/// </summary>
public static class RealData
{
    private static readonly Lazy<string> root = new(FindRoot);

    public static string Root => root.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = System.IO.Path.Combine(directory.FullName, "shared", "realdata");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No shared/realdata folder above {AppContext.BaseDirectory}.");
    }
}
