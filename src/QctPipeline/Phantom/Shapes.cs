using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>An axis-aligned box (mm) bounding a shape, used to visit only the pixels a shape can touch.</summary>
public readonly record struct Bounds(Vector3 Min, Vector3 Max)
{
    public static Bounds Around(Vector3 centre, float radius) => new(centre - new Vector3(radius), centre + new Vector3(radius));

    public Bounds Union(Bounds other) => new(Vector3.Min(Min, other.Min), Vector3.Max(Max, other.Max));

    public Bounds Intersect(Bounds other) => new(Vector3.Max(Min, other.Min), Vector3.Min(Max, other.Max));

    public Bounds Grow(float margin) => new(Min - new Vector3(margin), Max + new Vector3(margin));
}

/// <summary>
/// A solid given by a signed distance in millimetres (negative inside). Distances need only be exact near the surface
/// and never overestimate far from it: they drive partial-volume coverage and the cortical shell thickness.
/// </summary>
public abstract class Shape
{
    public abstract Bounds Bounds { get; }

    public abstract float Distance(Vector3 p);

    /// <summary>Rigid frame from three orthonormal axes: world = centre + x·axisX + y·axisY + z·axisZ.</summary>
    protected static Bounds OrientedBounds(Vector3 centre, Vector3 axisX, Vector3 axisY, Vector3 axisZ, Vector3 halfExtents)
    {
        var extent = Vector3.Abs(axisX) * halfExtents.X + Vector3.Abs(axisY) * halfExtents.Y + Vector3.Abs(axisZ) * halfExtents.Z;
        return new Bounds(centre - extent, centre + extent);
    }
}

/// <summary>Orthonormal frame of an anatomical part.</summary>
public readonly record struct Frame(Vector3 Origin, Vector3 AxisX, Vector3 AxisY, Vector3 AxisZ)
{
    public static Frame Axial(Vector3 origin) => new(origin, Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ);

    public Vector3 ToLocal(Vector3 p)
    {
        var d = p - Origin;
        return new Vector3(Vector3.Dot(d, AxisX), Vector3.Dot(d, AxisY), Vector3.Dot(d, AxisZ));
    }

    public Vector3 ToWorld(Vector3 local) => Origin + AxisX * local.X + AxisY * local.Y + AxisZ * local.Z;

    public Vector3 DirectionToWorld(Vector3 local) => AxisX * local.X + AxisY * local.Y + AxisZ * local.Z;

    /// <summary>The frame turned by a rotation expressed in its own axes.</summary>
    public Frame Rotated(Quaternion local) => new(
        Origin,
        DirectionToWorld(Vector3.Transform(Vector3.UnitX, local)),
        DirectionToWorld(Vector3.Transform(Vector3.UnitY, local)),
        DirectionToWorld(Vector3.Transform(Vector3.UnitZ, local)));
}

/// <summary>Ellipsoid; the distance is Quílez's bound k0 (k0 − 1) / k1, exact on the surface.</summary>
public sealed class Ellipsoid(Frame frame, Vector3 radii) : Shape
{
    private readonly Vector3 inverseRadii = Vector3.One / radii;

    public override Bounds Bounds { get; } = OrientedBounds(frame.Origin, frame.AxisX, frame.AxisY, frame.AxisZ, radii);

    public Frame Frame => frame;

    public Vector3 Radii => radii;

    public override float Distance(Vector3 p)
    {
        var q = frame.ToLocal(p);
        var k0 = (q * inverseRadii).Length();
        var k1 = (q * inverseRadii * inverseRadii).Length();
        return k1 < 1e-6f ? -Math.Min(radii.X, Math.Min(radii.Y, radii.Z)) : k0 * (k0 - 1) / k1;
    }
}

/// <summary>A segment swept by a sphere whose radius changes linearly from one end to the other (vessels, ribs).</summary>
public sealed class Capsule(Vector3 start, Vector3 end, float startRadius, float endRadius) : Shape
{
    private readonly Vector3 axis = end - start;
    private readonly float inverseLengthSquared = 1f / Math.Max(1e-6f, (end - start).LengthSquared());

    public Capsule(Vector3 start, Vector3 end, float radius)
        : this(start, end, radius, radius)
    {
    }

    public override Bounds Bounds { get; } = Bounds.Around(start, startRadius).Union(Bounds.Around(end, endRadius));

    public override float Distance(Vector3 p)
    {
        var t = Math.Clamp(Vector3.Dot(p - start, axis) * inverseLengthSquared, 0f, 1f);
        return (p - (start + axis * t)).Length() - (startRadius + (endRadius - startRadius) * t);
    }
}

/// <summary>A box with rounded edges in its own frame (processes, laminae, table, phantom slabs).</summary>
public sealed class RoundedBox(Frame frame, Vector3 halfExtents, float rounding) : Shape
{
    private readonly Vector3 inner = Vector3.Max(halfExtents - new Vector3(rounding), Vector3.Zero);

    public override Bounds Bounds { get; } = OrientedBounds(frame.Origin, frame.AxisX, frame.AxisY, frame.AxisZ, halfExtents);

    public override float Distance(Vector3 p)
    {
        var q = Vector3.Abs(frame.ToLocal(p)) - inner;
        var outside = Vector3.Max(q, Vector3.Zero).Length();
        return outside + Math.Min(Math.Max(q.X, Math.Max(q.Y, q.Z)), 0f) - rounding;
    }

    /// <summary>A box spanning the segment from <paramref name="start"/> to <paramref name="end"/>, with half thicknesses across it.</summary>
    public static RoundedBox Along(Vector3 start, Vector3 end, Vector3 up, float halfWidth, float halfHeight, float rounding)
    {
        var axis = end - start;
        var length = axis.Length();
        var x = axis / length;
        var y = Vector3.Normalize(Vector3.Cross(up, x));
        var z = Vector3.Cross(x, y);
        return new RoundedBox(new Frame((start + end) * 0.5f, x, y, z), new Vector3(length * 0.5f + rounding, halfWidth, halfHeight), rounding);
    }
}

/// <summary>A cylinder along a frame's Z with an elliptical section and flat caps (rods, vessels of fixed size).</summary>
public sealed class EllipticCylinder(Frame frame, float radiusX, float radiusY, float halfLength) : Shape
{
    public override Bounds Bounds { get; } = OrientedBounds(frame.Origin, frame.AxisX, frame.AxisY, frame.AxisZ, new Vector3(radiusX, radiusY, halfLength));

    public override float Distance(Vector3 p)
    {
        var q = frame.ToLocal(p);
        var inPlane = EllipseDistance(q.X, q.Y, radiusX, radiusY);
        var alongAxis = Math.Abs(q.Z) - halfLength;
        return Math.Max(inPlane, alongAxis);
    }

    /// <summary>Distance to an ellipse, first-order (value over gradient): exact on the curve, good near it.</summary>
    public static float EllipseDistance(float x, float y, float a, float b)
    {
        var u = x / a;
        var v = y / b;
        var value = MathF.Sqrt(u * u + v * v);
        var gradient = MathF.Sqrt(u * u / (a * a) + v * v / (b * b));
        return gradient < 1e-6f ? -Math.Min(a, b) : (value - 1) * value / gradient;
    }
}

/// <summary>Both shapes at once (max of the distances).</summary>
public sealed class Intersection(Shape first, Shape second) : Shape
{
    public override Bounds Bounds { get; } = first.Bounds.Intersect(second.Bounds);

    public override float Distance(Vector3 p) => Math.Max(first.Distance(p), second.Distance(p));
}

/// <summary>A solid grown or shrunk by a constant (a layer inside another solid).</summary>
public sealed class Offset(Shape shape, float outward) : Shape
{
    public override Bounds Bounds { get; } = shape.Bounds.Grow(Math.Max(outward, 0));

    public override float Distance(Vector3 p) => shape.Distance(p) - outward;
}

/// <summary>A triangle thickened to a plate (flat bones: the scapula's blade); exact distance to the triangle minus half the thickness.</summary>
public sealed class ThinTriangle(Vector3 a, Vector3 b, Vector3 c, float halfThickness) : Shape
{
    private readonly Vector3 ab = b - a;
    private readonly Vector3 bc = c - b;
    private readonly Vector3 ca = a - c;
    private readonly Vector3 normal = Vector3.Cross(b - a, a - c);

    public override Bounds Bounds { get; } = new Bounds(Vector3.Min(a, Vector3.Min(b, c)), Vector3.Max(a, Vector3.Max(b, c))).Grow(halfThickness);

    public override float Distance(Vector3 p)
    {
        var (pa, pb, pc) = (p - a, p - b, p - c);
        var inside = MathF.Sign(Vector3.Dot(Vector3.Cross(ab, normal), pa)) + MathF.Sign(Vector3.Dot(Vector3.Cross(bc, normal), pb)) + MathF.Sign(Vector3.Dot(Vector3.Cross(ca, normal), pc)) >= 2;
        float squared;
        if (inside)
        {
            var along = Vector3.Dot(normal, pa);
            squared = along * along / normal.LengthSquared();
        }
        else
        {
            squared = Math.Min(Math.Min(
                (ab * Math.Clamp(Vector3.Dot(ab, pa) / ab.LengthSquared(), 0, 1) - pa).LengthSquared(),
                (bc * Math.Clamp(Vector3.Dot(bc, pb) / bc.LengthSquared(), 0, 1) - pb).LengthSquared()),
                (ca * Math.Clamp(Vector3.Dot(ca, pc) / ca.LengthSquared(), 0, 1) - pc).LengthSquared());
        }

        return MathF.Sqrt(squared) - halfThickness;
    }
}
