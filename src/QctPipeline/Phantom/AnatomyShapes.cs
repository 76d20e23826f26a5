using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// The trunk's cross-section along z: centre, half width and front/back half depths sampled every
/// <see cref="Step"/> mm and interpolated linearly. The side lying on the table is flattened (a superellipse of
/// exponent 4 on that half, an ellipse on the other), as a supine or prone body is.
/// </summary>
public sealed class TrunkProfile
{
    private readonly Section[] sections;
    private readonly float inverseStep;

    public TrunkProfile(float zStart, float step, float[] centreX, float[] centreY, float[] halfWidth, float[] halfDepthFront, float[] halfDepthBack)
    {
        ZStart = zStart;
        Step = step;
        inverseStep = 1 / step;
        sections = new Section[centreX.Length];
        for (var index = 0; index < sections.Length; index++)
        {
            sections[index] = new Section(centreX[index], centreY[index], halfWidth[index], halfDepthFront[index], halfDepthBack[index]);
        }
    }

    public float ZStart { get; }

    public float Step { get; }

    public float ZEnd => ZStart + Step * (sections.Length - 1);

    public Section At(float z)
    {
        var position = Math.Clamp((z - ZStart) * inverseStep, 0, sections.Length - 1.001f);
        var index = (int)position;
        var t = position - index;
        ref readonly var a = ref sections[index];
        ref readonly var b = ref sections[index + 1];
        return new Section(
            a.CentreX + (b.CentreX - a.CentreX) * t,
            a.CentreY + (b.CentreY - a.CentreY) * t,
            a.HalfWidth + (b.HalfWidth - a.HalfWidth) * t,
            a.HalfDepthFront + (b.HalfDepthFront - a.HalfDepthFront) * t,
            a.HalfDepthBack + (b.HalfDepthBack - a.HalfDepthBack) * t);
    }

    public readonly record struct Section(float CentreX, float CentreY, float HalfWidth, float HalfDepthFront, float HalfDepthBack);
}

/// <summary>A layer of the trunk: the profile shrunk by per-side insets (skin, fat, muscle wall, cavity).</summary>
public sealed class TrunkLayer(TrunkProfile profile, float insetLateral, float insetFront, float insetBack, bool flattenBack, bool flattenFront, float zLow, float zHigh) : Shape
{
    public override Bounds Bounds { get; } = Measure(profile, zLow, zHigh);

    public override float Distance(Vector3 p)
    {
        var section = profile.At(p.Z);
        var a = Math.Max(section.HalfWidth - insetLateral, 1);
        var x = p.X - section.CentreX;
        var y = p.Y - section.CentreY;
        float inPlane;
        if (y >= 0)
        {
            var b = Math.Max(section.HalfDepthBack - insetBack, 1);
            inPlane = flattenBack ? SquircleDistance(x, y, a, b) : EllipticCylinder.EllipseDistance(x, y, a, b);
        }
        else
        {
            var b = Math.Max(section.HalfDepthFront - insetFront, 1);
            inPlane = flattenFront ? SquircleDistance(x, y, a, b) : EllipticCylinder.EllipseDistance(x, y, a, b);
        }

        return Math.Max(inPlane, Math.Max(zLow - p.Z, p.Z - zHigh));
    }

    /// <summary>First-order distance to |x/a|⁴ + |y/b|⁴ = 1.</summary>
    private static float SquircleDistance(float x, float y, float a, float b)
    {
        var u = x / a;
        var v = y / b;
        var u2 = u * u;
        var v2 = v * v;
        var sum = u2 * u2 + v2 * v2;
        if (sum < 1e-12f)
        {
            return -Math.Min(a, b);
        }

        var root = MathF.Sqrt(MathF.Sqrt(sum));
        var gradientX = u2 * u / a;
        var gradientY = v2 * v / b;
        var gradient = MathF.Sqrt(gradientX * gradientX + gradientY * gradientY) / (root * root * root);
        return (root - 1) / gradient;
    }

    private static Bounds Measure(TrunkProfile profile, float zLow, float zHigh)
    {
        var min = new Vector3(float.MaxValue, float.MaxValue, zLow);
        var max = new Vector3(float.MinValue, float.MinValue, zHigh);
        for (var z = zLow; z <= zHigh + profile.Step; z += profile.Step)
        {
            var s = profile.At(Math.Min(z, zHigh));
            min = Vector3.Min(min, new Vector3(s.CentreX - s.HalfWidth, s.CentreY - s.HalfDepthFront, zLow));
            max = Vector3.Max(max, new Vector3(s.CentreX + s.HalfWidth, s.CentreY + s.HalfDepthBack, zHigh));
        }

        return new Bounds(min, max);
    }
}

/// <summary>
/// The diaphragm: two domes (the right higher, over the liver) as downward paraboloids joined by their maximum, so
/// that the lungs reach lowest in the posterior and lateral recesses. Solid "above" (lungs, heart) or "below" (liver,
/// spleen, stomach) the surface lifted by <see cref="Lift"/>.
/// </summary>
public sealed class DiaphragmSurface(Vector3 rightApex, Vector3 leftApex, float curvatureX, float curvatureY)
{
    /// <summary>Height of the higher dome at (x, y) and the squared slope of that dome there.</summary>
    public float Height(float x, float y, out float slopeSquared)
    {
        var rx = x - rightApex.X;
        var ry = y - rightApex.Y;
        var lx = x - leftApex.X;
        var ly = y - leftApex.Y;
        var right = rightApex.Z - curvatureX * rx * rx - curvatureY * ry * ry;
        var left = leftApex.Z - curvatureX * lx * lx - curvatureY * ly * ly;
        var (dx, dy) = right >= left ? (rx, ry) : (lx, ly);
        slopeSquared = Square(2 * curvatureX * dx) + Square(2 * curvatureY * dy);
        return Math.Max(right, left);
    }

    public float HighestPoint => Math.Max(rightApex.Z, leftApex.Z);

    private static float Square(float v) => v * v;

    public Shape Above(float lift) => new Side(this, lift, above: true);

    public Shape Below(float lift) => new Side(this, lift, above: false);

    private sealed class Side(DiaphragmSurface surface, float lift, bool above) : Shape
    {
        private const float Far = 1e5f;

        public override Bounds Bounds { get; } = above
            ? new Bounds(new Vector3(-Far, -Far, -Far), new Vector3(Far, Far, Far))
            : new Bounds(new Vector3(-Far, -Far, -Far), new Vector3(Far, Far, surface.HighestPoint + lift));

        /// <summary>Vertical distance divided by the surface's slope factor: first-order distance even where the domes fall steeply.</summary>
        public override float Distance(Vector3 p)
        {
            var height = surface.Height(p.X, p.Y, out var slopeSquared) + lift;
            var vertical = above ? height - p.Z : p.Z - height;
            return vertical / MathF.Sqrt(1 + slopeSquared);
        }
    }
}
