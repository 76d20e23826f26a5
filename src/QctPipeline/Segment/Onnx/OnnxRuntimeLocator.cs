namespace QctPipeline.Segment.Onnx;

/// <summary>
/// Finds ONNX Runtime's native library: the file named by <c>QCT_ONNXRUNTIME</c> when that is set, otherwise
/// <c>.tools/onnxruntime/1.30.0/libonnxruntime.so.1</c> in the nearest folder above the program that has one,
/// which is where <c>scripts/fetch-onnxruntime.sh</c> puts it in a checkout.
/// </summary>
internal static class OnnxRuntimeLocator
{
    public const string EnvironmentVariable = "QCT_ONNXRUNTIME";
    public const string FetchCommand = "scripts/fetch-onnxruntime.sh";
    public static readonly string RelativeLibraryPath = Path.Combine(".tools", "onnxruntime", "1.30.0", "libonnxruntime.so.1");

    public static string Locate(string? environmentValue, string startDirectory)
    {
        if (!string.IsNullOrEmpty(environmentValue))
        {
            // An explicit choice that is wrong is an error, never a reason to quietly load some other copy.
            return File.Exists(environmentValue)
                ? Path.GetFullPath(environmentValue)
                : throw new DllNotFoundException(
                    $"{EnvironmentVariable} is set to '{environmentValue}', which is not a file. Point it at libonnxruntime.so.1 " +
                    $"(ONNX Runtime 1.30 or later), or unset it to use {RelativeLibraryPath} as put in place by {FetchCommand}.");
        }

        var tried = new List<string>();
        for (var directory = new DirectoryInfo(startDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, RelativeLibraryPath);
            if (File.Exists(candidate))
            {
                return candidate;
            }

            tried.Add(candidate);
        }

        throw new DllNotFoundException(
            $"ONNX Runtime's native library was not found. Tried: {EnvironmentVariable} (not set), {string.Join(", ", tried)}. " +
            $"Run {FetchCommand} in the repository, or set {EnvironmentVariable} to the path of libonnxruntime.so.1.");
    }
}
