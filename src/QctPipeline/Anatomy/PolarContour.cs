using QctPipeline.Imaging;

namespace QctPipeline.Anatomy;

/// <summary>
/// A closed outline around a centre, as one radius per angle (angles evenly spaced, counter-clockwise from +x), and
/// the mean strength (HU per mm of fall outwards) of the edge it follows.
/// </summary>
public sealed record PolarContour(double CentreX, double CentreY, double[] Radii, double MeanStrength)
{
    /// <summary>
    /// Edges are measured on HU clipped to this floor and ceiling: the cortex's fall into muscle or fat counts in full,
    /// while soft tissue falling into fat or lung (40 → −800 HU beside a thoracic body, twice the cortex's edge) counts as
    /// little as it does for bone, so an outline does not leave the bone to follow the lung.
    /// </summary>
    private const double EdgeFloorHu = 0;

    private const double EdgeCeilingHu = 500;

    public double AngleStep => 2 * Math.PI / Radii.Length;

    /// <summary>The radius at any angle (linear between the sampled angles).</summary>
    public double RadiusAt(double angle)
    {
        var position = ((angle % (2 * Math.PI)) + (2 * Math.PI)) % (2 * Math.PI) / AngleStep;
        var index = (int)position;
        var t = position - index;
        return (Radii[index % Radii.Length] * (1 - t)) + (Radii[(index + 1) % Radii.Length] * t);
    }

    /// <summary>The centroid of the outline's points (pixels).</summary>
    public (double X, double Y) Centroid(double pixelMm)
    {
        double sx = 0, sy = 0;
        for (var a = 0; a < Radii.Length; a++)
        {
            var angle = a * AngleStep;
            sx += CentreX + (Radii[a] / pixelMm * Math.Cos(angle));
            sy += CentreY + (Radii[a] / pixelMm * Math.Sin(angle));
        }

        return (sx / Radii.Length, sy / Radii.Length);
    }

    /// <summary>Whether a point (pixels, same units as the centre) lies inside the outline.</summary>
    public bool Contains(double x, double y, double pixelMm, double insetMm = 0)
    {
        var (dx, dy) = (x - CentreX, y - CentreY);
        return Math.Sqrt((dx * dx) + (dy * dy)) * pixelMm <= RadiusAt(Math.Atan2(dy, dx)) - insetMm;
    }

    /// <summary>
    /// The outer edge of a bony outline around a centre in a plane of <paramref name="pixelMm"/> pixels: along each of
    /// <paramref name="angles"/> rays the edge strength is how fast the smoothed HU, clipped to 0–500, falls going
    /// outwards (bright cortex to darker surroundings); the closed path through the rays that maximises the summed strength while the radius
    /// changes by at most <paramref name="maxStepMm"/> from one ray to the next is the outline (dynamic programming over
    /// the angles, closed by running three turns and keeping the middle one). <paramref name="allowed"/> says which
    /// radii a ray may take (a prior outline's band, the canal's limit); null allows all.
    /// </summary>
    public static PolarContour Find(Plane smoothed, double centreX, double centreY, double pixelMm, int angles, double minRadiusMm, double maxRadiusMm,
        double radiusStepMm, double maxStepMm, Func<int, double, bool>? allowed)
    {
        var radii = (int)Math.Floor((maxRadiusMm - minRadiusMm) / radiusStepMm) + 1;
        var strength = new double[angles, radii];
        for (var a = 0; a < angles; a++)
        {
            var angle = a * 2 * Math.PI / angles;
            var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));
            var profile = new double[radii + 2];
            for (var r = -1; r <= radii; r++)
            {
                var radius = (minRadiusMm + (r * radiusStepMm)) / pixelMm;
                profile[r + 1] = Math.Clamp(smoothed.Sample(centreX + (radius * cos), centreY + (radius * sin)), EdgeFloorHu, EdgeCeilingHu);
            }

            for (var r = 0; r < radii; r++)
            {
                var fall = (profile[r] - profile[r + 2]) / 2;
                var ok = allowed?.Invoke(a, minRadiusMm + (r * radiusStepMm)) ?? true;
                strength[a, r] = !ok ? -50 : double.IsNaN(fall) ? 0 : Math.Max(0, fall);
            }
        }

        var path = ClosedPath(strength, (int)Math.Max(1, Math.Round(maxStepMm / radiusStepMm)));
        var mean = Enumerable.Range(0, angles).Average(a => Math.Max(0, strength[a, path[a]])) / radiusStepMm;
        return new PolarContour(centreX, centreY, [.. path.Select(r => minRadiusMm + (r * radiusStepMm))], mean);
    }

    /// <summary>The closed path of radius indices maximising the summed strength with steps of at most <paramref name="maxStep"/>.</summary>
    private static int[] ClosedPath(double[,] strength, int maxStep)
    {
        var (angles, radii) = (strength.GetLength(0), strength.GetLength(1));
        var turns = 3 * angles;
        var score = new double[radii];
        var next = new double[radii];
        var back = new int[turns, radii];
        for (var r = 0; r < radii; r++)
        {
            score[r] = strength[0, r];
        }

        for (var a = 1; a < turns; a++)
        {
            for (var r = 0; r < radii; r++)
            {
                var best = double.NegativeInfinity;
                var from = r;
                for (var d = -maxStep; d <= maxStep; d++)
                {
                    var p = r + d;
                    if (p >= 0 && p < radii && score[p] > best)
                    {
                        (best, from) = (score[p], p);
                    }
                }

                next[r] = best + strength[a % angles, r];
                back[a, r] = from;
            }

            (score, next) = (next, score);
        }

        var path = new int[turns];
        path[^1] = Array.IndexOf(score, score.Max());
        for (var a = turns - 1; a > 0; a--)
        {
            path[a - 1] = back[a, path[a]];
        }

        return path[angles..(2 * angles)];
    }
}
