using System.IO.Compression;
using QctPipeline.Nifti;

namespace QctPipeline.Tests.Nifti;

public sealed class NiftiReaderTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData(NiftiDataType.UInt8, new double[] { 0, 7, 128, 255 })]
    [InlineData(NiftiDataType.Int8, new double[] { -128, -3, 0, 127 })]
    [InlineData(NiftiDataType.Int16, new double[] { -32768, -1024, 0, 32767 })]
    [InlineData(NiftiDataType.UInt16, new double[] { 0, 1, 40000, 65535 })]
    [InlineData(NiftiDataType.Int32, new double[] { -100000, -1, 0, 16777216 })]
    [InlineData(NiftiDataType.Float32, new double[] { -1024.5, 0, 1e-3, 3e6 })]
    [InlineData(NiftiDataType.Float64, new double[] { -1024.5, 0, 0.125, 3e6 })]
    public void EveryDataType_ReadsInBothByteOrders(NiftiDataType dataType, double[] values)
    {
        foreach (var bigEndian in new[] { false, true })
        {
            var path = new HandMadeNifti { DataType = dataType, Values = values, BigEndian = bigEndian }.WriteTo(folder, $"{dataType}-{bigEndian}.nii");

            var image = NiftiReader.Read(path);

            Assert.Equal(bigEndian, image.BigEndian);
            Assert.Equal(dataType, image.DataType);
            Assert.Equal([2, 2, 1], image.Dimensions);
            Assert.Equal(values.Select(value => (float)value), image.Voxels.ToArray());
        }
    }

    [Fact]
    public void ScaleSlopeAndIntercept_AreApplied()
    {
        var path = new HandMadeNifti { Values = [0, 1, 1000, -5], ScaleSlope = 2, ScaleIntercept = -1024 }.WriteTo(folder, "scaled.nii");

        Assert.Equal([-1024f, -1022f, 976f, -1034f], NiftiReader.Read(path).Voxels.ToArray());
    }

    [Fact]
    public void ZeroScaleSlope_MeansUnscaled()
    {
        var path = new HandMadeNifti { Values = [0, 1, 1000, -5], ScaleSlope = 0, ScaleIntercept = -1024 }.WriteTo(folder, "unscaled.nii");

        Assert.Equal([0f, 1f, 1000f, -5f], NiftiReader.Read(path).Voxels.ToArray());
    }

    [Fact]
    public void ExtensionsBeforeTheVoxels_AreSkipped()
    {
        var path = new HandMadeNifti { ExtensionBytes = 32 }.WriteTo(folder, "extended.nii");

        var image = NiftiReader.Read(path);

        Assert.Equal(384, image.VoxelOffset);
        Assert.Equal([1f, 2f, 3f, 4f], image.Voxels.ToArray());
    }

    [Fact]
    public void GzipIsRecognisedByContentNotByName()
    {
        var path = folder.File("compressed-but-named.nii");
        File.WriteAllBytes(path, Gzip(new HandMadeNifti().ToBytes()));

        Assert.Equal([1f, 2f, 3f, 4f], NiftiReader.Read(path).Voxels.ToArray());
    }

    [Theory]
    [InlineData("header", "the file ends after 100 bytes, inside the 348-byte header")]
    [InlineData("sizeof_hdr", "sizeof_hdr is 540")]
    [InlineData("pair", "'ni1'")]
    [InlineData("magic", "magic is")]
    [InlineData("dim0", "dim[0] is 0")]
    [InlineData("dim2", "dim[2] is 0")]
    [InlineData("datatype", "datatype 128")]
    [InlineData("bitpix", "bitpix is 8")]
    [InlineData("vox_offset", "vox_offset is 100")]
    [InlineData("voxels", "the file ends inside the voxel data, after 6 of 8 bytes")]
    [InlineData("corrupt-gzip", "the gzip stream is corrupt")]
    [InlineData("truncated-gzip", "the decompressed gzip data ends after")]
    public void MalformedFiles_ThrowNamingTheProblem(string defect, string expectedInMessage)
    {
        var bytes = new HandMadeNifti { Magic = defect == "pair" ? "ni1" : defect == "magic" ? "n+2" : "n+1" }.ToBytes();
        switch (defect)
        {
            case "header": bytes = bytes[..100]; break;
            case "sizeof_hdr": BitConverter.GetBytes(540).CopyTo(bytes, 0); break;
            case "dim0": BitConverter.GetBytes((short)0).CopyTo(bytes, 40); break;
            case "dim2": BitConverter.GetBytes((short)0).CopyTo(bytes, 44); break;
            case "datatype": BitConverter.GetBytes((short)128).CopyTo(bytes, 70); break;
            case "bitpix": BitConverter.GetBytes((short)8).CopyTo(bytes, 72); break;
            case "vox_offset": BitConverter.GetBytes(100f).CopyTo(bytes, 108); break;
            case "voxels": bytes = bytes[..^2]; break;
            case "corrupt-gzip": bytes = [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03, 0x07, 0, 0, 0]; break; // reserved deflate block type
            case "truncated-gzip": bytes = Gzip(bytes)[..40]; break;
        }

        var path = folder.File($"{defect}.nii");
        File.WriteAllBytes(path, bytes);

        var exception = Assert.Throws<NiftiFormatException>(() => NiftiReader.Read(path));
        Assert.Contains(expectedInMessage, exception.Message);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return compressed.ToArray();
    }
}
