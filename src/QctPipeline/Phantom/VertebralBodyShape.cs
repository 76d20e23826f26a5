using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// How one vertebral body deviates from a plain elliptic cylinder, all drawn per person and per level:
/// <list type="bullet">
/// <item>a waist: the section at mid-height narrower than at the endplates by <see cref="WaistFraction"/> (lumbar
/// bodies are ~10 % narrower at mid-height; Panjabi et al., Spine 1992;17:299);</item>
/// <item>concave endplates: the centre of each endplate lies <see cref="SuperiorConcavityMm"/> /
/// <see cref="InferiorConcavityMm"/> inside the rim, a dish (1 − r²)² that is flat near the rim, where the ring
/// apophysis is (lumbar endplate concavity 1–3 mm, deeper at the inferior endplates; Wang et al., Spine J 2012;12:349,
/// and Langrana et al., Spine 2006;31:E4);</item>
/// <item>a kidney-shaped axial section: rounded in front, squarer behind, the posterior wall's midline notched
/// <see cref="PosteriorConcavityFraction"/> × depth forward, so that it is concave between the posterolateral corners;</item>
/// <item>anterior height loss (a wedge: Genant grade 1 is 20–25 %).</item>
/// </list>
/// </summary>
public sealed record BodyShapeParameters(
    float WaistFraction,
    float SuperiorConcavityMm,
    float InferiorConcavityMm,
    float PosteriorConcavityFraction,
    float AnteriorHeightLoss)
{
    /// <summary>The shape the phantom used before these were drawn: a 7 % waist, 6 % dishing, an 8 % posterior notch.</summary>
    public static BodyShapeParameters Plain(float height, float anteriorHeightLoss) => new(0.07f, 0.03f * height, 0.03f * height, 0.08f, anteriorHeightLoss);
}

/// <summary>
/// A vertebral body in its own frame (X left, Y posterior, Z along the spine): an elliptical section with a waist and a
/// concave posterior wall, dished endplates, optionally compressed anteriorly (wedge). The distance is first-order:
/// exact on the surfaces, good near them (the endplate dish's slope is at most ~0.3).
/// </summary>
public sealed class VertebralBodyShape : Shape
{
    private readonly Frame frame;
    private readonly float halfWidth;
    private readonly float halfDepth;
    private readonly float halfHeight;
    private readonly float notchRadius;
    private readonly float notchCentreY;
    private readonly BodyShapeParameters parameters;

    public VertebralBodyShape(Frame frame, float width, float depth, float height, BodyShapeParameters parameters)
    {
        this.frame = frame;
        this.parameters = parameters;
        halfWidth = width / 2;
        halfDepth = depth / 2;
        halfHeight = height / 2;
        notchRadius = width * 0.45f;
        notchCentreY = halfDepth + notchRadius - (depth * parameters.PosteriorConcavityFraction);
        Bounds = OrientedBounds(frame.Origin, frame.AxisX, frame.AxisY, frame.AxisZ, new Vector3(halfWidth, halfDepth, halfHeight));
    }

    public override Bounds Bounds { get; }

    public Frame Frame => frame;

    public BodyShapeParameters Parameters => parameters;

    public override float Distance(Vector3 p)
    {
        var q = frame.ToLocal(p);
        return Math.Max(SectionDistance(q), Math.Abs(q.Z) - LocalHalfHeight(q));
    }

    /// <summary>The endplate's distance from the body's mid-plane above (x, y) in the body's frame: dished and wedged.</summary>
    public float EndplateHalfHeight(float x, float y, bool superior) => LocalHalfHeight(new Vector3(x, y, superior ? 1 : -1));

    /// <summary>Whether the body's surface nearest a point is an endplate rather than the side wall.</summary>
    public bool NearerAnEndplate(Vector3 p)
    {
        var q = frame.ToLocal(p);
        return Math.Abs(q.Z) - LocalHalfHeight(q) > SectionDistance(q);
    }

    /// <summary>How far below the nearer endplate surface a point lies along the body's axis (mm; negative outside it).</summary>
    public float DepthBelowEndplate(Vector3 p, out bool superior)
    {
        var q = frame.ToLocal(p);
        superior = q.Z >= 0;
        return LocalHalfHeight(q) - Math.Abs(q.Z);
    }

    /// <summary>Distance (in the local axial plane) from the body's side wall; negative inside.</summary>
    private float SectionDistance(Vector3 q)
    {
        var relativeZ = Math.Min(1, Math.Abs(q.Z) / halfHeight);
        var waist = 1 - (parameters.WaistFraction * (1 - (relativeZ * relativeZ)));
        var (a, b) = (halfWidth * waist, halfDepth * (1 - (parameters.WaistFraction * 0.5f * (1 - (relativeZ * relativeZ)))));

        // Rounded in front, squarer behind (a superellipse of exponent 3), so that the posterolateral corners stand
        // behind the notched midline: the kidney-shaped section.
        var section = q.Y <= 0 ? EllipticCylinder.EllipseDistance(q.X, q.Y, a, b) : CubicSuperellipseDistance(q.X, q.Y, a, b);
        var notch = notchRadius - MathF.Sqrt((q.X * q.X) + ((q.Y - notchCentreY) * (q.Y - notchCentreY)));
        return Math.Max(section, notch);
    }

    /// <summary>First-order distance to |x/a|³ + |y/b|³ = 1.</summary>
    private static float CubicSuperellipseDistance(float x, float y, float a, float b)
    {
        var (u, v) = (Math.Abs(x) / a, Math.Abs(y) / b);
        var sum = (u * u * u) + (v * v * v);
        if (sum < 1e-12f)
        {
            return -Math.Min(a, b);
        }

        var norm = MathF.Cbrt(sum);
        var gradientX = u * u / a;
        var gradientY = v * v / b;
        var gradient = MathF.Sqrt((gradientX * gradientX) + (gradientY * gradientY)) / (norm * norm);
        return (norm - 1) / gradient;
    }

    /// <summary>The endplate's distance from the mid-plane above or below (x, y): dished and, at the front, wedged.</summary>
    private float LocalHalfHeight(Vector3 q)
    {
        // The dish is deepest at the centre and flattens towards the rim, where the ring apophysis leaves a flat margin.
        var radial = Math.Min(1, (q.X * q.X / (halfWidth * halfWidth)) + (q.Y * q.Y / (halfDepth * halfDepth)));
        var dish = (q.Z >= 0 ? parameters.SuperiorConcavityMm : parameters.InferiorConcavityMm) * (1 - radial) * (1 - radial);
        var anteriority = Math.Clamp((halfDepth - q.Y) / (2 * halfDepth), 0, 1);
        return (halfHeight - dish) * (1 - (parameters.AnteriorHeightLoss * anteriority));
    }
}

/// <summary>
/// A body with its osteophytes grown on as one solid: a smooth union (polynomial smooth minimum, Quílez, with a fillet
/// of <see cref="FilletMm"/>), so that the cortical shell runs around the spurs and their marrow is continuous with the
/// body's, as on CT. The distance underestimates near the fillet, which painting tolerates.
/// </summary>
public sealed class OsteophyticBody(VertebralBodyShape body, IReadOnlyList<Shape> spurs) : Shape
{
    private const float FilletMm = 2.5f;

    public override Bounds Bounds { get; } = spurs.Aggregate(body.Bounds, (bounds, spur) => bounds.Union(spur.Bounds));

    public override float Distance(Vector3 p)
    {
        var distance = body.Distance(p);
        foreach (var spur in spurs)
        {
            // A spur whose box lies farther than the current distance plus the fillet cannot change it.
            var box = spur.Bounds;
            var outside = Vector3.Max(Vector3.Max(box.Min - p, p - box.Max), Vector3.Zero).Length();
            if (outside > distance + FilletMm)
            {
                continue;
            }

            var other = spur.Distance(p);
            var blend = Math.Max(FilletMm - Math.Abs(distance - other), 0) / FilletMm;
            distance = Math.Min(distance, other) - (blend * blend * FilletMm / 4);
        }

        return distance;
    }
}
