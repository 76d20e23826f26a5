namespace QctPipeline.Tests.Segment;

/// <summary>
/// The tiny ONNX models written by Models/make_tiny_models.py and copied next to the test binaries, and the closed
/// formulas their weights follow, so tests can compute expected outputs by hand.
/// </summary>
internal static class TinyModels
{
    public static string Conv3d => PathOf("tiny-conv3d.onnx");

    public static string ArgMax => PathOf("tiny-argmax.onnx");

    public static string DoubleInput => PathOf("tiny-double-input.onnx");

    public static readonly float[] ConvBias = [0.25f, -0.5f];

    /// <summary>Weight of output channel <paramref name="outChannel"/> at kernel offset (kd, kh, kw); as in the script.</summary>
    public static float ConvWeight(int outChannel, int kd, int kh, int kw) =>
        ((outChannel * 27 + kd * 9 + kh * 3 + kw) % 7 - 3) / 8f * (outChannel == 0 ? 1 : -1);

    /// <summary>
    /// tiny-conv3d by hand: Relu(Conv3d(volume) + bias) + offset for a [1, 1, depth, height, width] volume, giving
    /// [1, 2, depth, height, width], both in row-major order.
    /// </summary>
    public static float[] Conv3dByHand(float[] volume, int depth, int height, int width, float[] offset)
    {
        var scores = new float[2 * depth * height * width];
        for (var channel = 0; channel < 2; channel++)
        {
            for (var z = 0; z < depth; z++)
            {
                for (var y = 0; y < height; y++)
                {
                    for (var x = 0; x < width; x++)
                    {
                        double sum = ConvBias[channel];
                        for (var kd = 0; kd < 3; kd++)
                        {
                            for (var kh = 0; kh < 3; kh++)
                            {
                                for (var kw = 0; kw < 3; kw++)
                                {
                                    int sz = z + kd - 1, sy = y + kh - 1, sx = x + kw - 1;
                                    if (sz >= 0 && sz < depth && sy >= 0 && sy < height && sx >= 0 && sx < width)
                                    {
                                        sum += ConvWeight(channel, kd, kh, kw) * volume[(sz * height + sy) * width + sx];
                                    }
                                }
                            }
                        }

                        scores[((channel * depth + z) * height + y) * width + x] = (float)Math.Max(sum, 0) + offset[channel];
                    }
                }
            }
        }

        return scores;
    }

    /// <summary>A volume of multiples of 1/16, so ONNX Runtime's float sums of it are exact.</summary>
    public static float[] Volume(int depth, int height, int width, int seed = 0)
    {
        var volume = new float[depth * height * width];
        for (var z = 0; z < depth; z++)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width; x++)
                {
                    volume[(z * height + y) * width + x] = ((3 * x + 5 * y + 7 * z + seed) % 11 - 5) / 16f;
                }
            }
        }

        return volume;
    }

    private static string PathOf(string fileName) => Path.Combine(AppContext.BaseDirectory, "Segment", "Models", fileName);
}
