namespace QctPipeline.Imaging;

/// <summary>
/// Binary operations on 2D masks (x fastest, 1 inside, 0 outside): box sums, square dilation and erosion, hole filling
/// and 4-connected labelling. Small planes (a vertebra's neighbourhood), so plain loops.
/// </summary>
public static class BinaryPlane
{
    /// <summary>Sum of <paramref name="values"/> over the square of half-width <paramref name="radius"/> around each pixel (clipped at the border), by a summed-area table.</summary>
    public static float[] BoxSum(ReadOnlySpan<float> values, int width, int height, int radius)
    {
        var table = new double[(width + 1) * (height + 1)];
        for (var y = 0; y < height; y++)
        {
            double row = 0;
            for (var x = 0; x < width; x++)
            {
                row += values[x + (width * y)];
                table[(x + 1) + ((width + 1) * (y + 1))] = table[(x + 1) + ((width + 1) * y)] + row;
            }
        }

        var result = new float[width * height];
        for (var y = 0; y < height; y++)
        {
            var y0 = Math.Max(0, y - radius);
            var y1 = Math.Min(height, y + radius + 1);
            for (var x = 0; x < width; x++)
            {
                var x0 = Math.Max(0, x - radius);
                var x1 = Math.Min(width, x + radius + 1);
                result[x + (width * y)] = (float)(table[x1 + ((width + 1) * y1)] - table[x0 + ((width + 1) * y1)]
                    - table[x1 + ((width + 1) * y0)] + table[x0 + ((width + 1) * y0)]);
            }
        }

        return result;
    }

    /// <summary>Dilation by a square of half-width <paramref name="radius"/>.</summary>
    public static byte[] Dilate(ReadOnlySpan<byte> mask, int width, int height, int radius) => Threshold(mask, width, height, radius, anyInside: true);

    /// <summary>Erosion by a square of half-width <paramref name="radius"/> (outside the plane counts as outside).</summary>
    public static byte[] Erode(ReadOnlySpan<byte> mask, int width, int height, int radius) => Threshold(mask, width, height, radius, anyInside: false);

    /// <summary>Closing: dilation then erosion, bridging gaps up to 2 × radius pixels wide.</summary>
    public static byte[] Close(ReadOnlySpan<byte> mask, int width, int height, int radius) =>
        Erode(Dilate(mask, width, height, radius), width, height, radius);

    /// <summary>The mask with every hole (background not 4-connected to the plane's border) filled.</summary>
    public static byte[] FillHoles(ReadOnlySpan<byte> mask, int width, int height)
    {
        var outside = new byte[mask.Length];
        for (var index = 0; index < mask.Length; index++)
        {
            outside[index] = mask[index] == 0 ? (byte)1 : (byte)0;
        }

        var (labels, _) = Label(outside, width, height);
        var border = new HashSet<int>();
        for (var x = 0; x < width; x++)
        {
            border.Add(labels[x]);
            border.Add(labels[x + (width * (height - 1))]);
        }

        for (var y = 0; y < height; y++)
        {
            border.Add(labels[width * y]);
            border.Add(labels[width - 1 + (width * y)]);
        }

        var filled = new byte[mask.Length];
        for (var index = 0; index < filled.Length; index++)
        {
            filled[index] = mask[index] != 0 || !border.Contains(labels[index]) ? (byte)1 : (byte)0;
        }

        return filled;
    }

    /// <summary>4-connected labels 1…n (0 outside) and each label's pixel count (index 0 unused).</summary>
    public static (int[] Labels, int[] Sizes) Label(ReadOnlySpan<byte> mask, int width, int height)
    {
        var labels = new int[mask.Length];
        var queue = new int[mask.Length];
        var sizes = new List<int> { 0 };
        for (var seed = 0; seed < mask.Length; seed++)
        {
            if (mask[seed] == 0 || labels[seed] != 0)
            {
                continue;
            }

            var label = sizes.Count;
            labels[seed] = label;
            queue[0] = seed;
            int head = 0, tail = 1;
            while (head < tail)
            {
                var index = queue[head++];
                var x = index % width;
                var y = index / width;
                Join(x > 0, index - 1, mask, labels, queue, ref tail, label);
                Join(x < width - 1, index + 1, mask, labels, queue, ref tail, label);
                Join(y > 0, index - width, mask, labels, queue, ref tail, label);
                Join(y < height - 1, index + width, mask, labels, queue, ref tail, label);
            }

            sizes.Add(tail);
        }

        return (labels, [.. sizes]);
    }

    private static void Join(bool inside, int neighbour, ReadOnlySpan<byte> mask, int[] labels, int[] queue, ref int tail, int label)
    {
        if (inside && mask[neighbour] != 0 && labels[neighbour] == 0)
        {
            labels[neighbour] = label;
            queue[tail++] = neighbour;
        }
    }

    private static byte[] Threshold(ReadOnlySpan<byte> mask, int width, int height, int radius, bool anyInside)
    {
        var values = new float[mask.Length];
        for (var index = 0; index < mask.Length; index++)
        {
            values[index] = mask[index];
        }

        var sums = BoxSum(values, width, height, radius);
        var result = new byte[mask.Length];
        var full = ((2 * radius) + 1) * ((2 * radius) + 1);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var index = x + (width * y);
                var insideWindow = (Math.Min(width, x + radius + 1) - Math.Max(0, x - radius)) * (Math.Min(height, y + radius + 1) - Math.Max(0, y - radius));
                result[index] = anyInside
                    ? (sums[index] > 0.5f ? (byte)1 : (byte)0)
                    : (sums[index] > insideWindow - 0.5f && insideWindow == full ? (byte)1 : (byte)0);
            }
        }

        return result;
    }
}
