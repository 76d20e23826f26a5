using System.Text.Json;
using QctPipeline.Nifti;
using QctPipeline.Phantom;
using QctPipeline.Tests.Cli;

namespace QctPipeline.Tests.Segment;

/// <summary>
/// `qct segment` and `qct analyze` with the model the repository ships, when it ships one (models/qct-l1-model.json
/// above the test binaries). Only what any model must satisfy is asserted here; accuracy is `qct eval-model`'s job.
/// </summary>
public sealed class ShippedModelTests
{
    private static readonly string[] AnalyzeFields =
        ["status", "reason", "patientId", "studyDate", "studyInstanceUid", "seriesInstanceUid", "l1", "levels", "counts", "calibration", "contrast", "kvp", "densityMap", "store", "comparison", "warnings", "timingsMs"];

    private static readonly string[] L1Fields =
        ["found", "centroidLps", "volumeMl", "confidence", "measuredLevel", "trabecular", "vbmd", "category", "categoryContrastAffected", "huFlags", "categoryBasis", "categoryUncertain", "l1l2"];

    internal static string? ShippedManifest()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "models", "qct-l1-model.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    [Fact]
    public void Segment_and_analyze_on_a_small_phantom_keep_the_contract()
    {
        var manifest = ShippedManifest() ?? throw new InvalidOperationException("models/qct-l1-model.json is not in the repository");
        using var folder = new TempFolder();
        var options = new PhantomOptions { Seed = 42, Matrix = 160, ReconstructionDiameterMm = 400, SliceThicknessMm = 3, SliceSpacingMm = 3, FromLevel = "T11", ToLevel = "L3" };
        PhantomStudyWriter.Write(PhantomGenerator.Generate(options), folder.Path);
        var series = Path.Combine(folder.Path, PhantomStudyWriter.DicomFolder);
        var maskPath = folder.File("l1.nii.gz");

        var segment = QctProcess.Run("segment", series, "--json", "--save-mask", maskPath, "--model", manifest);
        var densityMap = folder.File("density.nii.gz");
        var analyze = QctProcess.Run("analyze", series, "--json", "--model", manifest, "--density-map", densityMap);

        Assert.True(segment.ExitCode == 0, segment.Error);
        using var segmentJson = JsonDocument.Parse(segment.Output);
        var status = segmentJson.RootElement.GetProperty("status").GetString();
        Assert.Contains(status, new[] { "ok", "review", "no-l1" });
        if (status != "no-l1")
        {
            var mask = NiftiReader.Read(maskPath);
            Assert.Equal([160, 160], mask.Dimensions.Take(2));
            Assert.Contains(mask.Voxels.ToArray(), v => v == 1);
        }
        else
        {
            Assert.False(File.Exists(maskPath));
            Assert.False(string.IsNullOrEmpty(segmentJson.RootElement.GetProperty("reason").GetString()));
        }

        Assert.True(analyze.ExitCode == 0, analyze.Error);
        using var analyzeJson = JsonDocument.Parse(analyze.Output);
        var root = analyzeJson.RootElement;
        Assert.Equal(AnalyzeFields, root.EnumerateObject().Select(p => p.Name));
        // The analysis adds its own reasons to look: an ok segmentation may be measured as review, never the reverse.
        var analyzed = root.GetProperty("status").GetString();
        Assert.True(analyzed == status || (status == "ok" && analyzed == "review"), $"segment {status}, analyze {analyzed}");
        Assert.Equal("PHANTOM-0001", root.GetProperty("patientId").GetString());
        Assert.Equal("2025-01-10", root.GetProperty("studyDate").GetString());
        var l1 = root.GetProperty("l1");
        Assert.Equal(L1Fields, l1.EnumerateObject().Select(p => p.Name));
        Assert.Equal(status != "no-l1", l1.GetProperty("found").GetBoolean());
        Assert.Equal(120, root.GetProperty("kvp").GetDouble());
        if (status != "no-l1")
        {
            Assert.InRange(l1.GetProperty("trabecular").GetProperty("meanHu").GetDouble(), -100, 600);
            Assert.Contains(root.GetProperty("calibration").GetProperty("method").GetString(), new[] { "phantom", "async", "internal", "none" });
            Assert.False(root.GetProperty("contrast").GetProperty("detected").GetBoolean());
            var meanHu = l1.GetProperty("trabecular").GetProperty("meanHu").GetDouble();
            Assert.Equal(meanHu, l1.GetProperty("huFlags").GetProperty("meanHu").GetDouble(), 2);
            Assert.Equal(meanHu <= 160, l1.GetProperty("huFlags").GetProperty("atOrBelow160Hu").GetBoolean());

            // The QC map: whole 160 × 160 slices through the measured vertebra (about 30 mm of 3 mm slices), float32.
            Assert.Equal(densityMap, root.GetProperty("densityMap").GetString());
            var map = NiftiReader.Read(densityMap);
            Assert.Equal([160, 160], map.Dimensions.Take(2));
            Assert.InRange(map.Dimensions[2], 10, 40);
            Assert.Equal(NiftiDataType.Float32, map.DataType);
        }
        else
        {
            Assert.False(File.Exists(densityMap));
            Assert.Equal(JsonValueKind.Null, root.GetProperty("densityMap").ValueKind);
        }

        Assert.All(root.GetProperty("levels").EnumerateArray(), level => Assert.Equal(3, level.GetProperty("centroidLps").GetArrayLength()));
        Assert.True(root.GetProperty("timingsMs").GetProperty("segment").GetDouble() > 0);
    }

    [Fact]
    public void Real_ct_covering_only_T11_T12_claims_no_L1_and_a_T12_it_names_is_the_real_one()
    {
        var manifest = ShippedManifest() ?? throw new InvalidOperationException("models/qct-l1-model.json is not in the repository");
        var result = QctProcess.Run("analyze", RealData.Path("ts-spine-j2k", "dicom"), "--json", "--model", manifest);

        Assert.True(result.ExitCode == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Equal("no-l1", root.GetProperty("status").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("reason").GetString()));
        Assert.False(root.GetProperty("l1").GetProperty("found").GetBoolean());
        var t12 = root.GetProperty("levels").EnumerateArray().FirstOrDefault(level => level.GetProperty("name").GetString() == "T12");
        if (t12.ValueKind == JsonValueKind.Object)
        {
            var found = t12.GetProperty("centroidLps").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var truth = LabelCentroidLps(RealData.Path("ts-spine-j2k", "labels.nii.gz"), 32);
            var distance = Math.Sqrt(found.Zip(truth, (a, b) => (a - b) * (a - b)).Sum());
            Assert.True(distance <= 10, $"T12 at ({string.Join(", ", found)}), labels say ({string.Join(", ", truth)}): {distance:0.0} mm");
        }
    }

    /// <summary>Centroid of a label in DICOM LPS: the NIfTI sform gives RAS, whose x and y point the other way.</summary>
    private static double[] LabelCentroidLps(string path, int label)
    {
        var image = NiftiReader.Read(path);
        double si = 0, sj = 0, sk = 0;
        long count = 0;
        for (var k = 0; k < image.SizeZ; k++)
        {
            for (var j = 0; j < image.SizeY; j++)
            {
                for (var i = 0; i < image.SizeX; i++)
                {
                    if (Math.Abs(image[i, j, k] - label) < 0.5)
                    {
                        (si, sj, sk, count) = (si + i, sj + j, sk + k, count + 1);
                    }
                }
            }
        }

        var (x, y, z) = image.Sform.VoxelToWorld(si / count, sj / count, sk / count);
        return [-x, -y, z];
    }
}
