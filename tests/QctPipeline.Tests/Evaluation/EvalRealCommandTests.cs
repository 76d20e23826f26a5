using System.Text.Json;
using QctPipeline.Tests.Cli;

namespace QctPipeline.Tests.Evaluation;

/// <summary>`qct eval-real` end to end with the shipped model, on the repository's real-data manifest and on bad manifests.</summary>
public sealed class EvalRealCommandTests
{
    private static readonly string Model = RepositoryFiles.Path("models", "qct-l1-model.json");

    [Fact]
    public void Every_row_of_the_real_data_manifest_is_scored_and_none_crashes()
    {
        using var folder = new TempFolder();
        var figures = Path.Combine(folder.Path, "figures");

        var result = QctProcess.Run("eval-real", RepositoryFiles.Path("docs", "eval", "realdata.csv"), "--json", "--model", Model, "--figures", figures);

        Assert.True(result.ExitCode == 0, result.Error);
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
        var cases = root.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(["ts-spine-t12", "ts-spine-t11", "lidc-0001-l1", "cptac-sharp-l1", "tptbox-l3"], cases.Select(c => c.GetProperty("case").GetString()));
        Assert.All(cases, c =>
        {
            Assert.Contains(c.GetProperty("status").GetString(), new[] { "ok", "review", "no-l1" });
            Assert.Contains(c.GetProperty("verdict").GetString(), new[] { "right", "wrong", "abstained" });
            Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("detail").GetString()));
            Assert.True(File.Exists(Path.Combine(figures, $"{c.GetProperty("case").GetString()}-levels.png")));
        });

        // References the manifest can compute itself: the eroded-mask HU of every masked case.
        Assert.All(cases.Where(c => c.GetProperty("case").GetString() is "ts-spine-t12" or "tptbox-l3"), c => Assert.Equal(JsonValueKind.Number, c.GetProperty("referenceHu").ValueKind));
        var totals = root.GetProperty("totals");
        Assert.Equal(5, totals.GetProperty("evaluated").GetInt32());
        Assert.Equal(5, new[] { "right", "wrong", "abstained" }.Sum(name => totals.GetProperty(name).GetInt32()));
    }

    [Fact]
    public void A_bad_row_is_one_line_naming_it_and_the_others_are_still_evaluated()
    {
        using var folder = new TempFolder();
        var crop = RealData.Path("tptbox-vertebra-crop");
        var manifest = folder.File("m.csv");
        File.WriteAllText(manifest, string.Join('\n',
            "case,series,level,reference_mask,l1_in_view",
            $"l3,{crop}/sub-ct_label-22_ct.nii.gz,L3,{crop}/sub-ct_seg-vert_label-22_msk.nii.gz:22,no",
            $"unknown-label,{crop}/sub-ct_label-22_ct.nii.gz,L3,{crop}/sub-ct_seg-vert_label-22_msk.nii.gz:77,no",
            $"missing-series,{crop}/nothing_ct.nii.gz,L3,{crop}/sub-ct_seg-vert_label-22_msk.nii.gz:22,no",
            "malformed,x,L0,,no"));

        var result = QctProcess.Run("eval-real", manifest, "--model", Model);

        Assert.True(result.ExitCode == 0, result.Error);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = lines.Where(line => line.StartsWith("qct: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, errors.Count);
        Assert.Contains(lines, line => line.StartsWith("warning: ", StringComparison.Ordinal) && line.Contains("(case l3): NIfTI volume: no DICOM metadata", StringComparison.Ordinal));
        Assert.Contains(errors, line => line.Contains("m.csv:5 (case malformed): level 'L0' is not a vertebra name", StringComparison.Ordinal));
        Assert.Contains(errors, line => line.Contains("m.csv:3 (case unknown-label)", StringComparison.Ordinal) && line.Contains("no voxel has label 77", StringComparison.Ordinal));
        Assert.Contains(errors, line => line.Contains("m.csv:4 (case missing-series)", StringComparison.Ordinal) && line.Contains("nothing_ct.nii.gz: no such NIfTI file", StringComparison.Ordinal));
        Assert.Contains(result.Output.Split('\n'), line => line.StartsWith("l3 ", StringComparison.Ordinal));
        Assert.Contains("cases: 1 evaluated, 3 not", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_manifest_of_which_no_row_can_be_evaluated_fails_and_a_missing_one_is_unreadable()
    {
        using var folder = new TempFolder();
        var manifest = folder.File("m.csv");
        File.WriteAllText(manifest, "case,series,level,centroid_lps\nonly,absent-folder,L1,0 0 0\n");

        var nothing = QctProcess.Run("eval-real", manifest, "--model", Model);
        var missing = QctProcess.Run("eval-real", folder.File("absent.csv"), "--model", Model);

        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("m.csv:2 (case only):", nothing.Error, StringComparison.Ordinal);
        Assert.Contains("absent-folder: no such DICOM folder or file", nothing.Error, StringComparison.Ordinal);
        Assert.Equal(4, missing.ExitCode);
        Assert.Contains("absent.csv: no such manifest file", missing.Error, StringComparison.Ordinal);
    }
}
