using System.Buffers.Binary;
using System.IO.Compression;

namespace QctPipeline.Dicom;

/// <summary>A parsed Part-10 file (or a bare data set): its meta group, its data set and what the reader had to assume.</summary>
public sealed record DicomFile(string Path, TransferSyntax TransferSyntax, DicomDataset Meta, DicomDataset Dataset, IReadOnlyList<string> Assumptions)
{
    private const int FirstHeaderRead = 16 * 1024;

    private static readonly byte[] Magic = "DICM"u8.ToArray();

    /// <summary>Reads the file up to its pixel data, fetching more of it only when the header is longer than the first read.</summary>
    public static DicomFile ReadHeader(string path)
    {
        // Checked before opening: a named pipe or device also reports 0 bytes, and opening one would block the scan.
        if (new FileInfo(path).Length == 0)
        {
            throw new DicomFormatException("empty file (0 bytes)");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var fileLength = stream.Length;

        var size = (int)Math.Min(fileLength, FirstHeaderRead);
        while (true)
        {
            var prefix = new byte[size];
            stream.Position = 0;
            stream.ReadExactly(prefix);
            var whole = size == fileLength;
            if (TryParse(path, prefix, whole, stopAtPixelData: true, out var file))
            {
                CheckPixelDataFits(file!.Dataset, fileLength);
                return file;
            }

            size = (int)Math.Min(fileLength, (long)size * 4);
        }
    }

    /// <summary>A header-only read skips the pixel data; a file cut short inside it must still be caught here.</summary>
    private static void CheckPixelDataFits(DicomDataset dataset, long fileLength)
    {
        if (dataset.Find(DicomTag.PixelData) is { DeferredLength: >= 0 } pixelData && pixelData.DeferredEnd > fileLength)
        {
            throw new DicomFormatException($"truncated: pixel data needs {pixelData.DeferredLength} bytes but the file ends {pixelData.DeferredEnd - fileLength} bytes short of it");
        }
    }

    /// <summary>Parses a whole file held in memory, pixel data included.</summary>
    public static DicomFile Parse(string path, ReadOnlyMemory<byte> bytes)
    {
        TryParse(path, bytes, bufferIsWholeFile: true, stopAtPixelData: false, out var file);
        return file!;
    }

    private static bool TryParse(string path, ReadOnlyMemory<byte> bytes, bool bufferIsWholeFile, bool stopAtPixelData, out DicomFile? file)
    {
        file = null;
        var assumptions = new List<string>();
        var metaStart = FindMetaStart(bytes.Span, bufferIsWholeFile);
        if (metaStart < 0)
        {
            return false;
        }

        var meta = DicomDataset.Empty;
        TransferSyntax syntax;
        int datasetStart;
        if (metaStart > 0)
        {
            var metaBuilder = new DicomDatasetBuilder(bytes, bigEndian: false);
            var walker = new DicomElementWalker(bytes.Span, metaStart, explicitVR: true, bigEndian: false, bufferIsWholeFile, stopAtPixelData: false);
            if (!Walk(ref walker, metaBuilder, metaGroupOnly: true) || (!bufferIsWholeFile && walker.Position + 8 > bytes.Length))
            {
                return false;
            }

            meta = metaBuilder.Build();
            datasetStart = walker.Position;
            var uid = meta.GetString(DicomTag.TransferSyntaxUid);
            if (uid is null)
            {
                syntax = TransferSyntax.ExplicitVRLittleEndian;
                assumptions.Add("file meta group has no TransferSyntaxUID; assumed Explicit VR Little Endian");
            }
            else
            {
                syntax = TransferSyntax.FromUid(uid);
            }
        }
        else
        {
            datasetStart = 0;
            syntax = GuessBareSyntax(bytes.Span);
            assumptions.Add($"no DICOM Part-10 header (preamble and 'DICM'); assumed {syntax.Name} from the first element");
        }

        var datasetBytes = bytes;
        if (syntax.Deflated)
        {
            if (!bufferIsWholeFile)
            {
                return false;
            }

            datasetBytes = Inflate(bytes, datasetStart);
            datasetStart = 0;
        }

        var builder = new DicomDatasetBuilder(datasetBytes, syntax.BigEndian);
        var datasetWalker = new DicomElementWalker(datasetBytes.Span, datasetStart, syntax.ExplicitVR, syntax.BigEndian, bufferIsWholeFile || syntax.Deflated, stopAtPixelData);
        if (!Walk(ref datasetWalker, builder, metaGroupOnly: false))
        {
            return false;
        }

        file = new DicomFile(path, syntax, meta, builder.Build(), assumptions);
        return true;
    }

    /// <summary>Feeds the walk to the builder; false when the buffer ran out before the walk could finish.</summary>
    private static bool Walk(ref DicomElementWalker walker, DicomDatasetBuilder builder, bool metaGroupOnly)
    {
        while (!metaGroupOnly || (walker.TryPeekGroup(out var group) && group == 0x0002))
        {
            switch (walker.Read(out var token))
            {
                case DicomReadStatus.NeedMoreData:
                    return false;
                case DicomReadStatus.End:
                    return true;
                default:
                    builder.Add(token);
                    break;
            }
        }

        return true;
    }

    /// <summary>Offset of the meta group, 0 for a bare data set, -1 when the buffer is too short to tell.</summary>
    private static int FindMetaStart(ReadOnlySpan<byte> bytes, bool bufferIsWholeFile)
    {
        if (bytes.Length >= 132 && bytes.Slice(128, 4).SequenceEqual(Magic))
        {
            return 132;
        }

        if (bytes.Length >= 4 && bytes[..4].SequenceEqual(Magic))
        {
            return 4;
        }

        if (bytes.Length < 132 && !bufferIsWholeFile)
        {
            return -1;
        }

        if (bytes.Length < 8 || !LooksLikeBareDataset(bytes))
        {
            throw new NotDicomException("not a DICOM file (no 'DICM' marker and no plausible data set at the start)");
        }

        return 0;
    }

    /// <summary>A bare data set starts with a low group (0002–0008) element in little endian.</summary>
    private static bool LooksLikeBareDataset(ReadOnlySpan<byte> bytes)
    {
        var group = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
        return group is >= 0x0002 and <= 0x0008;
    }

    private static TransferSyntax GuessBareSyntax(ReadOnlySpan<byte> bytes)
    {
        var vr = DicomVR.FromLetters(bytes[4], bytes[5]);
        return vr.IsKnown ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian;
    }

    private static byte[] Inflate(ReadOnlyMemory<byte> bytes, int start)
    {
        try
        {
            using var input = new MemoryStream(bytes[start..].ToArray());
            using var inflater = new DeflateStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            inflater.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException ex)
        {
            throw new DicomFormatException($"deflated data set does not inflate: {ex.Message}");
        }
    }
}
