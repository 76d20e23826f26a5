namespace QctPipeline.Imaging;

/// <summary>
/// Bright regions as even as fluid: a contrast-filled aorta, vena cava or renal pelvis reads 150–600 HU like bone but
/// with none of bone's texture or edges inside it. Next to a vertebral body such a vessel is the strongest edge in
/// sight, and an outline that follows edges would wrap it into the body (LIDC-IDRI 0001's T9 and T11, with an arterial
/// aorta of ~400 HU against their left front).
/// </summary>
public static class FluidRegions
{
    /// <summary>
    /// Pixels of <paramref name="plane"/> (HU, unsmoothed, NaN outside the scan) inside a region whose mean HU over a box
    /// of <paramref name="windowMm"/> is at least <paramref name="minHu"/> with a standard deviation under
    /// <paramref name="maxSpreadHu"/>, kept where such a region covers at least <paramref name="minAreaMm2"/> and stays
    /// <paramref name="clearanceMm"/> away from <paramref name="centre"/> (the structure being outlined: a phantom's
    /// marrow, or a young patient's averaged over a slab, can be as even as fluid); 1 inside.
    /// </summary>
    public static byte[] Mask(Plane plane, double pixelMm, double minHu, double maxSpreadHu, double windowMm, double minAreaMm2, (double X, double Y) centre, double clearanceMm)
    {
        var (width, height) = (plane.Width, plane.Height);
        var values = new float[plane.Values.Length];
        var squares = new float[values.Length];
        var measured = new float[values.Length];
        for (var index = 0; index < values.Length; index++)
        {
            var value = plane.Values[index];
            if (!float.IsNaN(value))
            {
                values[index] = value;
                squares[index] = value * value;
                measured[index] = 1;
            }
        }

        var radius = Math.Max(1, (int)Math.Round(windowMm / 2 / pixelMm));
        var sum = BinaryPlane.BoxSum(values, width, height, radius);
        var sumSquares = BinaryPlane.BoxSum(squares, width, height, radius);
        var count = BinaryPlane.BoxSum(measured, width, height, radius);
        var even = new byte[values.Length];
        for (var index = 0; index < values.Length; index++)
        {
            if (count[index] < 4 || measured[index] == 0)
            {
                continue;
            }

            var mean = sum[index] / count[index];
            var variance = Math.Max(0, (sumSquares[index] / count[index]) - (mean * mean));
            even[index] = mean >= minHu && plane.Values[index] >= minHu && Math.Sqrt(variance) < maxSpreadHu ? (byte)1 : (byte)0;
        }

        var (labels, sizes) = BinaryPlane.Label(even, width, height);
        var nearCentre = new HashSet<int>();
        var clearance = clearanceMm / pixelMm;
        for (var index = 0; index < labels.Length; index++)
        {
            var (dx, dy) = ((index % width) - centre.X, (index / width) - centre.Y);
            if (labels[index] > 0 && (dx * dx) + (dy * dy) <= clearance * clearance)
            {
                nearCentre.Add(labels[index]);
            }
        }

        var minPixels = minAreaMm2 / (pixelMm * pixelMm);
        var mask = new byte[values.Length];
        for (var index = 0; index < mask.Length; index++)
        {
            mask[index] = labels[index] > 0 && sizes[labels[index]] >= minPixels && !nearCentre.Contains(labels[index]) ? (byte)1 : (byte)0;
        }

        return mask;
    }
}
