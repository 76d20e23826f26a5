using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>The per-vertebra and per-rod parts of truth.json, integrated from the anatomy and the rendered series.</summary>
internal static class LevelTruths
{
    /// <summary>The rods with the mean beam-hardening error over each rod's core (2 mm inside its edge) through the series.</summary>
    public static IReadOnlyList<CalibrationRod> RodsWithBeamHardening(PhantomStudy study)
    {
        var geometry = study.Volume.Geometry;
        return study.Setup.Rods.Select(rod =>
        {
            if (!study.BeamHardening.Enabled)
            {
                return rod;
            }

            double sum = 0;
            var count = 0;
            for (var k = 0; k < geometry.SizeZ; k++)
            {
                var z = geometry.VoxelToPatient((geometry.SizeX - 1) / 2.0, (geometry.SizeY - 1) / 2.0, k).Z;
                for (var angle = 0; angle < 8; angle++)
                {
                    for (var radius = 0.0; radius <= rod.RadiusMm - 2; radius += Math.Max(1, (rod.RadiusMm - 2) / 2))
                    {
                        sum += study.BeamHardening.At(new Domain.Vector3(rod.CentreX + (radius * Math.Cos(angle * Math.PI / 4)), rod.CentreY + (radius * Math.Sin(angle * Math.PI / 4)), z));
                        count++;
                    }
                }
            }

            return rod with { BeamHardeningHu = Math.Round(sum / count, 3) };
        }).ToList();
    }

    /// <summary>Body volume, centroid and the core's mean density, integrated on a 0.5 mm grid in the vertebra's frame.</summary>
    public static LevelTruth Of(PhantomStudy study, VertebraModel v, double scanTop, double scanBottom, HuLine haInWater)
    {
        var (anatomy, setup) = (study.Anatomy, study.Setup);
        var hardening = study.BeamHardening;
        double hardeningSum = 0, hardeningCount = 0;
        const float step = 0.5f;
        var frame = v.Frame;
        var texture = anatomy.TrabecularTexture;
        const float amplitude = PhantomAnatomy.TrabecularTextureAmplitude;
        double bodyCount = 0, coreCount = 0, densitySum = 0, spurCount = 0, nodeCount = 0;
        var centroid = Vector3.Zero;

        // The body on its own box; then its osteophytes, each on its own (world-axis) box, a point counted by the first
        // box that holds it.
        var labelled = v.LabelledBody;
        var nodes = v.SchmorlNodes;
        for (var z = -(v.Height / 2); z <= v.Height / 2; z += step)
        {
            for (var y = -(v.Depth / 2); y <= v.Depth / 2; y += step)
            {
                for (var x = -(v.Width / 2); x <= v.Width / 2; x += step)
                {
                    var p = frame.ToWorld(new Vector3(x, y, z));
                    var distance = v.Body.Distance(p);
                    if (distance >= 0)
                    {
                        continue;
                    }

                    if (InAnyNode(nodes, p))
                    {
                        nodeCount++;
                        continue;
                    }

                    bodyCount++;
                    centroid += p;

                    // The trabecular core: inside the shell, outside sclerotic bands and Schmorl nodes' rims.
                    if (distance < -v.CorticalShellMm && v.Sclerosis?.Factor(p) is null or 1 && !InAnyRim(nodes, p))
                    {
                        coreCount++;
                        densitySum += v.TrabecularBmd * (1 + amplitude * texture.Sample(p));
                        if (hardening.Enabled && (int)coreCount % 8 == 0)
                        {
                            var patient = setup.ToPatient(p);
                            hardeningSum += hardening.At(new Domain.Vector3(patient.X, patient.Y, patient.Z));
                            hardeningCount++;
                        }
                    }
                }
            }
        }

        for (var n = 0; n < v.Osteophytes.Count; n++)
        {
            var box = v.Osteophytes[n].Bounds;
            for (var z = box.Min.Z; z <= box.Max.Z; z += step)
            {
                for (var y = box.Min.Y; y <= box.Max.Y; y += step)
                {
                    for (var x = box.Min.X; x <= box.Max.X; x += step)
                    {
                        var p = new Vector3(x, y, z);
                        if (InEarlierBox(v.Osteophytes, n, p) || v.Body.Distance(p) < 0 || labelled.Distance(p) >= 0 || InAnyNode(nodes, p))
                        {
                            continue;
                        }

                        bodyCount++;
                        spurCount++;
                        centroid += p;
                    }
                }
            }
        }

        var voxel = step * step * step;
        var centre = setup.ToPatient(centroid / (float)bodyCount);
        var top = setup.ToPatient(frame.ToWorld(new Vector3(0, 0, v.Height / 2))).Z;
        var bottom = setup.ToPatient(frame.ToWorld(new Vector3(0, 0, -v.Height / 2))).Z;
        var trueVbmd = densitySum / coreCount;
        var axis = Vector3.Transform(frame.AxisZ, setup.Rotation);
        return new LevelTruth(
            v.Name,
            v.Code,
            v.RibBearing,
            Math.Max(top, bottom) <= scanTop && Math.Min(top, bottom) >= scanBottom,
            Math.Round(trueVbmd, 3),
            Math.Round(v.TrabecularBmd, 3),
            Math.Round(v.MarrowFatFraction, 4),
            Math.Round(v.MarrowIodineMgPerCm3, 4),
            v.TrabecularLine,
            Math.Round(v.TrabecularLine.HuAt(trueVbmd), 3),
            Math.Round(haInWater.DensityAt(v.TrabecularLine.HuAt(trueVbmd)), 3),
            TruthVectors.Of(centre),
            TruthVectors.Of(axis),
            Math.Round(bodyCount * voxel, 1),
            Math.Round(coreCount * voxel, 1),
            Math.Round(v.Width, 3),
            Math.Round(v.Depth, 3),
            Math.Round(v.Height, 3),
            Math.Round(v.CorticalShellMm, 3),
            Math.Round(v.Body.Parameters.AnteriorHeightLoss, 4),
            Math.Round(hardeningCount == 0 ? 0 : hardeningSum / hardeningCount, 3),
            ShapeOf(v),
            DegenerationOf(study.Anatomy, v, spurCount * voxel, nodeCount * voxel));
    }

    private static bool Inside(Bounds bounds, Vector3 p) =>
        p.X >= bounds.Min.X && p.Y >= bounds.Min.Y && p.Z >= bounds.Min.Z && p.X <= bounds.Max.X && p.Y <= bounds.Max.Y && p.Z <= bounds.Max.Z;

    private static bool InEarlierBox(IReadOnlyList<Shape> spurs, int count, Vector3 p)
    {
        for (var n = 0; n < count; n++)
        {
            if (Inside(spurs[n].Bounds, p))
            {
                return true;
            }
        }

        return false;
    }

    private static bool InAnyNode(IReadOnlyList<(Shape Node, Shape Rim)> nodes, Vector3 p)
    {
        foreach (var (node, _) in nodes)
        {
            if (node.Distance(p) < 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool InAnyRim(IReadOnlyList<(Shape Node, Shape Rim)> nodes, Vector3 p)
    {
        foreach (var (_, rim) in nodes)
        {
            if (rim.Distance(p) < 0)
            {
                return true;
            }
        }

        return false;
    }

    private static BodyShapeTruth ShapeOf(VertebraModel v)
    {
        var shape = v.Body.Parameters;
        return new BodyShapeTruth(
            Math.Round(shape.WaistFraction, 4),
            Math.Round(shape.SuperiorConcavityMm, 3),
            Math.Round(shape.InferiorConcavityMm, 3),
            Math.Round(shape.PosteriorConcavityFraction * v.Depth, 3),
            Math.Round(v.Height - shape.SuperiorConcavityMm - shape.InferiorConcavityMm, 3));
    }

    private static DegenerationTruth DegenerationOf(PhantomAnatomy anatomy, VertebraModel v, double spurVolume, double nodeVolume)
    {
        var degeneration = anatomy.Degeneration;
        var below = v.Index + 1 < anatomy.Vertebrae.Count ? degeneration.Disc(v.Index) : null;
        return new DegenerationTruth(
            v.Osteophytes.Count,
            Math.Round(spurVolume, 1),
            Math.Round(v.Sclerosis?.SuperiorMm ?? 0, 3),
            Math.Round(v.Sclerosis?.InferiorMm ?? 0, 3),
            v.SchmorlNodes.Count,
            Math.Round(nodeVolume, 1),
            below is null ? 0 : Math.Round(v.DiscBelowMm, 3),
            below is null ? 0 : Math.Round(below.Degeneration, 4),
            below?.Vacuum ?? false,
            below?.Bridging ?? false);
    }
}
