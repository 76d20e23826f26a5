using System.Text.Json;
using QctPipeline.Domain;
using QctPipeline.Store;

namespace QctPipeline.Tests.Cli;

/// <summary>Issue 7's batch must-holds on the sample studies and on a folder salted with bad inputs.</summary>
public sealed class BatchCommandTests
{
    private static List<JsonElement> LogLines(string outDirectory) => [.. Directory.EnumerateFiles(Path.Combine(outDirectory, "logs"), "*.ndjson")
        .SelectMany(File.ReadAllLines)
        .Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    [Fact]
    public void Batch_measures_every_sample_study_and_a_second_run_skips_them_all()
    {
        using var folder = new TempFolder();
        var (store, output) = (folder.File("results.sqlite"), folder.File("out"));

        var first = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom"), "--out", output, "--db", store);

        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        var studies = LogLines(output).Where(l => l.GetProperty("seriesInstanceUid").ValueKind == JsonValueKind.String).ToList();
        Assert.Equal(6, studies.Count);
        Assert.All(studies, l => Assert.Equal("ok", l.GetProperty("status").GetString()));
        Assert.All(studies, l => Assert.StartsWith("P-", l.GetProperty("patient").GetString(), StringComparison.Ordinal));
        Assert.All(Directory.GetFiles(Path.Combine(output, "logs")), log => Assert.DoesNotContain("SAMPLE-", File.ReadAllText(log), StringComparison.Ordinal));
        foreach (var name in new[] { "result.json", "report.html", "seg.dcm", "sr.dcm" })
        {
            Assert.Equal(6, Directory.EnumerateFiles(Path.Combine(output, "studies"), name, SearchOption.AllDirectories).Count());
        }

        Assert.True(File.Exists(Path.Combine(output, "index.html")));
        var summary = File.ReadAllText(Path.Combine(output, "summary.csv"));
        var rows = summary.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(7, rows.Length);
        Assert.Single(rows, r => r.Contains("SAMPLE-A,2025-07-11", StringComparison.Ordinal) && r.Contains(",true,true,", StringComparison.Ordinal));
        var header = rows[0].Split(',');
        var twoLevels = Array.IndexOf(header, "l1l2_vbmd_mg_cm3");
        Assert.True(twoLevels > 0, rows[0]);
        Assert.All(rows.Skip(1), r => Assert.InRange(double.Parse(r.Split(',')[twoLevels], System.Globalization.CultureInfo.InvariantCulture), 40, 250));

        var second = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom"), "--out", output, "--db", store);

        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("0 analysed, 6 skipped, 0 failed", second.Output, StringComparison.Ordinal);
        Assert.Equal(summary, File.ReadAllText(Path.Combine(output, "summary.csv")));
        using var results = ResultStore.Open(store);
        Assert.Equal(6, results.Count());

        var pseudonymized = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom"), "--out", folder.File("research"), "--db", folder.File("research.sqlite"), "--pseudonymize");
        Assert.True(pseudonymized.ExitCode == 0, pseudonymized.Error);
        var research = File.ReadAllText(Path.Combine(folder.File("research"), "summary.csv"));
        Assert.DoesNotContain("SAMPLE-", research, StringComparison.Ordinal);
        using (var researchStore = ResultStore.Open(folder.File("research.sqlite")))
        {
            Assert.Contains(researchStore.Pseudonym("SAMPLE-A"), research, StringComparison.Ordinal);
        }

        Assert.Equal(6, Directory.EnumerateFiles(folder.File("research"), "sr.dcm", SearchOption.AllDirectories).Count());

        // Research outputs name no patient: no ID, name or birth date (1961-05-02 is patient A's) in any file.
        Assert.All(Directory.EnumerateFiles(folder.File("research"), "*", SearchOption.AllDirectories), file =>
        {
            var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(file));
            Assert.DoesNotContain("SAMPLE-A", text, StringComparison.Ordinal);
            Assert.DoesNotContain("SAMPLE^A", text, StringComparison.Ordinal);
            Assert.DoesNotContain("19610502", text, StringComparison.Ordinal);
            Assert.DoesNotContain("1961-05-02", text, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Killing_the_batch_half_way_and_rerunning_writes_the_same_summary_as_an_uninterrupted_run()
    {
        using var folder = new TempFolder();
        var input = RepositoryFiles.Path("sample-dicom");
        var uninterrupted = QctProcess.Run("batch", input, "--out", folder.File("a"), "--db", folder.File("a.sqlite"));
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Error);

        using (var batch = QctProcess.Start("batch", input, "--out", folder.File("b"), "--db", folder.File("b.sqlite")))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (DateTime.UtcNow < deadline && !batch.HasExited
                   && (!Directory.Exists(folder.File("b/logs")) || LogLines(folder.File("b")).Count(l => l.GetProperty("status").GetString() == "ok") < 2))
            {
                Thread.Sleep(50);
            }

            Assert.False(batch.HasExited, "the batch finished before it could be killed");
            batch.Kill();
            batch.WaitForExit();
        }

        var done = LogLines(folder.File("b")).Count(l => l.GetProperty("status").GetString() == "ok");
        Assert.InRange(done, 2, 5);
        Assert.False(File.Exists(Path.Combine(folder.File("b"), "summary.csv")));
        // Whatever was cut off, every file under its real name is whole.
        Assert.All(Directory.EnumerateFiles(folder.File("b"), "result.json", SearchOption.AllDirectories), f => JsonDocument.Parse(File.ReadAllText(f)).Dispose());

        var rerun = QctProcess.Run("batch", input, "--out", folder.File("b"), "--db", folder.File("b.sqlite"));

        Assert.True(rerun.ExitCode == 0, rerun.Error);
        Assert.Contains($"{6 - done} analysed, {done} skipped", rerun.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(folder.File("a"), "summary.csv")), File.ReadAllText(Path.Combine(folder.File("b"), "summary.csv")));
    }

    [Fact]
    public void A_batch_killed_after_a_store_write_and_before_its_report_completes_on_rerun_without_analysing_again()
    {
        using var folder = new TempFolder();
        var input = RepositoryFiles.Path("sample-dicom");
        var (output, store) = (folder.File("out"), folder.File("results.sqlite"));

        // SIGKILL right after the first study's result is stored, before its outputs are in place.
        var killed = QctProcess.Run(new Dictionary<string, string> { ["QCT_FAULT"] = "kill-after-store-write" }, "batch", input, "--out", output, "--db", store);

        Assert.Equal(137, killed.ExitCode);
        ExamRecord first;
        using (var results = ResultStore.Open(store))
        {
            first = Assert.Single(results.All());
        }

        var studyFolder = Assert.Single(Directory.GetDirectories(Path.Combine(output, "studies")));
        Assert.False(File.Exists(Path.Combine(studyFolder, "report.html")));
        Assert.Single(Directory.GetDirectories(studyFolder, ".pending-*"));

        // Staged by another software or model version and never stored: thrown away, never moved in.
        var foreign = Directory.CreateDirectory(Path.Combine(studyFolder, ".pending-ffffffffffff")).FullName;
        File.WriteAllText(Path.Combine(foreign, "report.html"), "stale");

        var rerun = QctProcess.Run("batch", input, "--out", output, "--db", store);

        Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
        Assert.Contains("5 analysed, 1 skipped, 0 failed", rerun.Output, StringComparison.Ordinal);
        var completed = Assert.Single(LogLines(output), l => l.GetProperty("status").GetString() == "skipped");
        Assert.Equal(first.SeriesInstanceUid, completed.GetProperty("seriesInstanceUid").GetString());
        Assert.Contains("staged outputs", completed.GetProperty("reason").GetString(), StringComparison.Ordinal);
        foreach (var study in Directory.GetDirectories(Path.Combine(output, "studies")))
        {
            Assert.All(new[] { "result.json", "report.html", "seg.dcm", "sr.dcm" }, name => Assert.True(File.Exists(Path.Combine(study, name)), $"{study}/{name}"));
            Assert.Empty(Directory.GetDirectories(study, ".pending-*"));
        }

        Assert.Equal(6, Directory.GetDirectories(Path.Combine(output, "studies")).Length);
        Assert.NotEqual("stale", File.ReadAllText(Path.Combine(studyFolder, "report.html")));
        using var after = ResultStore.Open(store);
        Assert.Equal(6, after.All().Count);
        Assert.Equal(first.AnalysedAt, Assert.Single(after.All(), e => e.SeriesInstanceUid == first.SeriesInstanceUid).AnalysedAt);
    }

    [Fact]
    public void A_folder_salted_with_bad_inputs_completes_with_each_problem_logged_and_the_good_study_measured()
    {
        using var folder = new TempFolder();
        var root = folder.File("in");
        CopyFolder(RepositoryFiles.Path("sample-dicom", "patient-b", "2025-02-03", "dicom"), Path.Combine(root, "good"));
        var slices = Directory.GetFiles(Path.Combine(root, "good"), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        Directory.CreateDirectory(Path.Combine(root, "broken"));
        File.WriteAllBytes(Path.Combine(root, "broken", "truncated.dcm"), File.ReadAllBytes(slices[0])[..300]);
        File.WriteAllBytes(Path.Combine(root, "broken", "empty.dcm"), []);
        File.WriteAllText(Path.Combine(root, "broken", "notes.txt"), "not DICOM");
        Directory.CreateDirectory(Path.Combine(root, "empty-study"));
        Directory.CreateDirectory(Path.Combine(root, "mr"));
        File.Copy(RealData.Path("dcm-qa-ts", "In", "1.dcm"), Path.Combine(root, "mr", "1.dcm"));

        var result = QctProcess.Run("batch", root, "--out", folder.File("out"), "--db", folder.File("results.sqlite"));

        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        var lines = LogLines(folder.File("out"));
        Assert.Single(lines, l => l.GetProperty("status").GetString() == "ok");
        Assert.Contains(lines, l => l.GetProperty("status").GetString() == "file-problem" && l.GetProperty("study").GetString()!.EndsWith("truncated.dcm", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.GetProperty("study").GetString()!.EndsWith("empty.dcm", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.GetProperty("status").GetString() == "ignored" && l.GetProperty("study").GetString()!.EndsWith("notes.txt", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.GetProperty("status").GetString() == "error" && l.GetProperty("reason").GetString()!.Contains("no usable CT series", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.False(string.IsNullOrWhiteSpace(l.GetProperty("status").GetString())));

        var nothing = QctProcess.Run("batch", Path.Combine(root, "empty-study"), "--out", folder.File("none"), "--db", folder.File("results.sqlite"));
        Assert.Equal(1, nothing.ExitCode);
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
