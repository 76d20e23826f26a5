using System.Text.Json;
using QctPipeline.Phantom;
using QctPipeline.Store;

namespace QctPipeline.Tests.Cli;

/// <summary>Issue 6's must-holds through `qct analyze` (store and compare), `qct history` and `qct compare` on real files.</summary>
public sealed class HistoryCommandTests
{
    private static JsonElement Analyze(string folder, string store)
    {
        var result = QctProcess.Run("analyze", folder, "--json", "--db", store);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        return JsonDocument.Parse(result.Output).RootElement.Clone();
    }

    [Fact]
    public void Sample_patient_A_declines_by_5_percent_or_more_and_patient_B_does_not()
    {
        using var folder = new TempFolder();
        var store = folder.File("results.sqlite");

        // Follow-ups first: a baseline analysed later still becomes the baseline.
        Analyze(RepositoryFiles.Path("sample-dicom", "patient-a", "2025-07-11"), store);
        var baselineA = Analyze(RepositoryFiles.Path("sample-dicom", "patient-a", "2025-01-10"), store);
        Assert.Contains("baseline", baselineA.GetProperty("comparison").GetProperty("reason").GetString(), StringComparison.Ordinal);
        var followA = Analyze(RepositoryFiles.Path("sample-dicom", "patient-a", "2025-07-11"), store);
        Analyze(RepositoryFiles.Path("sample-dicom", "patient-b", "2025-02-03"), store);
        var followB = Analyze(RepositoryFiles.Path("sample-dicom", "patient-b", "2025-08-04"), store);

        var a = followA.GetProperty("comparison");
        Assert.Equal("2025-01-10", a.GetProperty("baselineDate").GetString());
        Assert.True(a.GetProperty("decline5").GetBoolean(), a.ToString());
        Assert.True(a.GetProperty("percentChangeFromBaseline").GetDouble() <= -5);
        Assert.Equal(0, a.GetProperty("protocolMismatch").GetArrayLength());
        var b = followB.GetProperty("comparison");
        Assert.False(b.GetProperty("decline5").GetBoolean(), b.ToString());
        Assert.InRange(b.GetProperty("percentChangeFromBaseline").GetDouble(), -4.9, 0);
        Assert.Equal(store, followB.GetProperty("store").GetString());

        // Analysing the same folder again (twice above) left one row per series.
        using (var results = ResultStore.Open(store))
        {
            Assert.Equal(4, results.Count());
        }

        var history = QctProcess.Run("history", "SAMPLE-A", "--db", store, "--csv", "--plot", folder.File("trend.png"));
        Assert.True(history.ExitCode == 0, history.Error);
        var lines = history.Output.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("2025-01-10,", lines[1], StringComparison.Ordinal);
        Assert.Contains(",true,", lines[2], StringComparison.Ordinal);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(folder.File("trend.png")).Take(4));

        var compare = QctProcess.Run("compare", followA.GetProperty("seriesInstanceUid").GetString()!, baselineA.GetProperty("seriesInstanceUid").GetString()!, "--db", store, "--json");
        Assert.True(compare.ExitCode == 0, compare.Error);
        using var compared = JsonDocument.Parse(compare.Output);
        Assert.Equal(baselineA.GetProperty("seriesInstanceUid").GetString(), compared.RootElement.GetProperty("earlier").GetString());
        Assert.True(compared.RootElement.GetProperty("comparison").GetProperty("decline5").GetBoolean());

        // Another threshold is named wherever the decline is: patient B's fall (under 5 %) is a decline at 2 %.
        var atTwo = QctProcess.Run("history", "SAMPLE-B", "--db", store, "--decline-threshold", "2");
        Assert.True(atTwo.ExitCode == 0, atTwo.Error);
        Assert.Contains("DECLINE ≥ 2 %", atTwo.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("≥ 5 %", atTwo.Output, StringComparison.Ordinal);
        var jsonAtTwo = QctProcess.Run("history", "SAMPLE-B", "--db", store, "--json", "--decline-threshold", "2");
        using var parsedAtTwo = JsonDocument.Parse(jsonAtTwo.Output);
        var followUpAtTwo = parsedAtTwo.RootElement.GetProperty("exams")[1].GetProperty("comparison");
        Assert.Equal(2, followUpAtTwo.GetProperty("declineThresholdPercent").GetDouble());
        Assert.True(followUpAtTwo.GetProperty("declineFromBaseline").GetBoolean());
        Assert.False(followUpAtTwo.TryGetProperty("decline5", out _));
        var zero = QctProcess.Run("history", "SAMPLE-B", "--db", store, "--decline-threshold", "0");
        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("--decline-threshold", zero.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_contrast_follow_up_against_an_unenhanced_baseline_names_the_phase_and_keeps_its_numbers()
    {
        using var folder = new TempFolder();
        var store = folder.File("results.sqlite");
        var options = new PhantomOptions { Seed = 505, PatientId = "CONTRAST-1", Matrix = 256, ReconstructionDiameterMm = 384, SliceThicknessMm = 2.5, SliceSpacingMm = 2.5, FromLevel = "T10", ToLevel = "L3", NoiseSigmaHu = 14 };
        PhantomStudyWriter.Write(PhantomGenerator.Generate(options), folder.File("baseline"));
        PhantomStudyWriter.Write(PhantomGenerator.Generate(options with { StudyDate = new DateOnly(2025, 7, 11), Contrast = ContrastPhase.Venous }), folder.File("follow-up"));

        Analyze(folder.File("baseline"), store);
        var followUp = Analyze(folder.File("follow-up"), store);

        var comparison = followUp.GetProperty("comparison");
        Assert.Contains(comparison.GetProperty("protocolMismatch").EnumerateArray(), m => m.GetString()!.Contains("contrast phase none → venous", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Number, comparison.GetProperty("percentChangeFromBaseline").ValueKind);
        Assert.True(followUp.GetProperty("l1").GetProperty("categoryContrastAffected").GetBoolean());
    }

    [Fact]
    public void Without_json_analyze_prints_the_comparison_in_one_line_and_no_store_writes_nothing()
    {
        using var folder = new TempFolder();
        var store = folder.File("results.sqlite");
        var study = RepositoryFiles.Path("sample-dicom", "patient-b", "2025-02-03");

        var skipped = QctProcess.Run("analyze", study, "--db", store, "--no-store");
        Assert.True(skipped.ExitCode == 0, skipped.Error);
        Assert.False(File.Exists(store));

        var human = QctProcess.Run("analyze", study, "--db", store);
        Assert.True(human.ExitCode == 0, human.Error);
        Assert.Contains("history: first exam of this patient: the baseline", human.Output, StringComparison.Ordinal);
        Assert.Contains($"stored in {store}", human.Output, StringComparison.Ordinal);

        var unknown = QctProcess.Run("history", "NOBODY", "--db", store);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no exams stored for PatientID \"NOBODY\"", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_date_and_a_hostile_patient_id_are_stored_safely_and_reported()
    {
        using var folder = new TempFolder();
        var store = folder.File("results.sqlite");
        const string hostile = "../../etc/x'); DROP TABLE exams; --";
        var options = new PhantomOptions { Seed = 606, PatientId = hostile, Matrix = 160, ReconstructionDiameterMm = 400, SliceThicknessMm = 3, SliceSpacingMm = 3, FromLevel = "T11", ToLevel = "L3" };
        PhantomStudyWriter.Write(PhantomGenerator.Generate(options), folder.File("study"));
        foreach (var file in Directory.EnumerateFiles(folder.File("study"), "*.dcm", SearchOption.AllDirectories))
        {
            // StudyDate 20250110 becomes "2025XX10": the same length, not a date.
            var bytes = File.ReadAllBytes(file);
            var at = bytes.AsSpan().IndexOf("20250110"u8);
            "2025XX10"u8.CopyTo(bytes.AsSpan(at));
            File.WriteAllBytes(file, bytes);
        }

        var analyzed = Analyze(folder.File("study"), store);

        Assert.Equal(hostile, analyzed.GetProperty("patientId").GetString());
        Assert.Equal(JsonValueKind.Null, analyzed.GetProperty("studyDate").ValueKind);
        Assert.Contains("no valid StudyDate", analyzed.GetProperty("comparison").GetProperty("reason").GetString(), StringComparison.Ordinal);
        var history = QctProcess.Run("history", hostile, "--db", store, "--json");
        Assert.True(history.ExitCode == 0, history.Error);
        Assert.Equal(hostile, JsonDocument.Parse(history.Output).RootElement.GetProperty("patientId").GetString());
        Assert.All(Directory.EnumerateFileSystemEntries(folder.Path), entry => Assert.True(entry.StartsWith(store, StringComparison.Ordinal) || entry == folder.File("study"), entry));
    }
}
