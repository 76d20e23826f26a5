using System.Numerics;
using System.Runtime.InteropServices;
using QctPipeline.Domain;

namespace QctPipeline.Segment;

/// <summary>
/// Resamples between grids whose axes are parallel (same direction cosines), one axis at a time. Each target voxel
/// averages the source over its own footprint when shrinking (what a coarser scan would have measured) and
/// interpolates linearly when enlarging; beyond the source the value is <c>outside</c>.
/// </summary>
public static unsafe class AxisAlignedResampler
{
    public static float[] Resample(ReadOnlySpan<float> source, VolumeGeometry from, VolumeGeometry to, float outside)
    {
        var axes = new[] { (from.RowDirection, to.RowDirection), (from.ColumnDirection, to.ColumnDirection), (from.SliceDirection, to.SliceDirection) };
        if (axes.Any(a => (a.Item1 - a.Item2).Length > 1e-6))
        {
            throw new ArgumentException("grids must have the same axis directions");
        }

        var offset = to.Origin - from.Origin;
        var plans = new[]
        {
            Plan(from.SizeX, from.Spacing.X, to.SizeX, to.Spacing.X, offset.Dot(from.RowDirection)),
            Plan(from.SizeY, from.Spacing.Y, to.SizeY, to.Spacing.Y, offset.Dot(from.ColumnDirection)),
            Plan(from.SizeZ, from.Spacing.Z, to.SizeZ, to.Spacing.Z, offset.Dot(from.SliceDirection)),
        };

        // Slices first, then rows: these passes combine whole contiguous rows (vectorised) and shrink the data most,
        // so the one pass over the full series reads it in place, without a copy.
        var afterZ = new float[(long)from.SizeX * from.SizeY * to.SizeZ];
        fixed (float* pointer = source)
        {
            CombineRows(pointer, from.SizeX * from.SizeY, 1, from.SizeZ, plans[2], outside, afterZ);
        }

        var afterY = new float[(long)from.SizeX * to.SizeY * to.SizeZ];
        fixed (float* pointer = afterZ)
        {
            CombineRows(pointer, from.SizeX, to.SizeZ, from.SizeY, plans[1], outside, afterY);
        }

        return ResampleRowsAlongX(afterY, from.SizeX, to.SizeY * to.SizeZ, plans[0], outside);
    }

    /// <summary>
    /// Resamples along an axis whose neighbours lie <paramref name="rowLength"/> apart, so each target row is a weighted
    /// sum of whole source rows. The source holds <paramref name="blocks"/> blocks of <paramref name="sourceRows"/> rows.
    /// </summary>
    private static void CombineRows(float* source, int rowLength, int blocks, int sourceRows, (int Index, float Weight)[][] plan, float outside, float[] output)
    {
        var input = (nint)source;
        var targetRows = plan.Length;
        Parallel.For(0, blocks * targetRows, row =>
        {
            var (block, target) = Math.DivRem(row, targetRows);
            var destination = output.AsSpan(row * rowLength, rowLength);
            destination.Clear();
            foreach (var (index, weight) in plan[target])
            {
                if (index < 0)
                {
                    AddScaled(destination, outside, weight);
                }
                else
                {
                    AddScaled(destination, new ReadOnlySpan<float>((float*)input + (((long)block * sourceRows) + index) * rowLength, rowLength), weight);
                }
            }
        });
    }

    private static void AddScaled(Span<float> destination, ReadOnlySpan<float> source, float weight)
    {
        var vectors = MemoryMarshal.Cast<float, Vector<float>>(destination);
        var sourceVectors = MemoryMarshal.Cast<float, Vector<float>>(source);
        for (var v = 0; v < vectors.Length; v++)
        {
            vectors[v] += sourceVectors[v] * weight;
        }

        for (var i = vectors.Length * Vector<float>.Count; i < destination.Length; i++)
        {
            destination[i] += source[i] * weight;
        }
    }

    private static void AddScaled(Span<float> destination, float value, float weight)
    {
        var term = value * weight;
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] += term;
        }
    }

    /// <summary>Per target index: the source cells it draws from and their weights (index −1 = outside).</summary>
    private static (int Index, float Weight)[][] Plan(int sourceSize, double sourceSpacing, int targetSize, double targetSpacing, double originOffsetMm)
    {
        var ratio = targetSpacing / sourceSpacing;
        var footprint = Math.Max(ratio, 1.0);
        var plan = new (int, float)[targetSize][];
        for (var t = 0; t < targetSize; t++)
        {
            var centre = (originOffsetMm / sourceSpacing) + (t * ratio);
            var low = centre - (footprint / 2);
            var high = centre + (footprint / 2);
            var weights = new List<(int, float)>();
            for (var n = (int)Math.Floor(low + 0.5); n <= (int)Math.Ceiling(high - 0.5); n++)
            {
                var overlap = Math.Min(high, n + 0.5) - Math.Max(low, n - 0.5);
                if (overlap > 1e-9)
                {
                    weights.Add((n >= 0 && n < sourceSize ? n : -1, (float)(overlap / footprint)));
                }
            }

            plan[t] = [.. weights];
        }

        return plan;
    }

    /// <summary>The last pass, along x, where neighbours are adjacent floats: each target voxel sums its plan's cells.</summary>
    private static float[] ResampleRowsAlongX(float[] input, int sourceSizeX, int rows, (int Index, float Weight)[][] plan, float outside)
    {
        var output = new float[(long)plan.Length * rows];
        Parallel.For(0, rows, row =>
        {
            var source = input.AsSpan(row * sourceSizeX, sourceSizeX);
            var destination = output.AsSpan(row * plan.Length, plan.Length);
            for (var target = 0; target < destination.Length; target++)
            {
                var sum = 0f;
                foreach (var (index, weight) in plan[target])
                {
                    sum += weight * (index < 0 ? outside : source[index]);
                }

                destination[target] = sum;
            }
        });
        return output;
    }
}
