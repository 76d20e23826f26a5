using QctPipeline.Domain;
using QctPipeline.Nifti;

namespace QctPipeline.Tests.Nifti;

public sealed class NiftiRoundTripTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData(NiftiDataType.Int16, "oblique.nii")]
    [InlineData(NiftiDataType.Int16, "oblique.nii.gz")]
    [InlineData(NiftiDataType.Float32, "oblique.nii")]
    [InlineData(NiftiDataType.Float32, "oblique.nii.gz")]
    public void ObliqueVolume_ReadsBackWithItsHeaderGeometryAndVoxels(NiftiDataType dataType, string name)
    {
        var volume = Pattern(ObliqueGeometry(reverseSlices: false), fractional: dataType == NiftiDataType.Float32);
        var path = folder.File(name);

        NiftiWriter.Write(volume, path, new NiftiWriteOptions { DataType = dataType });
        var image = NiftiReader.Read(path);

        Assert.Equal([5, 4, 3], image.Dimensions);
        Assert.Equal(dataType, image.DataType);
        Assert.Equal([-1f, 0.7f, 0.8f, 1.25f], image.PixelDimensions.Take(4));
        Assert.Equal(352, image.VoxelOffset);
        Assert.Equal((1f, 0f), (image.ScaleSlope, image.ScaleIntercept));
        Assert.Equal(2, image.XyztUnits);
        Assert.Equal("QctPipeline", image.Description);
        Assert.Equal((1, 1), (image.QformCode, image.SformCode));
        Assert.False(image.BigEndian);
        AssertFileMatchesVolume(volume, image, reversedSlices: false);
    }

    [Fact]
    public void GzipPathIsCompressedAndPlainPathIsNot()
    {
        var volume = Pattern(ObliqueGeometry(reverseSlices: false), fractional: false);
        NiftiWriter.Write(volume, folder.File("a.nii.gz"));
        NiftiWriter.Write(volume, folder.File("a.nii"));

        Assert.Equal([0x1F, 0x8B], File.ReadAllBytes(folder.File("a.nii.gz")).Take(2));
        Assert.Equal([0x5C, 0x01, 0x00, 0x00], File.ReadAllBytes(folder.File("a.nii")).Take(4));
        Assert.Equal(352 + 5 * 4 * 3 * 2, new FileInfo(folder.File("a.nii")).Length);
    }

    [Fact]
    public void SlicesAgainstRowCrossColumn_AreWrittenInReverseLikeDcm2niix()
    {
        var volume = Pattern(ObliqueGeometry(reverseSlices: true), fractional: false);
        var path = folder.File("reversed.nii");

        NiftiWriter.Write(volume, path);
        var image = NiftiReader.Read(path);

        Assert.True(NiftiGrid.For(volume.Geometry).ReversesSlices);
        Assert.Equal(-1f, image.PixelDimensions[0]);
        AssertFileMatchesVolume(volume, image, reversedSlices: true);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OrthonormalDirections_GiveAQformEqualToTheSform(bool reverseSlices)
    {
        var path = folder.File("q.nii");
        NiftiWriter.Write(Pattern(ObliqueGeometry(reverseSlices), fractional: false), path);

        var image = NiftiReader.Read(path);

        Assert.True(image.QformMatrix.MaxAbsDifference(image.Sform) < 1e-4, $"qform {image.QformMatrix} vs sform {image.Sform}");
    }

    [Fact]
    public void TiltedSlices_KeepTheExactGridInTheSformAndARotationInTheQform()
    {
        var straight = ObliqueGeometry(reverseSlices: false);
        var tilted = straight with { SliceDirection = (straight.SliceDirection + straight.ColumnDirection * 0.3).Normalized() };
        var volume = Pattern(tilted, fractional: false);
        var path = folder.File("tilted.nii");

        NiftiWriter.Write(volume, path);
        var image = NiftiReader.Read(path);

        AssertFileMatchesVolume(volume, image, reversedSlices: false);
        var axes = Enumerable.Range(0, 3)
            .Select(column => new Vector3(image.QformMatrix[0, column], image.QformMatrix[1, column], image.QformMatrix[2, column]))
            .ToArray();
        Assert.Equal(0, axes[0].Dot(axes[1]), 5);
        Assert.Equal(0, axes[0].Dot(axes[2]), 5);
        Assert.Equal(0, axes[1].Dot(axes[2]), 5);
        Assert.Equal([0.7, 0.8, 1.25], axes.Select(axis => Math.Round(axis.Length, 5)));
        Assert.Equal(image.Sform.VoxelToWorld(0, 0, 0), image.QformMatrix.VoxelToWorld(0, 0, 0));
    }

    [Fact]
    public void Int16_RoundsHalvesAwayFromZeroClampsAndStoresNaNAsZero()
    {
        float[] values = [1.5f, -1.5f, 2.49f, -2.51f, 40000f, -40000f, float.NaN, -1024f];
        var geometry = new VolumeGeometry(values.Length, 1, 1, new Vector3(0, 0, 0), new Vector3(1, 1, 1),
            new Vector3(1, 0, 0), new Vector3(0, 1, 0), new Vector3(0, 0, 1));
        var path = folder.File("rounding.nii");

        NiftiWriter.Write(new CtVolume(geometry, values), path);

        Assert.Equal([2f, -2f, 2f, -3f, 32767f, -32768f, 0f, -1024f], NiftiReader.Read(path).Voxels.ToArray());
    }

    [Fact]
    public void Float32_KeepsValuesExactly()
    {
        float[] values = [1.5f, -1024.25f, 3.0e6f, float.Epsilon];
        var geometry = new VolumeGeometry(2, 2, 1, new Vector3(0, 0, 0), new Vector3(1, 1, 1),
            new Vector3(1, 0, 0), new Vector3(0, 1, 0), new Vector3(0, 0, 1));
        var path = folder.File("exact.nii");

        NiftiWriter.Write(new CtVolume(geometry, values), path, new NiftiWriteOptions { DataType = NiftiDataType.Float32 });

        // The rows come back swapped: dcm2niix's layout stores the last DICOM row first.
        Assert.Equal([3.0e6f, float.Epsilon, 1.5f, -1024.25f], NiftiReader.Read(path).Voxels.ToArray());
    }

    [Fact]
    public void Writing_ReplacesAnExistingFileAndLeavesNoTemporaryBehind()
    {
        var path = folder.File("replaced.nii.gz");
        File.WriteAllText(path, "old contents");

        NiftiWriter.Write(Pattern(ObliqueGeometry(reverseSlices: false), fractional: false), path);

        Assert.Equal([path], Directory.GetFiles(folder.Path));
        Assert.Equal([5, 4, 3], NiftiReader.Read(path).Dimensions);
    }

    [Theory]
    [InlineData(false, "labels.nii")]
    [InlineData(true, "labels.nii.gz")]
    public void Labels_AreStoredAsUInt8OnTheVolumesGrid(bool reverseSlices, string name)
    {
        var geometry = ObliqueGeometry(reverseSlices);
        var labels = new byte[geometry.VoxelCount];
        for (var index = 0; index < labels.Length; index++)
        {
            labels[index] = (byte)(index * 37 % 256);
        }

        var path = folder.File(name);
        NiftiWriter.WriteLabels(geometry, labels, path);
        var image = NiftiReader.Read(path);

        Assert.Equal(NiftiDataType.UInt8, image.DataType);
        AssertFileMatchesVolume(new CtVolume(geometry, [.. labels.Select(label => (float)label)]), image, reverseSlices);
        if (!reverseSlices)
        {
            Assert.Equal(352 + labels.Length, new FileInfo(path).Length);
        }
    }

    [Fact]
    public void Labels_OfTheWrongCountAreRefused()
    {
        var geometry = ObliqueGeometry(reverseSlices: false);
        Assert.Throws<ArgumentException>(() => NiftiWriter.WriteLabels(geometry, new byte[geometry.VoxelCount - 1], folder.File("short.nii")));
    }

    [Fact]
    public void OptionsRefuseTypesOtherThanInt16AndFloat32()
    {
        Assert.Equal(NiftiDataType.Int16, NiftiWriteOptions.Default.DataType);
        Assert.Throws<ArgumentOutOfRangeException>(() => new NiftiWriteOptions { DataType = NiftiDataType.UInt8 });
    }

    /// <summary>
    /// Checks the file against the volume without trusting <see cref="NiftiGrid"/>: every volume voxel must sit at
    /// file index (i, last row − j, k or last slice − k), hold its value, and map through the sform to its own LPS
    /// position with x and y negated.
    /// </summary>
    private static void AssertFileMatchesVolume(CtVolume volume, NiftiImage image, bool reversedSlices)
    {
        var geometry = volume.Geometry;
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            for (var j = 0; j < geometry.SizeY; j++)
            {
                for (var i = 0; i < geometry.SizeX; i++)
                {
                    var fileJ = geometry.SizeY - 1 - j;
                    var fileK = reversedSlices ? geometry.SizeZ - 1 - k : k;
                    var expectedValue = image.DataType == NiftiDataType.Int16
                        ? MathF.Round(volume[i, j, k], MidpointRounding.AwayFromZero)
                        : volume[i, j, k];
                    Assert.Equal(expectedValue, image[i, fileJ, fileK]);

                    var lps = geometry.VoxelToPatient(i, j, k);
                    var ras = image.Sform.VoxelToWorld(i, fileJ, fileK);
                    Assert.Equal(-lps.X, ras.X, 1e-3);
                    Assert.Equal(-lps.Y, ras.Y, 1e-3);
                    Assert.Equal(lps.Z, ras.Z, 1e-3);
                }
            }
        }
    }

    /// <summary>A grid tilted about all three axes, so a mixed-up row, column or sign cannot cancel out.</summary>
    private static VolumeGeometry ObliqueGeometry(bool reverseSlices)
    {
        var row = new Vector3(0.9, 0.3, -0.2).Normalized();
        var columnGuess = new Vector3(-0.25, 0.85, 0.4);
        var column = (columnGuess - row * columnGuess.Dot(row)).Normalized();
        var normal = row.Cross(column);
        var origin = new Vector3(-120.5, 33.25, -801.75);
        var spacing = new Vector3(0.7, 0.8, 1.25);
        return reverseSlices
            ? new VolumeGeometry(5, 4, 3, origin + normal * (2 * spacing.Z), spacing, row, column, normal * -1)
            : new VolumeGeometry(5, 4, 3, origin, spacing, row, column, normal);
    }

    private static CtVolume Pattern(VolumeGeometry geometry, bool fractional)
    {
        var voxels = new float[geometry.VoxelCount];
        for (var index = 0; index < voxels.Length; index++)
        {
            voxels[index] = index * 37 - 1000 + (fractional ? 0.375f : 0);
        }

        return new CtVolume(geometry, voxels);
    }
}
