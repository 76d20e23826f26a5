using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>Which degenerative changes a phantom may draw (all by default); the grade decides how many and how much.</summary>
[Flags]
public enum DegenerativeFeatures
{
    None = 0,
    Osteophytes = 1,
    DiscNarrowing = 2,
    EndplateSclerosis = 4,
    SchmorlNodes = 8,
    VacuumDiscs = 16,
    All = Osteophytes | DiscNarrowing | EndplateSclerosis | SchmorlNodes | VacuumDiscs,
}

/// <summary>
/// Spondylosis drawn per person: an overall grade (0 none … 1 severe) that rises with age — the age at 2025, so that
/// every timepoint of a patient has the same spine — unless given, and per disc a degeneration that follows the grade
/// and the level's susceptibility (greatest at L4–S1, then the thoracolumbar and lower thoracic discs). What a
/// degenerated disc brings, each more likely and larger with its degeneration:
/// <list type="bullet">
/// <item>disc-space narrowing, down to about a third of the height (a 10 mm disc to 3.5 mm);</item>
/// <item>osteophytes at the anterior and lateral rims of the adjacent endplates, 2–8 mm, bridging the disc when
/// severe (radiographic prevalence over 80 % after 60, most at L2–L4 and the lower thoracic spine; O'Neill et al., Ann
/// Rheum Dis 1999;58:326);</item>
/// <item>endplate sclerosis: a band 2–5 mm deep whose trabecular density is raised 1.5–3.5 fold (Modic type III, seen
/// on CT as a dense band);</item>
/// <item>a vacuum disc: gas (−950 HU) in a cleft of the nucleus, mostly at L4–S1 (CT prevalence about 20–50 % of people
/// over 60; Kakitsubata et al., Acta Radiol 1995;36:113) — this model draws about 0.35 per spine at age 67;</item>
/// </list>
/// and, independently of the discs, Schmorl nodes — nucleus herniated 5–10 mm into an endplate with a sclerotic rim —
/// in about a third of people, mostly T8–L2 (Williams et al., Spine 2007;32:E465). The draws come from their own seed
/// stream ("anatomy/degeneration"), so a spine without degeneration has the same anatomy whatever else is drawn.
/// </summary>
public sealed class DegenerativeSpine
{
    private readonly SpineLabels labels;
    private readonly DiscDegeneration[] discs;
    private readonly List<SchmorlNodeSpec> nodes = [];

    public DegenerativeSpine(PhantomOptions options, SpineLabels labels)
    {
        this.labels = labels;
        var random = PhantomRandom.Stream(options.Seed, "anatomy/degeneration");
        var age = 2025 - options.PatientBirthDate.Year;
        var drawnGrade = Math.Clamp(((age - 35) / 45.0) + random.Normal(0, 0.2), 0, 1);
        Grade = options.DegenerationGrade ?? drawnGrade;
        Features = options.DegenerativeFeatures;
        discs = new DiscDegeneration[labels.Names.Count - 1];
        for (var index = 0; index < discs.Length; index++)
        {
            // Every number is drawn whatever the features, so switching one off leaves the others as they were.
            var d = Math.Clamp(Grade * Susceptibility(index) * random.Uniform(0.45, 1.35), 0, 1);
            var (vacuumDraw, spurDraw, spurCountDraw, bridgeDraw, sclerosisDraw) = (random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble());
            var (bandMm, extra, seed) = ((float)random.Uniform(2, 5), (float)random.Uniform(0.5, 2.5), random.Next(int.MaxValue));
            var narrowing = Has(DegenerativeFeatures.DiscNarrowing) ? 1 - (0.65 * Math.Pow(d, 1.5)) : 1;
            var vacuum = Has(DegenerativeFeatures.VacuumDiscs) && vacuumDraw < 0.3 * d * d * VacuumSusceptibility(index);
            var spurs = Has(DegenerativeFeatures.Osteophytes) && spurDraw < 1.3 * d ? 1 + (int)(spurCountDraw * 4 * d) : 0;
            var bridging = spurs > 0 && d > 0.7 && bridgeDraw < 0.35;
            var sclerosis = Has(DegenerativeFeatures.EndplateSclerosis) && d > 0.45 && sclerosisDraw < 0.7 * d;
            discs[index] = new DiscDegeneration(d, (float)narrowing, vacuum, spurs, bridging, sclerosis ? bandMm : 0, sclerosis ? extra : 0, seed);
        }

        // Schmorl nodes: a third of people, more with degeneration; one to three, mostly T8–L2.
        var nodeDraw = random.NextDouble();
        var l1 = labels.IndexOf("L1");
        var count = 1 + random.Next(3);
        for (var n = 0; n < count; n++)
        {
            var level = Math.Clamp(l1 + (int)Math.Round(random.Normal(-1.5, 2.2)), 0, labels.Names.Count - 2);
            var node = new SchmorlNodeSpec(level, random.NextDouble() < 0.5, (float)random.Uniform(-0.35, 0.35), (float)random.Uniform(-0.25, 0.3), (float)random.Uniform(2.5, 5));
            if (Has(DegenerativeFeatures.SchmorlNodes) && nodeDraw < 0.3 + (0.2 * Grade))
            {
                nodes.Add(node);
            }
        }
    }

    /// <summary>Overall grade 0–1.</summary>
    public double Grade { get; }

    public DegenerativeFeatures Features { get; }

    /// <summary>The disc below vertebra <paramref name="upperIndex"/>.</summary>
    public DiscDegeneration Disc(int upperIndex) => discs[Math.Clamp(upperIndex, 0, discs.Length - 1)];

    /// <summary>Multiplies the disc below vertebra <paramref name="upperIndex"/> (1 for the sacrum, which has none here).</summary>
    public float DiscHeightFactor(int upperIndex) => upperIndex < discs.Length ? discs[upperIndex].HeightFactor : 1;

    /// <summary>Schmorl nodes of vertebra <paramref name="index"/>.</summary>
    public IEnumerable<SchmorlNodeSpec> Nodes(int index) => nodes.Where(node => node.Level == index);

    /// <summary>The sclerosis of a vertebra's two endplates: of the disc above (superior) and the disc below (inferior).</summary>
    public (float SuperiorMm, float SuperiorExtra, float InferiorMm, float InferiorExtra) Sclerosis(int index)
    {
        var above = index > 0 ? discs[index - 1] : null;
        var below = index < discs.Length ? discs[index] : null;
        return (above?.SclerosisMm ?? 0, above?.SclerosisExtraDensity ?? 0, below?.SclerosisMm ?? 0, below?.SclerosisExtraDensity ?? 0);
    }

    /// <summary>Per-disc degeneration, for truth.json: name of the disc → (degeneration, height factor, vacuum, osteophytes).</summary>
    public IEnumerable<(string Disc, DiscDegeneration Degeneration)> Discs() =>
        discs.Select((disc, index) => ($"{labels.Names[index]}-{labels.Names[index + 1]}", disc));

    private bool Has(DegenerativeFeatures feature) => (Features & feature) != 0;

    /// <summary>Gas collects mostly at L4–L5 and L5–S1, rarely above L3 and seldom in the thoracic spine.</summary>
    private double VacuumSusceptibility(int upperIndex)
    {
        var fromSacrum = labels.Names.Count - 1 - upperIndex;
        return fromSacrum <= 2 ? 1 : labels.IsThoracic(upperIndex) ? 0.1 : 0.3;
    }

    /// <summary>How prone the disc below vertebra <paramref name="upperIndex"/> is, relative to L4–L5.</summary>
    private double Susceptibility(int upperIndex)
    {
        var fromSacrum = labels.Names.Count - 1 - upperIndex;
        return fromSacrum switch
        {
            1 or 2 => 1.0,
            3 => 0.8,
            4 => 0.7,
            5 or 6 or 7 => 0.6,
            8 or 9 or 10 => 0.5,
            _ => 0.35,
        };
    }
}

/// <summary>One disc's degeneration and what comes with it; <see cref="Seed"/> places its osteophytes.</summary>
public sealed record DiscDegeneration(double Degeneration, float HeightFactor, bool Vacuum, int OsteophytesPerRim, bool Bridging, float SclerosisMm, float SclerosisExtraDensity, int Seed);

/// <summary>A Schmorl node: vertebra index, endplate, position on it (fractions of half width and half depth) and radius (mm).</summary>
public sealed record SchmorlNodeSpec(int Level, bool Superior, float X, float Y, float RadiusMm);

/// <summary>A factor on the trabecular density at a point (anatomy frame), applied by the renderer and by truths alike.</summary>
public abstract class DensityField
{
    public abstract float Factor(Vector3 p);
}

/// <summary>
/// The endplates' cortex: thinner and more porous than the side walls', so it carries about half the walls' CT number
/// (on the LIDC chest series at 2.5 mm, slices through thoracolumbar endplates read 190–280 HU against bodies of
/// 105–135 HU; with the walls' cortex at the endplates the phantom read 360–450).
/// </summary>
public sealed class EndplateCortex(VertebralBodyShape body) : DensityField
{
    public const float EndplateFactor = 0.5f;

    public override float Factor(Vector3 p) => body.NearerAnEndplate(p) ? EndplateFactor : 1;
}

/// <summary>A vertebra's density factors as <see cref="VertebraModel.DensityFactor"/> gives them, for the painter.</summary>
public sealed class VertebralDensity(VertebraModel vertebra) : DensityField
{
    public override float Factor(Vector3 p) => vertebra.DensityFactor(p);
}

/// <summary>Endplate sclerosis: density raised by up to 1 + extra at an endplate, fading (quadratically) over the band.</summary>
public sealed class EndplateSclerosis(VertebralBodyShape body, float superiorMm, float superiorExtra, float inferiorMm, float inferiorExtra) : DensityField
{
    public float SuperiorMm => superiorMm;

    public float InferiorMm => inferiorMm;

    public override float Factor(Vector3 p)
    {
        var depth = body.DepthBelowEndplate(p, out var superior);
        var (band, extra) = superior ? (superiorMm, superiorExtra) : (inferiorMm, inferiorExtra);
        if (band <= 0 || depth >= band)
        {
            return 1;
        }

        var fade = 1 - (Math.Max(depth, 0) / band);
        return 1 + (extra * fade * fade);
    }
}
