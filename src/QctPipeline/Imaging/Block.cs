namespace QctPipeline.Imaging;

/// <summary>
/// A small 3D image (x fastest, then y, then z) resampled around one structure, such as a vertebral body in its own
/// frame. NaN marks voxels outside the scanned volume; smoothing ignores them.
/// </summary>
public sealed class Block
{
    public Block(int sizeX, int sizeY, int sizeZ, float[] values)
    {
        if (values.Length != sizeX * sizeY * sizeZ)
        {
            throw new ArgumentException($"a {sizeX}×{sizeY}×{sizeZ} block needs {sizeX * sizeY * sizeZ} values", nameof(values));
        }

        (SizeX, SizeY, SizeZ, Values) = (sizeX, sizeY, sizeZ, values);
    }

    public int SizeX { get; }

    public int SizeY { get; }

    public int SizeZ { get; }

    public float[] Values { get; }

    public int Index(int x, int y, int z) => x + (SizeX * (y + (SizeY * z)));

    public float this[int x, int y, int z] => Values[Index(x, y, z)];

    /// <summary>Plane z as a 2D image (a copy).</summary>
    public Plane PlaneAt(int z) => new(SizeX, SizeY, Values.AsSpan(z * SizeX * SizeY, SizeX * SizeY).ToArray());

    /// <summary>The NaN-ignoring mean of planes <paramref name="from"/>…<paramref name="to"/> (clamped to the block).</summary>
    public Plane MeanOfPlanes(int from, int to)
    {
        var length = SizeX * SizeY;
        var sum = new double[length];
        var count = new int[length];
        for (var z = Math.Max(0, from); z <= Math.Min(SizeZ - 1, to); z++)
        {
            for (var index = 0; index < length; index++)
            {
                var value = Values[(z * length) + index];
                if (!float.IsNaN(value))
                {
                    sum[index] += value;
                    count[index]++;
                }
            }
        }

        var mean = new float[length];
        for (var index = 0; index < length; index++)
        {
            mean[index] = count[index] == 0 ? float.NaN : (float)(sum[index] / count[index]);
        }

        return new Plane(SizeX, SizeY, mean);
    }

    /// <summary>Separable Gaussian smoothing with σ in voxels along each axis, NaN-aware (see <see cref="Plane.Smooth"/>).</summary>
    public Block Smooth(double sigma)
    {
        var values = (float[])Values.Clone();
        var weights = new float[values.Length];
        for (var index = 0; index < values.Length; index++)
        {
            weights[index] = float.IsNaN(values[index]) ? 0 : 1;
            values[index] = float.IsNaN(values[index]) ? 0 : values[index];
        }

        var kernel = Kernel(sigma);
        foreach (var (stride, length) in new[] { (1, SizeX), (SizeX, SizeY), (SizeX * SizeY, SizeZ) })
        {
            values = Convolve(values, stride, length, kernel);
            weights = Convolve(weights, stride, length, kernel);
        }

        var result = new float[values.Length];
        for (var index = 0; index < result.Length; index++)
        {
            result[index] = float.IsNaN(Values[index]) || weights[index] <= 0 ? float.NaN : values[index] / weights[index];
        }

        return new Block(SizeX, SizeY, SizeZ, result);
    }

    private static float[] Kernel(double sigma)
    {
        var radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var kernel = new float[(2 * radius) + 1];
        for (var k = -radius; k <= radius; k++)
        {
            kernel[k + radius] = (float)Math.Exp(-(k * k) / (2 * sigma * sigma));
        }

        return kernel;
    }

    /// <summary>Convolution along one axis (elements <paramref name="stride"/> apart, <paramref name="length"/> of them), zero beyond the ends.</summary>
    private static float[] Convolve(float[] values, int stride, int length, float[] kernel)
    {
        var radius = kernel.Length / 2;
        var result = new float[values.Length];
        for (var start = 0; start < values.Length; start++)
        {
            var position = start / stride % length;
            float sum = 0;
            for (var k = -radius; k <= radius; k++)
            {
                var p = position + k;
                if (p >= 0 && p < length)
                {
                    sum += kernel[k + radius] * values[start + (k * stride)];
                }
            }

            result[start] = sum;
        }

        return result;
    }
}
