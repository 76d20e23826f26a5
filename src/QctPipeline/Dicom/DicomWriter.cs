using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace QctPipeline.Dicom;

/// <summary>
/// Collects elements and writes them as a Part-10 file in Explicit VR Little Endian (defined-length sequences and
/// items). Used for the phantom series, derived objects and test inputs; the file appears atomically (temp, then rename).
/// </summary>
public sealed class DicomWriter
{
    private readonly SortedDictionary<uint, Entry> entries = [];

    public DicomWriter Add(DicomTag tag, DicomVR vr, string? value)
    {
        if (value is null)
        {
            return this;
        }

        var bytes = Encoding.Latin1.GetBytes(value);
        var padding = vr == DicomVR.UI || vr == DicomVR.OB ? (byte)0 : (byte)' ';
        entries[tag.Value] = new Entry(vr, PadToEven(bytes, padding), null);
        return this;
    }

    public DicomWriter AddStrings(DicomTag tag, DicomVR vr, params string[] values) => Add(tag, vr, string.Join('\\', values));

    /// <summary>DS values, each formatted to DICOM's 16-character limit.</summary>
    public DicomWriter AddDecimals(DicomTag tag, params double[] values) =>
        Add(tag, DicomVR.DS, string.Join('\\', values.Select(FormatDecimalString)));

    public DicomWriter AddInteger(DicomTag tag, long value) => Add(tag, DicomVR.IS, value.ToString(CultureInfo.InvariantCulture));

    public DicomWriter AddUInt16(DicomTag tag, params ushort[] values)
    {
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), values[i]);
        }

        entries[tag.Value] = new Entry(DicomVR.US, bytes, null);
        return this;
    }

    public DicomWriter AddBytes(DicomTag tag, DicomVR vr, ReadOnlyMemory<byte> value)
    {
        entries[tag.Value] = new Entry(vr, value, null);
        return this;
    }

    public DicomWriter AddSequence(DicomTag tag, params DicomWriter[] items)
    {
        entries[tag.Value] = new Entry(DicomVR.SQ, ReadOnlyMemory<byte>.Empty, items);
        return this;
    }

    public DicomWriter Remove(DicomTag tag)
    {
        entries.Remove(tag.Value);
        return this;
    }

    /// <summary>
    /// Writes the file with a meta group naming the SOP class and instance from the data set. With
    /// <paramref name="deflate"/> the data set is raw-deflated after the meta group (Deflated Explicit VR Little
    /// Endian, PS3.5 A.5): lossless and about half the size for CT, for files that are committed or shipped.
    /// </summary>
    public void WriteFile(string path, bool deflate = false)
    {
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                WriteTo(stream, deflate);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    public byte[] ToBytes(bool deflate = false)
    {
        using var stream = new MemoryStream();
        WriteTo(stream, deflate);
        return stream.ToArray();
    }

    private void WriteTo(Stream stream, bool deflate)
    {
        var syntax = deflate ? TransferSyntax.DeflatedExplicitVRLittleEndian : TransferSyntax.ExplicitVRLittleEndian;
        var meta = new DicomWriter()
            .AddBytes(new DicomTag(0x0002, 0x0001), DicomVR.OB, new byte[] { 0, 1 })
            .Add(new DicomTag(0x0002, 0x0002), DicomVR.UI, StringValue(DicomTag.SopClassUid))
            .Add(new DicomTag(0x0002, 0x0003), DicomVR.UI, StringValue(DicomTag.SopInstanceUid))
            .Add(DicomTag.TransferSyntaxUid, DicomVR.UI, syntax.Uid)
            .Add(new DicomTag(0x0002, 0x0012), DicomVR.UI, ImplementationClassUid)
            .Add(new DicomTag(0x0002, 0x0013), DicomVR.SH, "QCTPIPELINE");
        var metaBytes = new MemoryStream();
        meta.WriteElements(metaBytes);
        var groupLength = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(groupLength, (uint)metaBytes.Length);

        stream.Write(new byte[128]);
        stream.Write("DICM"u8);
        WriteElement(stream, DicomTag.FileMetaInformationGroupLength, DicomVR.UL, groupLength);
        metaBytes.Position = 0;
        metaBytes.CopyTo(stream);
        if (!deflate)
        {
            WriteElements(stream);
            return;
        }

        using var deflater = new DeflateStream(stream, CompressionLevel.SmallestSize, leaveOpen: true);
        WriteElements(deflater);
    }

    /// <summary>The root under which this project's UIDs are made (UUID-derived, PS3.5 B.2).</summary>
    public const string ImplementationClassUid = "2.25.271828182845904523536028747135266249775";

    private string? StringValue(DicomTag tag) =>
        entries.TryGetValue(tag.Value, out var entry) ? Encoding.Latin1.GetString(entry.Value.Span).TrimEnd('\0', ' ') : null;

    private void WriteElements(Stream stream)
    {
        foreach (var (tagValue, entry) in entries)
        {
            var tag = new DicomTag(tagValue);
            if (entry.Items is null)
            {
                WriteElement(stream, tag, entry.VR, entry.Value.Span);
                continue;
            }

            var body = new MemoryStream();
            foreach (var item in entry.Items)
            {
                var itemBody = new MemoryStream();
                item.WriteElements(itemBody);
                WriteItemHeader(body, DicomTag.Item, (uint)itemBody.Length);
                itemBody.Position = 0;
                itemBody.CopyTo(body);
            }

            WriteElement(stream, tag, DicomVR.SQ, body.ToArray());
        }
    }

    private static void WriteElement(Stream stream, DicomTag tag, DicomVR vr, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(header, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], tag.Element);
        header[4] = (byte)(vr.Code >> 8);
        header[5] = (byte)vr.Code;
        if (vr.HasLongLength)
        {
            header[6] = 0;
            header[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)value.Length);
            stream.Write(header);
        }
        else
        {
            if (value.Length > ushort.MaxValue)
            {
                throw new ArgumentException($"{tag} ({vr}) value of {value.Length} bytes exceeds a short-length VR");
            }

            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)value.Length);
            stream.Write(header[..8]);
        }

        stream.Write(value);
    }

    private static void WriteItemHeader(Stream stream, DicomTag tag, uint length)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(header, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], tag.Element);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], length);
        stream.Write(header);
    }

    private static ReadOnlyMemory<byte> PadToEven(byte[] bytes, byte padding)
    {
        if ((bytes.Length & 1) == 0)
        {
            return bytes;
        }

        var padded = new byte[bytes.Length + 1];
        bytes.CopyTo(padded, 0);
        padded[^1] = padding;
        return padded;
    }

    /// <summary>Shortest round-trip text that fits DS's 16 characters, losing precision only when it must.</summary>
    public static string FormatDecimalString(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "DS values must be finite");
        }

        for (var digits = 15; digits > 0; digits--)
        {
            var text = value.ToString("G" + digits, CultureInfo.InvariantCulture);
            if (text.Length <= 16)
            {
                return text;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, "cannot be written in 16 characters");
    }

    private sealed record Entry(DicomVR VR, ReadOnlyMemory<byte> Value, DicomWriter[]? Items);
}
