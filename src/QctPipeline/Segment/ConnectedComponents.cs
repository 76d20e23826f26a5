namespace QctPipeline.Segment;

/// <summary>A 6-connected region of equal non-zero value: the value, its size, mean voxel position and bounding box.</summary>
public sealed record Component(int Label, byte Value, long VoxelCount, double MeanX, double MeanY, double MeanZ, int MinZ, int MaxZ);

/// <summary>
/// 6-connected components, the largest one and 3D hole filling on x-fastest volumes. Each works with one label array
/// and one queue for the whole volume, never per voxel.
/// </summary>
public static class ConnectedComponents
{
    /// <summary>
    /// Labels 1…n for the components (0 = outside the mask), and the components largest first. Neighbours join only
    /// when their values are equal, so a class map is split into per-class components in one pass.
    /// </summary>
    public static (int[] Labels, IReadOnlyList<Component> Components) Label(ReadOnlySpan<byte> mask, int sizeX, int sizeY, int sizeZ)
    {
        var labels = new int[mask.Length];
        var queue = new int[mask.Length];
        var components = new List<Component>();
        var sliceLength = sizeX * sizeY;
        for (var seed = 0; seed < mask.Length; seed++)
        {
            if (mask[seed] == 0 || labels[seed] != 0)
            {
                continue;
            }

            var label = components.Count + 1;
            var value = mask[seed];
            labels[seed] = label;
            queue[0] = seed;
            int head = 0, tail = 1;
            double sumX = 0, sumY = 0, sumZ = 0;
            int minZ = int.MaxValue, maxZ = int.MinValue;
            while (head < tail)
            {
                var index = queue[head++];
                var z = index / sliceLength;
                var rest = index - (z * sliceLength);
                var y = rest / sizeX;
                var x = rest - (y * sizeX);
                sumX += x;
                sumY += y;
                sumZ += z;
                minZ = Math.Min(minZ, z);
                maxZ = Math.Max(maxZ, z);
                Visit(x > 0, index - 1, mask, value, labels, queue, ref tail, label);
                Visit(x < sizeX - 1, index + 1, mask, value, labels, queue, ref tail, label);
                Visit(y > 0, index - sizeX, mask, value, labels, queue, ref tail, label);
                Visit(y < sizeY - 1, index + sizeX, mask, value, labels, queue, ref tail, label);
                Visit(z > 0, index - sliceLength, mask, value, labels, queue, ref tail, label);
                Visit(z < sizeZ - 1, index + sliceLength, mask, value, labels, queue, ref tail, label);
            }

            components.Add(new Component(label, value, tail, sumX / tail, sumY / tail, sumZ / tail, minZ, maxZ));
        }

        return (labels, [.. components.OrderByDescending(c => c.VoxelCount).ThenBy(c => c.Label)]);
    }

    /// <summary>The largest component as a 0/1 mask (all zero when the mask is empty).</summary>
    public static byte[] Largest(ReadOnlySpan<byte> mask, int sizeX, int sizeY, int sizeZ)
    {
        var (labels, components) = Label(mask, sizeX, sizeY, sizeZ);
        var result = new byte[mask.Length];
        if (components.Count > 0)
        {
            var keep = components[0].Label;
            for (var index = 0; index < result.Length; index++)
            {
                result[index] = labels[index] == keep ? (byte)1 : (byte)0;
            }
        }

        return result;
    }

    /// <summary>
    /// The mask with every enclosed cavity filled: background not 6-connected to the volume's border becomes inside.
    /// A vertebral body's marrow the model was unsure of is still body.
    /// </summary>
    public static byte[] FillHoles(ReadOnlySpan<byte> mask, int sizeX, int sizeY, int sizeZ)
    {
        var outside = new byte[mask.Length];
        for (var index = 0; index < mask.Length; index++)
        {
            outside[index] = mask[index] == 0 ? (byte)1 : (byte)0;
        }

        var (labels, components) = Label(outside, sizeX, sizeY, sizeZ);
        var touchesBorder = new bool[components.Count + 1];
        var sliceLength = sizeX * sizeY;
        for (var z = 0; z < sizeZ; z++)
        {
            for (var y = 0; y < sizeY; y++)
            {
                var onFace = z == 0 || z == sizeZ - 1 || y == 0 || y == sizeY - 1;
                var row = (z * sliceLength) + (y * sizeX);
                for (var x = 0; x < sizeX; x++)
                {
                    if (onFace || x == 0 || x == sizeX - 1)
                    {
                        touchesBorder[labels[row + x]] = true;
                    }
                }
            }
        }

        var filled = new byte[mask.Length];
        for (var index = 0; index < filled.Length; index++)
        {
            filled[index] = mask[index] != 0 || !touchesBorder[labels[index]] ? (byte)1 : (byte)0;
        }

        return filled;
    }

    private static void Visit(bool inside, int neighbour, ReadOnlySpan<byte> mask, byte value, int[] labels, int[] queue, ref int tail, int label)
    {
        if (inside && mask[neighbour] == value && labels[neighbour] == 0)
        {
            labels[neighbour] = label;
            queue[tail++] = neighbour;
        }
    }
}
