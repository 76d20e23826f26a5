using QctPipeline.Domain;

namespace QctPipeline.Segment;

/// <summary>
/// Resamples between grids whose axes are parallel (same direction cosines), one axis at a time. Each target voxel
/// averages the source over its own footprint when shrinking (what a coarser scan would have measured) and
/// interpolates linearly when enlarging; beyond the source the value is <c>outside</c>.
/// </summary>
public static class AxisAlignedResampler
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

        var sizes = new[] { from.SizeX, from.SizeY, from.SizeZ };
        var current = source.ToArray();
        for (var axis = 0; axis < 3; axis++)
        {
            current = ResampleAxis(current, sizes, axis, plans[axis], outside);
            sizes[axis] = plans[axis].Length;
        }

        return current;
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

    private static float[] ResampleAxis(float[] input, int[] sizes, int axis, (int Index, float Weight)[][] plan, float outside)
    {
        var outSizes = (int[])sizes.Clone();
        outSizes[axis] = plan.Length;
        var output = new float[(long)outSizes[0] * outSizes[1] * outSizes[2]];
        var inStride = axis == 0 ? 1 : axis == 1 ? sizes[0] : sizes[0] * sizes[1];
        Parallel.For(0, outSizes[2], k =>
        {
            for (var j = 0; j < outSizes[1]; j++)
            {
                for (var i = 0; i < outSizes[0]; i++)
                {
                    var (target, inBase) = axis switch
                    {
                        0 => (i, sizes[0] * (j + (sizes[1] * k))),
                        1 => (j, i + (sizes[0] * sizes[1] * k)),
                        _ => (k, i + (sizes[0] * j)),
                    };
                    var sum = 0f;
                    foreach (var (source, weight) in plan[target])
                    {
                        sum += weight * (source < 0 ? outside : input[inBase + (source * inStride)]);
                    }

                    output[i + (outSizes[0] * (j + (outSizes[1] * k)))] = sum;
                }
            }
        });
        return output;
    }
}
