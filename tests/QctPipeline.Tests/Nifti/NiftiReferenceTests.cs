using System.Buffers.Binary;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Nifti;

namespace QctPipeline.Tests.Nifti;

/// <summary>
/// Our NIfTI output against files we did not make: dcm2niix's conversions of the dcm_qa mosaics and
/// TotalSegmentator's label map of the ts-spine-j2k CT series.
/// </summary>
public sealed class NiftiReferenceTests : IDisposable
{
    private const double AffineTolerance = 1e-3;

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Dcm2niixReference_ReadsWithItsHeader()
    {
        var image = NiftiReader.Read(RealData.Path("dcm-qa-ts", "Ref", "1.nii"));

        Assert.Equal([64, 64, 35], image.Dimensions);
        Assert.Equal(NiftiDataType.Int16, image.DataType);
        Assert.Equal([-1f, 3.25f, 3.25f], image.PixelDimensions.Take(3));
        Assert.Equal(3.6, image.PixelDimensions[3], 1e-6);
        Assert.Equal((1, 1), (image.QformCode, image.SformCode));
        Assert.Equal(352, image.VoxelOffset);
        Assert.Equal(104.0, image.Sform[0, 3], 1e-4);
        Assert.Equal(-58.68431, image.Sform[1, 3], 1e-4);
        Assert.Equal(-84.79803, image.Sform[2, 3], 1e-4);
        Assert.True(image.QformMatrix.MaxAbsDifference(image.Sform) < 1e-4, $"qform {image.QformMatrix} vs sform {image.Sform}");
    }

    /// <summary>dcm2niix stores a slice's DICOM rows bottom-up: its voxel (i, j) is DICOM pixel (column i, row last − j).</summary>
    [Fact]
    public void Dcm2niixReference_StoresDicomRowsInReverse()
    {
        var dicom = DicomFile.Parse(RealData.Path("dcm-qa-ts", "In", "1.dcm"), File.ReadAllBytes(RealData.Path("dcm-qa-ts", "In", "1.dcm")));
        var pixels = dicom.Dataset.Find(DicomTag.PixelData)!.Value.Span;
        var reference = NiftiReader.Read(RealData.Path("dcm-qa-ts", "Ref", "1.nii"));
        const int tile = 64, mosaicColumns = 384, tilesPerRow = 6;

        for (var k = 0; k < reference.SizeZ; k++)
        {
            var (tileRow, tileColumn) = Math.DivRem(k, tilesPerRow);
            for (var j = 0; j < tile; j++)
            {
                for (var i = 0; i < tile; i++)
                {
                    var dicomRow = tile - 1 - j;
                    var mosaicIndex = (tileRow * tile + dicomRow) * mosaicColumns + tileColumn * tile + i;
                    Assert.Equal(BinaryPrimitives.ReadUInt16LittleEndian(pixels[(2 * mosaicIndex)..]), reference[i, j, k]);
                }
            }
        }
    }

    /// <summary>The one image stored in nine transfer syntaxes decodes, through the ingest stage, to the same values as dcm2niix's.</summary>
    [Fact]
    public void EveryTransferSyntaxDecodesThroughIngestToTheReference()
    {
        var reference = NiftiReader.Read(RealData.Path("dcm-qa-ts", "Ref", "1.nii"));
        var firstPath = RealData.Path("dcm-qa-ts", "In", "1.dcm");
        var first = DecodedThroughIngest(firstPath);

        // The mosaic layout is read from 1.dcm: the private Siemens tags of the implicit-VR copy have no VR to decode them by.
        var header = DicomFile.ReadHeader(firstPath).Dataset;
        for (var file = 1; file <= 9; file++)
        {
            var path = RealData.Path("dcm-qa-ts", "In", $"{file}.dcm");
            var decoded = DecodedThroughIngest(path);
            Assert.True(decoded.AsSpan().SequenceEqual(first), $"{file}.dcm decodes differently from 1.dcm");

            var volume = SiemensMosaic.Volume(header, decoded);
            var output = folder.File($"{file}.nii");
            NiftiWriter.Write(volume, output);
            Assert.True(NiftiReader.Read(output).Voxels.Span.SequenceEqual(reference.Voxels.Span), $"{file}.dcm differs from dcm2niix's 1.nii");
        }
    }

    private static float[] DecodedThroughIngest(string path)
    {
        var options = new IngestOptions { AnyModality = true, MinSlices = 1 };
        var survey = DicomIngest.Survey(path, options);
        return DicomIngest.Load(survey.Selection.Selected!, options).Volume.Voxels.ToArray();
    }

    [Theory]
    [InlineData("dcm-qa-ts", "1.dcm", "1.nii")]
    [InlineData("dcm-qa-12bit", "12bitUnsigned.dcm", "2.nii")]
    [InlineData("dcm-qa-12bit", "12bitUnsigned_0x0F0F.dcm", "3.nii")]
    [InlineData("dcm-qa-12bit", "12bitSigned_0x0F0F.dcm", "4.nii")]
    public void VolumeBuiltFromTheDicomHeader_IsWrittenLikeDcm2niix(string set, string dicomName, string referenceName)
    {
        var dicomPath = RealData.Path(set, "In", dicomName);
        var volume = SiemensMosaic.Volume(DicomFile.ReadHeader(dicomPath).Dataset, DecodedThroughIngest(dicomPath));
        var reference = NiftiReader.Read(RealData.Path(set, "Ref", referenceName));
        var path = folder.File("mosaic.nii");

        NiftiWriter.Write(volume, path);
        var written = NiftiReader.Read(path);

        Assert.Equal(reference.Dimensions, written.Dimensions);
        Assert.Equal(reference.PixelDimensions.Take(4).Select(value => Math.Round(value, 4)), written.PixelDimensions.Take(4).Select(value => Math.Round(value, 4)));
        Assert.True(written.Sform.MaxAbsDifference(reference.Sform) < AffineTolerance, $"sform {written.Sform} vs dcm2niix {reference.Sform}");
        Assert.True(written.QformMatrix.MaxAbsDifference(reference.QformMatrix) < AffineTolerance, $"qform {written.QformMatrix} vs dcm2niix {reference.QformMatrix}");
        Assert.True(written.Voxels.Span.SequenceEqual(reference.Voxels.Span), "voxels differ from dcm2niix's");
    }

    [Fact]
    public void TotalSegmentatorLabels_ReadWithTheirHeader()
    {
        var labels = NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz"));

        Assert.Equal([512, 512, 20], labels.Dimensions);
        Assert.Equal(NiftiDataType.UInt8, labels.DataType);
        Assert.Equal((0, 2), (labels.QformCode, labels.SformCode));
        Assert.Equal(-1f, labels.PixelDimensions[0]);
        var expected = new NiftiAffine(new[,]
        {
            { -0.9765625, 0, 0, 249.51171875 },
            { 0, 0.9765625, 0, -61.51171875 },
            { 0, 0, 2, -804.5 },
        });
        Assert.True(labels.Sform.MaxAbsDifference(expected) < 1e-6, $"sform {labels.Sform}");
        Assert.True(labels.QformMatrix.MaxAbsDifference(expected) < 1e-6, $"qform {labels.QformMatrix}");
    }

    /// <summary>
    /// The affine must put the organs where they are: liver right (+x) of spleen, costal cartilage anterior (+y) to
    /// the spinal cord, T11 superior (+z) to T12. TotalSegmentator v2 labels: 1 spleen, 5 liver, 32 T12, 33 T11,
    /// 79 spinal cord, 117 costal cartilages.
    /// </summary>
    [Fact]
    public void TotalSegmentatorLabels_SitWhereTheAffineSaysTheAnatomyIs()
    {
        var labels = NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz"));

        Assert.True(Centroid(labels, 5).X > Centroid(labels, 1).X + 50);
        Assert.True(Centroid(labels, 117).Y > Centroid(labels, 79).Y + 50);
        Assert.True(Centroid(labels, 33).Z > Centroid(labels, 32).Z + 5);
    }

    [Fact]
    public void ConvertedTsSpineSeries_HasTheLabelMapsDimensionsAndAffine()
    {
        var geometry = GeometryFromHeaders(RealData.Path("ts-spine-j2k", "dicom"));
        var labels = NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz"));
        var path = folder.File("ct.nii.gz");

        NiftiWriter.Write(new CtVolume(geometry, new float[geometry.VoxelCount]), path);
        var written = NiftiReader.Read(path);

        Assert.Equal(labels.Dimensions, written.Dimensions);
        Assert.True(written.Sform.MaxAbsDifference(labels.Sform) < AffineTolerance, $"sform {written.Sform} vs labels {labels.Sform}");
        Assert.True(written.QformMatrix.MaxAbsDifference(labels.QformMatrix) < AffineTolerance, $"qform {written.QformMatrix} vs labels {labels.QformMatrix}");
    }

    /// <summary>Slices in ascending order along row × column, as the series assembler orders them.</summary>
    private static VolumeGeometry GeometryFromHeaders(string folderPath)
    {
        var datasets = Directory.GetFiles(folderPath).Select(file => DicomFile.ReadHeader(file).Dataset).ToList();
        var cosines = datasets[0].GetNumbers(DicomTag.ImageOrientationPatient)!;
        var row = new Vector3(cosines[0], cosines[1], cosines[2]);
        var column = new Vector3(cosines[3], cosines[4], cosines[5]);
        var normal = row.Cross(column);
        var positions = datasets
            .Select(dataset => dataset.GetNumbers(DicomTag.ImagePositionPatient)!)
            .Select(position => new Vector3(position[0], position[1], position[2]))
            .OrderBy(position => position.Dot(normal))
            .ToList();
        var pixelSpacing = datasets[0].GetNumbers(DicomTag.PixelSpacing)!;
        var sliceSpacing = (positions[^1] - positions[0]).Dot(normal) / (positions.Count - 1);
        return new VolumeGeometry(
            (int)datasets[0].GetInteger(DicomTag.Columns)!.Value, (int)datasets[0].GetInteger(DicomTag.Rows)!.Value, positions.Count,
            positions[0], new Vector3(pixelSpacing[1], pixelSpacing[0], sliceSpacing), row, column, normal);
    }

    private static (double X, double Y, double Z) Centroid(NiftiImage image, int label)
    {
        double sumI = 0, sumJ = 0, sumK = 0;
        var count = 0;
        for (var k = 0; k < image.SizeZ; k++)
        {
            for (var j = 0; j < image.SizeY; j++)
            {
                for (var i = 0; i < image.SizeX; i++)
                {
                    if (image[i, j, k] == label)
                    {
                        (sumI, sumJ, sumK, count) = (sumI + i, sumJ + j, sumK + k, count + 1);
                    }
                }
            }
        }

        Assert.True(count > 0, $"label {label} is absent");
        return image.Sform.VoxelToWorld(sumI / count, sumJ / count, sumK / count);
    }
}
