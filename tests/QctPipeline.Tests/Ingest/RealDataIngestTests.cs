using System.Text.Json;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Nifti;
using QctPipeline.Tests.Nifti;

namespace QctPipeline.Tests.Ingest;

public sealed class RealDataIngestTests
{
    private static readonly IngestOptions Options = new();

    [Fact]
    public void CtExamFolderSelectsTheAxialSeriesAndSkipsScoutAndSecondaryCaptures()
    {
        var survey = DicomIngest.Survey(RealData.Path("dcm-qa-ct-exam"), Options);

        var selected = survey.Selection.Selected!;
        Assert.All(selected.Frames, f => Assert.Contains($"{Path.DirectorySeparatorChar}S2010{Path.DirectorySeparatorChar}", f.FilePath));
        Assert.Equal(28, selected.Frames.Count);
        Assert.Equal(5.0, selected.Geometry!.SliceSpacing, 3);
        using var reference = JsonDocument.Parse(File.ReadAllText(RealData.Path("dcm-qa-ct-exam", "S2010.reference.json")));
        var orientation = reference.RootElement.GetProperty("ImageOrientationPatientDICOM").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var g = selected.Geometry;
        Assert.Equal(orientation, new[] { g.RowDirection.X, g.RowDirection.Y, g.RowDirection.Z, g.ColumnDirection.X, g.ColumnDirection.Y, g.ColumnDirection.Z });
        Assert.Equal("UB", selected.Metadata.ConvolutionKernel);
        Assert.Equal("Philips", selected.Metadata.Manufacturer);

        var skipped = survey.Series.Where(s => !s.Usable).ToList();
        Assert.Contains(skipped, s => s.Frames.Any(f => f.FilePath.Contains("S1000")) && s.SkipReason!.StartsWith("localizer/scout", StringComparison.Ordinal));
        Assert.Contains(skipped, s => s.Frames.Any(f => f.FilePath.Contains("S4010")) && s.SkipReason!.StartsWith("secondary capture", StringComparison.Ordinal));
        Assert.Empty(survey.Problems);
        Assert.Equal(4, survey.Ignored.Count(p => Path.GetFileName(p.Path) == "DIRFILE" && p.Reason == "DICOMDIR (media directory index), not an image"));
    }

    [Fact]
    public void An_assembled_series_keeps_the_first_frames_header_and_only_the_identity_of_the_others()
    {
        var selected = DicomIngest.Survey(RealData.Path("dcm-qa-ct-exam", "S2010"), Options).Selection.Selected!;

        Assert.Equal("UB", selected.Frames[0].Header.GetString(DicomTag.ConvolutionKernel));
        Assert.All(selected.Frames.Skip(1), f =>
        {
            Assert.Equal(5, f.Header.Elements.Count());
            Assert.Null(f.Header.GetString(DicomTag.ConvolutionKernel));
            Assert.Equal("CT", f.Modality);
            Assert.Equal(selected.SeriesInstanceUid, f.SeriesInstanceUid);
        });
        Assert.Equal(selected.Frames.Count, selected.Frames.Select(f => f.Header.GetString(DicomTag.SopInstanceUid)).Distinct().Count());
    }

    [Fact]
    public void CtExamVolumeIsInHounsfieldUnits()
    {
        var survey = DicomIngest.Survey(RealData.Path("dcm-qa-ct-exam", "S2010"), Options);
        var loaded = DicomIngest.Load(survey.Selection.Selected!, Options);

        Assert.Equal((512, 512, 28), (loaded.Volume.Geometry.SizeX, loaded.Volume.Geometry.SizeY, loaded.Volume.Geometry.SizeZ));
        Assert.Equal(-1024, loaded.Summary.Min);
        // The brightest stored value in S2010 is 1806 (checked by reading the raw pixel data): 1806 − 1024.
        Assert.Equal(782, loaded.Summary.Max);
        Assert.InRange(MedianOfCorner(loaded.Volume, loaded.Volume.Geometry.SizeZ / 2), -1030, -980);
    }

    [Fact]
    public void JpegTwoThousandSpineSeriesDecodesOnTheLabelMapsGrid()
    {
        var survey = DicomIngest.Survey(RealData.Path("ts-spine-j2k", "dicom"), Options);
        var selected = survey.Selection.Selected!;
        Assert.Equal(["JPEG 2000 Lossless"], selected.TransferSyntaxes);
        Assert.Equal(20, selected.Frames.Count);
        Assert.Equal(2.0, selected.Geometry!.SliceSpacing, 6);
        Assert.StartsWith("no SeriesInstanceUID: grouped by folder", selected.Part, StringComparison.Ordinal);

        var loaded = DicomIngest.Load(selected, Options);
        var volume = loaded.Volume;
        Assert.InRange(MedianOfCorner(volume, 10), -1030, -970);

        using var folder = new TempFolder();
        NiftiWriter.Write(volume, folder.File("ct.nii.gz"));
        var written = NiftiReader.Read(folder.File("ct.nii.gz"));
        var labels = NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz"));
        Assert.Equal(labels.Dimensions, written.Dimensions);
        Assert.True(written.Sform.MaxAbsDifference(labels.Sform) < 1e-3, $"sform {written.Sform} vs {labels.Sform}");

        // Bone where the label map says vertebra (T12 = 32), soft tissue or fat where it says nothing.
        Assert.InRange(MeanWhere(written, labels, l => l == 32), 150, 600);
    }

    [Fact]
    public void ChestCtPaddingBecomesAirAndIsReported()
    {
        var survey = DicomIngest.Survey(RealData.Path("lidc-0001-chest-ct", "dicom"), Options);
        var loaded = DicomIngest.Load(survey.Selection.Selected!, Options);

        Assert.Equal(133, loaded.Volume.Geometry.SizeZ);
        Assert.Equal(2.5, loaded.Volume.Geometry.Spacing.Z, 3);
        Assert.Equal(-1024, loaded.Summary.Min);
        Assert.Contains(loaded.Warnings, w => w.Contains("PixelPaddingValue") || w.Contains("below -1024 HU"));
    }

    /// <summary>Air in front of the patient, top rows of the image, away from the reconstruction circle's edge.</summary>
    private static float MedianOfCorner(CtVolume volume, int k)
    {
        var values = new List<float>();
        var size = volume.Geometry.SizeX;
        for (var j = 8; j < 16; j++)
        {
            for (var i = (size / 2) - 10; i < (size / 2) + 10; i++)
            {
                values.Add(volume[i, j, k]);
            }
        }

        values.Sort();
        return values[values.Count / 2];
    }

    private static double MeanWhere(NiftiImage image, NiftiImage labels, Func<float, bool> predicate)
    {
        var sum = 0.0;
        var count = 0;
        var voxels = image.Voxels.Span;
        var labelVoxels = labels.Voxels.Span;
        for (var i = 0; i < voxels.Length; i++)
        {
            if (predicate(labelVoxels[i]))
            {
                sum += voxels[i];
                count++;
            }
        }

        Assert.True(count > 100, $"only {count} labelled voxels");
        return sum / count;
    }
}
