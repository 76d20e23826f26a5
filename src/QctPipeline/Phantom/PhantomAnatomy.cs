using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// The patient: every structure as paint operations in the anatomy frame (LPS axes, mm, origin at the centre of
/// L1's body), plus the vertebrae for truth.json. Geometry is drawn from named streams of the seed only, so changing a
/// density, the contrast phase or the study date never moves anatomy. Sizes and positions are typical adult values
/// (vertebral dimensions: Panjabi et al., Spine 1991;16:888 and 1992;17:299; organ positions: standard cross-sectional
/// anatomy), randomised by build and a few per cent per structure.
/// </summary>
public sealed partial class PhantomAnatomy
{
    /// <summary>Body width, depth, height and disc below (mm), indexed by position above S1 (0 = S1, 5 = L1 in a typical spine, 17 = T1).</summary>
    private static readonly float[,] VertebraSizes =
    {
        { 50, 35, 28, 0 }, { 50, 35, 26, 10 }, { 48, 35, 27, 11 }, { 46, 34, 27, 10 }, { 44, 33, 26, 9 }, { 42, 32, 25, 8 },
        { 40, 31, 24, 7 }, { 38, 29, 23, 6 }, { 35, 27, 22, 5 }, { 33, 26, 21, 5 }, { 31, 25, 20, 4.5f }, { 30, 24, 19, 4.5f },
        { 29, 23, 18.5f, 4 }, { 28, 22, 18, 4 }, { 27, 21, 17.5f, 4 }, { 27, 20, 17, 4 }, { 27, 19, 16.5f, 4 }, { 28, 18, 16, 4 },
    };

    /// <summary>Relative SD of trabecular density around its mean (texture), about what 0.7 mm CT resolves of trabeculae.</summary>
    public const float TrabecularTextureAmplitude = 0.28f;

    private readonly List<PaintOperation> operations = [];
    private readonly List<VertebraModel> vertebrae = [];
    private readonly Dictionary<string, double> drawnParameters = [];
    private readonly PhantomOptions options;
    private readonly CtNumberModel physics;
    private readonly ContrastModel contrast;
    private readonly SpineLabels labels;
    private readonly TextureTile softTexture;
    private readonly TextureTile trabecularTexture;
    private TrunkProfile outer = null!;
    private TrunkProfile lean = null!;
    private TrunkProfile cavity = null!;
    private DiaphragmSurface diaphragm = null!;
    private float build;

    public PhantomAnatomy(PhantomOptions options, CtNumberModel physics)
    {
        this.options = options;
        this.physics = physics;
        contrast = new ContrastModel(options.Contrast, physics);
        labels = new SpineLabels(options.RibPairs, options.LumbarVertebrae);
        softTexture = new TextureTile(PhantomRandom.Stream(options.Seed, "texture/soft"), 1.6f, 1.5f, 1f, 0);
        trabecularTexture = new TextureTile(PhantomRandom.Stream(options.Seed, "texture/trabecular"), 0.45f, 0.9f, 2.2f, 1.6f);
        FlattenedBack = options.Orientation != PatientOrientation.HeadFirstProne;
        Build();
    }

    public IReadOnlyList<PaintOperation> Operations => operations;

    public IReadOnlyList<VertebraModel> Vertebrae => vertebrae;

    public SpineLabels Labels => labels;

    /// <summary>Every value drawn from the seed (or taken from the options), by name, for truth.json.</summary>
    public IReadOnlyDictionary<string, double> DrawnParameters => drawnParameters;

    public TextureTile SoftTexture => softTexture;

    public TextureTile TrabecularTexture => trabecularTexture;

    public ContrastModel Contrast => contrast;

    /// <summary>
    /// The patient's water-equivalent diameter at L1 (AAPM TG-220: 2√(Σ(1 + HU/1000)·A/π)) estimated from the trunk's
    /// outline: front and back half-ellipses, a ring of the drawn subcutaneous fat at fat's HU and the lean core at
    /// muscle's. What hardens this patient's beam when <see cref="PhantomOptions.BeamWaterPathMm"/> is not given.
    /// </summary>
    public double WaterEquivalentDiameterAtL1Mm
    {
        get
        {
            var section = outer.At(0);
            var fat = drawnParameters["subcutaneousFatMm"];
            double HalfEllipses(double halfWidth, double front, double back) => Math.PI / 2 * halfWidth * Math.Max(0, front + back);
            var whole = HalfEllipses(section.HalfWidth, section.HalfDepthFront, section.HalfDepthBack);
            var core = HalfEllipses(Math.Max(0, section.HalfWidth - fat), section.HalfDepthFront - fat, section.HalfDepthBack - fat);
            var waterEquivalentArea = ((whole - core) * (1 + (physics.Hu(MaterialLibrary.Adipose) / 1000))) + (core * (1 + (contrast.Hu(TissueKind.Muscle) / 1000)));
            return 2 * Math.Sqrt(waterEquivalentArea / Math.PI);
        }
    }

    /// <summary>True when the patient lies on the back (the table side is posterior).</summary>
    public bool FlattenedBack { get; }

    /// <summary>The outer body contour at L1 (for centring).</summary>
    public TrunkProfile.Section OuterAtL1 => outer.At(0);

    /// <summary>
    /// Where the body rests on the table (anatomy y, mm): the most posterior skin (supine) or most anterior (prone)
    /// from L2 to the lower chest; the buttocks and shoulders, which are not modelled in detail, press into the pad.
    /// </summary>
    public float TableContactY(bool supine)
    {
        var contact = supine ? float.MinValue : float.MaxValue;
        for (var z = Math.Max(BottomZ, -40f); z <= Math.Min(TopZ, 120f); z += outer.Step)
        {
            var section = outer.At(z);
            contact = supine ? Math.Max(contact, section.CentreY + section.HalfDepthBack) : Math.Min(contact, section.CentreY - section.HalfDepthFront);
        }

        return contact;
    }

    public float TopZ => outer.ZEnd;

    public float BottomZ => outer.ZStart;

    public VertebraModel Vertebra(string name) => vertebrae[labels.IndexOf(name)];

    /// <summary>The degenerative changes drawn for this spine.</summary>
    public DegenerativeSpine Degeneration { get; private set; } = null!;

    /// <summary>Centre of the lesion (anatomy frame) when one was placed.</summary>
    public Vector3? LesionCentre { get; private set; }

    /// <summary>Draws even when the options give the value, so giving one never shifts the draws that follow.</summary>
    private double Draw(string name, double? given, PhantomRandom random, Func<PhantomRandom, double> draw)
    {
        var drawn = draw(random);
        var value = given ?? drawn;
        drawnParameters[name] = value;
        return value;
    }

    private void Build()
    {
        var body = PhantomRandom.Stream(options.Seed, "anatomy/body");
        var drawnFemale = body.NextDouble() < 0.5;
        var female = options.PatientSex is { } sex ? sex == "F" : drawnFemale;
        drawnParameters["female"] = female ? 1 : 0;
        build = (float)Draw("buildScale", null, body, r => r.Normal(female ? 0.95 : 1.04, 0.05));
        var fat = (float)Draw("subcutaneousFatMm", options.SubcutaneousFatMm, body, r => r.Normal(female ? 24 : 17, 7));
        var widthAtL1 = options.TrunkWidthMm is { } width ? (float)width : 0;

        BuildSpine();
        PlaceArms();
        BuildTrunk(fat, widthAtL1, body);
        BuildMuscles();
        BuildAbdomen();
        BuildThorax();
        BuildParaspinals();
        BuildSkeleton();
        BuildShoulderGirdle();
        BuildArms();
        BuildPathology();
    }

    // ---------------------------------------------------------------- spine layout

    private void BuildSpine()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/spine");
        var density = PhantomRandom.Stream(options.Seed, "anatomy/density");
        var lordosis = Draw("lordosisDegrees", options.LordosisDegrees, random, r => r.Uniform(35, 60)) * Math.PI / 180;
        var kyphosis = Draw("kyphosisDegrees", options.KyphosisDegrees, random, r => r.Uniform(25, 50)) * Math.PI / 180;
        var scoliosis = Draw("scoliosisDegrees", options.ScoliosisDegrees, random, r => r.Uniform(0, 6)) * Math.PI / 180;
        var scoliosisPhase = random.Uniform(0, 2 * Math.PI);
        var thetaL1 = random.Uniform(0.03, 0.14);
        var sizeScale = build * random.Normal(1, 0.03);

        // Vertebral size and shape beyond build, from their own stream so that the draws above keep their values.
        var shapes = PhantomRandom.Stream(options.Seed, "anatomy/body-shape");
        sizeScale *= Draw("vertebralSizeScale", options.VertebralSizeScale, shapes, r => r.Normal(1, 0.05));
        var aspect = (float)Draw("vertebralDepthToWidth", null, shapes, r => r.Normal(1, 0.04));
        var waist = Draw("vertebralWaistFraction", null, shapes, r => r.Uniform(0.06, 0.12));
        var concavity = Draw("endplateConcavityMm", options.EndplateConcavityMm, shapes, r => r.Uniform(1.2, 2.6));
        var degeneration = new DegenerativeSpine(options, labels);
        Degeneration = degeneration;
        drawnParameters["degenerationGrade"] = degeneration.Grade;
        var count = labels.Names.Count;
        var l1 = labels.IndexOf("L1");
        var sacrum = count - 1;

        var width = new float[count];
        var depth = new float[count];
        var height = new float[count];
        var disc = new float[count];
        var frames = new Frame[count];
        for (var index = 0; index < count; index++)
        {
            var fromSacrum = Math.Min(sacrum - index, VertebraSizes.GetLength(0) - 1);
            var jitter = (float)random.Normal(1, 0.025);
            var levelJitter = (float)shapes.Normal(1, 0.03);
            width[index] = (float)(VertebraSizes[fromSacrum, 0] * sizeScale * jitter * levelJitter);
            depth[index] = (float)(VertebraSizes[fromSacrum, 1] * sizeScale * jitter * levelJitter * aspect);
            height[index] = (float)(VertebraSizes[fromSacrum, 2] * sizeScale * random.Normal(1, 0.03));
            disc[index] = (float)(VertebraSizes[fromSacrum, 3] * sizeScale * random.Normal(1, 0.08) * degeneration.DiscHeightFactor(index));

            // Sagittal angle of the spine's axis (positive: rising towards the back). Lordosis spreads over L1–S1,
            // kyphosis over T12–T4 and half as fast above.
            double theta;
            if (index >= l1)
            {
                theta = thetaL1 - lordosis * (index - l1) / (sacrum - l1);
            }
            else
            {
                var aboveT12 = l1 - 1 - index;
                var upperThoracic = Math.Min(aboveT12, 8) + 0.5 * Math.Max(0, aboveT12 - 8);
                theta = thetaL1 + 0.05 - kyphosis * upperThoracic / 8;
            }

            var coronal = scoliosis * Math.Sin(2 * Math.PI * (index - l1) / (0.8 * count) + scoliosisPhase);
            var axis = Vector3.Normalize(new Vector3((float)Math.Sin(coronal), (float)(Math.Sin(theta) * Math.Cos(coronal)), (float)(Math.Cos(theta) * Math.Cos(coronal))));
            var lateral = Vector3.Normalize(Vector3.UnitX - axis * Vector3.Dot(Vector3.UnitX, axis));
            var posterior = Vector3.Cross(axis, lateral);
            frames[index] = new Frame(Vector3.Zero, lateral, posterior, axis).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitZ, (float)(0.5 * coronal)));
        }

        var centres = new Vector3[count];
        for (var index = l1 + 1; index < count; index++)
        {
            var gapAxis = Vector3.Normalize(frames[index - 1].AxisZ + frames[index].AxisZ);
            centres[index] = centres[index - 1] - frames[index - 1].AxisZ * (height[index - 1] / 2) - gapAxis * disc[index - 1] - frames[index].AxisZ * (height[index] / 2);
        }

        for (var index = l1 - 1; index >= 0; index--)
        {
            var gapAxis = Vector3.Normalize(frames[index + 1].AxisZ + frames[index].AxisZ);
            centres[index] = centres[index + 1] + frames[index + 1].AxisZ * (height[index + 1] / 2) + gapAxis * disc[index] + frames[index].AxisZ * (height[index] / 2);
        }

        for (var index = 0; index < count; index++)
        {
            var name = labels.Names[index];
            var levelFactor = LevelDensityFactor(index - l1, labels.IsSacral(index));
            var jitter = name == "L1" ? 1 : density.Normal(1, 0.025);
            var bmd = options.L1BmdMgPerCm3 * levelFactor * jitter;
            var fat = options.MarrowFatFraction ?? Math.Clamp(0.62 - 0.0022 * (bmd - 100), 0.25, 0.8);
            var iodine = contrast.MarrowIodine();
            var line = physics.Trabecular($"trabecular bone {name}", fat, iodine);
            var frame = frames[index] with { Origin = centres[index] };
            var heightLoss = Math.Max(name == "L1" ? options.L1FractureHeightLoss : 0, string.Equals(name, options.WedgeLevel, StringComparison.OrdinalIgnoreCase) ? options.WedgeHeightLoss : 0);

            // Endplates dish more in the lumbar spine than in the thoracic, inferior endplates more than superior.
            var dish = concavity * (labels.IsThoracic(index) ? 0.7 : 1.0) * (labels.IsSacral(index) ? 0.5 : 1.0);
            var bodyShape = new BodyShapeParameters(
                (float)(waist * shapes.Uniform(0.85, 1.15)),
                (float)(dish * shapes.Uniform(0.8, 1.15)),
                (float)(dish * shapes.Uniform(0.95, 1.35)),
                (float)shapes.Uniform(0.08, 0.14),
                (float)heightLoss);
            var shape = new VertebralBodyShape(frame, width[index], depth[index], height[index], bodyShape);
            var (superiorBand, superiorExtra, inferiorBand, inferiorExtra) = degeneration.Sclerosis(index);
            vertebrae.Add(new VertebraModel(name, index, frame, width[index], depth[index], height[index], disc[index], bmd, fat, iodine, line, shape,
                (float)random.Uniform(0.7, 1.0), labels.IsThoracic(index))
            {
                Sclerosis = superiorBand + inferiorBand > 0 ? new EndplateSclerosis(shape, superiorBand, superiorExtra, inferiorBand, inferiorExtra) : null,
            });
        }

        AddDegenerativeShapes(degeneration);
    }

    /// <summary>Osteophytes on the rims either side of each degenerated disc, and Schmorl nodes, attached to their vertebrae.</summary>
    private void AddDegenerativeShapes(DegenerativeSpine degeneration)
    {
        var spurs = vertebrae.Select(_ => new List<Shape>()).ToArray();
        for (var index = 0; index + 1 < vertebrae.Count; index++)
        {
            var (upper, lower) = DegenerativeShapes.Osteophytes(vertebrae[index], vertebrae[index + 1], degeneration.Disc(index));
            spurs[index].AddRange(upper);
            spurs[index + 1].AddRange(lower);
        }

        for (var index = 0; index < vertebrae.Count; index++)
        {
            var v = vertebrae[index];
            vertebrae[index] = v with
            {
                Osteophytes = spurs[index],
                SchmorlNodes = degeneration.Nodes(index).Select(node => DegenerativeShapes.SchmorlNode(v, node)).ToList(),
            };
        }
    }

    /// <summary>
    /// Trabecular density relative to L1: thoracic bodies a little denser (about 2 % per level up to 10 %), lower
    /// lumbar slightly less dense, S1 denser — the usual QCT level profile.
    /// </summary>
    private static double LevelDensityFactor(int levelsBelowL1, bool sacral) => sacral
        ? 1.05
        : levelsBelowL1 < 0
            ? 1 + 0.02 * Math.Min(-levelsBelowL1, 5)
            : 1 - 0.01 * Math.Min(levelsBelowL1, 2);

    /// <summary>The spine axis's centre at a height: interpolated between body centres.</summary>
    private Vector3 SpineAt(float z)
    {
        if (z >= vertebrae[0].Frame.Origin.Z)
        {
            return vertebrae[0].Frame.Origin + vertebrae[0].Frame.AxisZ * ((z - vertebrae[0].Frame.Origin.Z) / vertebrae[0].Frame.AxisZ.Z);
        }

        for (var index = 1; index < vertebrae.Count; index++)
        {
            var upper = vertebrae[index - 1].Frame.Origin;
            var lower = vertebrae[index].Frame.Origin;
            if (z >= lower.Z)
            {
                return Vector3.Lerp(lower, upper, (z - lower.Z) / (upper.Z - lower.Z));
            }
        }

        var last = vertebrae[^1].Frame;
        return last.Origin + last.AxisZ * ((z - last.Origin.Z) / last.AxisZ.Z);
    }

    /// <summary>Continuous position above S1 in vertebra units at a height (0 = S1 centre, 5 ≈ L1 in a typical spine).</summary>
    private float PositionAboveSacrum(float z)
    {
        var sacrum = vertebrae.Count - 1;
        for (var index = 1; index < vertebrae.Count; index++)
        {
            var upper = vertebrae[index - 1].Frame.Origin.Z;
            var lower = vertebrae[index].Frame.Origin.Z;
            if (z >= lower)
            {
                return sacrum - index + Math.Clamp((z - lower) / (upper - lower), 0, 1.5f);
            }
        }

        return (z - vertebrae[^1].Frame.Origin.Z) / 30f;
    }

    // ---------------------------------------------------------------- helpers

    private void Add(string name, Shape shape, Fill fill) => operations.Add(new PaintOperation(name, shape, fill));

    private VertebraModel VertebraAbove(string name, int levels) => vertebrae[Math.Max(0, labels.IndexOf(name) - levels)];

    private VertebraModel VertebraBelow(string name, int levels) => vertebrae[Math.Min(vertebrae.Count - 1, labels.IndexOf(name) + levels)];

    private void AddTube(string name, IReadOnlyList<Vector3> points, IReadOnlyList<float> radii, Fill fill)
    {
        for (var index = 0; index + 1 < points.Count; index++)
        {
            Add(name, new Capsule(points[index], points[index + 1], radii[index], radii[index + 1]), fill);
        }
    }
}
