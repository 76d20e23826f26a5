using System.Globalization;
using System.Text.Json;

namespace QctPipeline.Segment;

/// <summary>A model manifest that cannot be used; the message is one line naming the file and the problem.</summary>
public sealed class ModelManifestException(string message) : Exception(message);

/// <summary>How HU become network input: <c>x = clamp(HU, low, high) × scale + offset</c>; padding is <see cref="PadValue"/>.</summary>
public sealed record IntensityNormalisation(double ClipLowHu, double ClipHighHu, double Scale, double Offset, double PadHu, float PadValue)
{
    public float Apply(float hu) => (float)((Math.Clamp(hu, ClipLowHu, ClipHighHu) * Scale) + Offset);
}

/// <summary>One output class of a stage: its channel index, name and the generator label codes it stands for.</summary>
public sealed record StageLabel(int Index, string Name, IReadOnlyList<int> Codes);

/// <summary>Stage 1: vertebral levels over the whole scan, plus sigmoid channels for vertebral bodies and ribs.</summary>
public sealed record LocalizerSpec(
    string OnnxPath,
    string Sha256,
    double SpacingMm,
    string InputName,
    string OutputName,
    int SizeMultiple,
    IReadOnlyList<StageLabel> Labels,
    int L1Class,
    int BodyChannel,
    int? RibChannel,
    bool RibChannelTrained,
    IntensityNormalisation Normalisation)
{
    /// <summary>Softmax channels come first: one per label.</summary>
    public int ClassCount => Labels.Count;

    public int ChannelCount => Math.Max(ClassCount, Math.Max(BodyChannel, RibChannel ?? 0) + 1);

    public int? ClassNamed(string name) => Labels.FirstOrDefault(label => label.Name == name)?.Index;
}

/// <summary>Stage 2: vertebral bodies in a fixed-size crop around L1 (above-L1, L1, L2, other).</summary>
public sealed record RefinerSpec(
    string OnnxPath,
    string Sha256,
    double SpacingMm,
    string InputName,
    string OutputName,
    int SizeMultiple,
    int CropX,
    int CropY,
    int CropZ,
    IReadOnlyList<StageLabel> Labels,
    int L1Class,
    int? AboveL1Class,
    int? L2Class,
    IntensityNormalisation Normalisation)
{
    public int ClassCount => Labels.Count;
}

/// <summary>
/// What <c>models/qct-l1-model.json</c> (or a site's own manifest, schema in models/README.md) states about the
/// two ONNX files: grids, intensity normalisation, channel layout and labels. Paths are resolved against the
/// manifest's folder. A manifest without a refiner is usable: the localizer then supplies the mask.
/// </summary>
/// <param name="HeldOutLevelAccuracy">The localizer's correct-level rate on held-out cases as the manifest reports it, if it does.</param>
public sealed record ModelManifest(string ManifestPath, string Name, string Version, LocalizerSpec Localizer, RefinerSpec? Refiner, double? HeldOutLevelAccuracy)
{
    public const int SupportedVersion = 1;

    public static ModelManifest Read(string manifestPath)
    {
        var fullPath = Path.GetFullPath(manifestPath);
        if (!File.Exists(fullPath))
        {
            throw new ModelManifestException($"{fullPath}: model manifest not found");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(fullPath));
            return Parse(document.RootElement, fullPath);
        }
        catch (JsonException ex)
        {
            throw new ModelManifestException($"{fullPath}: not valid JSON ({ex.Message.Split('\n')[0].TrimEnd('.')})");
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new ModelManifestException($"{fullPath}: wrong schema: {ex.Message}");
        }
    }

    private static ModelManifest Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelManifestException($"{path}: wrong schema: the manifest must be a JSON object");
        }

        var version = Required(root, "manifestVersion").GetInt32();
        if (version != SupportedVersion)
        {
            throw new ModelManifestException($"{path}: manifestVersion {version} is not supported (this program reads {SupportedVersion})");
        }

        var folder = Path.GetDirectoryName(path)!;
        var stages = Required(root, "stages");
        if (!stages.TryGetProperty("localizer", out var localizer))
        {
            throw new ModelManifestException($"{path}: wrong schema: stages.localizer is missing (a localizer is required)");
        }

        var axes = root.TryGetProperty("orientation", out var orientation) && orientation.TryGetProperty("axes", out var a) ? a : default;
        var canonical = axes.ValueKind != JsonValueKind.Object
            || (Text(axes, "x").Contains("Left", StringComparison.OrdinalIgnoreCase)
                && Text(axes, "y").Contains("Posterior", StringComparison.OrdinalIgnoreCase)
                && Text(axes, "z").Contains("Superior", StringComparison.OrdinalIgnoreCase));
        if (!canonical)
        {
            throw new ModelManifestException($"{path}: orientation axes must be x Left, y Posterior, z Superior (the canonical LPS-aligned grid)");
        }

        return new ModelManifest(
            path,
            root.TryGetProperty("name", out var name) ? name.GetString() ?? "unnamed" : "unnamed",
            root.TryGetProperty("version", out var v) ? v.GetString() ?? "?" : "?",
            ParseLocalizer(localizer, folder, root),
            stages.TryGetProperty("refiner", out var refiner) ? ParseRefiner(refiner, folder, root) : null,
            localizer.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Object
                && metrics.TryGetProperty("correct_level_rate", out var rate) && rate.ValueKind == JsonValueKind.Number
                ? rate.GetDouble()
                : null);
    }

    private static LocalizerSpec ParseLocalizer(JsonElement stage, string folder, JsonElement root)
    {
        var labels = Labels(stage, "localizer");
        var sigmoid = Required(Required(stage, "output"), "sigmoidChannels");
        int? SigmoidChannel(string name) => sigmoid.EnumerateObject()
            .Where(channel => channel.Value.GetString() == name)
            .Select(channel => (int?)int.Parse(channel.Name, CultureInfo.InvariantCulture))
            .FirstOrDefault();
        var body = SigmoidChannel("vertebral_body")
            ?? throw new InvalidOperationException("localizer.output.sigmoidChannels has no 'vertebral_body' channel");
        var input = Required(stage, "input");
        return new LocalizerSpec(
            OnnxFile(stage, folder, "localizer"),
            Required(stage, "sha256").GetString()!,
            IsotropicSpacing(stage, "localizer"),
            Required(input, "name").GetString()!,
            Required(Required(stage, "output"), "name").GetString()!,
            Required(input, "sizeMultiple").GetInt32(),
            labels,
            ClassIndex(stage, labels, "localizer"),
            body,
            SigmoidChannel("rib"),
            stage.TryGetProperty("ribChannelTrained", out var trained) && trained.GetBoolean(),
            Normalisation(stage, root));
    }

    private static RefinerSpec ParseRefiner(JsonElement stage, string folder, JsonElement root)
    {
        var labels = Labels(stage, "refiner");
        var crop = Required(stage, "cropVoxels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        if (crop.Length != 3 || crop.Any(size => size < 1))
        {
            throw new InvalidOperationException("refiner.cropVoxels must be three positive sizes (z, y, x)");
        }

        var input = Required(stage, "input");
        int? Named(Func<string, bool> match) => labels.FirstOrDefault(label => match(label.Name))?.Index;
        return new RefinerSpec(
            OnnxFile(stage, folder, "refiner"),
            Required(stage, "sha256").GetString()!,
            IsotropicSpacing(stage, "refiner"),
            Required(input, "name").GetString()!,
            Required(Required(stage, "output"), "name").GetString()!,
            Required(input, "sizeMultiple").GetInt32(),
            crop[2],
            crop[1],
            crop[0],
            labels,
            ClassIndex(stage, labels, "refiner"),
            Named(name => name.StartsWith("above-L1", StringComparison.OrdinalIgnoreCase)),
            Named(name => name.StartsWith("L2", StringComparison.OrdinalIgnoreCase)),
            Normalisation(stage, root));
    }

    private static string OnnxFile(JsonElement stage, string folder, string stageName)
    {
        var file = Required(stage, "file").GetString() ?? throw new InvalidOperationException($"{stageName}.file is null");
        return Path.GetFullPath(Path.Combine(folder, file));
    }

    private static IReadOnlyList<StageLabel> Labels(JsonElement stage, string stageName)
    {
        var labels = Required(stage, "labels").EnumerateArray()
            .Select(label => new StageLabel(
                Required(label, "index").GetInt32(),
                Required(label, "name").GetString()!,
                label.TryGetProperty("codes", out var codes) ? [.. codes.EnumerateArray().Select(c => c.GetInt32())] : []))
            .ToArray();
        if (labels.Length < 2 || labels.Select((label, position) => label.Index != position).Any(wrong => wrong))
        {
            throw new InvalidOperationException($"{stageName}.labels must list the softmax classes in channel order 0, 1, …");
        }

        return labels;
    }

    private static int ClassIndex(JsonElement stage, IReadOnlyList<StageLabel> labels, string stageName)
    {
        var index = Required(stage, "l1Class").GetInt32();
        return index > 0 && index < labels.Count ? index : throw new InvalidOperationException($"{stageName}.l1Class {index} is not one of its labels");
    }

    private static double IsotropicSpacing(JsonElement stage, string stageName)
    {
        var spacing = Required(stage, "spacingMm").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        if (spacing.Length != 3 || spacing.Any(s => s <= 0) || spacing.Max() - spacing.Min() > 1e-6)
        {
            throw new InvalidOperationException($"{stageName}.spacingMm must be three equal positive values (isotropic grid)");
        }

        return spacing[0];
    }

    private static IntensityNormalisation Normalisation(JsonElement stage, JsonElement root)
    {
        var spec = stage.TryGetProperty("normalisation", out var own) ? own : Required(root, "normalisation");
        var clip = Required(spec, "clipHu").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        if (clip.Length != 2 || clip[0] >= clip[1])
        {
            throw new InvalidOperationException("normalisation.clipHu must be [low, high]");
        }

        return new IntensityNormalisation(
            clip[0],
            clip[1],
            Required(spec, "scale").GetDouble(),
            Required(spec, "offset").GetDouble(),
            spec.TryGetProperty("padHu", out var padHu) ? padHu.GetDouble() : clip[0],
            Required(spec, "padValue").GetSingle());
    }

    private static JsonElement Required(JsonElement parent, string property) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new InvalidOperationException($"'{property}' is missing");

    private static string Text(JsonElement parent, string property) =>
        parent.TryGetProperty(property, out var value) ? value.GetString() ?? string.Empty : string.Empty;
}
