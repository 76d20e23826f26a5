namespace QctPipeline.Tests.Cli;

/// <summary>The batch's HTML opens in a real browser (Debian's headless Chromium) with nothing fetched from anywhere.</summary>
public sealed class ReportRenderingTests
{
    private static (int ExitCode, string Output) Chromium(params string[] arguments)
    {
        var (code, output, _) = ExternalProcess.Run("chromium", ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", .. arguments]);
        return (code, output);
    }

    [Fact]
    public void Study_report_and_cohort_index_render_in_headless_chromium_with_every_image_inline()
    {
        using var folder = new TempFolder();
        var batch = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom", "patient-a"), "--out", folder.File("out"), "--db", folder.File("results.sqlite"));
        Assert.True(batch.ExitCode == 0, batch.Error);
        var reports = Directory.GetFiles(folder.File("out"), "report.html", SearchOption.AllDirectories);
        Assert.Equal(2, reports.Length);
        var followUp = reports.Single(r => File.ReadAllText(r).Contains("2025-07-11", StringComparison.Ordinal));
        var html = File.ReadAllText(followUp);

        // Self-contained: images inline, nothing to fetch.
        Assert.Equal(4, html.Split("src=\"data:image/png;base64,").Length - 1);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("vBMD declined ≥ 5 %", html, StringComparison.Ordinal);

        var screenshot = folder.File("report.png");
        var (code, _) = Chromium("--window-size=1280,1800", $"--screenshot={screenshot}", "file://" + followUp);
        Assert.Equal(0, code);
        Assert.True(new FileInfo(screenshot).Length > 50_000, "the screenshot is (nearly) blank");

        var (indexCode, dom) = Chromium("--dump-dom", "file://" + Path.Combine(folder.File("out"), "index.html"));
        Assert.Equal(0, indexCode);
        Assert.Contains("SAMPLE-A", dom, StringComparison.Ordinal);
        Assert.Contains("<td>yes</td>", dom, StringComparison.Ordinal);
    }
}
