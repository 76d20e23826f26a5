using System.Buffers;
using System.Numerics.Tensors;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// The hot loops of the measurement: HU → mg/cm³ and statistics over ROI voxels or whole slabs, with
/// <see cref="TensorPrimitives"/>, in chunks; each chunk's float sums are added into double totals, so the error does
/// not grow with the volume.
/// <see cref="ScalarVbmdKernels"/> is the plain-loop reference they are tested and benchmarked against.
/// <para>
/// Two chunk sizes, both measured (`qct bench calibrate`, decision 0005): the plain conversion goes in 1 M-value
/// chunks, large enough that TensorPrimitives writes them with streaming (non-temporal) stores (an ordinary store
/// first reads the destination line, so 16 KB chunks moved 3 bytes per 2 a copy moves and reached ~60 % of copy
/// bandwidth; 1 M-value chunks 80–90 %). The conversion with statistics goes in 16 KB chunks instead, so the statistics
/// read the converted chunk from L1, not from memory.
/// </para>
/// </summary>
public static class VbmdKernels
{
    /// <summary>16 KB of floats: the converted chunk and its addend fit L1 together, for statistics read straight after.</summary>
    public const int ChunkLength = 4096;

    /// <summary>4 MB of floats per call: TensorPrimitives streams outputs this large past the caches.</summary>
    public const int StreamingChunkLength = 1 << 20;

    /// <summary>ρ = (HU − β)/σ, as one fused multiply-add by 1/σ plus −β/σ.</summary>
    public static void ToMgPerCm3(ReadOnlySpan<float> hu, Span<float> mgPerCm3, Calibration line)
    {
        CheckDestination(hu, mgPerCm3);
        var (scale, offset) = ScaleAndOffset(line);

        // TensorPrimitives has no (span, scalar, scalar) fused multiply-add: the addend is a buffer filled once per call.
        var chunkLength = Math.Min(StreamingChunkLength, hu.Length);
        var offsets = ArrayPool<float>.Shared.Rent(chunkLength);
        try
        {
            offsets.AsSpan(0, chunkLength).Fill(offset);
            for (var start = 0; start < hu.Length; start += chunkLength)
            {
                var length = Math.Min(chunkLength, hu.Length - start);
                TensorPrimitives.FusedMultiplyAdd(hu.Slice(start, length), scale, offsets.AsSpan(0, length), mgPerCm3.Slice(start, length));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(offsets);
        }
    }

    /// <summary>Converts like <see cref="ToMgPerCm3"/> and returns the moments of the converted values in the same pass.</summary>
    public static Moments ToMgPerCm3WithMoments(ReadOnlySpan<float> hu, Span<float> mgPerCm3, Calibration line)
    {
        CheckDestination(hu, mgPerCm3);
        var (scale, offset) = ScaleAndOffset(line);
        Span<float> offsets = stackalloc float[ChunkLength];
        offsets.Fill(offset);
        var total = Moments.Empty;
        for (var start = 0; start < hu.Length; start += ChunkLength)
        {
            var length = Math.Min(ChunkLength, hu.Length - start);
            var converted = mgPerCm3.Slice(start, length);
            TensorPrimitives.FusedMultiplyAdd(hu.Slice(start, length), scale, offsets[..length], converted);
            total = total.Add(ChunkMoments(converted));
        }

        return total;
    }

    public static Moments MomentsOf(ReadOnlySpan<float> values)
    {
        var total = Moments.Empty;
        for (var start = 0; start < values.Length; start += ChunkLength)
        {
            total = total.Add(ChunkMoments(values.Slice(start, Math.Min(ChunkLength, values.Length - start))));
        }

        return total;
    }

    /// <summary>Σw, Σw·x, Σw·x² and the range of the values (every value counts for the range, whatever its weight).</summary>
    public static Moments WeightedMomentsOf(ReadOnlySpan<float> values, ReadOnlySpan<float> weights)
    {
        if (weights.Length != values.Length)
        {
            throw new ArgumentException($"{weights.Length} weights for {values.Length} values.", nameof(weights));
        }

        Span<float> weighted = stackalloc float[ChunkLength];
        var total = Moments.Empty;
        for (var start = 0; start < values.Length; start += ChunkLength)
        {
            var length = Math.Min(ChunkLength, values.Length - start);
            var chunk = values.Slice(start, length);
            var chunkWeights = weights.Slice(start, length);
            var product = weighted[..length];
            TensorPrimitives.Multiply(chunk, chunkWeights, product);
            total = total.Add(new Moments(
                TensorPrimitives.Sum(chunkWeights),
                TensorPrimitives.Sum(product),
                TensorPrimitives.Dot(product, chunk),
                TensorPrimitives.Min(chunk),
                TensorPrimitives.Max(chunk)));
        }

        return total;
    }

    internal static (float Scale, float Offset) ScaleAndOffset(Calibration line)
    {
        if (!double.IsFinite(line.InterceptHu) || !double.IsFinite(line.SlopeHuPerMgPerCm3) || line.SlopeHuPerMgPerCm3 <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(line),
                $"HU line β {line.InterceptHu}, σ {line.SlopeHuPerMgPerCm3}: the slope must be positive and both finite.");
        }

        return ((float)(1 / line.SlopeHuPerMgPerCm3), (float)(-line.InterceptHu / line.SlopeHuPerMgPerCm3));
    }

    internal static void CheckDestination(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values, the source {source.Length}.", nameof(destination));
        }
    }

    private static Moments ChunkMoments(ReadOnlySpan<float> chunk) =>
        chunk.IsEmpty
            ? Moments.Empty
            : new Moments(chunk.Length, TensorPrimitives.Sum(chunk), TensorPrimitives.SumOfSquares(chunk), TensorPrimitives.Min(chunk), TensorPrimitives.Max(chunk));
}
