using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>Pixel neighbourhoods shared by the rod and tissue measurements.</summary>
internal static class VolumeSampling
{
    /// <summary>Offsets (di, dj) of pixels whose centres lie between two radii (mm) of a centre.</summary>
    public static (int Di, int Dj)[] Ring(double innerMm, double outerMm, double pixelX, double pixelY)
    {
        var reachI = (int)Math.Ceiling(outerMm / pixelX);
        var reachJ = (int)Math.Ceiling(outerMm / pixelY);
        var offsets = new List<(int, int)>();
        for (var dj = -reachJ; dj <= reachJ; dj++)
        {
            for (var di = -reachI; di <= reachI; di++)
            {
                var distance = Math.Sqrt(di * pixelX * di * pixelX + dj * pixelY * dj * pixelY);
                if (distance >= innerMm && distance <= outerMm)
                {
                    offsets.Add((di, dj));
                }
            }
        }

        return [.. offsets];
    }

    public static (int Di, int Dj)[] Disc(double radiusMm, double pixelX, double pixelY) => Ring(0, radiusMm, pixelX, pixelY);

    /// <summary>Mean and standard deviation of a slice's pixels at the offsets around (i, j); null when any falls outside.</summary>
    public static (double Mean, double Sd)? Stats(ReadOnlySpan<float> slice, int sizeX, int sizeY, int i, int j, (int Di, int Dj)[] offsets)
    {
        double sum = 0, sumSquares = 0;
        foreach (var (di, dj) in offsets)
        {
            var x = i + di;
            var y = j + dj;
            if (x < 0 || y < 0 || x >= sizeX || y >= sizeY)
            {
                return null;
            }

            double value = slice[x + sizeX * y];
            sum += value;
            sumSquares += value * value;
        }

        var mean = sum / offsets.Length;
        return (mean, Math.Sqrt(Math.Max(0, sumSquares / offsets.Length - mean * mean)));
    }

    /// <summary>Slice indices within a half-thickness (mm) of slice k, clamped to the volume.</summary>
    public static IEnumerable<int> SlabAround(VolumeGeometry geometry, int k, double halfMm)
    {
        var reach = (int)Math.Floor(halfMm / geometry.Spacing.Z);
        return Enumerable.Range(Math.Max(0, k - reach), Math.Min(geometry.SizeZ - 1, k + reach) - Math.Max(0, k - reach) + 1);
    }

    /// <summary>Up to <paramref name="count"/> evenly spaced slice indices over the whole volume.</summary>
    public static int[] SpreadSlices(int sizeZ, int count) =>
        sizeZ <= count ? [.. Enumerable.Range(0, sizeZ)] : [.. Enumerable.Range(0, count).Select(n => (int)Math.Round(n * (sizeZ - 1) / (double)(count - 1))).Distinct()];
}
