using System.Buffers.Binary;

namespace QctPipeline.Dicom.Codecs;

/// <summary>
/// DICOM RLE Lossless (PS3.5 annex G): a 64-byte header of segment offsets, then one PackBits segment per byte
/// plane, most significant byte of each sample first. Decodes to native little-endian samples, interleaved
/// (planar configuration 0), without interpreting BitsStored or the pixel representation.
/// </summary>
public static class RleDecoder
{
    private const int HeaderLength = 64;
    private const int MaxSegments = 15;

    /// <param name="encodedFrame">One whole frame, header and segments, as <see cref="EncapsulatedFrames.Split"/> gives it.</param>
    /// <param name="destination">Exactly rows × columns × samplesPerPixel × bitsAllocated / 8 bytes.</param>
    public static void DecodeFrame(ReadOnlySpan<byte> encodedFrame, int rows, int columns, int samplesPerPixel, int bitsAllocated, Span<byte> destination)
    {
        if (rows <= 0 || columns <= 0)
        {
            throw new DicomFormatException($"RLE frame of {rows}x{columns} pixels: rows and columns must be positive");
        }

        if (bitsAllocated <= 0 || bitsAllocated % 8 != 0)
        {
            throw new DicomFormatException($"RLE needs whole bytes per sample; BitsAllocated is {bitsAllocated}");
        }

        if (samplesPerPixel <= 0)
        {
            throw new DicomFormatException($"SamplesPerPixel is {samplesPerPixel}");
        }

        var bytesPerSample = bitsAllocated / 8;
        var expectedSegments = (long)samplesPerPixel * bytesPerSample;
        if (expectedSegments > MaxSegments)
        {
            throw new DicomFormatException($"RLE holds at most {MaxSegments} segments; {samplesPerPixel} samples of {bitsAllocated} bits need {expectedSegments}");
        }

        var pixels = (long)rows * columns;
        if (pixels * expectedSegments != destination.Length)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes; a {rows}x{columns} frame of {samplesPerPixel} x {bitsAllocated}-bit samples needs {pixels * expectedSegments}", nameof(destination));
        }

        if (encodedFrame.Length < HeaderLength)
        {
            throw new DicomFormatException($"RLE frame of {encodedFrame.Length} bytes is shorter than its {HeaderLength}-byte header");
        }

        var segmentCount = BinaryPrimitives.ReadUInt32LittleEndian(encodedFrame);
        if (segmentCount != expectedSegments)
        {
            throw new DicomFormatException($"RLE header declares {segmentCount} segments; {samplesPerPixel} samples of {bitsAllocated} bits need {expectedSegments}");
        }

        var stride = (int)expectedSegments;
        for (var segment = 0; segment < stride; segment++)
        {
            var start = SegmentOffset(encodedFrame, segment);
            var end = segment + 1 < stride ? SegmentOffset(encodedFrame, segment + 1) : encodedFrame.Length;
            if (end < start)
            {
                throw new DicomFormatException($"RLE segment {segment + 1} starts at {end}, before segment {segment} at {start}");
            }

            // Segment order is most significant byte first; in the little-endian output that byte comes last.
            var sample = segment / bytesPerSample;
            var byteInSample = bytesPerSample - 1 - (segment % bytesPerSample);
            var firstByte = (sample * bytesPerSample) + byteInSample;
            DecodeSegment(encodedFrame[start..end], segment, destination[firstByte..], stride, (int)pixels);
        }
    }

    private static int SegmentOffset(ReadOnlySpan<byte> encodedFrame, int segment)
    {
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(encodedFrame[(4 + (4 * segment))..]);
        if (offset < HeaderLength || offset > encodedFrame.Length)
        {
            throw new DicomFormatException($"RLE segment {segment} offset {offset} lies outside the frame's data (bytes {HeaderLength}..{encodedFrame.Length})");
        }

        return (int)offset;
    }

    /// <summary>
    /// Unpacks one PackBits segment into every <paramref name="stride"/>-th byte of <paramref name="output"/>.
    /// Bytes left in the segment once the plane is full are ignored: encoders pad segments to even lengths.
    /// </summary>
    private static void DecodeSegment(ReadOnlySpan<byte> segment, int index, Span<byte> output, int stride, int count)
    {
        var read = 0;
        var written = 0;
        while (written < count)
        {
            if (read >= segment.Length)
            {
                throw new DicomFormatException($"RLE segment {index} ends after {written} of {count} bytes");
            }

            var header = (sbyte)segment[read++];
            if (header >= 0)
            {
                var literal = header + 1;
                if (written + literal > count)
                {
                    throw new DicomFormatException($"RLE segment {index}: a literal run of {literal} bytes at offset {read - 1} overflows the segment ({count - written} bytes left)");
                }

                if (read + literal > segment.Length)
                {
                    throw new DicomFormatException($"RLE segment {index}: a literal run of {literal} bytes at offset {read - 1} is cut off by the end of the segment");
                }

                Scatter(segment.Slice(read, literal), output, stride, written);
                read += literal;
                written += literal;
            }
            else if (header != sbyte.MinValue)
            {
                var repeat = 1 - header;
                if (written + repeat > count)
                {
                    throw new DicomFormatException($"RLE segment {index}: a replicate run of {repeat} bytes at offset {read - 1} overflows the segment ({count - written} bytes left)");
                }

                if (read >= segment.Length)
                {
                    throw new DicomFormatException($"RLE segment {index}: the replicate run at offset {read - 1} has no byte to repeat");
                }

                Repeat(segment[read++], output, stride, written, repeat);
                written += repeat;
            }
        }
    }

    private static void Scatter(ReadOnlySpan<byte> bytes, Span<byte> output, int stride, int position)
    {
        if (stride == 1)
        {
            bytes.CopyTo(output[position..]);
            return;
        }

        var target = position * stride;
        foreach (var value in bytes)
        {
            output[target] = value;
            target += stride;
        }
    }

    private static void Repeat(byte value, Span<byte> output, int stride, int position, int count)
    {
        if (stride == 1)
        {
            output.Slice(position, count).Fill(value);
            return;
        }

        var target = position * stride;
        for (var i = 0; i < count; i++)
        {
            output[target] = value;
            target += stride;
        }
    }
}
