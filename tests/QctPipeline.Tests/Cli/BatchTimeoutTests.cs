using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using QctPipeline.Phantom;
using QctPipeline.Store;

namespace QctPipeline.Tests.Cli;

/// <summary>Tests that judge what a time limit does, run alone after every other test so the machine's load does not move their outcome.</summary>
[CollectionDefinition(nameof(TimeLimitCollection), DisableParallelization = true)]
public sealed class TimeLimitCollection;

/// <summary>
/// Issue 15's timeouts: a study over `--study-timeout` is stopped (its network run terminated, its decode cancelled),
/// its worker keeps its model, and repeated timeouts do not pile up memory.
/// </summary>
[Collection(nameof(TimeLimitCollection))]
public sealed partial class BatchTimeoutTests
{
    [Fact]
    public void Five_studies_over_the_time_limit_are_stopped_and_the_next_study_is_measured_without_memory_growing()
    {
        using var folder = new TempFolder();

        // One 512² series of 330 slices (about 7 s of analysis here), written as five studies of its own; the quick
        // study is a 64² series analysed in about 0.5 s, well under the 3 s limit, and dated later, so it comes last.
        var slow = PhantomGenerator.Generate(new PhantomOptions { Seed = 31, PatientId = "SLOW", SliceThicknessMm = 1, SliceSpacingMm = 1, FromLevel = "T8", ToLevel = "L5" });
        for (var k = 0; k < 5; k++)
        {
            var uids = new PhantomStudyWriter.StudyUids($"2.25.7700{k}", $"2.25.7800{k}", $"2.25.7900{k}", 31);
            PhantomStudyWriter.WriteSeries(slow, uids, Path.Combine(folder.File("five"), $"slow-{k}"));
        }

        var quick = PhantomGenerator.Generate(new PhantomOptions { Seed = 99, Matrix = 64, ReconstructionDiameterMm = 300, SliceThicknessMm = 3, SliceSpacingMm = 3, FromLevel = "T11", ToLevel = "L2", PatientId = "QUICK", StudyDate = new DateOnly(2025, 6, 1) });
        PhantomStudyWriter.WriteSeries(quick, Path.Combine(folder.File("five"), "quick"));
        Directory.CreateDirectory(folder.File("three"));
        foreach (var study in new[] { "slow-0", "slow-1", "slow-2", "quick" })
        {
            Directory.CreateSymbolicLink(Path.Combine(folder.File("three"), study), Path.Combine(folder.File("five"), study));
        }

        var three = Batch(folder, "three");
        var five = Batch(folder, "five");

        Assert.Equal(3, three.Stopped.Count);
        Assert.Equal(5, five.Stopped.Count);
        Assert.All(five.Stopped, reason => Assert.EndsWith("3 s per-study limit: stopped", reason, StringComparison.Ordinal));
        Assert.Equal("QUICK", five.Measured);
        using (var results = ResultStore.Open(folder.File("five.sqlite")))
        {
            Assert.Empty(results.History("SLOW"));
        }

        // Each stopped study's volume and network run are gone before the next starts. What the run still holds at
        // its end is the measure: a stopped study's volume kept alive (346 MB of HU here) would add two of them from
        // three timeouts to five, where the managed heap grows by a few MB (thread-local pool arrays). The peak is
        // only a coarse guard: it is the largest of one draw per stopped study (how far each got in 3 s), so five
        // draws run higher than three by up to 330 MB here; abandoning each runaway analysis, as before, peaked at
        // 3.2 GB after five timeouts against 0.8 GB after one.
        Assert.True(five.HeldManagedMb <= three.HeldManagedMb + 100, $"managed heap held after five timeouts {five.HeldManagedMb} MB, after three {three.HeldManagedMb} MB");
        Assert.True(five.PeakMb <= three.PeakMb * 1.5, $"peak {five.PeakMb} MB after five timeouts, {three.PeakMb} MB after three");
    }

    private static (List<string> Stopped, string? Measured, double PeakMb, double HeldManagedMb) Batch(TempFolder folder, string name)
    {
        var result = QctProcess.Run("batch", folder.File(name), "--out", folder.File(name + "-out"), "--db", folder.File(name + ".sqlite"), "--study-timeout", "3");
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.DoesNotContain("Unhandled exception", result.Error, StringComparison.Ordinal);
        var lines = Directory.EnumerateFiles(Path.Combine(folder.File(name + "-out"), "logs"), "*.ndjson").SelectMany(File.ReadAllLines)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone()).ToList();
        var stopped = lines.Where(l => l.GetProperty("status").GetString() == "error").Select(l => l.GetProperty("reason").GetString()!).ToList();
        using var results = ResultStore.Open(folder.File(name + ".sqlite"));
        var measured = Assert.Single(results.All()).PatientId;
        var memory = Memory().Match(result.Output);
        Assert.True(memory.Success, result.Output);
        return (stopped, measured, double.Parse(memory.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(memory.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"peak memory (\d+) MB; held after the last study \d+ MB \(managed heap (\d+) MB\)")]
    private static partial Regex Memory();
}
