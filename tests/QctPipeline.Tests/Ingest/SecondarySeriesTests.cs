using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

/// <summary>
/// Public archives (TCIA) and many PACS mark reconstructed axial CT series ORIGINAL\SECONDARY\AXIAL: such a series is
/// used, with a warning, when no primary series qualifies, and ranked below a primary one when there is one.
/// </summary>
public sealed class SecondarySeriesTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly IngestOptions options = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void ARealSeriesMarkedSecondaryIsLoadedWithAWarning()
    {
        // TotalSegmentator's 20-slice series, copied, its ImageType rewritten by dcmtk as LIDC-IDRI's series carry it.
        var copies = Directory.GetFiles(RealData.Path("ts-spine-j2k", "dicom"))
            .Select(file => { var copy = Path.Combine(folder.Path, Path.GetFileName(file)); File.Copy(file, copy); return copy; })
            .ToArray();
        var edit = ExternalProcess.Run("dcmodify", ["-nb", "-m", @"(0008,0008)=ORIGINAL\SECONDARY\AXIAL", .. copies]);
        Assert.True(edit.ExitCode == 0, edit.Error);

        var survey = DicomIngest.Survey(folder.Path, options);
        var selected = survey.Selection.Selected;

        Assert.NotNull(selected);
        Assert.StartsWith("SECONDARY (no primary series qualifies), axial", survey.Selection.Reason, StringComparison.Ordinal);
        Assert.Contains(selected.Warnings, w => w.Contains(@"ImageType ORIGINAL\SECONDARY\AXIAL marks the series SECONDARY", StringComparison.Ordinal));
        Assert.Equal(20, DicomIngest.Load(selected, options).Volume.Geometry.SizeZ);
    }

    [Fact]
    public void APrimarySeriesIsPreferredToABetterLookingSecondaryOne()
    {
        // The secondary series is thinner and covers more, which would otherwise win.
        new SyntheticSeries { SeriesUid = "2.25.2001" }.Write(folder.Path, SyntheticSeries.Axial(12, 2.5));
        new SyntheticSeries { SeriesUid = "2.25.2002", ImageType = @"ORIGINAL\SECONDARY\AXIAL", SliceThickness = 1 }.Write(folder.Path, SyntheticSeries.Axial(40, 1));

        var survey = DicomIngest.Survey(folder.Path, options);

        Assert.Equal(2, survey.Series.Count(s => s.Usable));
        Assert.Equal("2.25.2001", survey.Selection.Selected!.SeriesInstanceUid);
        Assert.Contains("in order: primary, axial", survey.Selection.Reason, StringComparison.Ordinal);
    }
}
