using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// A periodic 3D random texture with zero mean and unit variance over its period, sampled trilinearly. Band-limited
/// Gaussian-filtered noise; the trabecular tile is pushed through tanh so it is bimodal (plates and rods against
/// marrow) and stretched along z, where vertebral trabeculae run (Mosekilde 1988).
/// </summary>
public sealed class TextureTile
{
    private const int Size = 64;
    private const int Mask = Size - 1;
    private readonly float[] values = new float[Size * Size * Size];
    private readonly Vector3 inverseVoxelMm;

    public TextureTile(PhantomRandom random, float voxelMm, float smoothingVoxels, float verticalStretch, float bimodality)
    {
        inverseVoxelMm = new Vector3(1 / voxelMm, 1 / voxelMm, 1 / (voxelMm * verticalStretch));
        random.FillWhiteNoise(values);
        BlurPeriodic(values, smoothingVoxels);
        Normalise(values);
        if (bimodality > 0)
        {
            for (var index = 0; index < values.Length; index++)
            {
                values[index] = MathF.Tanh(bimodality * values[index]);
            }

            Normalise(values);
        }
    }

    /// <summary>The texture at a point (mm).</summary>
    public float Sample(Vector3 p)
    {
        var q = p * inverseVoxelMm;
        var fx = MathF.Floor(q.X);
        var fy = MathF.Floor(q.Y);
        var fz = MathF.Floor(q.Z);
        var tx = q.X - fx;
        var ty = q.Y - fy;
        var tz = q.Z - fz;
        var x0 = (int)fx & Mask;
        var y0 = (int)fy & Mask;
        var z0 = (int)fz & Mask;
        var x1 = (x0 + 1) & Mask;
        var y1 = (y0 + 1) & Mask;
        var z1 = (z0 + 1) & Mask;
        var c00 = Lerp(At(x0, y0, z0), At(x1, y0, z0), tx);
        var c10 = Lerp(At(x0, y1, z0), At(x1, y1, z0), tx);
        var c01 = Lerp(At(x0, y0, z1), At(x1, y0, z1), tx);
        var c11 = Lerp(At(x0, y1, z1), At(x1, y1, z1), tx);
        return Lerp(Lerp(c00, c10, ty), Lerp(c01, c11, ty), tz);
    }

    private float At(int x, int y, int z) => values[x + Size * (y + Size * z)];

    private static float Lerp(float a, float b, float t) => a + (b - a) * t;

    private static void Normalise(float[] data)
    {
        var mean = 0.0;
        foreach (var v in data)
        {
            mean += v;
        }

        mean /= data.Length;
        var variance = 0.0;
        foreach (var v in data)
        {
            variance += (v - mean) * (v - mean);
        }

        var scale = (float)(1 / Math.Sqrt(variance / data.Length));
        for (var index = 0; index < data.Length; index++)
        {
            data[index] = (float)(data[index] - mean) * scale;
        }
    }

    private static void BlurPeriodic(float[] data, float sigma)
    {
        var radius = (int)MathF.Ceiling(3 * sigma);
        var kernel = new float[2 * radius + 1];
        var sum = 0f;
        for (var offset = -radius; offset <= radius; offset++)
        {
            kernel[offset + radius] = MathF.Exp(-0.5f * offset * offset / (sigma * sigma));
            sum += kernel[offset + radius];
        }

        for (var index = 0; index < kernel.Length; index++)
        {
            kernel[index] /= sum;
        }

        var line = new float[Size];
        var strides = new[] { 1, Size, Size * Size };
        foreach (var stride in strides)
        {
            for (var a = 0; a < Size; a++)
            {
                for (var b = 0; b < Size; b++)
                {
                    var start = stride switch
                    {
                        1 => Size * (a + Size * b),
                        Size => a + Size * Size * b,
                        _ => a + Size * b,
                    };
                    for (var i = 0; i < Size; i++)
                    {
                        var acc = 0f;
                        for (var offset = -radius; offset <= radius; offset++)
                        {
                            acc += kernel[offset + radius] * data[start + stride * ((i + offset) & Mask)];
                        }

                        line[i] = acc;
                    }

                    for (var i = 0; i < Size; i++)
                    {
                        data[start + stride * i] = line[i];
                    }
                }
            }
        }
    }
}
