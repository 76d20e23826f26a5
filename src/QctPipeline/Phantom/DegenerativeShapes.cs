using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// The solids of degenerative change, built in each vertebra's frame from <see cref="DegenerativeSpine"/>'s draws.
/// Osteophytes are beaks growing out of an endplate's rim and bent towards the disc; a bridging osteophyte is two
/// beaks, one from each body, meeting outside the disc at its mid-height, each belonging to its own body. Schmorl
/// nodes are ellipsoids centred just inside an endplate.
/// </summary>
public static class DegenerativeShapes
{
    /// <summary>
    /// The osteophytes at the rims on either side of the disc between <paramref name="upper"/> and <paramref name="lower"/>:
    /// shapes of the upper body (at its inferior rim) and of the lower body (at its superior rim).
    /// </summary>
    public static (List<Shape> Upper, List<Shape> Lower) Osteophytes(VertebraModel upper, VertebraModel lower, DiscDegeneration disc)
    {
        var (upperSpurs, lowerSpurs) = (new List<Shape>(), new List<Shape>());
        if (disc.OsteophytesPerRim == 0)
        {
            return (upperSpurs, lowerSpurs);
        }

        var random = new PhantomRandom((ulong)disc.Seed);
        for (var rim = 0; rim < 2; rim++)
        {
            var (vertebra, superior, spurs) = rim == 0 ? (upper, false, upperSpurs) : (lower, true, lowerSpurs);
            for (var n = 0; n < disc.OsteophytesPerRim; n++)
            {
                // Anterior and lateral margins (0 = anterior, ±π/2 = lateral); none posteriorly, where the canal is.
                var angle = (float)(random.Uniform(-1.75, 1.75));
                var length = (float)Math.Min(8, 2 + (6 * disc.Degeneration * random.Uniform(0.5, 1.0)));
                var bend = (float)random.Uniform(0.35, 0.9);
                spurs.Add(Beak(vertebra, superior, angle, length, bend, (float)random.Uniform(4, 8), (float)random.Uniform(2, 3.5)));
            }
        }

        if (disc.Bridging)
        {
            var angle = (float)random.Uniform(-1.2, 1.2);
            var top = RimPoint(upper, false, angle, out var upperNormal);
            var bottom = RimPoint(lower, true, angle, out var lowerNormal);
            var outward = Vector3.Normalize(upperNormal + lowerNormal);
            var joint = ((top + bottom) / 2) + (outward * (float)random.Uniform(3, 5));
            upperSpurs.Add(new Capsule(top - (upperNormal * 1.5f), joint, 3.2f, 2.4f));
            lowerSpurs.Add(new Capsule(bottom - (lowerNormal * 1.5f), joint, 3.2f, 2.4f));
        }

        return (upperSpurs, lowerSpurs);
    }

    /// <summary>A Schmorl node of a vertebra (the herniated disc material) and, around it, its sclerotic rim 1.2 mm thick.</summary>
    public static (Shape Node, Shape Rim) SchmorlNode(VertebraModel v, SchmorlNodeSpec spec)
    {
        var local = new Vector3(spec.X * v.Width / 2, spec.Y * v.Depth / 2, 0);
        var surface = v.Body.EndplateHalfHeight(local.X, local.Y, spec.Superior);
        var sign = spec.Superior ? 1 : -1;
        var centre = v.Frame.ToWorld(local with { Z = sign * (surface - (0.35f * spec.RadiusMm)) });
        var node = new Ellipsoid(new Frame(centre, v.Frame.AxisX, v.Frame.AxisY, v.Frame.AxisZ), new Vector3(spec.RadiusMm, spec.RadiusMm * 0.9f, spec.RadiusMm * 1.1f));
        return (node, new Offset(node, 1.2f));
    }

    /// <summary>A point on an endplate's rim at an angle from anterior and the rim's outward normal (world frame).</summary>
    private static Vector3 RimPoint(VertebraModel v, bool superior, float angle, out Vector3 outward)
    {
        var (a, b) = (v.Width / 2, v.Depth / 2);
        var local = new Vector3(a * MathF.Sin(angle), -b * MathF.Cos(angle), 0);
        var z = v.Body.EndplateHalfHeight(local.X, local.Y, superior);
        outward = v.Frame.DirectionToWorld(Vector3.Normalize(new Vector3(MathF.Sin(angle) / a, -MathF.Cos(angle) / b, 0)));
        return v.Frame.ToWorld(local with { Z = superior ? z : -z });
    }

    /// <summary>An ellipsoidal beak from a rim point, outward and bent towards the disc, 2 mm of it inside the body.</summary>
    private static Shape Beak(VertebraModel v, bool superior, float angle, float length, float bend, float halfWidth, float halfThickness)
    {
        var rim = RimPoint(v, superior, angle, out var outward);
        var towardDisc = v.Frame.AxisZ * (superior ? 1 : -1);
        var direction = Vector3.Normalize((outward * MathF.Cos(bend)) + (towardDisc * MathF.Sin(bend)));
        var tangent = Vector3.Normalize(Vector3.Cross(towardDisc, outward));
        var third = Vector3.Cross(tangent, direction);
        var centre = rim + (direction * ((length / 2) - 1));
        return new Ellipsoid(new Frame(centre, tangent, direction, third), new Vector3(halfWidth, (length / 2) + 1, halfThickness));
    }
}
