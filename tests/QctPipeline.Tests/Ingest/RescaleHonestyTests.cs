using QctPipeline.Dicom;
using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

/// <summary>
/// A missing RescaleSlope or RescaleIntercept is said, never silently taken as 1 / 0; a series whose values then cannot be
/// HU (no air near -1000) is refused with the reason. On TotalSegmentator's real series (unsigned, intercept -1024),
/// copied and edited by dcmtk.
/// </summary>
public sealed class RescaleHonestyTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly IngestOptions options = new();

    public void Dispose() => folder.Dispose();

    private string[] CopyRealSeries() => Directory.GetFiles(RealData.Path("ts-spine-j2k", "dicom"))
        .Select(file => { var copy = Path.Combine(folder.Path, Path.GetFileName(file)); File.Copy(file, copy); return copy; })
        .ToArray();

    private void Strip(string[] files, params string[] tags)
    {
        var edit = ExternalProcess.Run("dcmodify", ["-nb", .. tags.SelectMany(tag => new[] { "-e", tag }), .. files]);
        Assert.True(edit.ExitCode == 0, edit.Error);
    }

    [Fact]
    public void AStrippedInterceptRefusesTheSeriesBecauseItsAirIsNotNearMinus1000()
    {
        Strip(CopyRealSeries(), "(0028,1052)", "(0028,1053)");
        var series = DicomIngest.Survey(folder.Path, options).Selection.Selected!;

        var error = Assert.Throws<DicomFormatException>(() => DicomIngest.Load(series, options));

        Assert.Contains(series.Warnings, w => w.StartsWith("RescaleSlope and RescaleIntercept missing: taken as 1 and 0", StringComparison.Ordinal));
        Assert.Contains("cannot be in HU", error.Message, StringComparison.Ordinal);
        Assert.Contains("nowhere near air at -1000 HU", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStrippedSlopeIsSaidAndTheSeriesStillReadsAirAsAir()
    {
        Strip(CopyRealSeries(), "(0028,1053)");
        var series = DicomIngest.Survey(folder.Path, options).Selection.Selected!;

        var loaded = DicomIngest.Load(series, options);

        Assert.Contains(loaded.Warnings, w => w.StartsWith("RescaleSlope missing: taken as 1", StringComparison.Ordinal));
        Assert.InRange(loaded.Summary.Min, -1024, -900);
    }
}

/// <summary>MONOCHROME1 says how to display the image; the rescale to HU applies to the stored values as they are.</summary>
public sealed class Monochrome1Tests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void AMonochrome1SeriesReadsTheSameHuAsItsStoredValuesSay()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.5), (_, writer) =>
            writer.Remove(DicomTag.PhotometricInterpretation).Add(DicomTag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME1"));
        var options = new IngestOptions();

        var loaded = DicomIngest.Load(DicomIngest.Survey(folder.Path, options).Selection.Selected!, options);

        for (var k = 0; k < 12; k++)
        {
            Assert.Equal(SyntheticSeries.Hu(k, 7), loaded.Volume[7, 3, k]);
        }
    }
}

/// <summary>A descriptive value that does not parse is named as malformed, with its value, not reported as not stated.</summary>
public sealed class MalformedValueTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void AMalformedKvpAndStudyDateAreNamedWithTheirValues()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.5), (_, writer) => writer
            .Add(DicomTag.Kvp, DicomVR.DS, "12O")
            .Add(DicomTag.StudyDate, DicomVR.DA, "20251345"));

        var series = DicomIngest.Survey(folder.Path, new IngestOptions()).Selection.Selected!;

        Assert.Null(series.Metadata.Kvp);
        Assert.Null(series.Metadata.StudyDate);
        Assert.Contains("KVP (0018,0060) '12O' is malformed: taken as absent", series.Warnings);
        Assert.Contains("StudyDate (0008,0020) '20251345' is malformed: taken as absent", series.Warnings);
    }
}
