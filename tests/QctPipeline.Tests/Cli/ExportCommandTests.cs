using System.Text.Json;
using QctPipeline.Store;
using QctPipeline.Tests.Compare;

namespace QctPipeline.Tests.Cli;

public sealed class ExportCommandTests
{
    [Fact]
    public void Exports_each_series_newest_analysis_as_csv_or_ndjson_and_pseudonymizes_on_request()
    {
        using var folder = new TempFolder();
        var path = folder.File("results.sqlite");
        using (var store = ResultStore.Open(path))
        {
            store.Upsert(LongitudinalComparatorTests.Exam("s1", "2025-01-10", 118) with { PatientPseudonym = store.Pseudonym("P1") });
            store.Upsert(LongitudinalComparatorTests.Exam("s1", "2025-01-10", 119) with { PatientPseudonym = store.Pseudonym("P1"), SoftwareVersion = "0.6.0", AnalysedAt = DateTimeOffset.UtcNow });
            store.Upsert(LongitudinalComparatorTests.Exam("s2", "2025-07-10", 109, "low,\"odd\"") with { PatientPseudonym = store.Pseudonym("P1") });
        }

        var csv = QctProcess.Run("export", "--db", path, "--format", "csv");
        Assert.True(csv.ExitCode == 0, csv.Error);
        var lines = csv.Output.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains(",119,", lines[1], StringComparison.Ordinal);
        Assert.Contains("\"low,\"\"odd\"\"\"", lines[2], StringComparison.Ordinal);

        var all = QctProcess.Run("export", "--db", path, "--format", "ndjson", "--all-versions", "--pseudonymize");
        var rows = all.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r => Assert.StartsWith("P-", r.GetProperty("patientId").GetString(), StringComparison.Ordinal));
        Assert.DoesNotContain("\"P1\"", all.Output, StringComparison.Ordinal);

        var file = folder.File("cohort.csv");
        Assert.Equal(0, QctProcess.Run("export", "--db", path, "--out", file).ExitCode);
        Assert.Equal(csv.Output, File.ReadAllText(file));
    }
}
