using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

/// <summary>
/// One SOP instance in two files of a real series (a resent slice, an export copied over another): identical copies
/// are one image, named; copies that differ refuse the series, naming both, rather than measuring either on a guess.
/// </summary>
public sealed class DuplicateInstanceTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly IngestOptions options = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void An_identical_second_copy_of_a_lidc_slice_is_left_out_by_name()
    {
        var (original, copy) = CopyLidcWithASecondCopyOfSlice(66);

        var survey = DicomIngest.Survey(folder.Path, options);
        var series = survey.Selection.Selected ?? throw new Xunit.Sdk.XunitException(survey.Selection.Reason);
        var loaded = DicomIngest.Load(series, options);

        Assert.Equal(133, loaded.Volume.Geometry.SizeZ);
        Assert.Contains(series.Frames, f => f.FilePath == original);
        Assert.DoesNotContain(series.Frames, f => f.FilePath == copy);
        Assert.Contains(series.Warnings, w => w.Contains(copy, StringComparison.Ordinal) && w.Contains(original, StringComparison.Ordinal) && w.Contains("left out", StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_copy_with_other_pixels_refuses_the_series_naming_both_files()
    {
        var (original, copy) = CopyLidcWithASecondCopyOfSlice(66);
        var bytes = File.ReadAllBytes(copy);
        bytes[^2] ^= 0x40;
        File.WriteAllBytes(copy, bytes);

        var survey = DicomIngest.Survey(folder.Path, options);

        Assert.Null(survey.Selection.Selected);
        var refused = Assert.Single(survey.Series);
        Assert.Contains("differ in pixel data", refused.SkipReason, StringComparison.Ordinal);
        Assert.Contains(original, refused.SkipReason, StringComparison.Ordinal);
        Assert.Contains(copy, refused.SkipReason, StringComparison.Ordinal);
    }

    [Fact]
    public void What_a_series_is_comes_before_its_repeated_instances()
    {
        // dcm2niix's 12-bit set: MR files, two of them one SOP instance with different pixel formats. It is skipped
        // for being MR, the reason a reader needs, not for the repeat.
        var survey = DicomIngest.Survey(RealData.Path("dcm-qa-12bit", "In"), options);

        var series = Assert.Single(survey.Series);
        Assert.StartsWith("modality MR is not CT", series.SkipReason, StringComparison.Ordinal);
    }

    private (string Original, string Copy) CopyLidcWithASecondCopyOfSlice(int index)
    {
        var files = Directory.GetFiles(RealData.Path("lidc-0001-chest-ct", "dicom")).Order(StringComparer.Ordinal).ToArray();
        foreach (var file in files)
        {
            File.Copy(file, Path.Combine(folder.Path, Path.GetFileName(file)));
        }

        var original = Path.Combine(folder.Path, Path.GetFileName(files[index]));
        var copy = Path.Combine(folder.Path, "resent-" + Path.GetFileName(files[index]));
        File.Copy(original, copy);
        return (original, copy);
    }
}
