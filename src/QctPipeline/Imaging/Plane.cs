namespace QctPipeline.Imaging;

/// <summary>
/// A 2D image (x fastest) that the spine analysis builds from a slice, a slab or a reformatted plane. Values may be
/// NaN where the plane leaves the scanned volume; every filter here treats NaN as "not measured", never as a value.
/// </summary>
public sealed class Plane
{
    public Plane(int width, int height, float[] values)
    {
        if (values.Length != width * height)
        {
            throw new ArgumentException($"a {width}×{height} plane needs {width * height} values, not {values.Length}", nameof(values));
        }

        Width = width;
        Height = height;
        Values = values;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The pixels, x fastest. Owned by the plane: filters return new planes.</summary>
    public float[] Values { get; }

    public float this[int x, int y] => Values[x + (Width * y)];

    /// <summary>Bilinear value at a continuous position; NaN outside the plane or next to an unmeasured pixel.</summary>
    public float Sample(double x, double y)
    {
        if (x < 0 || y < 0 || x > Width - 1 || y > Height - 1)
        {
            return float.NaN;
        }

        var x0 = Math.Min((int)x, Width - 2 < 0 ? 0 : Width - 2);
        var y0 = Math.Min((int)y, Height - 2 < 0 ? 0 : Height - 2);
        var fx = (float)(x - x0);
        var fy = (float)(y - y0);
        var x1 = Math.Min(x0 + 1, Width - 1);
        var y1 = Math.Min(y0 + 1, Height - 1);
        var top = (this[x0, y0] * (1 - fx)) + (this[x1, y0] * fx);
        var bottom = (this[x0, y1] * (1 - fx)) + (this[x1, y1] * fx);
        return (top * (1 - fy)) + (bottom * fy);
    }

    /// <summary>
    /// Gaussian smoothing (σ in pixels, separable, truncated at 3σ) that ignores NaN pixels: each output is the
    /// weighted mean of the measured pixels around it, NaN where the input was NaN.
    /// </summary>
    public Plane Smooth(double sigma)
    {
        if (sigma <= 0)
        {
            return new Plane(Width, Height, (float[])Values.Clone());
        }

        var radius = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var kernel = new float[(2 * radius) + 1];
        for (var k = -radius; k <= radius; k++)
        {
            kernel[k + radius] = (float)Math.Exp(-(k * k) / (2 * sigma * sigma));
        }

        var horizontal = new float[Values.Length];
        var horizontalWeight = new float[Values.Length];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                float sum = 0, weight = 0;
                for (var k = Math.Max(-radius, -x); k <= Math.Min(radius, Width - 1 - x); k++)
                {
                    var value = Values[x + k + (Width * y)];
                    if (!float.IsNaN(value))
                    {
                        sum += kernel[k + radius] * value;
                        weight += kernel[k + radius];
                    }
                }

                horizontal[x + (Width * y)] = sum;
                horizontalWeight[x + (Width * y)] = weight;
            }
        }

        var result = new float[Values.Length];
        for (var y = 0; y < Height; y++)
        {
            for (var x = 0; x < Width; x++)
            {
                var index = x + (Width * y);
                if (float.IsNaN(Values[index]))
                {
                    result[index] = float.NaN;
                    continue;
                }

                float sum = 0, weight = 0;
                for (var k = Math.Max(-radius, -y); k <= Math.Min(radius, Height - 1 - y); k++)
                {
                    sum += kernel[k + radius] * horizontal[index + (k * Width)];
                    weight += kernel[k + radius] * horizontalWeight[index + (k * Width)];
                }

                result[index] = weight > 0 ? sum / weight : float.NaN;
            }
        }

        return new Plane(Width, Height, result);
    }
}
