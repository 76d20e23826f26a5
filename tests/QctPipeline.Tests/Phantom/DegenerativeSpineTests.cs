using System.Numerics;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Phantom;

/// <summary>
/// Degenerative change as rendered and labelled: osteophytes are bone inside their body's label, Schmorl nodes are disc
/// material outside it with a dense rim, vacuum discs hold gas, degenerated discs are narrower, sclerotic endplates
/// denser — and the ROI truth follows the sclerosis while the level's trabecular truth leaves it out.
/// </summary>
public sealed class DegenerativeSpineTests(ITestOutputHelper output)
{
    /// <summary>Seed 7 at grade 1: osteophytes from T10 down, sclerosis at L2–S1, a vacuum disc at L1–L2.</summary>
    private static PhantomOptions Severe(string from, string to) => new()
    {
        Seed = 7,
        DegenerationGrade = 1,
        Matrix = 256,
        ReconstructionDiameterMm = 200,
        SliceThicknessMm = 1,
        SliceSpacingMm = 1,
        FromLevel = from,
        ToLevel = to,
        NoiseSigmaHu = 0,
    };

    [Fact]
    public void OsteophytesAreBoneInsideTheirBodysLabel()
    {
        var study = PhantomGenerator.Generate(Severe("L3", "L3"));
        var v = study.Anatomy.Vertebra("L3");
        Assert.NotEmpty(v.Osteophytes);
        var labelled = v.LabelledBody;
        var spur = SpineSampling.VoxelsWhere(study, p => v.Body.Distance(p) > 1 && labelled.Distance(p) < -0.5);
        var inLabel = spur.Count(index => study.BodyLabels[index] == v.Code);
        var meanHu = SpineSampling.MeanHu(study, spur);
        output.WriteLine($"L3: {v.Osteophytes.Count} osteophytes, {spur.Count} voxels ≥ 1 mm outside the body proper, {inLabel} in L3's label, mean {meanHu:0} HU");
        Assert.True(spur.Count >= 30, $"only {spur.Count} osteophyte voxels");
        Assert.True(inLabel >= 0.9 * spur.Count, $"{inLabel} of {spur.Count} osteophyte voxels carry L3's label");
        Assert.True(meanHu > 250, $"osteophytes at {meanHu:0} HU are not bone");

        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options)).Levels.Single(l => l.Name == "L3");
        Assert.Equal(v.Osteophytes.Count, truth.Degeneration.Osteophytes);
        Assert.True(truth.Degeneration.OsteophyteVolumeMm3 > 100);

        // Without degeneration nothing carries L3's label that far outside the body.
        var plain = PhantomGenerator.Generate(Severe("L3", "L3") with { DegenerationGrade = 0 });
        var outside = SpineSampling.VoxelsWhere(plain, p => plain.Anatomy.Vertebra("L3").Body.Distance(p) > 1);
        Assert.DoesNotContain(outside, index => plain.BodyLabels[index] == v.Code);
    }

    [Fact]
    public void SchmorlNodesAreDiscMaterialOutsideTheLabelWithADenseRim()
    {
        var (seed, node) = FirstSeedWithASchmorlNode();
        var labels = new SpineLabels(12, 5);
        var level = labels.Names[node.Level];
        var study = PhantomGenerator.Generate(Severe(level, level) with { Seed = seed });
        var v = study.Anatomy.Vertebra(level);
        var (shape, rim) = v.SchmorlNodes.Single();
        var inside = SpineSampling.VoxelsWhere(study, p => shape.Distance(p) < -1 && v.Body.Distance(p) < -1);
        var rimVoxels = SpineSampling.VoxelsWhere(study, p => rim.Distance(p) < -0.4 && shape.Distance(p) > 0.4 && v.Body.Distance(p) < -1.5);
        var trabecular = SpineSampling.VoxelsWhere(study, p => v.Body.Distance(p) < -6 && rim.Distance(p) > 3 && v.DensityFactor(p) == 1);
        var (nodeHu, rimHu, boneHu) = (SpineSampling.MeanHu(study, inside), SpineSampling.MeanHu(study, rimVoxels), SpineSampling.MeanHu(study, trabecular));
        output.WriteLine($"seed {seed}, {level}: node {inside.Count} voxels at {nodeHu:0} HU, rim {rimVoxels.Count} at {rimHu:0} HU, trabecular bone {boneHu:0} HU");
        Assert.True(inside.Count >= 10, $"only {inside.Count} voxels inside the node");
        Assert.DoesNotContain(inside, index => study.BodyLabels[index] != 0 || study.VertebraLabels[index] != 0);
        Assert.InRange(nodeHu, 40, 140);
        Assert.True(rimHu > boneHu + 100, $"rim {rimHu:0} HU is not sclerotic against {boneHu:0} HU");
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options)).Levels.Single(l => l.Name == level);
        Assert.Equal(1, truth.Degeneration.SchmorlNodes);
        Assert.True(truth.Degeneration.SchmorlNodeVolumeMm3 > 20);
    }

    [Fact]
    public void VacuumDiscHoldsGas()
    {
        var labels = new SpineLabels(12, 5);
        var (seed, found) = FirstSeedWhere(spine => Enumerable.Range(0, labels.Names.Count - 1).Where(index => spine.Disc(index).Vacuum).Select(index => (int?)index).FirstOrDefault());
        var upper = found.GetValueOrDefault();
        var (upperName, lowerName) = (labels.Names[upper], labels.Names[upper + 1]);
        var study = PhantomGenerator.Generate(Severe(upperName, lowerName) with { Seed = seed });
        var gas = study.Anatomy.Operations.Single(o => o.Name == $"vacuum disc {upperName}-{lowerName}").Shape;
        var voxels = SpineSampling.VoxelsWhere(study, p => gas.Distance(p) < -0.6);
        var values = voxels.Select(index => (double)study.Volume.Voxels[index]).ToList();
        output.WriteLine($"seed {seed}, {upperName}-{lowerName} gas: {voxels.Count} voxels, mean {values.Average():0} HU, lowest {values.Min():0} HU");
        Assert.True(voxels.Count >= 5);
        Assert.True(values.Min() < -800, $"lowest {values.Min():0} HU");
        Assert.True(values.Average() < -500, $"mean {values.Average():0} HU");
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options));
        Assert.True(truth.Levels.Single(l => l.Name == upperName).Degeneration.VacuumDiscBelow);
    }

    [Fact]
    public void DegeneratedDiscsAreNarrower()
    {
        var severe = PhantomGenerator.Generate(Severe("L4", "L5"));
        var healthy = PhantomGenerator.Generate(Severe("L4", "L5") with { DegenerationGrade = 0 });
        var (gapSevere, gapHealthy) = (Gap(severe), Gap(healthy));
        var truthSevere = severe.Anatomy.Vertebra("L4").DiscBelowMm;
        output.WriteLine($"L4–L5 disc: {truthSevere:0.0} mm (healthy {healthy.Anatomy.Vertebra("L4").DiscBelowMm:0.0}); unlabelled gap at the centres {gapSevere:0.0} mm (healthy {gapHealthy:0.0})");
        Assert.InRange(truthSevere, 2, 4.5);
        Assert.True(gapSevere < gapHealthy - 3, $"the degenerated disc's gap {gapSevere:0.0} mm is not narrower than {gapHealthy:0.0} mm");
    }

    [Fact]
    public void SclerosisRaisesTheEndplateBandAndTheRoiTruthFollowsIt()
    {
        var study = PhantomGenerator.Generate(Severe("L4", "L4"));
        var v = study.Anatomy.Vertebra("L4");
        var sclerosis = v.Sclerosis ?? throw new Xunit.Sdk.XunitException("L4 has no sclerosis at grade 1 for seed 7");
        var superior = sclerosis.SuperiorMm > 0;
        var band = SpineSampling.VoxelsWhere(study, p => Central(v, p) && Depth(v, p, superior) is > 0.3f and < 1.3f);
        var middle = SpineSampling.VoxelsWhere(study, p => Central(v, p) && Math.Abs(v.Frame.ToLocal(p).Z) < 3);
        var (bandHu, middleHu) = (SpineSampling.MeanHu(study, band), SpineSampling.MeanHu(study, middle));
        var bandTruth = study.TrueTrabecularDensity("L4", study.Volume.Geometry, band.ToArray(), []);
        var middleTruth = study.TrueTrabecularDensity("L4", study.Volume.Geometry, middle.ToArray(), []);
        var level = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options)).Levels.Single(l => l.Name == "L4");
        output.WriteLine($"L4 {(superior ? "superior" : "inferior")} band: {bandHu:0} HU (ROI truth {bandTruth:0.0} mg/cm³) against mid-height {middleHu:0} HU ({middleTruth:0.0}); level truth {level.TrueVbmdMgPerCm3:0.0}, nominal {level.NominalVbmdMgPerCm3:0.0}");
        Assert.True(bandHu > middleHu + 60, "the sclerotic band is not denser");
        Assert.True(bandTruth > middleTruth * 1.1, "the ROI truth does not follow the sclerosis");
        Assert.InRange(level.TrueVbmdMgPerCm3, level.NominalVbmdMgPerCm3 * 0.96, level.NominalVbmdMgPerCm3 * 1.04);
        Assert.True((superior ? level.Degeneration.SuperiorSclerosisMm : level.Degeneration.InferiorSclerosisMm) >= 2);
    }

    /// <summary>Within the middle 60 % of the body's width and depth, away from its walls.</summary>
    private static bool Central(VertebraModel v, Vector3 p)
    {
        var local = v.Frame.ToLocal(p);
        return Math.Abs(local.X) < 0.3f * v.Width && Math.Abs(local.Y) < 0.3f * v.Depth;
    }

    private static float Depth(VertebraModel v, Vector3 p, bool superior)
    {
        var depth = v.Body.DepthBelowEndplate(p, out var atSuperior);
        return atSuperior == superior ? depth : float.MaxValue;
    }

    /// <summary>The first seed from 1 whose grade-1 spine has a vertebra with a single Schmorl node, and the node.</summary>
    private static (long Seed, SchmorlNodeSpec Node) FirstSeedWithASchmorlNode()
    {
        var labels = new SpineLabels(12, 5);
        return FirstSeedWhere(spine => Enumerable.Range(0, labels.Names.Count).Select(index => spine.Nodes(index).ToList()).FirstOrDefault(nodes => nodes.Count == 1)?.Single());
    }

    /// <summary>The first seed from 1 whose grade-1 spine (12 rib pairs, 5 lumbar) gives a finding, and the finding.</summary>
    private static (long Seed, T Found) FirstSeedWhere<T>(Func<DegenerativeSpine, T?> find)
    {
        var labels = new SpineLabels(12, 5);
        for (var seed = 1L; seed < 300; seed++)
        {
            if (find(new DegenerativeSpine(new PhantomOptions { Seed = seed, DegenerationGrade = 1 }, labels)) is { } found)
            {
                return (seed, found);
            }
        }

        throw new Xunit.Sdk.XunitException("no seed below 300 draws it at grade 1");
    }

    /// <summary>Unlabelled length between L4's and L5's labels along the line joining their centres.</summary>
    private static double Gap(PhantomStudy study)
    {
        var (upper, lower) = (study.Anatomy.Vertebra("L4"), study.Anatomy.Vertebra("L5"));
        var (a, b) = (upper.Frame.Origin, lower.Frame.Origin);
        var length = Vector3.Distance(a, b);
        var gap = 0.0;
        for (var t = 0f; t <= length; t += 0.1f)
        {
            var index = SpineSampling.VoxelAt(study, a + ((b - a) * (t / length)));
            gap += index >= 0 && study.BodyLabels[index] == 0 ? 0.1 : 0;
        }

        return gap;
    }
}
