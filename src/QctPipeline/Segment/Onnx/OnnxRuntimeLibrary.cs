using System.Runtime.InteropServices;

namespace QctPipeline.Segment.Onnx;

/// <summary>
/// The ONNX Runtime native library, loaded once per process on first use: the library, its C API function table,
/// one <c>OrtEnv</c> and a CPU memory description. The environment and memory description live as long as the
/// process, because ONNX Runtime expects a single environment that outlives every session.
/// </summary>
public static class OnnxRuntimeLibrary
{
    private static readonly Lazy<LoadedRuntime> runtime = new(Load);

    /// <summary>The full path of the library that was loaded.</summary>
    public static string LibraryPath => runtime.Value.LibraryPath;

    /// <summary>The version the library reports, e.g. "1.30.0".</summary>
    public static string Version => runtime.Value.Version;

    internal static LoadedRuntime Runtime => runtime.Value;

    private static unsafe LoadedRuntime Load()
    {
        var path = OnnxRuntimeLocator.Locate(
            Environment.GetEnvironmentVariable(OnnxRuntimeLocator.EnvironmentVariable), AppContext.BaseDirectory);
        nint library;
        try
        {
            library = NativeLibrary.Load(path);
        }
        catch (DllNotFoundException exception)
        {
            throw new DllNotFoundException($"ONNX Runtime at {path} could not be loaded: {exception.Message}", exception);
        }

        if (!NativeLibrary.TryGetExport(library, "OrtGetApiBase", out var getApiBaseExport))
        {
            throw new DllNotFoundException($"{path} is not ONNX Runtime: it does not export OrtGetApiBase.");
        }

        // OrtApiBase is { GetApi, GetVersionString }, two function pointers.
        var apiBase = ((delegate* unmanaged<nint*>)getApiBaseExport)();
        var getApi = (delegate* unmanaged<uint, nint*>)apiBase[0];
        var getVersionString = (delegate* unmanaged<byte*>)apiBase[1];
        var version = Marshal.PtrToStringUTF8((nint)getVersionString()) ?? "unknown";

        var table = getApi(OrtApi.Version);
        if (table is null)
        {
            throw new DllNotFoundException(
                $"ONNX Runtime at {path} is version {version}, which does not offer C API version {OrtApi.Version} (ONNX Runtime 1.30 or later is needed).");
        }

        var api = new OrtApi(table);
        return new LoadedRuntime(api, path, version, CreateEnvironment(api), CreateCpuMemoryInfo(api), DefaultAllocator(api));
    }

    private static unsafe nint CreateEnvironment(OrtApi api)
    {
        // Fatal only: every error reaches the caller as an OrtStatus, and ORT's own log lines would repeat it on
        // standard error, where the command line prints exactly one line per problem.
        const int fatalLoggingLevel = 4;
        nint environment;
        fixed (byte* logId = "qct\0"u8)
        {
            api.Check(api.CreateEnv(fatalLoggingLevel, logId, &environment), "CreateEnv");
        }

        return environment;
    }

    private static unsafe nint CreateCpuMemoryInfo(OrtApi api)
    {
        const int deviceAllocator = 0;
        const int defaultMemoryType = 0;
        nint memoryInfo;
        api.Check(api.CreateCpuMemoryInfo(deviceAllocator, defaultMemoryType, &memoryInfo), "CreateCpuMemoryInfo");
        return memoryInfo;
    }

    private static unsafe nint DefaultAllocator(OrtApi api)
    {
        // Owned by ONNX Runtime and never freed.
        nint allocator;
        api.Check(api.GetAllocatorWithDefaultOptions(&allocator), "GetAllocatorWithDefaultOptions");
        return allocator;
    }

    internal sealed record LoadedRuntime(
        OrtApi Api, string LibraryPath, string Version, nint Environment, nint CpuMemoryInfo, nint DefaultAllocator);
}
