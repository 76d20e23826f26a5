using System.Buffers;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace QctPipeline.Ingest;

/// <summary>
/// Turns one frame of stored pixel values into modality values (HU for CT): bits outside BitsStored dropped,
/// sign extended for PixelRepresentation 1, MONOCHROME1 inverted, then slope and intercept applied.
/// </summary>
public static class PixelDecoder
{
    /// <param name="frame">Little-endian stored values of one frame (big-endian when <paramref name="bigEndian"/>).</param>
    /// <returns>How many pixels equalled the padding value; they are set to <paramref name="paddingFill"/>.</returns>
    public static int Decode(ReadOnlySpan<byte> frame, PixelFormat format, bool bigEndian, double slope, double intercept, float paddingFill, Span<float> destination)
    {
        var count = format.Rows * format.Columns;
        if (frame.Length < format.FrameLength || destination.Length < count)
        {
            throw new ArgumentException($"frame holds {frame.Length} bytes, {format.FrameLength} needed");
        }

        var output = destination[..count];
        switch (format.BitsAllocated)
        {
            case 16:
                StoredValues16(frame[..(count * 2)], format, bigEndian, output);
                break;
            case 8:
                StoredValues8(frame[..count], format, output);
                break;
            default:
                StoredValues32(frame[..(count * 4)], format, bigEndian, output);
                break;
        }

        var paddedPixels = format.PaddingValue is { } padding ? MarkPadding(output, padding) : 0;
        var (effectiveSlope, effectiveIntercept) = ModalityTransform(format, slope, intercept);
        TensorPrimitives.Multiply(output, (float)effectiveSlope, output);
        TensorPrimitives.Add(output, (float)effectiveIntercept, output);
        if (paddedPixels > 0)
        {
            output.Replace(float.NaN, paddingFill);
        }

        return paddedPixels;
    }

    /// <summary>MONOCHROME1 stores brightness inverted: v' = (min + max) − v, folded into the rescale.</summary>
    private static (double Slope, double Intercept) ModalityTransform(PixelFormat format, double slope, double intercept)
    {
        if (format.PhotometricInterpretation != "MONOCHROME1")
        {
            return (slope, intercept);
        }

        var (min, max) = format.Signed
            ? (-Math.Pow(2, format.BitsStored - 1), Math.Pow(2, format.BitsStored - 1) - 1)
            : (0, Math.Pow(2, format.BitsStored) - 1);
        return (-slope, ((min + max) * slope) + intercept);
    }

    /// <summary>Padding pixels become NaN so the rescale leaves them recognisable; compared in the stored domain.</summary>
    private static int MarkPadding(Span<float> stored, long padding)
    {
        var value = (float)padding;
        var count = 0;
        for (var i = 0; i < stored.Length; i++)
        {
            if (stored[i] == value)
            {
                stored[i] = float.NaN;
                count++;
            }
        }

        return count;
    }

    private static void StoredValues16(ReadOnlySpan<byte> bytes, PixelFormat format, bool bigEndian, Span<float> output)
    {
        var scratch = ArrayPool<short>.Shared.Rent(output.Length);
        try
        {
            var values = scratch.AsSpan(0, output.Length);
            var raw = MemoryMarshal.Cast<byte, short>(bytes);
            if (bigEndian)
            {
                BinaryPrimitives.ReverseEndianness(raw, values);
            }
            else
            {
                raw.CopyTo(values);
            }

            var unusedHighBits = 15 - format.HighBit;
            var unusedLowBits = format.HighBit + 1 - format.BitsStored;
            if (format.Signed)
            {
                // Shift the stored bits to the top, then arithmetic-shift down: drops garbage above HighBit and sign-extends.
                TensorPrimitives.ShiftLeft(values, unusedHighBits, values);
                TensorPrimitives.ShiftRightArithmetic(values, unusedHighBits + unusedLowBits, values);
                TensorPrimitives.ConvertChecked<short, float>(values, output);
            }
            else
            {
                var unsigned = MemoryMarshal.Cast<short, ushort>(values);
                TensorPrimitives.ShiftRightLogical(unsigned, unusedLowBits, unsigned);
                TensorPrimitives.BitwiseAnd(unsigned, (ushort)((1 << format.BitsStored) - 1), unsigned);
                TensorPrimitives.ConvertChecked<ushort, float>(unsigned, output);
            }
        }
        finally
        {
            ArrayPool<short>.Shared.Return(scratch);
        }
    }

    private static void StoredValues8(ReadOnlySpan<byte> bytes, PixelFormat format, Span<float> output)
    {
        var unusedHighBits = 7 - format.HighBit;
        var unusedLowBits = format.HighBit + 1 - format.BitsStored;
        for (var i = 0; i < output.Length; i++)
        {
            output[i] = format.Signed
                ? (sbyte)(bytes[i] << unusedHighBits) >> (unusedHighBits + unusedLowBits)
                : (bytes[i] >> unusedLowBits) & ((1 << format.BitsStored) - 1);
        }
    }

    private static void StoredValues32(ReadOnlySpan<byte> bytes, PixelFormat format, bool bigEndian, Span<float> output)
    {
        var unusedHighBits = 31 - format.HighBit;
        var unusedLowBits = format.HighBit + 1 - format.BitsStored;
        for (var i = 0; i < output.Length; i++)
        {
            var word = bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(bytes[(i * 4)..]) : BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * 4)..]);
            output[i] = format.Signed
                ? (int)(word << unusedHighBits) >> (unusedHighBits + unusedLowBits)
                : (word << unusedHighBits) >> (unusedHighBits + unusedLowBits);
        }
    }
}
