using System.Buffers.Binary;
using QctPipeline.Dicom;
using QctPipeline.Dicom.Codecs;

namespace QctPipeline.Tests.Dicom;

public sealed class PixelCodecTests
{
    private const int MrFrameBytes = 384 * 384 * 2;

    public static TheoryData<string, byte[], int, int, int, int> MalformedRleFrames => new()
    {
        { "shorter than its 64-byte header", new byte[10], 1, 4, 1, 8 },
        { "declares 0 segments", RleFrameWithOffsets(0, []), 1, 4, 1, 8 },
        { "declares 1 segments; 1 samples of 16 bits need 2", RleFrame([0x03, 1, 2, 3, 4]), 1, 4, 1, 16 },
        { "at most 15 segments", RleFrame([0x00, 1]), 1, 1, 4, 32 },
        { "offset 1000 lies outside", RleFrameWithOffsets(1, [1000], 0x03, 1, 2, 3, 4), 1, 4, 1, 8 },
        { "offset 10 lies outside", RleFrameWithOffsets(1, [10], 0x03, 1, 2, 3, 4), 1, 4, 1, 8 },
        { "segment 1 starts at 64, before segment 0 at 66", RleFrameWithOffsets(2, [66, 64], 0x00, 1, 0x00, 2), 1, 1, 1, 16 },
        { "replicate run of 7 bytes at offset 0 overflows", RleFrame([0xFA, 1]), 1, 4, 1, 8 },
        { "literal run of 4 bytes at offset 0 overflows", RleFrame([0x03, 1, 2, 3, 4]), 1, 2, 1, 8 },
        { "literal run of 4 bytes at offset 0 is cut off", RleFrame([0x03, 1, 2]), 1, 4, 1, 8 },
        { "segment 0 ends after 2 of 4 bytes", RleFrame([0x01, 1, 2]), 1, 4, 1, 8 },
        { "segment 0 ends after 0 of 4 bytes", RleFrameWithOffsets(1, [64]), 1, 4, 1, 8 },
        { "replicate run at offset 3 has no byte to repeat", RleFrame([0x01, 1, 2, 0xFF]), 1, 4, 1, 8 },
        { "segment 1 ends after 0 of 1 bytes", RleFrameWithOffsets(2, [64, 66], 0x00, 1), 1, 1, 1, 16 },
        { "whole bytes per sample; BitsAllocated is 12", RleFrame([0x00, 1]), 1, 1, 1, 12 },
        { "rows and columns must be positive", RleFrame([0x00, 1]), 0, 1, 1, 8 },
    };

    public static TheoryData<int> GdcmDecodedFiles => [2, 3, 4, 5, 6, 7, 8, 9];

    public static TheoryData<int> GdcmDecodedFrames => [4, 5, 6, 7, 8, 9];

    [Fact]
    public void RleLiteralRunCopiesBytes()
    {
        Assert.Equal([10, 20, 30, 40], DecodeRle(RleFrame([0x03, 10, 20, 30, 40]), 2, 2, 1, 8));
    }

    [Fact]
    public void RleReplicateRunRepeatsOneByte()
    {
        Assert.Equal([7, 7, 7, 7, 7, 7], DecodeRle(RleFrame([0xFB, 7]), 2, 3, 1, 8));
    }

    [Fact]
    public void RleMixesRunsAndSkipsTheNoOpHeader()
    {
        Assert.Equal([1, 2, 9, 9, 9, 5], DecodeRle(RleFrame([0x80, 0x01, 1, 2, 0xFE, 9, 0x80, 0x00, 5]), 1, 6, 1, 8));
    }

    [Fact]
    public void RleIgnoresPaddingAfterAFullSegment()
    {
        Assert.Equal([3, 3], DecodeRle(RleFrame([0xFF, 3, 0x00]), 1, 2, 1, 8));
    }

    [Fact]
    public void RleTwoByteSamplesComeHighSegmentFirstAndDecodeLittleEndian()
    {
        // 0x0102, 0xFF80, 0x0003: one segment of high bytes, then one of low bytes.
        var frame = RleFrame([0x02, 0x01, 0xFF, 0x00], [0x02, 0x02, 0x80, 0x03]);

        Assert.Equal([0x02, 0x01, 0x80, 0xFF, 0x03, 0x00], DecodeRle(frame, 1, 3, 1, 16));
    }

    [Fact]
    public void RleFourByteSamplesDecodeLittleEndian()
    {
        var frame = RleFrame([0x00, 0x01], [0x00, 0x02], [0x00, 0x03], [0x00, 0x04]);

        Assert.Equal([0x04, 0x03, 0x02, 0x01], DecodeRle(frame, 1, 1, 1, 32));
    }

    [Fact]
    public void RleInterleavesTheSamplesOfAColourPixel()
    {
        var frame = RleFrame([0xFF, 10], [0x01, 20, 21], [0xFF, 30]);

        Assert.Equal([10, 20, 30, 10, 21, 30], DecodeRle(frame, 1, 2, 3, 8));
    }

    [Fact]
    public void RleInterleavesTwoByteSamplesOfSeveralChannels()
    {
        // Segments: sample 0 high, sample 0 low, sample 1 high, sample 1 low.
        var frame = RleFrame([0x00, 0x12], [0x00, 0x34], [0x00, 0xAB], [0x00, 0xCD]);

        Assert.Equal([0x34, 0x12, 0xCD, 0xAB], DecodeRle(frame, 1, 1, 2, 16));
    }

    [Theory]
    [MemberData(nameof(MalformedRleFrames))]
    public void RleMalformedFramesAreRejectedWithAReason(string reason, byte[] frame, int rows, int columns, int samples, int bits)
    {
        var destination = new byte[Math.Max(0, rows * columns * samples * (bits / 8))];

        var error = Assert.Throws<DicomFormatException>(() => RleDecoder.DecodeFrame(frame, rows, columns, samples, bits, destination));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RleDestinationOfTheWrongSizeIsACallerError()
    {
        Assert.Throws<ArgumentException>(() => RleDecoder.DecodeFrame(RleFrame([0x00, 1]), 1, 1, 1, 16, new byte[1]));
    }

    [Fact]
    public void RleRealFrameDecodesToTheNativePixels()
    {
        Assert.Equal(NativePixels(1), DecodeRle(RealRleFrame(), 384, 384, 1, 16));
    }

    [Fact]
    public void RleFrameSplitAcrossFragmentsDecodesOnceJoined()
    {
        var frame = RealRleFrame();
        var fragments = new ReadOnlyMemory<byte>[] { ReadOnlyMemory<byte>.Empty, frame.AsMemory(0, 10), frame.AsMemory(10, 5000), frame.AsMemory(5010) };

        var joined = EncapsulatedFrames.Split(fragments, 1).Single();

        Assert.Equal(NativePixels(1), DecodeRle(joined.ToArray(), 384, 384, 1, 16));
    }

    [Fact]
    public void RleDamagedRealFramesDecodeOrThrowAFormatErrorOnly()
    {
        var frame = RealRleFrame();
        var random = new Random(20240601);
        var destination = new byte[MrFrameBytes];
        for (var trial = 0; trial < 300; trial++)
        {
            var damaged = frame.AsSpan(0, random.Next(frame.Length + 1)).ToArray();
            for (var flips = random.Next(1, 8); flips > 0 && damaged.Length > 0; flips--)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }

            var error = Record.Exception(() => RleDecoder.DecodeFrame(damaged, 384, 384, 1, 16, destination));

            Assert.True(error is null or DicomFormatException, $"trial {trial}: {error}");
        }
    }

    [Theory]
    [MemberData(nameof(GdcmDecodedFiles))]
    public void GdcmDecodesEachTransferSyntaxToTheNativePixels(int file)
    {
        var destination = new byte[MrFrameBytes];

        GdcmDecoder.DecodeFile(TransferSyntaxFile(file), destination);

        Assert.Equal(NativePixels(1), destination);
    }

    [Theory]
    [InlineData("12bitSigned_0x0F0F.dcm")]
    [InlineData("12bitUnsigned_0x0F0F.dcm")]
    public void GdcmLeavesTheBitsAboveBitsStoredAsStored(string file)
    {
        var path = RealData.Path("dcm-qa-12bit", "In", file);
        var stored = NativePixels(path);
        var destination = new byte[stored.Length];

        GdcmDecoder.DecodeFile(path, destination);

        Assert.Equal(stored, destination);
    }

    [Fact]
    public void GdcmDecodesTheJpeg2000SpineCtToPlausibleValues()
    {
        var files = SpineCtFiles();
        Assert.Equal(20, files.Length);
        foreach (var path in files)
        {
            var header = DicomFile.ReadHeader(path).Dataset;
            Assert.Equal(512, header.GetInteger(DicomTag.Rows));
            Assert.Equal(512, header.GetInteger(DicomTag.Columns));
            Assert.Equal(16, header.GetInteger(DicomTag.BitsAllocated));
            Assert.Equal(0, header.GetInteger(DicomTag.PixelRepresentation));
            var intercept = header.GetNumber(DicomTag.RescaleIntercept)!.Value;
            var pixels = new byte[512 * 512 * 2];

            GdcmDecoder.DecodeFile(path, pixels);

            var values = new int[512 * 512];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadUInt16LittleEndian(pixels.AsSpan(2 * i)) + (int)intercept;
            }

            Assert.InRange(values.Min(), -1100, -900);
            Assert.InRange(values.Max(), 800, 3100);
            Assert.InRange(Fraction(values, hu => hu < -900), 0.2, 0.8);
            Assert.InRange(Fraction(values, hu => hu is > -200 and < 200), 0.1, 0.7);
            Assert.InRange(Fraction(values, hu => hu > 300), 0.002, 0.1);
            Assert.InRange(MeanStepAlongRows(values, 512), 1, 40);
        }
    }

    [Fact]
    public async Task GdcmDecodesInParallelExactlyAsInSeries()
    {
        var files = SpineCtFiles().Concat([TransferSyntaxFile(5), TransferSyntaxFile(7), TransferSyntaxFile(9)]).ToArray();
        var serial = files.Select(DecodeWhole).ToArray();

        var parallel = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() => files.Select(DecodeWhole).ToArray())));

        foreach (var decoded in parallel)
        {
            for (var i = 0; i < files.Length; i++)
            {
                Assert.True(serial[i].AsSpan().SequenceEqual(decoded[i]), $"{files[i]} decoded differently in parallel");
            }
        }
    }

    [Fact]
    public void GdcmRejectsADestinationThatDoesNotFitTheImage()
    {
        var error = Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFile(TransferSyntaxFile(9), new byte[MrFrameBytes - 2]));

        Assert.Contains($"GDCM decodes {MrFrameBytes} bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GdcmReportsAFileThatIsNotDicom()
    {
        using var folder = new TempFolder();
        var path = folder.File("noise.dcm");
        File.WriteAllBytes(path, new byte[1000]);

        var error = Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFile(path, new byte[MrFrameBytes]));

        Assert.Contains("cannot read the file as a DICOM image", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GdcmReportsATruncatedCodestreamWithItsOwnReason()
    {
        using var folder = new TempFolder();
        var path = folder.File("truncated.dcm");
        File.WriteAllBytes(path, File.ReadAllBytes(SpineCtFiles()[0])[..^60000]);

        var error = Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFile(path, new byte[512 * 512 * 2]));

        Assert.Contains("GDCM cannot decode the JPEG 2000 Lossless pixel data (GDCM: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GdcmStillDecodesAfterReportingAFailure()
    {
        using var folder = new TempFolder();
        var path = folder.File("noise.dcm");
        File.WriteAllBytes(path, new byte[1000]);
        Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFile(path, new byte[4]));
        var destination = new byte[MrFrameBytes];

        GdcmDecoder.DecodeFile(TransferSyntaxFile(7), destination);

        Assert.Equal(NativePixels(1), destination);
    }

    [Theory]
    [MemberData(nameof(GdcmDecodedFrames))]
    public void GdcmDecodesEachCompressedFrameInMemoryToTheNativePixels(int file)
    {
        var (frame, syntax) = EncodedFrame(TransferSyntaxFile(file));
        var destination = new byte[MrFrameBytes];

        GdcmDecoder.DecodeFrame(frame, syntax, 384, 384, 16, 1, 0, destination);

        Assert.Equal(NativePixels(1), destination);
    }

    [Fact]
    public void GdcmDecodesSpineCtFramesInMemoryAsFromTheFile()
    {
        foreach (var path in SpineCtFiles().Take(3))
        {
            var (frame, syntax) = EncodedFrame(path);
            var destination = new byte[512 * 512 * 2];

            GdcmDecoder.DecodeFrame(frame, syntax, 512, 512, 16, 1, 0, destination);

            Assert.Equal(DecodeWhole(path), destination);
        }
    }

    [Fact]
    public void GdcmReportsADamagedFrameWithTheTransferSyntaxName()
    {
        var (frame, syntax) = EncodedFrame(SpineCtFiles()[0]);

        var error = Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFrame(frame.AsSpan(0, 5000), syntax, 512, 512, 16, 1, 0, new byte[512 * 512 * 2]));

        Assert.Contains("GDCM cannot decode the JPEG 2000 Lossless pixel data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GdcmFrameDecodingRefusesWhatItCannotDecode()
    {
        var (frame, syntax) = EncodedFrame(TransferSyntaxFile(9));
        var destination = new byte[MrFrameBytes];

        Assert.Throws<ArgumentException>(() => GdcmDecoder.DecodeFrame(frame, TransferSyntax.ExplicitVRLittleEndian, 384, 384, 16, 1, 0, destination));
        Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFrame(frame, TransferSyntax.FromUid("1.2.840.10008.1.2.4.201"), 384, 384, 16, 1, 0, destination));
        Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFrame(frame, syntax, 384, 128, 16, 3, 0, destination));
        Assert.Throws<DicomFormatException>(() => GdcmDecoder.DecodeFrame(frame, syntax, 384, 384, 12, 1, 0, destination));
        Assert.Throws<ArgumentException>(() => GdcmDecoder.DecodeFrame(frame, syntax, 384, 384, 16, 1, 0, destination.AsSpan(2)));
    }

    [Fact]
    public void GdcmMissingFileIsNotAFormatError()
    {
        Assert.Throws<FileNotFoundException>(() => GdcmDecoder.DecodeFile(RealData.Path("dcm-qa-ts", "In", "missing.dcm"), new byte[4]));
    }

    private static string TransferSyntaxFile(int number) => RealData.Path("dcm-qa-ts", "In", $"{number}.dcm");

    private static string[] SpineCtFiles() => Directory.GetFiles(RealData.Path("ts-spine-j2k", "dicom")).Order(StringComparer.Ordinal).ToArray();

    private static byte[] NativePixels(int transferSyntaxFile) => NativePixels(TransferSyntaxFile(transferSyntaxFile));

    private static byte[] NativePixels(string path) =>
        DicomFile.Parse(path, File.ReadAllBytes(path)).Dataset.Find(DicomTag.PixelData)!.Value.ToArray();

    private static byte[] RealRleFrame() => EncodedFrame(TransferSyntaxFile(4)).Frame;

    private static (byte[] Frame, TransferSyntax Syntax) EncodedFrame(string path)
    {
        var file = DicomFile.Parse(path, File.ReadAllBytes(path));
        var frames = EncapsulatedFrames.Split(file.Dataset.Find(DicomTag.PixelData)!.Fragments, 1);
        return (frames.Single().ToArray(), file.TransferSyntax);
    }

    private static byte[] DecodeWhole(string path)
    {
        var header = DicomFile.ReadHeader(path).Dataset;
        var length = header.GetInteger(DicomTag.Rows)!.Value * header.GetInteger(DicomTag.Columns)!.Value * (header.GetInteger(DicomTag.BitsAllocated)!.Value / 8);
        var destination = new byte[length];
        GdcmDecoder.DecodeFile(path, destination);
        return destination;
    }

    private static byte[] DecodeRle(byte[] frame, int rows, int columns, int samples, int bits)
    {
        var destination = new byte[rows * columns * samples * (bits / 8)];
        RleDecoder.DecodeFrame(frame, rows, columns, samples, bits, destination);
        return destination;
    }

    private static byte[] RleFrame(params byte[][] segments)
    {
        var offsets = new uint[segments.Length];
        var next = 64u;
        for (var i = 0; i < segments.Length; i++)
        {
            offsets[i] = next;
            next += (uint)segments[i].Length;
        }

        return RleFrameWithOffsets((uint)segments.Length, offsets, segments.SelectMany(s => s).ToArray());
    }

    private static byte[] RleFrameWithOffsets(uint segmentCount, uint[] offsets, params byte[] data)
    {
        var frame = new byte[64 + data.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, segmentCount);
        for (var i = 0; i < offsets.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4 + (4 * i)), offsets[i]);
        }

        data.CopyTo(frame, 64);
        return frame;
    }

    /// <summary>Small for an image (about 16 HU here), hundreds for scrambled or byte-swapped samples.</summary>
    private static double MeanStepAlongRows(int[] values, int columns)
    {
        var total = 0L;
        var steps = 0;
        for (var row = 0; row < values.Length / columns; row++)
        {
            for (var column = 1; column < columns; column++)
            {
                total += Math.Abs(values[(row * columns) + column] - values[(row * columns) + column - 1]);
                steps++;
            }
        }

        return total / (double)steps;
    }

    private static double Fraction(int[] values, Func<int, bool> predicate) => values.Count(predicate) / (double)values.Length;

}
