namespace QctPipeline.Phantom;

/// <summary>
/// xoshiro256** (Blackman and Vigna 2018) seeded through SplitMix64. The generator owns its RNG instead of using
/// <see cref="Random"/> because byte-identical output across .NET versions needs an algorithm that never changes.
/// Independent streams are derived from the seed and a name, so adding a feature that draws numbers does not shift
/// every number drawn after it.
/// </summary>
public sealed class PhantomRandom
{
    private ulong s0;
    private ulong s1;
    private ulong s2;
    private ulong s3;
    private double? spareGaussian;

    public PhantomRandom(ulong seed)
    {
        var state = seed;
        s0 = SplitMix(ref state);
        s1 = SplitMix(ref state);
        s2 = SplitMix(ref state);
        s3 = SplitMix(ref state);
    }

    /// <summary>A stream for one purpose (e.g. "anatomy", "noise/17"), independent of every other name.</summary>
    public static PhantomRandom Stream(long seed, string purpose) => new(Mix((ulong)seed, StableHash(purpose)));

    public ulong NextUInt64()
    {
        var result = RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, count).</summary>
    public int Next(int count) => (int)(NextDouble() * count);

    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Standard normal by Box–Muller; both values of a pair are used, so a stream yields them in pairs.</summary>
    public double NextGaussian()
    {
        if (spareGaussian is { } spare)
        {
            spareGaussian = null;
            return spare;
        }

        double u1;
        do
        {
            u1 = NextDouble();
        }
        while (u1 <= double.Epsilon);

        var u2 = NextDouble();
        var radius = Math.Sqrt(-2.0 * Math.Log(u1));
        spareGaussian = radius * Math.Sin(2 * Math.PI * u2);
        return radius * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Normal with the given mean and SD, clipped to ±3 SD so that a rare draw cannot produce impossible anatomy.</summary>
    public double Normal(double mean, double sd) => mean + sd * Math.Clamp(NextGaussian(), -3, 3);

    /// <summary>
    /// Fills a buffer with white noise of zero mean and unit variance, uniform on ±√3, four values per 64-bit draw.
    /// Meant for noise that is filtered afterwards: a filter of many taps makes it Gaussian (central limit), and
    /// this is several times cheaper than Box–Muller for the 10⁸ values of a large series.
    /// </summary>
    public void FillWhiteNoise(Span<float> destination)
    {
        const float scale = 1.7320508f / 32768f;
        var i = 0;
        for (; i + 3 < destination.Length; i += 4)
        {
            var bits = NextUInt64();
            destination[i] = ((int)(bits & 0xFFFF) - 32767.5f) * scale;
            destination[i + 1] = ((int)((bits >> 16) & 0xFFFF) - 32767.5f) * scale;
            destination[i + 2] = ((int)((bits >> 32) & 0xFFFF) - 32767.5f) * scale;
            destination[i + 3] = ((int)(bits >> 48) - 32767.5f) * scale;
        }

        for (; i < destination.Length; i++)
        {
            destination[i] = ((int)(NextUInt64() >> 48) - 32767.5f) * scale;
        }
    }

    /// <summary>FNV-1a over UTF-16 code units: stable across runs and platforms, unlike string.GetHashCode.</summary>
    public static ulong StableHash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    private static ulong Mix(ulong a, ulong b)
    {
        var state = a ^ RotateLeft(b, 32) ^ 0x9E3779B97F4A7C15UL;
        return SplitMix(ref state) ^ b;
    }

    private static ulong SplitMix(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
