using QctPipeline.Domain;
using QctPipeline.Imaging;

namespace QctPipeline.Calibrate;

/// <summary>
/// One slice's pixel sets of air, fat and muscle, the noise SD seen in the fat, and the patient's water-equivalent
/// diameter (AAPM TG-220: the diameter of the water disc that attenuates as the body does, 2√(Σ(HU/1000 + 1)·A/π) over
/// the body, the largest region inside the skin; the table and a phantom under it are separate regions and left out).
/// </summary>
internal sealed record SliceRegions(IReadOnlyList<(ReferenceTissue Tissue, bool[] Mask)> Masks, double NoiseSd, double WaterEquivalentDiameterMm, bool BodyCutByEdge)
{
    private const float BodyThresholdHu = -500;
    private const double AirMarginMm = 10;
    private const float AirSmoothedCeilingHu = -950;
    private const double SubcutaneousDepthMm = 30;

    public static SliceRegions Of(ReadOnlySpan<float> slice, VolumeGeometry geometry, int k, Vector3 centroid)
    {
        var (sizeX, sizeY) = (geometry.SizeX, geometry.SizeY);
        var pixel = geometry.Spacing.X;
        var smoothed = BoxMean(slice, sizeX, sizeY);
        var outside = OutsideBody(slice, sizeX, sizeY);
        var distanceFromBody = ChamferDistance(outside, sizeX, sizeY, fromInside: false);
        var depth = ChamferDistance(outside, sizeX, sizeY, fromInside: true);
        var air = new bool[slice.Length];
        var fat = new bool[slice.Length];
        var muscle = new bool[slice.Length];
        for (var j = 0; j < sizeY; j++)
        {
            for (var i = 0; i < sizeX; i++)
            {
                var index = i + sizeX * j;
                if (outside[index])
                {
                    air[index] = distanceFromBody[index] * pixel >= AirMarginMm && smoothed[index] < AirSmoothedCeilingHu;
                    continue;
                }

                fat[index] = depth[index] * pixel <= SubcutaneousDepthMm && smoothed[index] is > -200 and < -30;
                var offset = geometry.VoxelToPatient(i, j, k) - centroid;
                muscle[index] = Math.Abs(offset.X) is >= 15 and <= 65 && offset.Y is >= 25 and <= 90 && smoothed[index] is > 0 and < 100;
            }
        }

        fat = Erode(fat, sizeX, sizeY, 2);
        muscle = Erode(muscle, sizeX, sizeY, 2);
        var fatValues = new List<double>();
        for (var index = 0; index < fat.Length; index++)
        {
            if (fat[index])
            {
                fatValues.Add(slice[index]);
            }
        }

        var noise = fatValues.Count > 10 ? Statistics.RobustStandardDeviation(fatValues, Statistics.Median(fatValues)) : 20;
        var (diameter, cut) = WaterEquivalentDiameter(slice, outside, sizeX, sizeY, geometry.Spacing.X * geometry.Spacing.Y);
        return new SliceRegions([(ReferenceTissue.Air, air), (ReferenceTissue.Fat, fat), (ReferenceTissue.Muscle, muscle)], noise, diameter, cut);
    }

    private static (double DiameterMm, bool CutByEdge) WaterEquivalentDiameter(ReadOnlySpan<float> slice, bool[] outside, int sizeX, int sizeY, double pixelAreaMm2)
    {
        var inside = new byte[outside.Length];
        for (var index = 0; index < inside.Length; index++)
        {
            inside[index] = outside[index] ? (byte)0 : (byte)1;
        }

        var (labels, sizes) = BinaryPlane.Label(inside, sizeX, sizeY);
        var body = sizes.Length > 1 ? Array.IndexOf(sizes, sizes.Skip(1).Max(), 1) : 0;
        var waterEquivalentArea = 0.0;
        var cut = false;
        for (var index = 0; index < labels.Length; index++)
        {
            if (body != 0 && labels[index] == body)
            {
                waterEquivalentArea += Math.Max(0, (slice[index] / 1000.0) + 1) * pixelAreaMm2;
                var (i, j) = (index % sizeX, index / sizeX);
                cut |= i == 0 || j == 0 || i == sizeX - 1 || j == sizeY - 1;
            }
        }

        return (2 * Math.Sqrt(waterEquivalentArea / Math.PI), cut);
    }

    private static float[] BoxMean(ReadOnlySpan<float> slice, int sizeX, int sizeY)
    {
        var result = new float[slice.Length];
        for (var j = 0; j < sizeY; j++)
        {
            for (var i = 0; i < sizeX; i++)
            {
                float sum = 0;
                var count = 0;
                for (var dj = -1; dj <= 1; dj++)
                {
                    for (var di = -1; di <= 1; di++)
                    {
                        var (x, y) = (i + di, j + dj);
                        if (x >= 0 && y >= 0 && x < sizeX && y < sizeY)
                        {
                            sum += slice[x + sizeX * y];
                            count++;
                        }
                    }
                }

                result[i + sizeX * j] = sum / count;
            }
        }

        return result;
    }

    /// <summary>Pixels at or below the body threshold reachable from the image edge (air around the patient, and the table's foam).</summary>
    private static bool[] OutsideBody(ReadOnlySpan<float> slice, int sizeX, int sizeY)
    {
        var outside = new bool[slice.Length];
        var queue = new Queue<int>();
        void Visit(int index, ReadOnlySpan<float> pixels)
        {
            if (!outside[index] && pixels[index] <= BodyThresholdHu)
            {
                outside[index] = true;
                queue.Enqueue(index);
            }
        }

        for (var i = 0; i < sizeX; i++)
        {
            Visit(i, slice);
            Visit(i + sizeX * (sizeY - 1), slice);
        }

        for (var j = 0; j < sizeY; j++)
        {
            Visit(sizeX * j, slice);
            Visit(sizeX - 1 + sizeX * j, slice);
        }

        while (queue.Count > 0)
        {
            var index = queue.Dequeue();
            var (i, j) = (index % sizeX, index / sizeX);
            if (i > 0)
            {
                Visit(index - 1, slice);
            }

            if (i < sizeX - 1)
            {
                Visit(index + 1, slice);
            }

            if (j > 0)
            {
                Visit(index - sizeX, slice);
            }

            if (j < sizeY - 1)
            {
                Visit(index + sizeX, slice);
            }
        }

        return outside;
    }

    /// <summary>Chamfer (3-4) distance in pixels to the nearest pixel of the other set: into the body (depth) or away from it.</summary>
    private static double[] ChamferDistance(bool[] outside, int sizeX, int sizeY, bool fromInside)
    {
        const double far = 1e9;
        var distance = new double[outside.Length];
        for (var index = 0; index < outside.Length; index++)
        {
            distance[index] = outside[index] == fromInside ? 0 : far;
        }

        (int Di, int Dj, double Cost)[] forward = [(-1, 0, 3), (-1, -1, 4), (0, -1, 3), (1, -1, 4)];
        for (var pass = 0; pass < 2; pass++)
        {
            var sign = pass == 0 ? 1 : -1;
            for (var step = 0; step < outside.Length; step++)
            {
                var index = pass == 0 ? step : outside.Length - 1 - step;
                var (i, j) = (index % sizeX, index / sizeX);
                foreach (var (di, dj, cost) in forward)
                {
                    var (x, y) = (i + sign * di, j + sign * dj);
                    if (x >= 0 && y >= 0 && x < sizeX && y < sizeY)
                    {
                        distance[index] = Math.Min(distance[index], distance[x + sizeX * y] + cost);
                    }
                }
            }
        }

        for (var index = 0; index < distance.Length; index++)
        {
            distance[index] /= 3;
        }

        return distance;
    }

    private static bool[] Erode(bool[] mask, int sizeX, int sizeY, int radius)
    {
        var result = new bool[mask.Length];
        for (var j = radius; j < sizeY - radius; j++)
        {
            for (var i = radius; i < sizeX - radius; i++)
            {
                var keep = mask[i + sizeX * j];
                for (var dj = -radius; keep && dj <= radius; dj++)
                {
                    for (var di = -radius; keep && di <= radius; di++)
                    {
                        keep = mask[i + di + sizeX * (j + dj)];
                    }
                }

                result[i + sizeX * j] = keep;
            }
        }

        return result;
    }
}
