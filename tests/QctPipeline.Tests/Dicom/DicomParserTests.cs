using System.Buffers.Binary;
using System.IO.Compression;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Tests.Ingest;

namespace QctPipeline.Tests.Dicom;

public sealed class DicomParserTests
{
    private static readonly string[] TransferSyntaxFiles = Enumerable.Range(1, 9).Select(i => RealData.Path("dcm-qa-ts", "In", $"{i}.dcm")).ToArray();

    [Fact]
    public void EveryTransferSyntaxOfTheSameImageGivesTheSameHeader()
    {
        var headers = TransferSyntaxFiles.Select(DicomFile.ReadHeader).ToArray();

        Assert.Equal(
            ["Explicit VR Little Endian", "Implicit VR Little Endian", "Explicit VR Big Endian", "RLE Lossless", "JPEG Lossless (Process 14, SV1)", "JPEG Lossless (Process 14, SV1)", "JPEG-LS Lossless", "JPEG-LS Lossless", "JPEG 2000 Lossless"],
            headers.Select(h => h.TransferSyntax.Name));
        foreach (var header in headers)
        {
            Assert.Equal(384, header.Dataset.GetInteger(DicomTag.Rows));
            Assert.Equal(12, header.Dataset.GetInteger(DicomTag.BitsStored));
            Assert.Equal("MR", header.Dataset.GetString(DicomTag.Modality));
            Assert.Equal(headers[0].Dataset.GetNumbers(DicomTag.ImagePositionPatient), header.Dataset.GetNumbers(DicomTag.ImagePositionPatient));
            Assert.Equal(headers[0].Dataset.GetNumbers(DicomTag.ImageOrientationPatient), header.Dataset.GetNumbers(DicomTag.ImageOrientationPatient));
        }
    }

    [Fact]
    public void HeaderReadStopsBeforePixelDataAndDefersIt()
    {
        var header = DicomFile.ReadHeader(RealData.Path("lidc-0001-chest-ct", "dicom", "000001.dcm"));

        var pixelData = header.Dataset.Find(DicomTag.PixelData)!;
        Assert.True(pixelData.Value.IsEmpty);
        Assert.Equal(512 * 512 * 2, pixelData.DeferredLength);
    }

    [Fact]
    public void BigEndianPixelsAreSwappedToTheSameValues()
    {
        var little = PixelValues(TransferSyntaxFiles[0]);
        var big = PixelValues(TransferSyntaxFiles[2]);

        Assert.Equal(little, big);
        Assert.True(little.Max() > 100);
    }

    [Fact]
    public void DeflatedDatasetInflatesToTheSameElements()
    {
        var plain = new SyntheticSeries().Slice(0, new Vector3(1, 2, 3)).ToBytes();
        var deflated = Deflate(plain);

        var file = DicomFile.Parse("deflated.dcm", deflated);

        Assert.True(file.TransferSyntax.Deflated);
        Assert.Equal([1.0, 2.0, 3.0], file.Dataset.GetNumbers(DicomTag.ImagePositionPatient)!);
        Assert.Equal(16 * 20 * 2, file.Dataset.Find(DicomTag.PixelData)!.Value.Length);
    }

    [Fact]
    public void BareDatasetWithoutPreambleIsReadWithTheAssumptionStated()
    {
        var withPreamble = new SyntheticSeries().Slice(0, new Vector3(1, 2, 3)).ToBytes();
        var datasetStart = 132 + 12 + BinaryPrimitives.ReadInt32LittleEndian(withPreamble.AsSpan(140));

        var file = DicomFile.Parse("bare.dcm", withPreamble[datasetStart..]);

        Assert.Equal("CT", file.Dataset.GetString(DicomTag.Modality));
        Assert.Equal(["no DICOM Part-10 header (preamble and 'DICM'); assumed Explicit VR Little Endian from the first element"], file.Assumptions);
    }

    [Fact]
    public void UndefinedLengthSequencesAndItemsNest()
    {
        // (0008,1140) SQ undefined { item undefined { (0008,1150) UI "1.2" ; (0008,1140) SQ undefined { item defined { (0010,0020) LO "AB" } } } }
        var bytes = new List<byte>();
        Element(bytes, 0x0008, 0x0060, "CS", "CT"u8);
        SequenceStart(bytes, 0x0008, 0x1140);
        Item(bytes, 0xFFFFFFFF);
        Element(bytes, 0x0008, 0x1150, "UI", "1.2"u8.ToArray().Append((byte)0).ToArray());
        SequenceStart(bytes, 0x0008, 0x1140);
        Item(bytes, 10);
        Element(bytes, 0x0010, 0x0020, "LO", "AB"u8);
        Tag(bytes, 0xFFFE, 0xE0DD, 0);
        Tag(bytes, 0xFFFE, 0xE00D, 0);
        Tag(bytes, 0xFFFE, 0xE0DD, 0);
        Element(bytes, 0x0010, 0x0010, "PN", "X^Y "u8);

        var file = DicomFile.Parse("nested.dcm", bytes.ToArray());

        var outer = Assert.Single(file.Dataset.GetSequence(new DicomTag(0x0008, 0x1140)));
        Assert.Equal("1.2", outer.GetString(new DicomTag(0x0008, 0x1150)));
        Assert.Equal("AB", Assert.Single(outer.GetSequence(new DicomTag(0x0008, 0x1140))).GetString(DicomTag.PatientId));
        Assert.Equal("X^Y", file.Dataset.GetString(DicomTag.PatientName));
    }

    [Fact]
    public void SequenceNeverClosedIsAnError()
    {
        var bytes = new List<byte>();
        Element(bytes, 0x0008, 0x0060, "CS", "CT"u8);
        SequenceStart(bytes, 0x0008, 0x1140);
        Item(bytes, 0xFFFFFFFF);
        Element(bytes, 0x0010, 0x0020, "LO", "AB"u8);

        var error = Assert.Throws<DicomFormatException>(() => DicomFile.Parse("open.dcm", bytes.ToArray()));
        Assert.Equal("file ends inside (FFFE,E000), which is never closed", error.Message);
    }

    [Fact]
    public void DeepNestingIsRefusedNotOverflowed()
    {
        var bytes = new List<byte>();
        Element(bytes, 0x0008, 0x0060, "CS", "CT"u8);
        for (var depth = 0; depth < 1000; depth++)
        {
            SequenceStart(bytes, 0x0008, 0x1140);
            Item(bytes, 0xFFFFFFFF);
        }

        var error = Assert.Throws<DicomFormatException>(() => DicomFile.Parse("deep.dcm", bytes.ToArray()));
        Assert.StartsWith("sequences nested deeper than 256 levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EnhancedMultiFrameCtTakesPositionAndRescalePerFrame()
    {
        using var folder = new TempFolder();
        const int frames = 12;
        var perFrame = Enumerable.Range(0, frames).Select(k => new DicomWriter()
            .AddSequence(DicomTag.PlanePositionSequence, new DicomWriter().AddDecimals(DicomTag.ImagePositionPatient, 0, 0, 3.0 * k))
            .AddSequence(DicomTag.PixelValueTransformationSequence, new DicomWriter()
                .AddDecimals(DicomTag.RescaleIntercept, -1000 - k)
                .AddDecimals(DicomTag.RescaleSlope, 2)))
            .ToArray();
        var shared = new DicomWriter()
            .AddSequence(DicomTag.PixelMeasuresSequence, new DicomWriter().AddDecimals(DicomTag.PixelSpacing, 0.5, 0.6).AddDecimals(DicomTag.SliceThickness, 3))
            .AddSequence(DicomTag.PlaneOrientationSequence, new DicomWriter().AddDecimals(DicomTag.ImageOrientationPatient, 1, 0, 0, 0, 1, 0));
        var pixels = new byte[frames * 4 * 6 * 2];
        for (var k = 0; k < frames; k++)
        {
            for (var p = 0; p < 24; p++)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(pixels.AsSpan(((k * 24) + p) * 2), (ushort)(500 + k));
            }
        }

        var writer = new SyntheticSeries { Rows = 4, Columns = 6 }.Slice(0, default)
            .Add(DicomTag.SopClassUid, DicomVR.UI, "1.2.840.10008.5.1.4.1.1.2.1")
            .AddInteger(DicomTag.NumberOfFrames, frames)
            .AddSequence(DicomTag.SharedFunctionalGroupsSequence, shared)
            .AddSequence(DicomTag.PerFrameFunctionalGroupsSequence, perFrame)
            .AddBytes(DicomTag.PixelData, DicomVR.OW, pixels);
        new[] { DicomTag.ImagePositionPatient, DicomTag.ImageOrientationPatient, DicomTag.PixelSpacing, DicomTag.RescaleIntercept, DicomTag.RescaleSlope }
            .ToList().ForEach(tag => writer.Remove(tag));
        writer.WriteFile(folder.File("enhanced.dcm"));

        var options = new IngestOptions();
        var series = DicomIngest.Survey(folder.Path, options).Selection.Selected!;
        var volume = DicomIngest.Load(series, options).Volume;

        Assert.Equal(frames, volume.Geometry.SizeZ);
        Assert.Equal(new Vector3(0.6, 0.5, 3), volume.Geometry.Spacing);
        for (var k = 0; k < frames; k++)
        {
            Assert.Equal((2 * (500 + k)) - 1000 - k, volume[5, 3, k]);
        }
    }

    private static float[] PixelValues(string path)
    {
        var file = DicomFile.Parse(path, File.ReadAllBytes(path));
        var frame = FrameReader.Frames(file)[0];
        var values = new float[frame.Pixels!.Rows * frame.Pixels.Columns];
        PixelDecoder.Decode(file.Dataset.Find(DicomTag.PixelData)!.Value.Span, frame.Pixels, file.TransferSyntax.BigEndian, 1, 0, float.NegativeInfinity, 0, values);
        return values;
    }

    private static byte[] Deflate(byte[] part10)
    {
        var groupLength = BinaryPrimitives.ReadInt32LittleEndian(part10.AsSpan(140));
        var datasetStart = 144 + groupLength;
        var meta = new List<byte>();
        Element(meta, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1.99"u8);
        var compressed = new MemoryStream();
        using (var deflate = new DeflateStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(part10.AsSpan(datasetStart));
        }

        var header = new List<byte>(new byte[128]);
        header.AddRange("DICM"u8.ToArray());
        var length = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, meta.Count);
        Element(header, 0x0002, 0x0000, "UL", length);
        return [.. header, .. meta, .. compressed.ToArray()];
    }

    private static void Tag(List<byte> bytes, ushort group, ushort element, uint length)
    {
        var buffer = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, group);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2), element);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), length);
        bytes.AddRange(buffer);
    }

    private static void Item(List<byte> bytes, uint length) => Tag(bytes, 0xFFFE, 0xE000, length);

    private static void SequenceStart(List<byte> bytes, ushort group, ushort element)
    {
        var buffer = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, group);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2), element);
        buffer[4] = (byte)'S';
        buffer[5] = (byte)'Q';
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), 0xFFFFFFFF);
        bytes.AddRange(buffer);
    }

    private static void Element(List<byte> bytes, ushort group, ushort element, string vr, ReadOnlySpan<byte> value)
    {
        var buffer = new byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, group);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2), element);
        buffer[4] = (byte)vr[0];
        buffer[5] = (byte)vr[1];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(6), (ushort)value.Length);
        bytes.AddRange(buffer);
        bytes.AddRange(value.ToArray());
    }
}
