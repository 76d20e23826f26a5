namespace QctPipeline.Tests;

/// <summary>Files committed in this repository (sample-dicom, models), found by walking up from the test binaries.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string> root = new(FindRoot);

    public static string Path(params string[] parts) => System.IO.Path.Combine([root.Value, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "QctPipeline.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No QctPipeline.sln above {AppContext.BaseDirectory}.");
    }
}
