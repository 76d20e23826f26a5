using System.Security.Cryptography;
using System.Text.Json.Nodes;
using QctPipeline.Segment;

namespace QctPipeline.Tests.Segment;

/// <summary>Loading a model manifest: what a conforming one yields, and one-line errors for everything else.</summary>
public sealed class SegmentationModelTests
{
    /// <summary>A manifest in the schema export_onnx.py writes, naming a tiny ONNX file for both stages.</summary>
    private static JsonObject Manifest(string onnxFile, string sha256) => JsonNode.Parse($$"""
        {
          "manifestVersion": 1, "name": "test-model", "version": "0.0.1",
          "orientation": { "axes": { "x": "towards patient Left", "y": "towards Posterior", "z": "towards Superior" } },
          "normalisation": { "clipHu": [-1000, 2000], "scale": 0.001, "offset": 0.0, "padHu": -1000, "padValue": -1.0 },
          "stages": {
            "localizer": {
              "file": "{{onnxFile}}", "sha256": "{{sha256}}", "spacingMm": [4, 4, 4],
              "input": { "name": "image", "sizeMultiple": 16 },
              "output": { "name": "logits", "softmaxChannels": [0, 2], "sigmoidChannels": { "3": "vertebral_body", "4": "rib" } },
              "labels": [ { "index": 0, "name": "background", "codes": [] }, { "index": 1, "name": "T12", "codes": [12] }, { "index": 2, "name": "L1", "codes": [21] } ],
              "l1Class": 2, "ribChannelTrained": false
            },
            "refiner": {
              "file": "{{onnxFile}}", "sha256": "{{sha256}}", "spacingMm": [1.5, 1.5, 1.5], "cropVoxels": [80, 64, 48],
              "input": { "name": "image", "sizeMultiple": 16 },
              "output": { "name": "logits", "softmaxChannels": [0, 3] },
              "labels": [ { "index": 0, "name": "background" }, { "index": 1, "name": "above-L1 body" }, { "index": 2, "name": "L1 body" }, { "index": 3, "name": "L2 body" } ],
              "l1Class": 2
            }
          }
        }
        """)!.AsObject();

    private static (TempFolder Folder, string ManifestPath, JsonObject Manifest) Prepared()
    {
        var folder = new TempFolder();
        File.Copy(TinyModels.Conv3d, folder.File("tiny.onnx"));
        var sha = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(folder.File("tiny.onnx"))));
        return (folder, folder.File("model.json"), Manifest("tiny.onnx", sha));
    }

    private static string LoadError(string manifestPath)
    {
        var error = Assert.Throws<ModelManifestException>(() => SegmentationModel.Load(manifestPath).Dispose());
        Assert.DoesNotContain('\n', error.Message);
        Assert.Contains(manifestPath, error.Message);
        return error.Message;
    }

    [Fact]
    public void A_conforming_manifest_loads_both_stages_with_its_grids_and_labels()
    {
        var (folder, path, manifest) = Prepared();
        using var _ = folder;
        File.WriteAllText(path, manifest.ToJsonString());

        using var model = SegmentationModel.Load(path);

        Assert.Equal(4, model.Manifest.Localizer.SpacingMm);
        Assert.Equal(3, model.Manifest.Localizer.BodyChannel);
        Assert.Equal(4, model.Manifest.Localizer.RibChannel);
        Assert.False(model.Manifest.Localizer.RibChannelTrained);
        Assert.Equal(-1f, model.Manifest.Localizer.Normalisation.PadValue);
        Assert.Equal(0.5f, model.Manifest.Localizer.Normalisation.Apply(500));
        Assert.Equal(2f, model.Manifest.Localizer.Normalisation.Apply(3000));
        var refiner = model.Manifest.Refiner!;
        Assert.Equal((48, 64, 80), (refiner.CropX, refiner.CropY, refiner.CropZ));
        Assert.Equal((1, 2, 3), (refiner.AboveL1Class, refiner.L1Class, refiner.L2Class));
        Assert.NotNull(model.Refiner);
        Assert.Null(model.Manifest.HeldOutLevelAccuracy);
    }

    [Fact]
    public void The_held_out_level_accuracy_is_read_from_the_localizers_metrics()
    {
        var (folder, path, manifest) = Prepared();
        using var _ = folder;
        manifest["stages"]!["localizer"]!["metrics"] = new JsonObject { ["correct_level_rate"] = 0.42 };
        File.WriteAllText(path, manifest.ToJsonString());

        using var model = SegmentationModel.Load(path);

        Assert.Equal(0.42, model.Manifest.HeldOutLevelAccuracy);
    }

    [Fact]
    public void A_missing_manifest_is_one_line()
    {
        using var folder = new TempFolder();
        Assert.Contains("not found", LoadError(folder.File("absent.json")));
    }

    [Fact]
    public void An_altered_onnx_file_fails_its_sha256()
    {
        var (folder, path, manifest) = Prepared();
        using var _ = folder;
        manifest["stages"]!["refiner"]!["sha256"] = new string('0', 64);
        File.WriteAllText(path, manifest.ToJsonString());

        Assert.Contains("refiner file tiny.onnx has sha256", LoadError(path));
    }

    [Fact]
    public void A_missing_onnx_file_is_named()
    {
        var (folder, path, manifest) = Prepared();
        using var _ = folder;
        manifest["stages"]!["localizer"]!["file"] = "gone.onnx";
        File.WriteAllText(path, manifest.ToJsonString());

        Assert.Contains("gone.onnx does not exist", LoadError(path));
    }

    [Theory]
    [InlineData("version", "manifestVersion 2 is not supported")]
    [InlineData("no-l1-class", "wrong schema: 'l1Class' is missing")]
    [InlineData("no-localizer", "stages.localizer is missing")]
    [InlineData("spacing", "spacingMm must be three equal positive values")]
    [InlineData("orientation", "orientation axes must be")]
    [InlineData("not-json", "not valid JSON")]
    public void A_manifest_of_the_wrong_schema_says_what_is_wrong(string defect, string expected)
    {
        var (folder, path, manifest) = Prepared();
        using var _ = folder;
        var stages = manifest["stages"]!.AsObject();
        switch (defect)
        {
            case "version": manifest["manifestVersion"] = 2; break;
            case "no-l1-class": stages["localizer"]!.AsObject().Remove("l1Class"); break;
            case "no-localizer": stages.Remove("localizer"); break;
            case "spacing": stages["refiner"]!["spacingMm"] = new JsonArray(1.5, 1.5, 3); break;
            case "orientation": manifest["orientation"]!["axes"]!["x"] = "towards patient Right"; break;
        }

        File.WriteAllText(path, defect == "not-json" ? "{ \"manifestVersion\": 1, " : manifest.ToJsonString());

        Assert.Contains(expected, LoadError(path));
    }

    [Fact]
    public void The_default_manifest_is_searched_upwards_and_its_absence_explained()
    {
        using var folder = new TempFolder();
        var error = Assert.Throws<ModelManifestException>(() => SegmentationModel.FindDefaultManifest(folder.Path));
        Assert.Contains("--model", error.Message);

        Directory.CreateDirectory(folder.File("models"));
        File.WriteAllText(folder.File("models/qct-l1-model.json"), "{}");
        Directory.CreateDirectory(folder.File("a/b"));
        Assert.Equal(folder.File("models/qct-l1-model.json"), SegmentationModel.FindDefaultManifest(folder.File("a/b")));
    }
}
