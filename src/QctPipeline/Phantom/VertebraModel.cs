namespace QctPipeline.Phantom;

/// <summary>One vertebra as built: where it is, its size and the density and HU line of its trabecular bone.</summary>
public sealed record VertebraModel(
    string Name,
    int Index,
    Frame Frame,
    float Width,
    float Depth,
    float Height,
    float DiscBelowMm,
    double TrabecularBmd,
    double MarrowFatFraction,
    double MarrowIodineMgPerCm3,
    HuLine TrabecularLine,
    VertebralBodyShape Body,
    float CorticalShellMm,
    bool RibBearing)
{
    public byte Code => SpineLabels.Code(Name);

    /// <summary>Osteophytes growing from this body's rims: bone, and part of the body's label.</summary>
    public IReadOnlyList<Shape> Osteophytes { get; init; } = [];

    /// <summary>Schmorl nodes in this body's endplates, each with its sclerotic rim: disc material, outside the body's label.</summary>
    public IReadOnlyList<(Shape Node, Shape Rim)> SchmorlNodes { get; init; } = [];

    /// <summary>Denser trabecular bone at the endplates, or null.</summary>
    public EndplateSclerosis? Sclerosis { get; init; }

    /// <summary>The body as painted and labelled: with its osteophytes grown on (<see cref="OsteophyticBody"/>), or the body alone.</summary>
    public Shape LabelledBody => Osteophytes.Count == 0 ? Body : new OsteophyticBody(Body, Osteophytes);

    /// <summary>
    /// The factor on the trabecular density at a point (anatomy frame): the sclerosis at an endplate; osteophytes,
    /// outside the body proper, twice the body's density (they are dense bone); else 1.
    /// </summary>
    public float DensityFactor(System.Numerics.Vector3 p) =>
        Osteophytes.Count > 0 && OutsideBodyCylinder(p) ? OsteophyteDensityFactor : Sclerosis?.Factor(p) ?? 1;

    /// <summary>Outside the elliptic cylinder that holds the body proper: a cheap test of being in an osteophyte.</summary>
    private bool OutsideBodyCylinder(System.Numerics.Vector3 p)
    {
        var q = Frame.ToLocal(p);
        var (u, v) = (q.X / (Width / 2), q.Y / (Depth / 2));
        return (u * u) + (v * v) > 1 || Math.Abs(q.Z) > Height / 2;
    }

    /// <summary>The density of osteophytes' bone relative to the body's trabecular bone.</summary>
    public const float OsteophyteDensityFactor = 2;
}

/// <summary>A calibration rod: nominal value, where it lies (LPS, along z) and its noise-free CT number.</summary>
public sealed record CalibrationRod(string Name, string Equivalent, double NominalMgPerCm3, double? WaterEquivalentMgPerCm3, double CentreX, double CentreY, double RadiusMm, double ExpectedHu)
{
    /// <summary>Mean beam-hardening error (HU) over the rod's core through the series: 0 unless beam hardening is on.</summary>
    public double BeamHardeningHu { get; init; }
}
