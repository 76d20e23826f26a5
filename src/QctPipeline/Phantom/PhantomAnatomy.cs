using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// The patient: every structure as paint operations in the anatomy frame (LPS axes, mm, origin at the centre of
/// L1's body), plus the vertebrae for truth.json. Geometry is drawn from named streams of the seed only, so changing a
/// density, the contrast phase or the study date never moves anatomy. Sizes and positions are typical adult values
/// (vertebral dimensions: Panjabi et al., Spine 1991;16:888 and 1992;17:299; organ positions: standard cross-sectional
/// anatomy), randomised by build and a few per cent per structure.
/// </summary>
public sealed class PhantomAnatomy
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
        BuildTrunk(fat, widthAtL1, body);
        BuildMuscles();
        BuildAbdomen();
        BuildThorax();
        BuildParaspinals();
        BuildSkeleton();
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
            width[index] = (float)(VertebraSizes[fromSacrum, 0] * sizeScale * jitter);
            depth[index] = (float)(VertebraSizes[fromSacrum, 1] * sizeScale * jitter);
            height[index] = (float)(VertebraSizes[fromSacrum, 2] * sizeScale * random.Normal(1, 0.03));
            disc[index] = (float)(VertebraSizes[fromSacrum, 3] * sizeScale * random.Normal(1, 0.08));

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
            var fracture = name == "L1" ? (float)options.L1FractureHeightLoss : 0;
            var shape = new VertebralBodyShape(frame, width[index], depth[index], height[index], fracture);
            vertebrae.Add(new VertebraModel(name, index, frame, width[index], depth[index], height[index], disc[index], bmd, fat, iodine, line, shape,
                (float)random.Uniform(0.7, 1.0), labels.IsThoracic(index)));
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

    // ---------------------------------------------------------------- trunk

    private void BuildTrunk(float fat, float widthAtL1, PhantomRandom random)
    {
        const float step = 10;
        var bottom = vertebrae[^1].Frame.Origin.Z - 90;
        var top = vertebrae[0].Frame.Origin.Z + 40;
        var samples = (int)MathF.Ceiling((top - bottom) / step) + 1;
        var drawnWidthScale = (float)random.Normal(1, 0.04);
        var widthScale = widthAtL1 > 0 ? 1f : drawnWidthScale;
        var depthScale = (float)random.Normal(1, 0.05);
        var outerArrays = NewProfileArrays(samples);
        var leanArrays = NewProfileArrays(samples);
        var cavityArrays = NewProfileArrays(samples);
        var fasciaArrays = NewProfileArrays(samples);
        var backFatFactor = FlattenedBack ? 0.6f : 1.1f;
        var flatBack = SpineAt(0).Y + 72;
        var frontFatFactor = FlattenedBack ? 1.25f : 0.8f;

        for (var s = 0; s < samples; s++)
        {
            var z = bottom + s * step;
            var spine = SpineAt(z);
            var position = PositionAboveSacrum(z);
            var thoracic = position > labels.LumbarVertebrae + 0.5f;
            var leanHalfWidth = Interpolate(position, [0, 2, 5, 8, 12, 18], [150, 138, 132, 134, 140, 150]) * build * widthScale;
            var leanDepth = Interpolate(position, [0, 3, 5, 8, 12, 18], [185, 178, 190, 212, 220, 180]) * build * depthScale;
            // Lying on the table flattens the back: the posterior surface follows the spine's curves only partly.
            var spineFollowing = spine.Y + Interpolate(position, [0, 3, 5.5f, 6.5f, 18], [68, 72, 70, 58, 55]);
            var leanBack = 0.1f * spineFollowing + 0.9f * flatBack;
            var leanFront = leanBack - leanDepth;
            var abdominal = Math.Clamp(1 - (position - 5) / 3, 0, 1);
            var lateralFat = fat * (0.8f + 0.3f * abdominal);
            var frontFat = fat * frontFatFactor * (0.6f + 0.6f * abdominal);
            var backFat = fat * backFatFactor;

            var leanCentre = (leanBack + leanFront) / 2;
            SetProfile(leanArrays, s, spine.X * 0.3f, leanCentre, leanHalfWidth, leanDepth / 2, leanDepth / 2);
            SetProfile(outerArrays, s, spine.X * 0.3f, leanCentre, leanHalfWidth + lateralFat, leanDepth / 2 + frontFat, leanDepth / 2 + backFat);

            // The cavity lies inside the muscle wall (thicker at the back: latissimus, posterior abdominal wall); the
            // paraspinal muscles are painted into it later, so fat surrounds them as it does on real scans.
            var wall = thoracic ? 13f : 11f;
            var backWall = thoracic ? 17f : 15f;
            var cavityHalfWidth = leanHalfWidth - wall;
            var halfFront = leanDepth / 2 - wall;
            var halfBack = leanDepth / 2 - backWall;
            var cavityCentre = leanCentre;
            SetProfile(fasciaArrays, s, spine.X * 0.3f, leanCentre, leanHalfWidth - 0.45f * wall, leanDepth / 2 - 0.45f * wall, leanDepth / 2 - 0.45f * backWall);
            SetProfile(cavityArrays, s, spine.X * 0.3f, cavityCentre, cavityHalfWidth, halfFront, halfBack);
        }

        if (widthAtL1 > 0)
        {
            var current = ProfileFrom(outerArrays, bottom, step).At(0).HalfWidth * 2;
            var factor = widthAtL1 / current;
            foreach (var arrays in new[] { outerArrays, leanArrays, cavityArrays, fasciaArrays })
            {
                for (var s = 0; s < samples; s++)
                {
                    arrays[2][s] *= factor;
                }
            }
        }

        outer = ProfileFrom(outerArrays, bottom, step);
        lean = ProfileFrom(leanArrays, bottom, step);
        cavity = ProfileFrom(cavityArrays, bottom, step);
        var fascia = ProfileFrom(fasciaArrays, bottom, step);
        drawnParameters["trunkWidthMmAtL1"] = outer.At(0).HalfWidth * 2;
        drawnParameters["trunkDepthMmAtL1"] = outer.At(0).HalfDepthFront + outer.At(0).HalfDepthBack;

        var flattenBack = FlattenedBack;
        var skinHu = physics.Hu(MaterialLibrary.Skin);
        var fatHu = physics.Hu(MaterialLibrary.Adipose);
        var skin = new TrunkLayer(outer, 0, 0, 0, flattenBack, !flattenBack, bottom, top);
        operations.Add(new PaintOperation("trunk", skin, new Fill(FillKind.Layered, 0, TissueClass.SoftTissue)
        {
            Layers =
            [
                new FillLayer(skin, (float)skinHu, 0, TissueClass.SoftTissue),
                new FillLayer(new TrunkLayer(outer, 2, 2, 2, flattenBack, !flattenBack, bottom, top), (float)fatHu, 0, TissueClass.Fat),
                new FillLayer(new TrunkLayer(lean, 0, 0, 0, flattenBack, !flattenBack, bottom, top), (float)contrast.Hu(TissueKind.Muscle), 0, TissueClass.SoftTissue),

                // A fascial fat plane splitting the wall's muscle in two, as between the oblique muscles.
                new FillLayer(new TrunkLayer(fascia, 0, 0, 0, flattenBack, !flattenBack, bottom, top), (float)fatHu + 20, 0, TissueClass.Fat),
                new FillLayer(new TrunkLayer(fascia, 1.6f, 1.6f, 1.6f, flattenBack, !flattenBack, bottom, top), (float)contrast.Hu(TissueKind.Muscle), 0, TissueClass.SoftTissue),
                new FillLayer(new TrunkLayer(cavity, 0, 0, 0, flattenBack, !flattenBack, bottom, top), (float)fatHu + 8, 14, TissueClass.Fat),
            ],
        }));
    }

    private static float[][] NewProfileArrays(int samples) => [new float[samples], new float[samples], new float[samples], new float[samples], new float[samples]];

    private static void SetProfile(float[][] arrays, int s, float centreX, float centreY, float halfWidth, float halfFront, float halfBack)
    {
        arrays[0][s] = centreX;
        arrays[1][s] = centreY;
        arrays[2][s] = halfWidth;
        arrays[3][s] = halfFront;
        arrays[4][s] = halfBack;
    }

    private static TrunkProfile ProfileFrom(float[][] arrays, float start, float step) => new(start, step, arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]);

    private static float Interpolate(float x, float[] xs, float[] ys)
    {
        if (x <= xs[0])
        {
            return ys[0];
        }

        for (var index = 1; index < xs.Length; index++)
        {
            if (x <= xs[index])
            {
                return ys[index - 1] + (ys[index] - ys[index - 1]) * (x - xs[index - 1]) / (xs[index] - xs[index - 1]);
            }
        }

        return ys[^1];
    }

    private void Add(string name, Shape shape, Fill fill) => operations.Add(new PaintOperation(name, shape, fill));

    // ---------------------------------------------------------------- muscles

    private void BuildMuscles()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/muscles");
        var muscleHu = contrast.Hu(TissueKind.Muscle);
        var l1 = labels.IndexOf("L1");
        var psoasScale = build * (float)random.Normal(1, 0.08);

        // Psoas: from T12/L1, lateral to the bodies, growing to ~35 mm by L4–L5, then moving forward into the pelvis.
        for (var side = -1; side <= 1; side += 2)
        {
            Vector3? previous = null;
            var previousRadius = 0f;
            for (var index = l1 - 1; index < vertebrae.Count; index++)
            {
                var v = vertebrae[index];
                var below = index - l1;
                var radius = Math.Clamp(5 + 5.5f * below, 4, 19) * psoasScale;
                var offset = new Vector3(side * (v.Width / 2 + radius * 0.75f), -v.Depth * 0.05f - Math.Max(0, below - 3) * 10, 0);
                var centre = v.Frame.Origin + v.Frame.DirectionToWorld(offset);
                if (previous is { } start)
                {
                    Add("psoas", new Capsule(start, centre, previousRadius, radius), Fill.Uniform(muscleHu, TissueClass.SoftTissue));
                }

                previous = centre;
                previousRadius = radius;
            }

            // Quadratus lumborum behind the transverse processes, T12 to L4.
            for (var index = l1 - 1; index < vertebrae.Count - 2; index++)
            {
                var upper = vertebrae[index].Frame;
                var lower = vertebrae[index + 1].Frame;
                var lateral = 62 * build;
                var start = upper.Origin + upper.DirectionToWorld(new Vector3(side * lateral, 30, 0));
                var end = lower.Origin + lower.DirectionToWorld(new Vector3(side * (lateral + 4), 30, 0));
                Add("quadratus lumborum", new Capsule(start, end, 9 * build), Fill.Uniform(muscleHu, TissueClass.SoftTissue));
            }

        }
    }

    /// <summary>
    /// Erector spinae and multifidus either side of the spinous processes, behind the laminae and transverse
    /// processes, in a thin fat sheath; painted after the lungs, whose posterior recesses they bound.
    /// </summary>
    private void BuildParaspinals()
    {
        var muscleHu = contrast.Hu(TissueKind.Muscle);
        var fatHu = physics.Hu(MaterialLibrary.Adipose);
        foreach (var v in vertebrae)
        {
            var thoracic = v.RibBearing;
            var radiusX = (thoracic ? 24f : 31f) * build;
            var radiusY = (thoracic ? 16f : 22f) * build;
            var centreY = v.Depth / 2 + CanalDepth(v) + (thoracic ? 14 : 18);
            var halfLength = (v.Height + v.DiscBelowMm) / 2 + 1.5f;
            for (var side = -1; side <= 1; side += 2)
            {
                var frame = new Frame(v.Frame.ToWorld(new Vector3(side * (radiusX + 5), centreY, -v.DiscBelowMm / 2)), v.Frame.AxisX, v.Frame.AxisY, v.Frame.AxisZ);
                var muscle = new EllipticCylinder(frame, radiusX, radiusY, halfLength);
                Add("paraspinal fat sheath", new Offset(muscle, 2.5f), Fill.Uniform(fatHu, TissueClass.Fat));
                Add("paraspinal muscle", muscle, Fill.Uniform(muscleHu, TissueClass.SoftTissue));
            }
        }
    }

    // ---------------------------------------------------------------- abdomen

    private void BuildAbdomen()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/abdomen");
        var t9 = VertebraAbove("L1", 4);
        var t11 = VertebraAbove("L1", 2);
        var t12 = VertebraAbove("L1", 1);
        var l1 = Vertebra("L1");
        var l2 = VertebraBelow("L1", 1);
        var l3 = VertebraBelow("L1", 2);
        var l5 = vertebrae[^2];
        var cavityL1 = cavity.At(0);

        var rightApex = new Vector3(-60 * build, cavityL1.CentreY - 10, t9.Frame.Origin.Z + (float)random.Normal(5, 8));
        var leftApex = new Vector3(60 * build, cavityL1.CentreY, rightApex.Z - (float)random.Uniform(8, 22));
        diaphragm = new DiaphragmSurface(rightApex, leftApex, 0.0095f / build, 0.0045f / build);
        drawnParameters["diaphragmRightApexZ"] = rightApex.Z;

        var cavityShape = new TrunkLayer(cavity, 0, 0, 0, false, false, BottomZ, TopZ);
        var belowDiaphragm = new Intersection(cavityShape, diaphragm.Below(-4));
        Shape Abdominal(Shape organ) => new Intersection(organ, belowDiaphragm);

        // Bowel before the solid organs, which then displace it; then the mesenteric vessels in the fat between loops.
        BuildBowel(random, l1, l2, l5, cavityL1.CentreY);
        var mesenteric = contrast.Hu(TissueKind.ArterialBlood);
        for (var vessel = 0; vessel < 70; vessel++)
        {
            var start = new Vector3((float)random.Uniform(-70, 70) * build, cavityL1.CentreY - (float)random.Uniform(0, 80) * build, (float)random.Uniform(l5.Frame.Origin.Z, l1.Frame.Origin.Z));
            var direction = Vector3.Normalize(new Vector3((float)random.NextGaussian(), (float)random.NextGaussian() * 0.6f, (float)random.NextGaussian()));
            operations.Add(new PaintOperation("mesenteric vessel", new Capsule(start, start + direction * (float)random.Uniform(15, 40), (float)random.Uniform(1.2, 2.8), 0.8f),
                Fill.Uniform(mesenteric, TissueClass.SoftTissue))
            { Condition = PaintCondition.Over(TissueClass.Fat) });
        }

        var liverCentre = new Vector3(-78 * build, cavityL1.CentreY - 2, rightApex.Z - 62);
        var liverFill = Fill.Uniform(contrast.Hu(TissueKind.Liver), TissueClass.SoftTissue);
        var liverHeight = (float)random.Uniform(62, 85);
        Add("liver right lobe", Abdominal(new Ellipsoid(Frame.Axial(liverCentre), new Vector3(72, 86, liverHeight) * build)), liverFill);
        Add("liver left lobe", Abdominal(new Ellipsoid(Frame.Axial(new Vector3(25 * build, cavityL1.CentreY - 55 * build, rightApex.Z - 45)), new Vector3(62, 38, 42) * build)), liverFill);
        Add("gallbladder", Abdominal(new Ellipsoid(Frame.Axial(liverCentre + new Vector3(15, -55, -45) * build), new Vector3(14, 16, 32) * build)), Fill.Uniform(8, TissueClass.SoftTissue));

        var spleenCentre = new Vector3(92 * build, cavityL1.CentreY + 55 * build, leftApex.Z - 60);
        Add("spleen", Abdominal(new Ellipsoid(new Frame(spleenCentre, Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitZ, -0.6f)), new Vector3(26, 48, 52) * build)),
            Fill.Uniform(contrast.Hu(TissueKind.Spleen), TissueClass.SoftTissue));

        var stomach = new Ellipsoid(new Frame(new Vector3(55 * build, cavityL1.CentreY - 30 * build, leftApex.Z - 60), Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitZ, 0.5f)),
            new Vector3(48, 38, 62) * build);
        Add("stomach wall", Abdominal(stomach), Fill.Uniform(contrast.Hu(TissueKind.BowelWall), TissueClass.SoftTissue));
        Add("stomach content", Abdominal(new Offset(stomach, -3)), GasFluidFill(stomach.Frame.Origin, 38 * build, 10, 18, random.Uniform(0.1, 0.6) * 38));

        // Pancreas: head by the duodenum at L2, body across the aorta, tail to the splenic hilum.
        var pancreasPoints = new[]
        {
            l2.Frame.Origin + new Vector3(-28, -l2.Depth / 2 - 38, 0),
            l1.Frame.Origin + new Vector3(0, -l1.Depth / 2 - 48, 0),
            l1.Frame.Origin + new Vector3(45, -l1.Depth / 2 - 30, 8),
            t12.Frame.Origin + new Vector3(82, -5, 0) * build,
        };
        AddTube("pancreas", pancreasPoints, [13, 11, 10, 8], Fill.Uniform(contrast.Hu(TissueKind.Pancreas), TissueClass.SoftTissue, 6));

        // Kidneys: lateral to psoas, upper poles tilted medially and backwards, the right lower (liver above it).
        for (var side = -1; side <= 1; side += 2)
        {
            var anchor = side < 0 ? l2 : l1;
            var centre = anchor.Frame.Origin + new Vector3(side * 72 * build, anchor.Depth * 0.45f, side < 0 ? -8 : 5);
            var frame = new Frame(centre, Vector3.UnitX, Vector3.UnitY, Vector3.UnitZ)
                .Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitY, side * 0.22f))
                .Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitZ, side * -0.45f));
            var kidney = new Ellipsoid(frame, new Vector3(26, 32, 55) * build);
            // Perirenal fat fills Gerota's fascia, wider behind and beside the kidney than in front of it.
            var perirenal = new Ellipsoid(new Frame(frame.ToWorld(new Vector3(side * 4, 6, -6)), frame.AxisX, frame.AxisY, frame.AxisZ), new Vector3(36, 42, 68) * build);
            Add("perirenal fat", perirenal, Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 5, TissueClass.Fat, 10));
            Add("kidney cortex", kidney, Fill.Uniform(contrast.Hu(TissueKind.KidneyCortex), TissueClass.SoftTissue));
            Add("kidney medulla", new Offset(kidney, -7), Fill.Uniform(contrast.Hu(TissueKind.KidneyMedulla), TissueClass.SoftTissue));
            var sinus = new Ellipsoid(new Frame(frame.ToWorld(new Vector3(-side * 14, -6, 0)), frame.AxisX, frame.AxisY, frame.AxisZ), new Vector3(9, 10, 26) * build);
            Add("renal sinus fat", sinus, Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 10, TissueClass.Fat, 6));
        }

        // Aorta: left of the midline in front of the spine, through the hiatus at T12, bifurcating at L4.
        var aortaRadius = (float)(random.Uniform(10, 13) * build);
        var aortaPoints = new List<Vector3>();
        var aortaRadii = new List<float>();
        for (var index = 0; index < vertebrae.Count; index++)
        {
            var v = vertebrae[index];
            var below = index - labels.IndexOf("L1");
            if (below > 3)
            {
                break;
            }

            var anterior = below < -4 ? 6f : below < 0 ? 6 + (below + 4) * 4f : 22;
            var lateral = below < -4 ? 24f : below < 0 ? 24 + (below + 4) * -3.5f : 9;
            aortaPoints.Add(v.Frame.Origin + new Vector3(lateral * build, -v.Depth / 2 - aortaRadius - anterior + 18, 0));
            aortaRadii.Add(aortaRadius * (below > 0 ? 1 - 0.06f * below : 1));
        }

        var bifurcation = aortaPoints[^1];
        AddTube("aorta", aortaPoints, aortaRadii, Fill.Uniform(contrast.Hu(TissueKind.ArterialBlood), TissueClass.SoftTissue));
        for (var side = -1; side <= 1; side += 2)
        {
            var iliac = new[] { bifurcation, l5.Frame.Origin + new Vector3(side * 38, -l5.Depth / 2 - 18, 0), vertebrae[^1].Frame.Origin + new Vector3(side * 62, -30, -20) };
            AddTube("common iliac artery", iliac, [aortaRadius * 0.7f, aortaRadius * 0.55f, aortaRadius * 0.5f], Fill.Uniform(contrast.Hu(TissueKind.ArterialBlood), TissueClass.SoftTissue));
        }

        AddCalcifications(random, aortaPoints, aortaRadius);

        // IVC: right of the aorta, entering the liver at T12 and the right atrium above the diaphragm.
        var ivcPoints = new[]
        {
            l5.Frame.Origin + new Vector3(-14, -l5.Depth / 2 - 16, 0),
            l3.Frame.Origin + new Vector3(-24, -l3.Depth / 2 - 18, 0),
            l1.Frame.Origin + new Vector3(-26, -l1.Depth / 2 - 22, 0),
            t11.Frame.Origin + new Vector3(-30, -t11.Depth / 2 - 40, 0),
            t9.Frame.Origin + new Vector3(-22, -t9.Depth / 2 - 60, 0),
        };
        AddTube("inferior vena cava", ivcPoints, [12, 12, 11, 12, 13], Fill.Uniform(contrast.Hu(TissueKind.VenousBlood), TissueClass.SoftTissue));

        // Portal and hepatic veins inside the liver: visible as enhancing branches in the venous phase.
        var hepaticRandom = PhantomRandom.Stream(options.Seed, "anatomy/hepatic-vessels");
        var porta = liverCentre + new Vector3(25, -10, -25);
        for (var branch = 0; branch < 10; branch++)
        {
            var direction = Vector3.Normalize(new Vector3((float)hepaticRandom.Uniform(-1, 0.4), (float)hepaticRandom.Uniform(-0.6, 0.6), (float)hepaticRandom.Uniform(-0.2, 0.9)));
            var length = (float)hepaticRandom.Uniform(40, 80);
            var vessel = new Intersection(new Capsule(porta, porta + direction * length, 6, 1.5f), new Ellipsoid(Frame.Axial(liverCentre), new Vector3(64, 78, liverHeight - 8) * build));
            operations.Add(new PaintOperation("hepatic vessel", vessel, Fill.Uniform(contrast.Hu(TissueKind.PortalBlood), TissueClass.SoftTissue)) { Condition = PaintCondition.Over(TissueClass.SoftTissue) });
        }
    }

    private Fill GasFluidFill(Vector3 centre, float radiusAlongUp, double fluidHu, double textureHu, double gasDepthMm)
    {
        // Gas collects on the non-dependent side: anterior when supine, posterior when prone.
        var up = FlattenedBack ? -Vector3.UnitY : Vector3.UnitY;
        var topAlongUp = Vector3.Dot(centre, up) + radiusAlongUp;
        return new Fill(FillKind.GasFluid, (float)fluidHu, TissueClass.SoftTissue)
        {
            Up = up,
            LevelAlongUp = topAlongUp - (float)gasDepthMm,
            TextureAmplitude = (float)textureHu,
        };
    }

    private void BuildBowel(PhantomRandom random, VertebraModel l1, VertebraModel l2, VertebraModel l5, float cavityCentreY)
    {
        var wall = Fill.Uniform(contrast.Hu(TissueKind.BowelWall), TissueClass.SoftTissue);

        // Colon frame: caecum right iliac fossa, ascending, hepatic flexure, transverse, splenic flexure, descending, sigmoid.
        var b = build;
        var colon = new[]
        {
            l5.Frame.Origin + new Vector3(-78 * b, -62, -5),
            l2.Frame.Origin + new Vector3(-92 * b, -20, -10),
            l1.Frame.Origin + new Vector3(-82 * b, -45, 10),
            l2.Frame.Origin + new Vector3(-35 * b, -105 * b, -15),
            l2.Frame.Origin + new Vector3(35 * b, -100 * b, -5),
            l1.Frame.Origin + new Vector3(88 * b, -25, 40),
            l2.Frame.Origin + new Vector3(96 * b, 0, -20),
            l5.Frame.Origin + new Vector3(80 * b, -40, -10),
            l5.Frame.Origin + new Vector3(40 * b, -75, -40),
        };
        for (var segment = 0; segment + 1 < colon.Length; segment++)
        {
            var radius = (float)random.Uniform(17, 24) * b;
            var tube = new Capsule(colon[segment], colon[segment + 1], radius);
            Add("colon wall", tube, wall);
            var gas = random.Uniform(0.2, 0.9) * radius * 2;
            Add("colon content", new Offset(tube, -2.5f), GasFluidFill((colon[segment] + colon[segment + 1]) / 2, radius, -60, 70, gas));
        }

        // Small bowel: random walks of 20–28 mm loops filling the mid and lower abdomen, some gas, most fluid, some collapsed.
        var top = l1.Frame.Origin.Z - 25;
        var bottomZ = l5.Frame.Origin.Z - 20;
        for (var loop = 0; loop < 9; loop++)
        {
            var position = new Vector3((float)random.Uniform(-65, 65) * b, cavityCentreY - (float)random.Uniform(20, 70) * b, (float)random.Uniform(bottomZ, top));
            var direction = Vector3.Normalize(new Vector3((float)random.NextGaussian(), (float)random.NextGaussian(), (float)random.NextGaussian()));
            var radius = (float)random.Uniform(9, 13);
            var content = random.NextDouble();
            for (var step = 0; step < 7; step++)
            {
                direction = Vector3.Normalize(direction + 0.9f * new Vector3((float)random.NextGaussian(), (float)random.NextGaussian(), (float)random.NextGaussian()));
                var next = position + direction * (float)random.Uniform(18, 30);
                next = new Vector3(Math.Clamp(next.X, -85 * b, 85 * b), Math.Clamp(next.Y, cavityCentreY - 95 * b, cavityCentreY + 10), Math.Clamp(next.Z, bottomZ, top));
                var tube = new Capsule(position, next, radius);
                Add("small bowel wall", tube, wall);
                if (content < 0.75)
                {
                    var gasDepth = content < 0.25 ? random.Uniform(0.3, 1.2) * radius : 0;
                    Add("small bowel content", new Offset(tube, -2), GasFluidFill((position + next) / 2, radius, 12, 6, gasDepth));
                }

                position = next;
            }
        }
    }

    private void AddCalcifications(PhantomRandom random, List<Vector3> aortaPoints, float radius)
    {
        var age = (options.StudyDate.DayNumber - options.PatientBirthDate.DayNumber) / 365.25;
        var count = (int)Math.Clamp((age - 45) / 4, 0, 10);
        var calcium = physics.Hu(MaterialLibrary.CorticalBone) * 0.6;
        for (var index = 0; index < count; index++)
        {
            var segment = random.Next(aortaPoints.Count - 1);
            var along = Vector3.Lerp(aortaPoints[segment], aortaPoints[segment + 1], (float)random.NextDouble());
            var angle = random.Uniform(0, 2 * Math.PI);
            var spot = along + new Vector3((float)Math.Cos(angle), (float)Math.Sin(angle), 0) * (radius - 1);
            Add("aortic calcification", new Ellipsoid(Frame.Axial(spot), new Vector3(1.5f, 1.5f, (float)random.Uniform(2, 6))), Fill.Uniform(calcium, TissueClass.Bone));
        }
    }

    // ---------------------------------------------------------------- thorax

    private void BuildThorax()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/thorax");
        var cavityShape = new TrunkLayer(cavity, 0, 0, 0, false, false, BottomZ, TopZ);
        var t9 = VertebraAbove("L1", 4);
        var lungDensity = random.Uniform(0.13, 0.19);
        drawnParameters["lungDensity"] = lungDensity;

        Add("diaphragm", new Intersection(cavityShape, diaphragm.Above(-4)), Fill.Uniform(contrast.Hu(TissueKind.Muscle), TissueClass.SoftTissue));
        Add("lungs", new Intersection(cavityShape, diaphragm.Above(1)), Fill.Uniform(physics.Hu(MaterialLibrary.LungTissue, lungDensity), TissueClass.Lung, 12));

        // Mediastinum: fat around the heart, aorta, oesophagus and the front of the spine.
        var aboveDiaphragm = diaphragm.Above(-1);
        var front = cavity.At(t9.Frame.Origin.Z);
        var heartCentre = new Vector3(22 * build, front.CentreY - front.HalfDepthFront * 0.35f, diaphragm.HighestPoint + 30);
        var heartFrame = Frame.Axial(heartCentre).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitZ, 0.55f)).Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitY, -0.35f));
        var heart = new Ellipsoid(heartFrame, new Vector3(62, 46, 52) * build);
        Add("pericardial fat", new Intersection(new Offset(heart, 7), aboveDiaphragm), Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 10, TissueClass.Fat, 8));
        Add("heart", new Intersection(heart, aboveDiaphragm), Fill.Uniform(contrast.Hu(TissueKind.Myocardium), TissueClass.SoftTissue));
        Add("cardiac chambers", new Intersection(new Offset(heart, -9), aboveDiaphragm), Fill.Uniform(contrast.Hu(TissueKind.ArterialBlood), TissueClass.SoftTissue));

        for (var index = 0; index < labels.RibPairs; index++)
        {
            var v = vertebrae[index];
            var mediastinum = new Ellipsoid(Frame.Axial(v.Frame.Origin + new Vector3(8, -v.Depth / 2 - 8, 0)), new Vector3(30, 26, v.Height + v.DiscBelowMm + 6));
            operations.Add(new PaintOperation("posterior mediastinum", new Intersection(mediastinum, aboveDiaphragm), Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 15, TissueClass.Fat, 10)));
        }

        var oesophagus = Enumerable.Range(0, labels.RibPairs - 1).Select(index => vertebrae[index].Frame.Origin + new Vector3(index > labels.RibPairs - 4 ? 14 : 3, -vertebrae[index].Depth / 2 - 8, 0)).ToList();
        AddTube("oesophagus", oesophagus, oesophagus.Select(_ => 7.5f).ToList(), Fill.Uniform(contrast.Hu(TissueKind.BowelWall), TissueClass.SoftTissue));

        // Pulmonary vessels: tapering branches from each hilum down and out into the lower lobes, painted only over lung.
        var vesselHu = contrast.Hu(TissueKind.PulmonaryBlood);
        var hilumZ = vertebrae[Math.Max(0, labels.IndexOf("L1") - 7)].Frame.Origin.Z;
        for (var side = -1; side <= 1; side += 2)
        {
            var hilum = new Vector3(side * 55 * build, front.CentreY + 10, hilumZ);
            for (var branch = 0; branch < 45; branch++)
            {
                var start = hilum + new Vector3((float)random.Normal(0, 8), (float)random.Normal(0, 10), (float)random.Normal(0, 10));
                var direction = Vector3.Normalize(new Vector3(side * (float)random.Uniform(0.1, 0.9), (float)random.Uniform(-0.7, 0.9), -(float)random.Uniform(0.5, 1.3)));
                var radius = (float)random.Uniform(1.8, 4.5);
                for (var generation = 0; generation < 4; generation++)
                {
                    var length = (float)random.Uniform(25, 50);
                    var end = start + direction * length;
                    var endRadius = radius * 0.7f;
                    operations.Add(new PaintOperation("pulmonary vessel", new Capsule(start, end, radius, endRadius), Fill.Uniform(vesselHu, TissueClass.SoftTissue)) { Condition = PaintCondition.Over(TissueClass.Lung) });
                    if (generation > 0)
                    {
                        var twig = Vector3.Normalize(direction + new Vector3((float)random.NextGaussian(), (float)random.NextGaussian(), (float)random.NextGaussian()) * 0.8f);
                        operations.Add(new PaintOperation("pulmonary vessel", new Capsule(start, start + twig * length * 0.6f, endRadius * 0.8f, 0.6f), Fill.Uniform(vesselHu, TissueClass.SoftTissue)) { Condition = PaintCondition.Over(TissueClass.Lung) });
                    }

                    start = end;
                    radius = endRadius;
                    direction = Vector3.Normalize(direction + new Vector3((float)random.NextGaussian(), (float)random.NextGaussian(), (float)random.NextGaussian()) * 0.35f);
                }
            }
        }
    }

    // ---------------------------------------------------------------- skeleton

    private void BuildSkeleton()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/skeleton");
        var corticalHu = physics.Hu(MaterialLibrary.CorticalBone);
        var discHu = physics.Hu(MaterialLibrary.Cartilage) - 25;
        var csfHu = physics.Hu(MaterialLibrary.Water) + 8;

        // Thecal sac and the epidural fat around it, running through the canal.
        var canal = vertebrae.Select(v => v.Frame.ToWorld(new Vector3(0, v.Depth / 2 + CanalDepth(v) / 2 + 1, 0))).ToList();
        AddTube("epidural fat", canal, vertebrae.Select(v => CanalDepth(v) / 2 + 1).ToList(), Fill.Uniform(physics.Hu(MaterialLibrary.Adipose) + 20, TissueClass.Fat));
        AddTube("thecal sac", canal, vertebrae.Select(v => CanalDepth(v) / 2 - 2).ToList(), Fill.Uniform(csfHu, TissueClass.SoftTissue));

        for (var index = 0; index + 1 < vertebrae.Count; index++)
        {
            var upper = vertebrae[index];
            var lower = vertebrae[index + 1];
            var top = upper.Frame.ToWorld(new Vector3(0, 0, -upper.Height / 2));
            var bottom = lower.Frame.ToWorld(new Vector3(0, 0, lower.Height / 2));
            var axis = Vector3.Normalize(upper.Frame.AxisZ + lower.Frame.AxisZ);
            var frame = new Frame((top + bottom) / 2, upper.Frame.AxisX, Vector3.Normalize(Vector3.Cross(axis, upper.Frame.AxisX)), axis);
            var gap = Math.Abs(Vector3.Dot(top - bottom, axis));
            var discHalf = gap / 2 + Math.Max(upper.Depth, lower.Depth) * MathF.Abs(Vector3.Dot(upper.Frame.AxisY, lower.Frame.AxisZ)) + 1.5f;
            var width = (upper.Width + lower.Width) / 2;
            var depth = (upper.Depth + lower.Depth) / 2;
            var disc = new EllipticCylinder(frame, width / 2 * 0.97f, depth / 2 * 0.95f, discHalf);
            Add("intervertebral disc", disc, Fill.Uniform(discHu, TissueClass.SoftTissue, 8));
            Add("nucleus pulposus", new EllipticCylinder(new Frame(frame.ToWorld(new Vector3(0, depth * 0.08f, 0)), frame.AxisX, frame.AxisY, frame.AxisZ), width * 0.2f, depth * 0.18f, discHalf), Fill.Uniform(discHu - 18, TissueClass.SoftTissue, 6));
        }

        foreach (var v in vertebrae)
        {
            var code = v.Code;
            var bodyFill = new Fill(FillKind.ShellCore, 0, TissueClass.Bone)
            {
                ShellHu = (float)(corticalHu * 0.72),
                ShellThicknessMm = v.CorticalShellMm,
                CoreIntercept = (float)v.TrabecularLine.Intercept,
                CoreSlope = (float)v.TrabecularLine.Slope,
                CoreDensity = (float)v.TrabecularBmd,
                TextureAmplitude = TrabecularTextureAmplitude,
            };
            operations.Add(new PaintOperation($"{v.Name} body", v.Body, bodyFill) { BodyLabel = code, VertebraLabel = code });
            var elementFill = bodyFill with { ShellThicknessMm = 1.2f, CoreDensity = (float)(v.TrabecularBmd * 1.4), ShellHu = (float)(corticalHu * 0.8) };
            foreach (var (name, shape) in PosteriorElements(v, random))
            {
                operations.Add(new PaintOperation($"{v.Name} {name}", shape, elementFill) { VertebraLabel = code });
            }
        }

        BuildRibs(random, corticalHu);
        BuildPelvis(random, corticalHu);
    }

    private static float CanalDepth(VertebraModel v) => v.RibBearing ? 15 : 17;

    private IEnumerable<(string Name, Shape Shape)> PosteriorElements(VertebraModel v, PhantomRandom random)
    {
        var f = v.Frame;
        var thoracic = v.RibBearing;
        var sacral = labels.IsSacral(v.Index);
        var back = v.Depth / 2;
        var canalHalfWidth = thoracic ? 8.5f : 11.5f;
        var canalDepth = CanalDepth(v);
        var pedicleHalfWidth = thoracic ? 3.5f : 4.5f + 0.5f * Math.Min(4, v.Index - labels.RibPairs);
        var pedicleX = canalHalfWidth + pedicleHalfWidth;
        var laminaY = back + canalDepth;
        var up = f.AxisZ;
        Vector3 At(float x, float y, float z) => f.ToWorld(new Vector3(x, y, z));

        for (var side = -1; side <= 1; side += 2)
        {
            yield return ("pedicle", RoundedBox.Along(At(side * pedicleX, back - 4, v.Height * 0.1f), At(side * (pedicleX + 1), laminaY - 2, v.Height * 0.1f), up, pedicleHalfWidth, v.Height * 0.3f, 2.5f));
            yield return ("lamina", RoundedBox.Along(At(side * (pedicleX + 1), laminaY - 2, 0), At(0, laminaY + 3, -1), up, 3f, v.Height * 0.42f, 2.5f));
            yield return ("superior articular process", new RoundedBox(new Frame(At(side * (pedicleX + 2), laminaY - 1, v.Height * 0.45f), f.AxisX, f.AxisY, f.AxisZ), new Vector3(4, 5, v.Height * 0.3f), 2.5f));
            yield return ("inferior articular process", new RoundedBox(new Frame(At(side * (pedicleX - 1), laminaY + 3, -v.Height * 0.55f), f.AxisX, f.AxisY, f.AxisZ), new Vector3(4, 4.5f, v.Height * 0.3f), 2.5f));
            if (sacral)
            {
                yield return ("sacral ala", RoundedBox.Along(At(side * v.Width * 0.35f, 2, -4), At(side * (v.Width * 0.5f + 38), back + 4, -8), up, 11, 18, 5));
                continue;
            }

            if (thoracic)
            {
                var tip = At(side * (pedicleX + 24), laminaY + 10, v.Height * 0.05f);
                yield return ("transverse process", new Capsule(At(side * pedicleX, laminaY - 3, 0), tip, 5.5f, 4.5f));
            }
            else
            {
                var lumbarIndex = v.Index - labels.RibPairs;
                var length = lumbarIndex switch { 0 => 14f, 1 => 19, 2 => 24, 3 => 20, _ => 17 } * (float)random.Normal(1, 0.08);
                yield return ("transverse process", RoundedBox.Along(At(side * pedicleX, back + 7, 0), At(side * (pedicleX + length), back + 5, -1), up, 3f, 5f, 2.5f));
            }
        }

        var slope = thoracic ? 0.9f : sacral ? 0.4f : 0.15f;
        var spinousLength = (thoracic ? 34f : sacral ? 18 : 24) * build;
        var start = At(0, laminaY + 2, 0);
        var end = f.ToWorld(new Vector3(0, laminaY + 2 + spinousLength * MathF.Cos(slope), -spinousLength * MathF.Sin(slope)));
        yield return ("spinous process", RoundedBox.Along(start, end, f.AxisX, thoracic ? 5.5f : 9f, 3.2f, 2.5f));
    }

    private void BuildRibs(PhantomRandom random, double corticalHu)
    {
        var lowestFactor = Draw("lowestRibLengthFactor", options.LowestRibLengthFactor, random, r => r.Uniform(0.35, 1.1));
        var cartilageHu = physics.Hu(MaterialLibrary.Cartilage) + 30;
        var ribFill = new Fill(FillKind.ShellCore, 0, TissueClass.Bone)
        {
            ShellHu = (float)(corticalHu * 0.75),
            ShellThicknessMm = 1.3f,
            CoreIntercept = (float)vertebrae[0].TrabecularLine.Intercept,
            CoreSlope = (float)vertebrae[0].TrabecularLine.Slope,
            CoreDensity = (float)(options.L1BmdMgPerCm3 * 1.2),
            TextureAmplitude = 0.2f,
        };

        for (var rib = 0; rib < labels.RibPairs; rib++)
        {
            var v = vertebrae[rib];
            var number = rib + 1;
            var fromBottom = labels.RibPairs - number;
            // Bony extent around the chest (0 = back, π = front): true ribs reach the sternum's cartilage, false ribs
            // stop earlier, floating ribs (the last two) laterally; the lowest pair is short and variable.
            var end = fromBottom switch
            {
                0 => (float)(0.95 * lowestFactor),
                1 => 1.75f,
                2 or 3 or 4 => 2.25f,
                _ => 2.55f,
            };
            // How far the rib's end lies below its head: the costal margin (rib 10's cartilage) reaches L2–L3, the
            // floating ribs' tips L1–L2 — which is why rib shafts, not rib heads, are seen beside L1.
            var drop = fromBottom switch { 0 => 50f, 1 => 85, 2 => 140, 3 => 135, 4 => 130, _ => 95 + 5 * Math.Min(number, 8) } * build;
            for (var side = -1; side <= 1; side += 2)
            {
                var head = v.Frame.ToWorld(new Vector3(side * (v.Width / 2 + 1), v.Depth * 0.3f, v.Height * 0.45f));
                var tubercle = v.Frame.ToWorld(new Vector3(side * (v.Width / 2 + 18), v.Depth / 2 + 22, v.Height * 0.2f));
                var points = new List<Vector3> { head, tubercle };
                var startAngle = 0.55f;
                var steps = Math.Max(2, (int)((end - startAngle) / 0.12f));
                for (var step = 0; step <= steps; step++)
                {
                    var t = (float)step / steps;
                    var angle = startAngle + (end - startAngle) * t;
                    var z = tubercle.Z - drop * MathF.Pow(t, 1.3f);
                    var section = cavity.At(z);
                    var halfDepth = MathF.Cos(angle) > 0 ? section.HalfDepthBack : section.HalfDepthFront;
                    points.Add(new Vector3(section.CentreX + side * (section.HalfWidth + 7) * MathF.Sin(angle), section.CentreY + (halfDepth + 7) * MathF.Cos(angle), z));
                }

                var radii = points.Select((_, i) => i == 0 ? 5.5f : 5f * build).ToList();
                for (var segment = 0; segment + 1 < points.Count; segment++)
                {
                    operations.Add(new PaintOperation($"rib {v.Name}", new Capsule(points[segment], points[segment + 1], radii[segment], radii[segment + 1]), ribFill) { RibLabel = v.Code });
                }

                if (fromBottom >= 2)
                {
                    // Costal cartilage continues forwards and, for the false ribs, upwards to the costal margin. It
                    // carries no rib label: it has soft-tissue density, and level counting needs the bony rib.
                    var last = points[^1];
                    var section = cavity.At(last.Z);
                    var cartilageEnd = new Vector3(section.CentreX + side * 22, section.CentreY - section.HalfDepthFront - 4, last.Z + (fromBottom <= 4 ? 30 : 8));
                    Add("costal cartilage", new Capsule(last, cartilageEnd, 5, 4.5f), Fill.Uniform(cartilageHu, TissueClass.SoftTissue, 10));
                }
            }
        }

        // Sternum body and xiphoid, in front of the heart, ending around T9–T10.
        var t9 = VertebraAbove("L1", 4);
        var sternumBottom = t9.Frame.Origin.Z - 5;
        var frontSection = cavity.At(sternumBottom + 40);
        var sternumFrame = Frame.Axial(new Vector3(0, frontSection.CentreY - frontSection.HalfDepthFront - 6, sternumBottom + 45));
        operations.Add(new PaintOperation("sternum", new RoundedBox(sternumFrame, new Vector3(15, 6, 50), 4), ribFill with { ShellThicknessMm = 1.0f }));
    }

    private void BuildPelvis(PhantomRandom random, double corticalHu)
    {
        var sacrum = vertebrae[^1];
        var l5 = vertebrae[^2];
        var crestZ = l5.Frame.Origin.Z + l5.Height * (float)random.Uniform(0.1, 0.9);
        var fill = new Fill(FillKind.ShellCore, 0, TissueClass.Bone)
        {
            ShellHu = (float)(corticalHu * 0.75),
            ShellThicknessMm = 1.5f,
            CoreIntercept = (float)sacrum.TrabecularLine.Intercept,
            CoreSlope = (float)sacrum.TrabecularLine.Slope,
            CoreDensity = (float)(sacrum.TrabecularBmd * 0.9),
            TextureAmplitude = 0.22f,
        };
        for (var side = -1; side <= 1; side += 2)
        {
            var joint = sacrum.Frame.Origin + new Vector3(side * (sacrum.Width / 2 + 40), sacrum.Depth * 0.5f, 0);
            var wing = new Vector3(side * 118 * build, sacrum.Frame.Origin.Y - 55 * build, 0);
            var centreZ = crestZ - 55;
            var posterior = RoundedBox.Along(new Vector3(joint.X, joint.Y + 8, centreZ), new Vector3(side * 78 * build, joint.Y - 10, centreZ), Vector3.UnitZ, 11, 55, 6);
            var anterior = RoundedBox.Along(new Vector3(side * 78 * build, joint.Y - 10, centreZ), new Vector3(wing.X, wing.Y, centreZ), Vector3.UnitZ, 5, 55, 4);
            var crestCap = new Ellipsoid(Frame.Axial(new Vector3(side * 80 * build, joint.Y - 20, crestZ - 60)), new Vector3(70, 80, 60) * build);
            operations.Add(new PaintOperation("iliac bone", new Intersection(posterior, crestCap), fill));
            operations.Add(new PaintOperation("iliac wing", new Intersection(anterior, crestCap), fill));
            Add("gluteal muscle", new Intersection(new Ellipsoid(Frame.Axial(new Vector3(side * 95 * build, joint.Y + 30, crestZ - 80)), new Vector3(45, 35, 70) * build), new TrunkLayer(lean, 0, 0, 0, FlattenedBack, !FlattenedBack, BottomZ, TopZ)),
                Fill.Uniform(contrast.Hu(TissueKind.Muscle), TissueClass.SoftTissue));
        }

        drawnParameters["iliacCrestZ"] = crestZ;
    }

    // ---------------------------------------------------------------- optional pathology and metal

    private void BuildPathology()
    {
        var random = PhantomRandom.Stream(options.Seed, "anatomy/pathology");
        if (options.Lesion != LesionKind.None)
        {
            var v = Vertebra(options.LesionLevel);
            var radius = (float)options.LesionDiameterMm / 2;
            var centre = v.Frame.ToWorld(new Vector3((float)random.Uniform(-0.2, 0.2) * v.Width, (float)random.Uniform(-0.2, 0.1) * v.Depth, (float)random.Uniform(-0.15, 0.15) * v.Height));
            var shape = new Ellipsoid(new Frame(centre, v.Frame.AxisX, v.Frame.AxisY, v.Frame.AxisZ), new Vector3(radius, radius * 0.85f, radius * 0.9f));
            var fill = options.Lesion == LesionKind.Sclerotic
                ? Fill.Uniform(v.TrabecularLine.HuAt(v.TrabecularBmd) + 650, TissueClass.Bone, 120)
                : Fill.Uniform(contrast.Hu(TissueKind.Tumour), TissueClass.SoftTissue, 12);
            operations.Add(new PaintOperation($"{options.Lesion.ToString().ToLowerInvariant()} lesion {v.Name}", shape, fill) { Condition = PaintCondition.InsideBody(v.Code) });
            LesionCentre = centre;
        }

        if (options.ScrewLevels.Count > 0)
        {
            var metalHu = Math.Min(3071, physics.Hu(MaterialLibrary.TitaniumAlloy));
            var heads = new List<Vector3>[2] { [], [] };
            foreach (var level in options.ScrewLevels.Select(Vertebra).OrderBy(v => v.Index))
            {
                for (var side = -1; side <= 1; side += 2)
                {
                    var entry = level.Frame.ToWorld(new Vector3(side * 20, level.Depth / 2 + 30, level.Height * 0.05f));
                    var tip = level.Frame.ToWorld(new Vector3(side * 5, -level.Depth * 0.3f, level.Height * 0.05f));
                    operations.Add(new PaintOperation($"pedicle screw {level.Name}", new Capsule(entry, tip, 3.2f, 2.6f), Fill.Uniform(metalHu, TissueClass.Metal)));
                    operations.Add(new PaintOperation($"screw head {level.Name}", new Ellipsoid(Frame.Axial(entry), new Vector3(6, 6, 7)), Fill.Uniform(metalHu, TissueClass.Metal)));
                    heads[(side + 1) / 2].Add(entry);
                }
            }

            foreach (var side in heads.Where(h => h.Count > 1))
            {
                var top = side[0] + (side[0] - side[^1]) * (8 / Math.Max(1, (side[0] - side[^1]).Length()));
                var bottom = side[^1] + (side[^1] - side[0]) * (8 / Math.Max(1, (side[0] - side[^1]).Length()));
                operations.Add(new PaintOperation("connecting rod", new Capsule(top, bottom, 2.75f), Fill.Uniform(metalHu, TissueClass.Metal)));
            }
        }
    }

    /// <summary>Centre of the lesion (anatomy frame) when one was placed.</summary>
    public Vector3? LesionCentre { get; private set; }

    // ---------------------------------------------------------------- helpers

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
