using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

public sealed class SeriesGeometryTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly IngestOptions options = new();

    public void Dispose() => folder.Dispose();

    private IngestSurvey Survey() => DicomIngest.Survey(folder.Path, options);

    [Fact]
    public void EvenAxialSeriesIsSortedByPositionNotFileOrder()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.5));

        var survey = Survey();
        var selected = Assert.Single(survey.Series);
        Assert.Same(selected, survey.Selection.Selected);
        var loaded = DicomIngest.Load(selected, options);
        var geometry = loaded.Volume.Geometry;

        Assert.Equal((20, 16, 12), (geometry.SizeX, geometry.SizeY, geometry.SizeZ));
        Assert.Equal(new Vector3(0.8, 0.8, 2.5), geometry.Spacing);
        Assert.Equal(new Vector3(-10, -20, -100), geometry.Origin);
        Assert.Equal(new Vector3(0, 0, 1), geometry.SliceDirection);
        Assert.Empty(loaded.Warnings);
        for (var k = 0; k < 12; k++)
        {
            Assert.Equal(SyntheticSeries.Hu(k, 7), loaded.Volume[7, 3, k]);
        }
    }

    [Fact]
    public void FeetFirstStackRunsAlongTheNormalFromTheLowestPosition()
    {
        var positions = SyntheticSeries.Axial(12, -3.0, z0: 50);
        new SyntheticSeries().Write(folder.Path, positions);

        var loaded = DicomIngest.Load(Survey().Selection.Selected!, options);

        Assert.Equal(50 - (11 * 3.0), loaded.Volume.Geometry.Origin.Z, 6);
        Assert.Equal(3.0, loaded.Volume.Geometry.Spacing.Z, 6);
        Assert.Equal(SyntheticSeries.Hu(11, 0), loaded.Volume[0, 0, 0]);
    }

    [Fact]
    public void GantryTiltIsMeasuredFromPositionsAndUndoneByShiftingSlices()
    {
        // Each slice 2 mm further along z is displaced 0.4 mm (half a pixel) along x: tilt atan(0.4 / 2) = 11.31°.
        var positions = Enumerable.Range(0, 12).Select(k => new Vector3(-10 + (0.4 * k), -20, -100 + (2.0 * k))).ToArray();
        new SyntheticSeries().Write(folder.Path, positions);

        var series = Survey().Selection.Selected!;
        Assert.Equal(Math.Atan(0.2) * 180 / Math.PI, series.Geometry!.TiltDegrees, 3);
        Assert.Contains(series.Warnings, w => w.Contains("gantry tilt 11.31°"));

        var loaded = DicomIngest.Load(series, options);
        Assert.Equal(new Vector3(0, 0, 1), loaded.Volume.Geometry.SliceDirection);
        for (var k = 0; k < 12; k++)
        {
            // Source slice k sampled half a pixel per slice to the left; HU is linear in the column, so bilinear is exact.
            var expected = SyntheticSeries.Hu(k, 15) - (0.5f * k);
            Assert.Equal(expected, loaded.Volume[15, 5, k], 3);
        }
    }

    [Fact]
    public void MissingSliceIsReportedAndFilledOnAnEvenGrid()
    {
        var positions = SyntheticSeries.Axial(13, 2.5).Where((_, k) => k != 4).ToArray();
        new SyntheticSeries().Write(folder.Path, positions);

        var series = Survey().Selection.Selected!;
        Assert.True(series.Geometry!.UnevenSpacing);
        Assert.Equal(2.5, series.Geometry.MinGap, 6);
        Assert.Equal(5.0, series.Geometry.MaxGap, 6);
        Assert.Contains(series.Warnings, w => w.StartsWith("missing slice: gap of 5 mm", StringComparison.Ordinal));

        var loaded = DicomIngest.Load(series, options);
        Assert.Equal(13, loaded.Volume.Geometry.SizeZ);
        Assert.Equal(2.5, loaded.Volume.Geometry.Spacing.Z, 6);
        // Source slices 3 and 4 (file indices) straddle the hole; the interpolated slice is their mean.
        Assert.Equal((SyntheticSeries.Hu(3, 2) + SyntheticSeries.Hu(4, 2)) / 2, loaded.Volume[2, 0, 4], 3);
        Assert.Equal(SyntheticSeries.Hu(4, 2), loaded.Volume[2, 0, 5], 3);
    }

    [Fact]
    public void UnevenSpacingIsAWarningWithTheGaps()
    {
        var positions = SyntheticSeries.Axial(12, 2.0).Select((p, k) => k > 6 ? p with { Z = p.Z + 0.5 } : p).ToArray();
        new SyntheticSeries().Write(folder.Path, positions);

        var series = Survey().Selection.Selected!;

        Assert.Contains(series.Warnings, w => w.Contains("uneven slice spacing: gaps from 2 to 2.5 mm"));
    }

    [Fact]
    public void DuplicatePositionIsAnErrorNamingBothFiles()
    {
        var positions = SyntheticSeries.Axial(12, 2.0);
        positions[5] = positions[4];
        var paths = new SyntheticSeries().Write(folder.Path, positions);

        var survey = Survey();

        Assert.Null(survey.Selection.Selected);
        var reason = Assert.Single(survey.Series).SkipReason!;
        Assert.StartsWith("duplicate slice position", reason, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(paths[4]), reason);
        Assert.Contains(Path.GetFileName(paths[5]), reason);
    }

    [Fact]
    public void RepeatedPositionsOfTwoAcquisitionsSplitIntoTwoVolumes()
    {
        var positions = SyntheticSeries.Axial(12, 2.0);
        var series = new SyntheticSeries();
        series.Write(folder.Path, positions, (_, w) => w.AddInteger(DicomTag.AcquisitionNumber, 1));
        series.Write(Directory.CreateDirectory(folder.File("second")).FullName, positions, (k, w) => w
            .AddInteger(DicomTag.AcquisitionNumber, 2)
            .Add(DicomTag.SopInstanceUid, DicomVR.UI, $"2.25.2000.{k}"));

        var survey = Survey();

        Assert.Equal(2, survey.Series.Count);
        Assert.All(survey.Series, s => Assert.True(s.Usable));
        Assert.Equal(["acquisition 1", "acquisition 2"], survey.Series.Select(s => s.Part!).Order());
    }

    [Fact]
    public void MrSeriesBesideCtIsSkippedUnlessAnyModalityIsAsked()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.0));
        new SyntheticSeries { SeriesUid = "2.25.3000", Modality = "MR" }.Write(folder.Path, SyntheticSeries.Axial(12, 2.0));

        var survey = Survey();

        Assert.Equal("2.25.1000", survey.Selection.Selected!.SeriesInstanceUid);
        Assert.Equal("modality MR is not CT (--any-modality accepts it)", survey.Series.Single(s => s.SeriesInstanceUid == "2.25.3000").SkipReason);
        Assert.All(DicomIngest.Survey(folder.Path, options with { AnyModality = true }).Series, s => Assert.True(s.Usable));
    }

    [Fact]
    public void LocalizerSharingTheSeriesUidIsSplitOffAndSkipped()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.0));
        new SyntheticSeries { ImageType = @"ORIGINAL\PRIMARY\LOCALIZER", Row = new Vector3(0, 1, 0), Column = new Vector3(0, 0, -1) }
            .Write(Directory.CreateDirectory(folder.File("scout")).FullName, [new Vector3(0, -200, 100)], (_, w) => w.Add(DicomTag.SopInstanceUid, DicomVR.UI, "2.25.4000.1"));

        var survey = Survey();

        Assert.Equal(2, survey.Series.Count);
        Assert.StartsWith("localizer/scout", survey.Series.Single(s => !s.Usable).SkipReason, StringComparison.Ordinal);
        Assert.All(survey.Series, s => Assert.Contains(s.Warnings, w => w.StartsWith("series split into 2 parts", StringComparison.Ordinal)));
        Assert.Equal(12, survey.Selection.Selected!.Frames.Count);
    }

    [Fact]
    public void TooFewSlicesIsASkipReason()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(4, 2.0));

        Assert.Equal("only 4 slices (fewer than 10)", Assert.Single(Survey().Series).SkipReason);
    }

    [Fact]
    public void ThinSoftKernelSeriesIsPreferredOverBoneKernelAndThickSlices()
    {
        new SyntheticSeries { SeriesUid = "2.25.1", SliceThickness = 5 }.Write(folder.Path, SyntheticSeries.Axial(20, 5.0));
        new SyntheticSeries { SeriesUid = "2.25.2", SliceThickness = 1 }.Write(folder.Path, SyntheticSeries.Axial(100, 1.0), (_, w) => w.Add(DicomTag.ConvolutionKernel, DicomVR.SH, "B70f"));
        new SyntheticSeries { SeriesUid = "2.25.3", SliceThickness = 1 }.Write(folder.Path, SyntheticSeries.Axial(100, 1.0));

        var selection = Survey().Selection;

        Assert.Equal("2.25.3", selection.Selected!.SeriesInstanceUid);
        Assert.StartsWith("axial, 1 mm slices, kernel B30f (SoftOrStandard)", selection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void NonOrthogonalOrientationIsRefused()
    {
        new SyntheticSeries { Column = new Vector3(0.3, 1, 0) }.Write(folder.Path, SyntheticSeries.Axial(12, 2.0));

        Assert.Contains("is not two orthogonal unit vectors", Assert.Single(Survey().Series).SkipReason);
    }
}
