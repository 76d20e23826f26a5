using System.Buffers.Binary;

namespace QctPipeline.Dicom;

/// <summary>Splits encapsulated pixel data fragments into frames (PS3.5 A.4), using the Basic Offset Table when present.</summary>
public static class EncapsulatedFrames
{
    /// <param name="fragments">All items of the pixel data, the Basic Offset Table first.</param>
    public static ReadOnlyMemory<byte>[] Split(IReadOnlyList<ReadOnlyMemory<byte>> fragments, int frameCount)
    {
        if (fragments.Count < 2)
        {
            throw new DicomFormatException("encapsulated pixel data holds no fragments");
        }

        var offsetTable = fragments[0];
        var data = fragments.Skip(1).ToArray();
        if (frameCount == 1)
        {
            return [Concatenate(data)];
        }

        if (!offsetTable.IsEmpty)
        {
            return SplitByOffsetTable(offsetTable.Span, data, frameCount);
        }

        if (data.Length == frameCount)
        {
            return data;
        }

        throw new DicomFormatException($"cannot tell frame boundaries: {data.Length} fragments for {frameCount} frames and no Basic Offset Table");
    }

    private static ReadOnlyMemory<byte>[] SplitByOffsetTable(ReadOnlySpan<byte> table, ReadOnlyMemory<byte>[] data, int frameCount)
    {
        if (table.Length != frameCount * 4)
        {
            throw new DicomFormatException($"Basic Offset Table has {table.Length / 4} entries for {frameCount} frames");
        }

        // Offsets count from the first fragment's item tag, each item header being 8 bytes.
        var itemStarts = new long[data.Length + 1];
        for (var i = 0; i < data.Length; i++)
        {
            itemStarts[i + 1] = itemStarts[i] + 8 + data[i].Length;
        }

        var frames = new ReadOnlyMemory<byte>[frameCount];
        for (var frame = 0; frame < frameCount; frame++)
        {
            long start = BinaryPrimitives.ReadUInt32LittleEndian(table[(frame * 4)..]);
            var end = frame + 1 < frameCount ? BinaryPrimitives.ReadUInt32LittleEndian(table[((frame + 1) * 4)..]) : itemStarts[^1];
            var first = Array.IndexOf(itemStarts, start);
            var last = Array.IndexOf(itemStarts, end);
            if (first < 0 || last <= first || first >= data.Length)
            {
                throw new DicomFormatException($"Basic Offset Table entry {frame} ({start}) does not point at a fragment");
            }

            frames[frame] = Concatenate(data[first..last]);
        }

        return frames;
    }

    private static ReadOnlyMemory<byte> Concatenate(ReadOnlyMemory<byte>[] parts)
    {
        if (parts.Length == 1)
        {
            return parts[0];
        }

        var joined = new byte[parts.Sum(p => (long)p.Length)];
        var offset = 0;
        foreach (var part in parts)
        {
            part.Span.CopyTo(joined.AsSpan(offset));
            offset += part.Length;
        }

        return joined;
    }
}
