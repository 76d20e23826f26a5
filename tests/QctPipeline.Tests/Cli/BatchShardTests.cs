using System.Text.Json;

namespace QctPipeline.Tests.Cli;

/// <summary>`qct batch --shard K/N --dry-run --json`: N workers split a manifest with no coordinator.</summary>
public sealed class BatchShardTests
{
    [Fact]
    public void Shards_of_a_manifest_are_disjoint_and_cover_it()
    {
        using var folder = new TempFolder();
        var manifest = folder.File("manifest.csv");
        var rows = Enumerable.Range(0, 60).Select(n => folder.File($"studies/s{n:D3}")).ToList();
        File.WriteAllText(manifest, "path,patient_id,study_date\r\n" + string.Concat(rows.Select((path, n) => $"\"{path}\",P{n},2025-01-{1 + (n % 28):D2}\r\n")));

        var shards = Enumerable.Range(0, 4).Select(k =>
        {
            var result = QctProcess.Run("batch", manifest, "--shard", $"{k}/4", "--dry-run", "--json");
            Assert.True(result.ExitCode == 0, result.Error);
            return JsonSerializer.Deserialize<string[]>(result.Output)!;
        }).ToList();

        Assert.Equal(rows.Order(StringComparer.Ordinal), shards.SelectMany(s => s).Order(StringComparer.Ordinal));
        Assert.All(shards, shard => Assert.InRange(shard.Length, 5, 25));

        // A SLURM array task (or a Kubernetes Indexed Job pod) names its shard through the environment.
        var fromEnvironment = QctProcess.Run(new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "2" }, "batch", manifest, "--shard", "4", "--dry-run", "--json");
        Assert.Equal(shards[2], JsonSerializer.Deserialize<string[]>(fromEnvironment.Output));
        var fromIndexedJob = QctProcess.Run(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "3" }, "batch", manifest, "--shard", "4", "--dry-run", "--json");
        Assert.Equal(shards[3], JsonSerializer.Deserialize<string[]>(fromIndexedJob.Output));
    }

    [Fact]
    public void Each_patients_studies_fall_in_one_shard_of_a_folder_and_of_a_manifest()
    {
        // 5 patients with 3 studies each, in folders named by study: the folder mode reads the patient from DICOM, the
        // manifest from its patient_id column.
        using var folder = new TempFolder();
        var patientOf = new Dictionary<string, string>();
        for (var n = 0; n < 15; n++)
        {
            var study = Directory.CreateDirectory(folder.File($"root/study{n:D2}")).FullName;
            new Ingest.SyntheticSeries { PatientId = $"P{n % 5}", StudyUid = $"2.25.77{n:D2}", SeriesUid = $"2.25.88{n:D2}" }.Write(study, Ingest.SyntheticSeries.Axial(10, 2.5));
            patientOf[study] = $"P{n % 5}";
        }

        var manifest = folder.File("manifest.csv");
        File.WriteAllText(manifest, "path,patient_id\r\n" + string.Concat(patientOf.Select(p => $"\"{p.Key}\",{p.Value}\r\n")));
        foreach (var input in new[] { folder.File("root"), manifest })
        {
            var shards = Enumerable.Range(0, 3).Select(k =>
            {
                var result = QctProcess.Run("batch", input, "--shard", $"{k}/3", "--dry-run", "--json");
                Assert.True(result.ExitCode == 0, result.Error);
                return JsonSerializer.Deserialize<string[]>(result.Output)!;
            }).ToList();

            Assert.Equal(patientOf.Keys.Order(StringComparer.Ordinal), shards.SelectMany(s => s).Order(StringComparer.Ordinal));
            Assert.All(patientOf.Values.Distinct(), patient =>
                Assert.Single(shards, shard => shard.Any(path => patientOf[path] == patient)));
        }
    }

    [Theory]
    [InlineData("4/4")]
    [InlineData("x/4")]
    [InlineData("1/0")]
    [InlineData("1/2/3")]
    public void A_bad_shard_is_a_usage_error_in_one_line(string shard)
    {
        using var folder = new TempFolder();
        var manifest = folder.File("manifest.csv");
        File.WriteAllText(manifest, "path\r\na\r\n");

        var result = QctProcess.Run("batch", manifest, "--shard", shard, "--dry-run");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"--shard {shard}", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Trim().Split('\n'));
    }

    [Fact]
    public void A_manifest_without_a_path_column_is_one_line_naming_it_and_nothing_is_written()
    {
        using var folder = new TempFolder();
        var manifest = folder.File("manifest.csv");
        File.WriteAllText(manifest, "folder\r\nsomewhere\r\n");

        var result = QctProcess.Run("batch", manifest, "--out", folder.File("out"), "--db", folder.File("results.sqlite"));

        Assert.Equal(4, result.ExitCode);
        Assert.StartsWith($"qct: {manifest}: a manifest needs a header row with a 'path' column", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.False(Directory.Exists(folder.File("out")));
    }
}
