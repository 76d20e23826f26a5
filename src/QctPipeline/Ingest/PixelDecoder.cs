using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace QctPipeline.Ingest;

/// <summary>What decoding one frame saw: value range and sum after rescale, padding pixels, values raised to the floor.</summary>
public readonly record struct SliceStatistics(float Min, float Max, double Sum, long PaddingPixels, long BelowFloor)
{
    public static readonly SliceStatistics Empty = new(float.PositiveInfinity, float.NegativeInfinity, 0, 0, 0);

    public SliceStatistics Add(SliceStatistics other) => new(
        Math.Min(Min, other.Min), Math.Max(Max, other.Max), Sum + other.Sum, PaddingPixels + other.PaddingPixels, BelowFloor + other.BelowFloor);
}

/// <summary>
/// Turns one frame of stored pixel values into modality values (HU for CT): bits outside BitsStored dropped,
/// sign extended for PixelRepresentation 1, slope and intercept applied, padding replaced, values below a floor raised
/// to it. 16-bit frames, the CT case, take one fused vector pass. MONOCHROME1 is not inverted: the rescale to modality
/// values applies to the stored values whatever the photometric interpretation, which concerns display only (PS3.3
/// C.7.6.3.1.2, C.11.1).
/// </summary>
public static class PixelDecoder
{
    /// <param name="frame">Stored values of one frame, little endian unless <paramref name="bigEndian"/>.</param>
    /// <param name="floor">Values below it are raised to it (−1024 HU for CT); negative infinity for none.</param>
    /// <param name="paddingFill">Replaces pixels equal to PixelPaddingValue.</param>
    public static SliceStatistics Decode(ReadOnlySpan<byte> frame, PixelFormat format, bool bigEndian, double slope, double intercept, float floor, float paddingFill, Span<float> destination)
    {
        var count = format.Rows * format.Columns;
        if (frame.Length < format.FrameLength || destination.Length < count)
        {
            throw new ArgumentException($"frame holds {frame.Length} bytes, {format.FrameLength} needed");
        }

        var output = destination[..count];
        var paddingIsBelowFloor = format.PaddingValue is not { } pad || ((pad * slope) + intercept < floor && paddingFill == floor);
        if (format.BitsAllocated == 16 && paddingIsBelowFloor)
        {
            return Decode16(frame[..(count * 2)], format, bigEndian, (float)slope, (float)intercept, floor, output);
        }

        return DecodeGeneral(frame, format, bigEndian, slope, intercept, floor, paddingFill, output);
    }

    private static SliceStatistics Decode16(ReadOnlySpan<byte> bytes, PixelFormat format, bool bigEndian, float slope, float intercept, float floor, Span<float> output)
    {
        var unusedHighBits = 15 - format.HighBit;
        var unusedLowBits = format.HighBit + 1 - format.BitsStored;
        var raw = MemoryMarshal.Cast<byte, short>(bytes);
        var needsScratch = bigEndian || unusedHighBits != 0 || unusedLowBits != 0;
        var scratch = needsScratch ? ArrayPool<short>.Shared.Rent(output.Length) : null;
        try
        {
            var values = raw;
            if (scratch is not null)
            {
                var cleaned = scratch.AsSpan(0, output.Length);
                if (bigEndian)
                {
                    BinaryPrimitives.ReverseEndianness(raw, cleaned);
                }
                else
                {
                    raw.CopyTo(cleaned);
                }

                if (format.Signed)
                {
                    // Stored bits moved to the top, then shifted down arithmetically: garbage above HighBit goes, the sign extends.
                    TensorPrimitives.ShiftLeft(cleaned, unusedHighBits, cleaned);
                    TensorPrimitives.ShiftRightArithmetic(cleaned, unusedHighBits + unusedLowBits, cleaned);
                }
                else
                {
                    var unsigned = MemoryMarshal.Cast<short, ushort>(cleaned);
                    TensorPrimitives.ShiftRightLogical(unsigned, unusedLowBits, unsigned);
                    TensorPrimitives.BitwiseAnd(unsigned, (ushort)((1 << format.BitsStored) - 1), unsigned);
                }

                values = cleaned;
            }

            var padding = format.PaddingValue is { } pad ? CountEqual(values, format.Signed ? (short)pad : unchecked((short)(ushort)pad)) : 0;
            var statistics = format.Signed
                ? RescaleSigned(values, slope, intercept, floor, output)
                : RescaleUnsigned(MemoryMarshal.Cast<short, ushort>(values), slope, intercept, floor, output);
            return statistics with { PaddingPixels = padding };
        }
        finally
        {
            if (scratch is not null)
            {
                ArrayPool<short>.Shared.Return(scratch);
            }
        }
    }

    private static SliceStatistics RescaleSigned(ReadOnlySpan<short> values, float slope, float intercept, float floor, Span<float> output)
    {
        var accumulator = new Accumulator(slope, intercept, floor);
        var vectors = MemoryMarshal.Cast<short, Vector<short>>(values);
        var outputs = MemoryMarshal.Cast<float, Vector<float>>(output);
        for (var v = 0; v < vectors.Length; v++)
        {
            Vector.Widen(vectors[v], out var low, out var high);
            outputs[2 * v] = accumulator.Next(Vector.ConvertToSingle(low));
            outputs[(2 * v) + 1] = accumulator.Next(Vector.ConvertToSingle(high));
        }

        for (var i = vectors.Length * Vector<short>.Count; i < values.Length; i++)
        {
            output[i] = accumulator.Next(values[i]);
        }

        return accumulator.Result();
    }

    private static SliceStatistics RescaleUnsigned(ReadOnlySpan<ushort> values, float slope, float intercept, float floor, Span<float> output)
    {
        var accumulator = new Accumulator(slope, intercept, floor);
        var vectors = MemoryMarshal.Cast<ushort, Vector<ushort>>(values);
        var outputs = MemoryMarshal.Cast<float, Vector<float>>(output);
        for (var v = 0; v < vectors.Length; v++)
        {
            Vector.Widen(vectors[v], out var low, out var high);
            outputs[2 * v] = accumulator.Next(Vector.ConvertToSingle(low));
            outputs[(2 * v) + 1] = accumulator.Next(Vector.ConvertToSingle(high));
        }

        for (var i = vectors.Length * Vector<ushort>.Count; i < values.Length; i++)
        {
            output[i] = accumulator.Next(values[i]);
        }

        return accumulator.Result();
    }

    private static long CountEqual(ReadOnlySpan<short> values, short target)
    {
        long count = 0;
        var vectors = MemoryMarshal.Cast<short, Vector<short>>(values);
        var targetVector = new Vector<short>(target);
        for (var v = 0; v < vectors.Length; v++)
        {
            // Equal lanes are all ones (−1); subtracting their sum counts them without a branch per pixel.
            count -= Vector.Sum(Vector.Equals(vectors[v], targetVector));
        }

        for (var i = vectors.Length * Vector<short>.Count; i < values.Length; i++)
        {
            count += values[i] == target ? 1 : 0;
        }

        return count;
    }

    /// <summary>Frames other than 16-bit, or whose padding must be told apart from real values: per-step, not fused.</summary>
    private static SliceStatistics DecodeGeneral(ReadOnlySpan<byte> frame, PixelFormat format, bool bigEndian, double slope, double intercept, float floor, float paddingFill, Span<float> output)
    {
        StoredValues(frame, format, bigEndian, output);
        long padding = 0;
        if (format.PaddingValue is { } pad)
        {
            var stored = (float)pad;
            for (var i = 0; i < output.Length; i++)
            {
                if (output[i] == stored)
                {
                    output[i] = float.NaN;
                    padding++;
                }
            }
        }

        TensorPrimitives.Multiply(output, (float)slope, output);
        TensorPrimitives.Add(output, (float)intercept, output);
        long belowFloor = 0;
        for (var i = 0; i < output.Length; i++)
        {
            if (float.IsNaN(output[i]))
            {
                output[i] = paddingFill;
            }
            else if (output[i] < floor)
            {
                output[i] = floor;
                belowFloor++;
            }
        }

        return new SliceStatistics(TensorPrimitives.Min(output), TensorPrimitives.Max(output), TensorPrimitives.Sum(output), padding, belowFloor);
    }

    private static void StoredValues(ReadOnlySpan<byte> bytes, PixelFormat format, bool bigEndian, Span<float> output)
    {
        var bytesPerPixel = format.BitsAllocated / 8;
        var unusedHighBits = format.BitsAllocated - 1 - format.HighBit;
        var unusedLowBits = format.HighBit + 1 - format.BitsStored;
        for (var i = 0; i < output.Length; i++)
        {
            var pixel = bytes.Slice(i * bytesPerPixel, bytesPerPixel);
            uint word = bytesPerPixel switch
            {
                1 => pixel[0],
                2 => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(pixel) : BinaryPrimitives.ReadUInt16LittleEndian(pixel),
                _ => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(pixel) : BinaryPrimitives.ReadUInt32LittleEndian(pixel),
            };
            var aligned = word << (32 - format.BitsAllocated + unusedHighBits);
            var shift = 32 - format.BitsAllocated + unusedHighBits + unusedLowBits;
            output[i] = format.Signed ? (int)aligned >> shift : aligned >> shift;
        }
    }

    /// <summary>Rescale, floor, and the running min, max, sum and floor count, kept in vector lanes.</summary>
    private struct Accumulator(float slope, float intercept, float floor)
    {
        private readonly Vector<float> slopes = new(slope);
        private readonly Vector<float> intercepts = new(intercept);
        private readonly Vector<float> floors = new(floor);
        private Vector<float> minimum = new(float.PositiveInfinity);
        private Vector<float> maximum = new(float.NegativeInfinity);
        private Vector<double> sum = Vector<double>.Zero;
        private Vector<int> belowFloor = Vector<int>.Zero;
        private float scalarMinimum = float.PositiveInfinity;
        private float scalarMaximum = float.NegativeInfinity;
        private double scalarSum;
        private long scalarBelowFloor;

        public Vector<float> Next(Vector<float> stored)
        {
            var value = Vector.FusedMultiplyAdd(stored, slopes, intercepts);
            belowFloor -= Vector.LessThan(value, floors);
            value = Vector.Max(value, floors);
            minimum = Vector.Min(minimum, value);
            maximum = Vector.Max(maximum, value);
            Vector.Widen(value, out var low, out var high);
            sum += low + high;
            return value;
        }

        public float Next(float stored)
        {
            var value = (stored * slope) + intercept;
            if (value < floor)
            {
                value = floor;
                scalarBelowFloor++;
            }

            scalarMinimum = Math.Min(scalarMinimum, value);
            scalarMaximum = Math.Max(scalarMaximum, value);
            scalarSum += value;
            return value;
        }

        public readonly SliceStatistics Result()
        {
            var min = scalarMinimum;
            var max = scalarMaximum;
            for (var lane = 0; lane < Vector<float>.Count; lane++)
            {
                min = Math.Min(min, minimum[lane]);
                max = Math.Max(max, maximum[lane]);
            }

            return new SliceStatistics(min, max, Vector.Sum(sum) + scalarSum, 0, Vector.Sum(belowFloor) + scalarBelowFloor);
        }
    }
}
