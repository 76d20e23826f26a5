using QctPipeline.Dicom;
using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

/// <summary>
/// A slice without patient-space geometry (a broken export or anonymiser drops ImagePositionPatient) leaves its series,
/// named in a warning, instead of crashing the sort for everything: the rest is analysed, or refused with a reason when
/// what is left has a hole too wide to fill.
/// </summary>
public sealed class LostGeometryTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly IngestOptions options = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void OneSliceWithoutAPositionIsLeftOutByNameAndTheRestIsLoaded()
    {
        var paths = new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.5), (slice, writer) =>
        {
            if (slice == 5)
            {
                writer.Remove(DicomTag.ImagePositionPatient);
            }
        });

        var series = Assert.Single(DicomIngest.Survey(folder.Path, options).Series);
        Assert.Null(series.SkipReason);
        Assert.Contains(series.Warnings, w => w.StartsWith("1 slice left out without patient-space geometry", StringComparison.Ordinal)
            && w.Contains(paths[5], StringComparison.Ordinal) && w.Contains("ImagePositionPatient missing", StringComparison.Ordinal));
        var loaded = DicomIngest.Load(series, options);

        // The hole is one slice wide: filled by interpolation between its neighbours, and said so.
        Assert.Equal(12, loaded.Volume.Geometry.SizeZ);
        Assert.Equal((SyntheticSeries.Hu(4, 3) + SyntheticSeries.Hu(6, 3)) / 2, loaded.Volume[3, 0, 5], 3);
        Assert.Contains(loaded.Warnings, w => w.Contains("missing slice", StringComparison.Ordinal));
    }

    [Fact]
    public void ThreeAdjoiningSlicesWithoutPositionsRefuseTheSeriesWithTheReason()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(14, 2.5), (slice, writer) =>
        {
            if (slice is >= 5 and <= 7)
            {
                writer.Remove(DicomTag.ImagePositionPatient);
            }
        });

        var series = Assert.Single(DicomIngest.Survey(folder.Path, options).Series);

        Assert.Equal("3 slices without patient-space geometry left a gap of 10 mm (about 3 slices) in the stack", series.SkipReason);
    }

    [Fact]
    public void LidcWithOneSlicesPositionStrippedIsStillLoaded()
    {
        // LIDC-IDRI 0001 (133 slices), copied, with dcmtk removing (0020,0032) from one slice in the middle, as a broken
        // export or anonymiser does.
        var source = RealData.Path("lidc-0001-chest-ct", "dicom");
        var files = Directory.GetFiles(source).Order(StringComparer.Ordinal).ToArray();
        foreach (var file in files)
        {
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        }

        var broken = Path.Combine(folder.Path, Path.GetFileName(files[66]));
        var edit = ExternalProcess.Run("dcmodify", "-nb", "-e", "(0020,0032)", broken);
        Assert.True(edit.ExitCode == 0, edit.Error);

        var survey = DicomIngest.Survey(folder.Path, options);
        var loaded = DicomIngest.Load(survey.Selection.Selected!, options);

        Assert.Equal(133, loaded.Volume.Geometry.SizeZ);
        Assert.Contains(loaded.Warnings, w => w.Contains(broken, StringComparison.Ordinal) && w.Contains("ImagePositionPatient missing", StringComparison.Ordinal));
        Assert.Contains(loaded.Warnings, w => w.Contains("missing slice", StringComparison.Ordinal));
    }
}
