using QctPipeline.Domain;
using QctPipeline.Imaging;

namespace QctPipeline.Calibrate;

/// <summary>The finder's image work: the slab's median, per-pixel disc and ring statistics, padding, blobs and rod edges.</summary>
public static partial class PhantomFinder
{
    private sealed record SearchImage(float[] Image, int SizeX, int SizeY, (double Mean, double Sd)[] Inner, (double Mean, double Sd)[] Ring)
    {
        /// <summary>
        /// Padding outside the reconstruction circle, when the scanner wrote some: the pixels at or below
        /// <see cref="PaddingHu"/>, or equal to the value the four corners share (at or below air), that connect to a
        /// corner. Air itself is noisy, so inside the circle a pixel repeating that value exactly is rare and, being
        /// cut off from the corners, is not taken for padding.
        /// </summary>
        private readonly bool[] padding = PaddingMask(Image, SizeX, SizeY);

        private static bool[] PaddingMask(float[] image, int sizeX, int sizeY)
        {
            var corner = image[0];
            var shared = corner <= -1000 && corner == image[sizeX - 1] && corner == image[^1] && corner == image[^sizeX];
            var candidate = new byte[image.Length];
            for (var pixel = 0; pixel < image.Length; pixel++)
            {
                candidate[pixel] = image[pixel] <= PaddingHu || (shared && image[pixel] == corner) ? (byte)1 : (byte)0;
            }

            var (labels, _) = BinaryPlane.Label(candidate, sizeX, sizeY);
            var corners = new[] { labels[0], labels[sizeX - 1], labels[^sizeX], labels[^1] }.Where(label => label > 0).ToHashSet();
            return [.. labels.Select(corners.Contains)];
        }

        /// <summary>
        /// Whether a rod at (x, y) can be judged: its ring (<paramref name="reach"/> pixels) inside the image, and no
        /// padding within <paramref name="clearance"/> pixels (reconstructions are least trustworthy at the edge of their
        /// circle: truncation and extended-field artefacts).
        /// </summary>
        public bool InView(int x, int y, int reach, int clearance)
        {
            if (x - reach < 0 || y - reach < 0 || x + reach >= SizeX || y + reach >= SizeY)
            {
                return false;
            }

            for (var step = 0; step < 16; step++)
            {
                var angle = step * Math.PI / 8;
                var (px, py) = ((int)Math.Round(x + clearance * Math.Cos(angle)), (int)Math.Round(y + clearance * Math.Sin(angle)));
                if (px >= 0 && py >= 0 && px < SizeX && py < SizeY && padding[px + SizeX * py])
                {
                    return false;
                }
            }

            return !padding[x + SizeX * y];
        }
    }

    /// <summary>
    /// One phantom's own ring of resin around a rod, from just past the rod's edge: a common ring far enough out for the
    /// largest rod would leave a low phantom's (Mindways, 32 mm) resin for the patient or the table. Computed per pixel
    /// on first use only, since layouts visit few pixels.
    /// </summary>
    private sealed class RodRing
    {
        private readonly SearchImage search;
        private readonly (int Di, int Dj)[] offsets;
        private readonly (double Mean, double Sd)?[] cache;

        public RodRing(SearchImage search, PhantomDescription phantom, double pixelX, double pixelY)
        {
            this.search = search;
            // The blur past the edge spans pixels as well as millimetres: large pixels push the ring out.
            var gap = Math.Max(RodRingGapMm, RodRingGapPixels * Math.Max(pixelX, pixelY));
            var outer = phantom.RodRadiusMm + gap + RodRingWidthMm;
            offsets = VolumeSampling.Ring(phantom.RodRadiusMm + gap, outer, pixelX, pixelY);
            cache = new (double Mean, double Sd)?[search.Image.Length];
            Reach = (int)Math.Ceiling(outer / Math.Min(pixelX, pixelY));
            Clearance = (int)Math.Ceiling((outer + PaddingClearanceMm) / Math.Min(pixelX, pixelY));
        }

        public int Reach { get; }

        public int Clearance { get; }

        public (double Mean, double Sd) At(int x, int y) =>
            cache[x + search.SizeX * y] ??= VolumeSampling.Stats(search.Image, search.SizeX, search.SizeY, x, y, offsets) ?? (double.NaN, double.NaN);
    }

    private sealed record Blob(double I, double J);

    /// <summary>
    /// A rod's centre near where it was looked for: the centroid of the pixels within <paramref name="searchMm"/> of its
    /// edge that differ from the resin around by more than half the rod's contrast; null when the rod shows too little
    /// contrast to be located this way (an HA0 rod in its resin) or the pixels found are not one rod's worth.
    /// </summary>
    internal static (double I, double J)? Recentre(float[] image, VolumeGeometry geometry, (double I, double J) near, double radiusMm, double searchMm)
    {
        var (pixelX, pixelY) = (geometry.Spacing.X, geometry.Spacing.Y);
        var (ci, cj) = ((int)Math.Round(near.I), (int)Math.Round(near.J));
        var window = VolumeSampling.Disc(radiusMm + searchMm, pixelX, pixelY);
        var core = VolumeSampling.Stats(image, geometry.SizeX, geometry.SizeY, ci, cj, VolumeSampling.Disc(radiusMm * 0.5, pixelX, pixelY));
        var surround = VolumeSampling.Stats(image, geometry.SizeX, geometry.SizeY, ci, cj, VolumeSampling.Ring(radiusMm + searchMm + 1, radiusMm + searchMm + 3, pixelX, pixelY));
        if (core is not { } rod || surround is not { } resin || Math.Abs(rod.Mean - resin.Mean) < LocatableContrastHu || VolumeSampling.Stats(image, geometry.SizeX, geometry.SizeY, ci, cj, window) is null)
        {
            return null;
        }

        var half = (rod.Mean + resin.Mean) / 2;
        var brighter = rod.Mean > resin.Mean;
        double sumI = 0, sumJ = 0;
        var count = 0;
        foreach (var (di, dj) in window)
        {
            var (x, y) = (ci + di, cj + dj);
            var value = image[x + geometry.SizeX * y];
            if (brighter ? value > half : value < half)
            {
                (sumI, sumJ, count) = (sumI + x, sumJ + y, count + 1);
            }
        }

        var expected = Math.PI * radiusMm * radiusMm / (pixelX * pixelY);
        return count > 0.5 * expected && count < 1.5 * expected ? (sumI / count, sumJ / count) : null;
    }

    /// <summary>Connected plateaus of rod-like pixels (uniform disc and ring that differ), each reduced to its centroid.</summary>
    private static List<Blob> Blobs(SearchImage search, double uniformLimit, double pixelX, double pixelY)
    {
        var (sizeX, sizeY) = (search.SizeX, search.SizeY);
        var candidate = new byte[sizeX * sizeY];
        for (var pixel = 0; pixel < candidate.Length; pixel++)
        {
            var (innerMean, innerSd) = search.Inner[pixel];
            var (ringMean, ringSd) = search.Ring[pixel];
            var contrast = Math.Abs(innerMean - ringMean);
            candidate[pixel] = innerSd <= uniformLimit && ringSd <= uniformLimit + BlurAllowance * contrast && contrast > RodContrastHu ? (byte)1 : (byte)0;
        }

        var (labels, sizes) = BinaryPlane.Label(candidate, sizeX, sizeY);
        var sums = new (double I, double J)[sizes.Length];
        for (var pixel = 0; pixel < labels.Length; pixel++)
        {
            if (labels[pixel] is var label and > 0)
            {
                sums[label] = (sums[label].I + pixel % sizeX, sums[label].J + pixel / sizeX);
            }
        }

        var maxArea = Math.PI * MaxBlobRadiusMm * MaxBlobRadiusMm / (pixelX * pixelY);
        return [.. Enumerable.Range(1, sizes.Length - 1)
            .Where(label => sizes[label] <= maxArea)
            .Select(label => new Blob(sums[label].I / sizes[label], sums[label].J / sizes[label]))];
    }

    /// <summary>The median of the central disc's SD over plausible pixels: the image's noise, since most of it is locally uniform.</summary>
    private static double NoiseEstimate((double Mean, double Sd)[] inner)
    {
        var sds = inner.Where(stats => !double.IsNaN(stats.Sd)).Select(stats => stats.Sd).ToArray();
        return sds.Length == 0 ? 0 : Statistics.Median(sds);
    }

    /// <summary>
    /// Mean and SD at every pixel over the offsets; NaN where the neighbourhood leaves the image, the pixel cannot be a
    /// rod, or <paramref name="worthIt"/> (when given) says the pixel is already ruled out.
    /// </summary>
    private static (double Mean, double Sd)[] PixelStats(float[] image, int sizeX, int sizeY, (int Di, int Dj)[] offsets, Func<int, bool>? worthIt = null)
    {
        var stats = new (double Mean, double Sd)[image.Length];
        Parallel.For(0, sizeY, y =>
        {
            for (var x = 0; x < sizeX; x++)
            {
                var value = image[x + sizeX * y];
                stats[x + sizeX * y] = value is > (float)LowestRodHu and < (float)HighestRodHu && (worthIt is null || worthIt(x + sizeX * y))
                    && VolumeSampling.Stats(image, sizeX, sizeY, x, y, offsets) is { } found
                    ? found
                    : (double.NaN, double.NaN);
            }
        });
        return stats;
    }

    /// <summary>Per-pixel median over up to <see cref="SlabSlices"/> slices spread over the slab.</summary>
    internal static float[] MedianImage(CtVolume volume, int[] slab)
    {
        var slices = slab.Length <= SlabSlices ? slab : [.. VolumeSampling.SpreadSlices(slab.Length, SlabSlices).Select(n => slab[n])];
        var sizeX = volume.Geometry.SizeX;
        var median = new float[volume.Geometry.SliceLength];
        Parallel.For(0, volume.Geometry.SizeY, () => new float[slices.Length], (y, _, values) =>
        {
            for (var x = 0; x < sizeX; x++)
            {
                var pixel = x + sizeX * y;
                for (var n = 0; n < slices.Length; n++)
                {
                    values[n] = volume.Slice(slices[n])[pixel];
                }

                Array.Sort(values);
                median[pixel] = values.Length % 2 == 1 ? values[values.Length / 2] : (values[values.Length / 2 - 1] + values[values.Length / 2]) / 2;
            }

            return values;
        }, _ => { });
        return median;
    }
}
