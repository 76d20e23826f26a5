using System.Buffers.Binary;
using QctPipeline.Dicom;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Phantom;

/// <summary>The written series read back through our DICOM reader has exactly the geometry truth.json states.</summary>
public sealed class PhantomSeriesTests(WrittenPhantomFixture fixture) : IClassFixture<WrittenPhantomFixture>
{
    [Fact]
    public void HeadersMatchTheTruth()
    {
        var series = fixture.Truth.Series;
        var files = Directory.GetFiles(Path.Combine(fixture.Directory, PhantomStudyWriter.DicomFolder), "*.dcm").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(series.SliceCount, files.Length);
        var first = DicomFile.ReadHeader(files[0]).Dataset;
        var last = DicomFile.ReadHeader(files[^1]).Dataset;
        Assert.Equal("1.2.840.10008.5.1.4.1.1.2", first.GetString(DicomTag.SopClassUid));
        Assert.Equal(["ORIGINAL", "PRIMARY", "AXIAL"], first.GetStrings(DicomTag.ImageType));
        Assert.Equal("QctPipeline Phantom", first.GetString(DicomTag.Manufacturer));
        Assert.Equal(series.Rows, first.GetInteger(DicomTag.Rows));
        Assert.Equal(series.Columns, first.GetInteger(DicomTag.Columns));
        Assert.Equal(series.PixelSpacingMm, first.GetNumbers(DicomTag.PixelSpacing)![0], 6);
        Assert.Equal(series.SliceThicknessMm, first.GetNumber(DicomTag.SliceThickness));
        Assert.Equal(120, first.GetNumber(DicomTag.Kvp));
        Assert.Equal("STANDARD", first.GetString(DicomTag.ConvolutionKernel));
        Assert.Equal(-1024, first.GetNumber(DicomTag.RescaleIntercept));
        Assert.Equal(1, first.GetNumber(DicomTag.RescaleSlope));
        Assert.Equal(1, first.GetInteger(DicomTag.PixelRepresentation));
        Assert.Equal("PHANTOM-0001", first.GetString(DicomTag.PatientId));
        Assert.Equal(new DateOnly(2025, 1, 10), first.GetDate(DicomTag.StudyDate));
        Assert.Null(first.GetString(DicomTag.ContrastBolusAgent));
        Assert.Equal(series.ImageOrientationPatient, first.GetNumbers(DicomTag.ImageOrientationPatient));
        Assert.Equal(series.FirstImagePositionPatient, first.GetNumbers(DicomTag.ImagePositionPatient));
        Assert.Equal(series.LastImagePositionPatient, last.GetNumbers(DicomTag.ImagePositionPatient));
        Assert.Equal(series.SeriesInstanceUid, last.GetString(DicomTag.SeriesInstanceUid));
        Assert.StartsWith("2.25.", series.StudyInstanceUid, StringComparison.Ordinal);
        Assert.NotEqual(first.GetString(DicomTag.SopInstanceUid), last.GetString(DicomTag.SopInstanceUid));
    }

    [Fact]
    public void PixelDataIsTheVolumeShiftedByTheIntercept()
    {
        var study = fixture.Study;
        var k = study.Volume.Geometry.SizeZ / 2;
        var path = Path.Combine(fixture.Directory, PhantomStudyWriter.DicomFolder, $"IM{k + 1:000000}.dcm");
        var file = DicomFile.Parse(path, File.ReadAllBytes(path));
        var pixels = file.Dataset.Find(DicomTag.PixelData)!.Value.Span;
        var slice = study.Volume.Slice(k);
        Assert.Equal(slice.Length * 2, pixels.Length);
        for (var index = 0; index < slice.Length; index += 37)
        {
            Assert.Equal(slice[index], BinaryPrimitives.ReadInt16LittleEndian(pixels[(2 * index)..]) - 1024);
        }
    }

    [Theory]
    [InlineData(PatientOrientation.HeadFirstProne, 0.0)]
    [InlineData(PatientOrientation.FeetFirstSupine, 12.0)]
    [InlineData(PatientOrientation.HeadFirstSupine, -15.0)]
    public void OrientationAndTiltAreWrittenAsStated(PatientOrientation orientation, double tilt)
    {
        var directory = SmallPhantoms.TemporaryDirectory();
        try
        {
            var options = SmallPhantoms.Options with { Matrix = 96, ReconstructionDiameterMm = 420, Orientation = orientation, GantryTiltDegrees = tilt, SliceThicknessMm = 5, SliceSpacingMm = 5 };
            var truth = PhantomStudyWriter.Write(PhantomGenerator.Generate(options), directory);
            var files = Directory.GetFiles(Path.Combine(directory, PhantomStudyWriter.DicomFolder)).Order(StringComparer.Ordinal).ToArray();
            var first = DicomFile.ReadHeader(files[0]).Dataset;
            var second = DicomFile.ReadHeader(files[1]).Dataset;
            Assert.Equal(PhantomStudyWriter.PatientPosition(orientation), first.GetString(new DicomTag(0x0018, 0x5100)));
            Assert.Equal(tilt, first.GetNumber(DicomTag.GantryDetectorTilt));
            Assert.Equal(truth.Series.ImageOrientationPatient, first.GetNumbers(DicomTag.ImageOrientationPatient));
            var orientationCosines = first.GetNumbers(DicomTag.ImageOrientationPatient)!;
            var column = new Domain.Vector3(orientationCosines[3], orientationCosines[4], orientationCosines[5]);
            Assert.Equal(Math.Cos(tilt * Math.PI / 180), Math.Abs(column.Y), 4);

            // Slices step along the table (z) by the spacing, whatever the tilt: a tilted stack is sheared.
            var p0 = first.GetNumbers(DicomTag.ImagePositionPatient)!;
            var p1 = second.GetNumbers(DicomTag.ImagePositionPatient)!;
            Assert.Equal(5, Math.Abs(p1[2] - p0[2]), 3);
            Assert.Equal(0, p1[0] - p0[0], 3);
            Assert.Equal(0, p1[1] - p0[1], 3);
            Assert.Equal(orientation == PatientOrientation.FeetFirstSupine ? 1 : -1, Math.Sign(p1[2] - p0[2]));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void ContrastStudiesNameTheAgentAndEnhanceTheAorta()
    {
        var none = new CtNumberModel(120);
        var venous = new ContrastModel(ContrastPhase.Venous, none);
        var arterial = new ContrastModel(ContrastPhase.Arterial, none);
        var plain = new ContrastModel(ContrastPhase.None, none);
        Assert.NotNull(PhantomStudyWriter.ContrastAgent(ContrastPhase.Venous));
        Assert.InRange(plain.Hu(TissueKind.ArterialBlood), 35, 65);
        Assert.InRange(venous.Hu(TissueKind.ArterialBlood), 150, 220);
        Assert.InRange(arterial.Hu(TissueKind.ArterialBlood), 250, 400);

        // Published L1 enhancement at 120 kVp: +13.5 HU arterial, +18.2 HU portal venous (Eur Radiol 2015).
        var density = 110.0;
        var baseline = none.Trabecular("L1", 0.6, plain.MarrowIodine()).HuAt(density);
        Assert.InRange(none.Trabecular("L1", 0.6, arterial.MarrowIodine()).HuAt(density) - baseline, 12.5, 14.5);
        Assert.InRange(none.Trabecular("L1", 0.6, venous.MarrowIodine()).HuAt(density) - baseline, 17, 19.5);
    }

    [Fact]
    public void DeflatedSeriesReadsBackWithTheSamePixels()
    {
        var directory = SmallPhantoms.TemporaryDirectory();
        try
        {
            var options = SmallPhantoms.Options with { Matrix = 96, SliceThicknessMm = 5, SliceSpacingMm = 5, Deflate = true };
            var study = PhantomGenerator.Generate(options);
            PhantomStudyWriter.Write(study, directory);
            var path = Directory.GetFiles(Path.Combine(directory, PhantomStudyWriter.DicomFolder)).Order(StringComparer.Ordinal).First();
            Assert.Equal(TransferSyntax.DeflatedExplicitVRLittleEndian, DicomFile.ReadHeader(path).TransferSyntax);
            var pixels = DicomFile.Parse(path, File.ReadAllBytes(path)).Dataset.Find(DicomTag.PixelData)!.Value.Span;
            var slice = study.Volume.Slice(0);
            for (var index = 0; index < slice.Length; index++)
            {
                Assert.Equal(slice[index], BinaryPrimitives.ReadInt16LittleEndian(pixels[(2 * index)..]) - 1024);
            }

            Assert.True(new FileInfo(path).Length < 96 * 96 * 2, "deflate did not shrink the file");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
