using System.Text;
using System.Text.Json;
using QctPipeline.Phantom;
using QctPipeline.Tests.Cli;
using Xunit.Abstractions;
using static QctPipeline.Tests.Hostile.HostileCases;

namespace QctPipeline.Tests.Hostile;

/// <summary>
/// Hundreds of malformed or odd inputs derived from a generated series and the real files in ../shared/realdata, all in
/// one folder through `qct batch`: every one must end as a logged outcome with its reason, with no unhandled exception,
/// no hang and no huge allocation, and the intact control series must still be measured.
/// </summary>
public sealed class HostileInputTests(ITestOutputHelper output)
{
    [Fact]
    public void Two_hundred_hostile_inputs_end_in_logged_reasons_and_the_batch_goes_on()
    {
        using var folder = new TempFolder();
        var root = folder.File("in");
        var seriesFolder = folder.File("base");
        PhantomStudyWriter.WriteSeries(PhantomGenerator.Generate(GoodSeries(99, "HOSTILE")), seriesFolder);
        var slices = Directory.GetFiles(seriesFolder, "*.dcm").Order(StringComparer.Ordinal).ToArray();
        var baseBytes = File.ReadAllBytes(slices[slices.Length / 2]);
        var count = 0;

        // Each input is a study of its own: its study, series and instance UIDs end in its number; a copy of a control
        // slice would otherwise join its series.
        var uidEnds = UidEnds(baseBytes);

        void Write(string kind, byte[] bytes)
        {
            var path = Path.Combine(root, $"{count:D3}-{kind}", "file.dcm");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, bytes.Length > 132 ? WithOwnUids(bytes, count, uidEnds) : bytes);
            count++;
        }

        // The control: the intact series.
        foreach (var slice in slices)
        {
            Directory.CreateDirectory(Path.Combine(root, "control"));
            File.Copy(slice, Path.Combine(root, "control", Path.GetFileName(slice)));
        }

        // Whole series with one header value made absurd (each its own series, so each is judged alone).
        var variant = 0;
        void SeriesVariant(string kind, Func<byte[], int, byte[]> change)
        {
            var target = Path.Combine(root, $"{count++:D3}-{kind}");
            Directory.CreateDirectory(target);
            for (var n = 0; n < slices.Length; n++)
            {
                var bytes = Replace(Replace(File.ReadAllBytes(slices[n]), 0x0020, 0x000E, Encoding.ASCII.GetBytes($"2.25.{9000 + variant}")), 0x0020, 0x000D, Encoding.ASCII.GetBytes($"2.25.{8000 + variant}"));
                File.WriteAllBytes(Path.Combine(target, $"{n:D3}.dcm"), change(bytes, n));
            }

            variant++;
        }

        foreach (var (kind, rows, columns) in new[] { ("rows-0", 0, 64), ("columns-0", 64, 0), ("rows-columns-65535", 65535, 65535), ("rows-65535", 65535, 64) })
        {
            SeriesVariant(kind, (b, _) => Replace(Replace(b, 0x0028, 0x0010, U16(rows)), 0x0028, 0x0011, U16(columns)));
        }

        foreach (var bits in new[] { 1, 8, 12, 32 })
        {
            SeriesVariant($"bits-allocated-{bits}", (b, _) => Replace(b, 0x0028, 0x0100, U16(bits)));
        }

        foreach (var slope in new[] { "0", "NaN", "1e30", "-1", "x" })
        {
            SeriesVariant($"rescale-slope-{slope}", (b, _) => Replace(b, 0x0028, 0x1053, Text(slope)));
        }

        SeriesVariant("duplicate-positions", (b, n) => n % 2 == 1 ? Replace(b, 0x0020, 0x0032, ElementValue(File.ReadAllBytes(slices[n - 1]), 0x0020, 0x0032)) : b);
        SeriesVariant("missing-positions", (b, n) => n % 3 == 0 ? Remove(b, 0x0020, 0x0032) : b);
        SeriesVariant("non-orthogonal-orientation", (b, _) => Replace(b, 0x0020, 0x0037, Text("1\\0\\0\\0.5\\0.5\\0")));
        SeriesVariant("zero-orientation", (b, _) => Replace(b, 0x0020, 0x0037, Text("0\\0\\0\\0\\0\\0")));
        foreach (var (kind, id) in new[] { ("id-path", "../../etc/passwd"), ("id-control", "a\u0001b\tc\u001b[31m"), ("id-10kB", new string('W', 10_000)), ("id-sql", "x'); DROP TABLE exams; --") })
        {
            SeriesVariant(kind, (b, _) => Replace(b, 0x0010, 0x0020, Text(id)));
        }

        // Files not there to read, and a folder loop.
        Directory.CreateDirectory(Path.Combine(root, $"{count++:D3}-symlink-loop"));
        File.CreateSymbolicLink(Path.Combine(root, $"{count - 1:D3}-symlink-loop", "loop.dcm"), Path.Combine(root, $"{count - 1:D3}-symlink-loop", "loop.dcm"));
        Directory.CreateSymbolicLink(Path.Combine(root, $"{count++:D3}-folder-loop"), root);
        Write("unreadable", baseBytes);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(root, $"{count - 1:D3}-unreadable", "file.dcm"), UnixFileMode.None);
        }

        foreach (var (kind, bytes) in HostileCases.SingleFiles(baseBytes))
        {
            Write(kind, bytes);
        }

        output.WriteLine($"{count} hostile inputs (+ the control series)");
        Assert.True(count >= 200, $"only {count} inputs");

        var started = DateTime.UtcNow;
        var batch = QctProcess.Run("batch", root, "--out", folder.File("out"), "--db", folder.File("results.sqlite"));
        var elapsed = DateTime.UtcNow - started;

        Assert.True(batch.ExitCode == 0, batch.Output + batch.Error);
        Assert.DoesNotContain("Unhandled exception", batch.Error, StringComparison.Ordinal);
        var lines = Directory.GetFiles(Path.Combine(folder.File("out"), "logs"), "*.ndjson").SelectMany(File.ReadAllLines).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var outcomes = lines.GroupBy(l => l.GetProperty("status").GetString()!).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"{lines.Count} log lines in {elapsed.TotalSeconds:0} s: {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}"))}");
        Assert.All(lines.Where(l => l.GetProperty("status").GetString() is "error" or "file-problem" or "ignored"), l =>
        {
            var reason = l.GetProperty("reason").GetString();
            Assert.False(string.IsNullOrWhiteSpace(reason));
            Assert.DoesNotContain('\n', reason!);
        });
        Assert.Contains(lines, l => l.GetProperty("status").GetString() is "ok" or "no-l1");
        Assert.True(elapsed < TimeSpan.FromMinutes(2), $"took {elapsed}");
    }
}
