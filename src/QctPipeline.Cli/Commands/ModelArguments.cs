using System.CommandLine;
using QctPipeline.Segment;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Cli.Commands;

/// <summary>The --model option shared by every command that segments, and where the default model is found.</summary>
internal sealed class ModelArguments
{
    public Option<string?> Model { get; } = new("--model")
    {
        Description = $"Model manifest (JSON) naming the ONNX files; default: {SegmentationModel.DefaultManifestRelativePath} above the program.",
    };

    public void AddTo(Command command) => command.Options.Add(Model);

    /// <summary>Loads the chosen model; a missing or altered one is a <see cref="ModelManifestException"/>.</summary>
    public SegmentationModel Load(ParseResult parsed, OnnxSessionOptions? session = null) =>
        SegmentationModel.Load(parsed.GetValue(Model) ?? SegmentationModel.FindDefaultManifest(AppContext.BaseDirectory), session);
}
