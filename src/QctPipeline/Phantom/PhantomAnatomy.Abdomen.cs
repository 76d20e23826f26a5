using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>The abdomen: organs, bowel and vessels below the diaphragm.</summary>
public sealed partial class PhantomAnatomy
{

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
}
