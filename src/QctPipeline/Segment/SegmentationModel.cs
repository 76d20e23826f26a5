using System.Security.Cryptography;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Segment;

/// <summary>
/// The two ONNX stages a manifest names, checked against its sha256 values and loaded into ONNX Runtime. Nothing in
/// the pipeline knows which model this is beyond what the manifest states.
/// </summary>
public sealed class SegmentationModel : IDisposable
{
    public const string DefaultManifestRelativePath = "models/qct-l1-model.json";

    private SegmentationModel(ModelManifest manifest, OnnxSession localizer, OnnxSession? refiner)
    {
        Manifest = manifest;
        Localizer = localizer;
        Refiner = refiner;
    }

    public ModelManifest Manifest { get; }

    public OnnxSession Localizer { get; }

    public OnnxSession? Refiner { get; }

    /// <summary>Reads the manifest, verifies each ONNX file's sha256 and opens the sessions.</summary>
    /// <exception cref="ModelManifestException">The manifest or a file it names is missing, wrong or altered.</exception>
    public static SegmentationModel Load(string manifestPath, OnnxSessionOptions? sessionOptions = null)
    {
        var manifest = ModelManifest.Read(manifestPath);
        VerifyFile(manifest.ManifestPath, "localizer", manifest.Localizer.OnnxPath, manifest.Localizer.Sha256);
        if (manifest.Refiner is { } refinerSpec)
        {
            VerifyFile(manifest.ManifestPath, "refiner", refinerSpec.OnnxPath, refinerSpec.Sha256);
        }

        var localizer = new OnnxSession(manifest.Localizer.OnnxPath, sessionOptions);
        try
        {
            var refiner = manifest.Refiner is { } spec ? new OnnxSession(spec.OnnxPath, sessionOptions) : null;
            return new SegmentationModel(manifest, localizer, refiner);
        }
        catch
        {
            localizer.Dispose();
            throw;
        }
    }

    /// <summary>The shipped manifest: <c>models/qct-l1-model.json</c> in the nearest folder above <paramref name="startDirectory"/>.</summary>
    /// <exception cref="ModelManifestException">No folder above has one.</exception>
    public static string FindDefaultManifest(string startDirectory)
    {
        for (var directory = new DirectoryInfo(startDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, DefaultManifestRelativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new ModelManifestException(
            $"no {DefaultManifestRelativePath} in {startDirectory} or any folder above it; pass --model PATH to a model manifest");
    }

    public void Dispose()
    {
        Localizer.Dispose();
        Refiner?.Dispose();
    }

    private static void VerifyFile(string manifestPath, string stage, string onnxPath, string expectedSha256)
    {
        if (!File.Exists(onnxPath))
        {
            throw new ModelManifestException($"{manifestPath}: the {stage} file {onnxPath} does not exist");
        }

        using var stream = File.OpenRead(onnxPath);
        var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelManifestException(
                $"{manifestPath}: the {stage} file {Path.GetFileName(onnxPath)} has sha256 {actual}, the manifest says {expectedSha256}");
        }
    }
}
