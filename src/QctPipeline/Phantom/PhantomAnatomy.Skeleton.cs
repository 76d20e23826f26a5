using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>The skeleton: discs, vertebrae, ribs, sternum, pelvis, and optional pathology and metal.</summary>
public sealed partial class PhantomAnatomy
{
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
            // The disc reaches into the bodies' bounding slabs far enough to fill the endplates' dishes and tilt.
            var dishes = Math.Max(upper.Body.Parameters.InferiorConcavityMm, lower.Body.Parameters.SuperiorConcavityMm);
            var discHalf = gap / 2 + Math.Max(upper.Depth, lower.Depth) * MathF.Abs(Vector3.Dot(upper.Frame.AxisY, lower.Frame.AxisZ)) + 1.5f + dishes;
            var width = (upper.Width + lower.Width) / 2;
            var depth = (upper.Depth + lower.Depth) / 2;
            var degeneration = Degeneration.Disc(index);

            // A degenerated annulus bulges beyond the bodies' margins.
            var bulge = 0.97f + (0.07f * (float)degeneration.Degeneration);
            var disc = new EllipticCylinder(frame, width / 2 * bulge, depth / 2 * (bulge - 0.02f), discHalf);
            Add("intervertebral disc", disc, Fill.Uniform(discHu, TissueClass.SoftTissue, 8));
            Add("nucleus pulposus", new EllipticCylinder(new Frame(frame.ToWorld(new Vector3(0, depth * 0.08f, 0)), frame.AxisX, frame.AxisY, frame.AxisZ), width * 0.2f, depth * 0.18f, discHalf), Fill.Uniform(discHu - 18, TissueClass.SoftTissue, 6));
            if (degeneration.Vacuum)
            {
                // Gas in a flat cleft of the nucleus, towards the front; the bodies painted later cover what reaches into them.
                var cleft = new PhantomRandom((ulong)degeneration.Seed + 1);
                var centre = frame.ToWorld(new Vector3((float)cleft.Uniform(-0.1, 0.1) * width, -(float)cleft.Uniform(0.0, 0.2) * depth, 0));
                var radii = new Vector3(width * (float)cleft.Uniform(0.15, 0.28), depth * (float)cleft.Uniform(0.1, 0.2), Math.Clamp(gap * 0.35f, 0.6f, 2.5f));
                Add($"vacuum disc {upper.Name}-{lower.Name}", new Ellipsoid(new Frame(centre, frame.AxisX, frame.AxisY, frame.AxisZ), radii), Fill.Uniform(VacuumDiscHu, TissueClass.Air));
            }
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
            var modifier = v.Sclerosis is null && v.Osteophytes.Count == 0 ? null : new VertebralDensity(v);
            operations.Add(new PaintOperation($"{v.Name} body", v.LabelledBody, bodyFill with { DensityModifier = modifier, ShellModifier = new EndplateCortex(v.Body) }) { BodyLabel = code, VertebraLabel = code });
            foreach (var (node, rim) in v.SchmorlNodes)
            {
                // The rim is sclerotic bone of the body; the node is disc material, not bone, so it leaves the labels.
                operations.Add(new PaintOperation($"{v.Name} Schmorl node rim", rim, Fill.Uniform(v.TrabecularLine.HuAt(v.TrabecularBmd * 3), TissueClass.Bone)) { Condition = PaintCondition.InsideBody(code) });
                operations.Add(new PaintOperation($"{v.Name} Schmorl node", node, Fill.Uniform(discHu, TissueClass.SoftTissue, 8)) { Condition = PaintCondition.InsideBody(code), ClearsLabels = true });
            }
            var elementFill = bodyFill with { ShellThicknessMm = 1.2f, CoreDensity = (float)(v.TrabecularBmd * 1.4), ShellHu = (float)(corticalHu * 0.8) };
            foreach (var (name, shape) in PosteriorElements(v, random))
            {
                operations.Add(new PaintOperation($"{v.Name} {name}", shape, elementFill) { VertebraLabel = code });
            }
        }

        BuildRibs(random, corticalHu);
        BuildPelvis(random, corticalHu);
    }

    /// <summary>Disc gas as CT shows it: air partly averaged with the cleft's walls.</summary>
    public const float VacuumDiscHu = -950;

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
            // The first ribs slope only ~35 mm from the head to the manubrium, the second to the sternal angle.
            var drop = fromBottom switch
            {
                0 => 50f,
                1 => 85,
                2 => 140,
                3 => 135,
                4 => 130,
                _ => number switch { 1 => 35f, 2 => 62, 3 => 88, _ => 95 + 5 * Math.Min(number, 8) },
            } * build;
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

        BuildSternum(ribFill with { ShellThicknessMm = 1.0f });
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
}
