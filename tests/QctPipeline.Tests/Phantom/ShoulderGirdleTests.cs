using System.Numerics;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Phantom;

/// <summary>
/// The upper chest as rendered: scapulae behind the ribs at T4, clavicles and the manubrium at the thoracic inlet, the
/// first rib pair labelled and meeting T1, and the arms — down along the trunk in the field, raised out of it.
/// </summary>
public sealed class ShoulderGirdleTests(ITestOutputHelper output)
{
    private static PhantomOptions Chest(ArmPosition arms) => new()
    {
        Seed = 7,
        Arms = arms,
        Matrix = 192,
        ReconstructionDiameterMm = 480,
        SliceThicknessMm = 2.5,
        SliceSpacingMm = 2.5,
        FromLevel = "T1",
        ToLevel = "T5",
        NoiseSigmaHu = 0,
    };

    [Fact]
    public void ScapulaIsBoneBehindTheRibsAtT4()
    {
        var study = PhantomGenerator.Generate(Chest(ArmPosition.Up));
        var t4 = study.Anatomy.Vertebra("T4");
        var geometry = study.Volume.Geometry;
        var k = (int)Math.Round(geometry.PatientToVoxel(ToDomain(study.Setup.ToPatient(t4.Frame.Origin))).Z);
        var trunk = study.Anatomy.Operations.Single(o => o.Name == "trunk").Shape;
        for (var side = -1; side <= 1; side += 2)
        {
            // Along rays from T4's centre out to the side and back (20–80° from straight back): the last bone the rays
            // cross inside the body must lie behind the last rib they cross.
            var ribBehind = 0.0;
            var boneBehind = 0.0;
            for (var angle = 0.35; angle < 1.4; angle += 0.05)
            {
                var direction = new Vector3(side * (float)Math.Sin(angle), (float)Math.Cos(angle), 0);
                for (var r = 20f; r < 200; r += 0.5f)
                {
                    var p = t4.Frame.Origin + (direction * r);
                    if (trunk.Distance(p) > 0)
                    {
                        break;
                    }

                    var voxel = geometry.PatientToVoxel(ToDomain(study.Setup.ToPatient(p)));
                    var (i, j) = ((int)Math.Round(voxel.X), (int)Math.Round(voxel.Y));
                    if (i < 0 || j < 0 || i >= geometry.SizeX || j >= geometry.SizeY)
                    {
                        break;
                    }

                    var index = i + (geometry.SizeX * (j + (geometry.SizeY * k)));
                    ribBehind = study.RibLabels[index] != 0 ? Math.Max(ribBehind, r) : ribBehind;
                    boneBehind = study.Volume.Voxels[index] > 300 && study.RibLabels[index] == 0 && study.VertebraLabels[index] == 0 ? Math.Max(boneBehind, r) : boneBehind;
                }
            }

            output.WriteLine($"side {side}: last rib {ribBehind:0} mm, last unlabelled bone {boneBehind:0} mm from T4's centre");
            Assert.True(ribBehind > 0, "no rib on the rays");
            Assert.True(boneBehind > ribBehind + 5, "no bone (scapula) behind the ribs");
        }

        Assert.Contains(study.Anatomy.Operations, o => o.Name == "scapula");
    }

    [Fact]
    public void FirstRibsClaviclesAndManubriumFrameTheThoracicInlet()
    {
        var study = PhantomGenerator.Generate(Chest(ArmPosition.Up));
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options));
        Assert.True(truth.Levels.Single(l => l.Name == "T1").FullyInScan);
        var firstRibs = SpineSampling.VoxelsWhere(study, _ => true).Where(index => study.RibLabels[index] == 1).ToList();
        var t1 = study.Anatomy.Vertebra("T1");
        var geometry = study.Volume.Geometry;
        var xs = firstRibs.Select(index => geometry.VoxelToPatient(index % geometry.SizeX, 0, 0).X - study.Setup.ToPatient(t1.Frame.Origin).X).ToList();
        output.WriteLine($"first rib pair: {firstRibs.Count} voxels, lateral extent {xs.Min():0} to {xs.Max():0} mm");
        Assert.True(xs.Min() < -30 && xs.Max() > 30, "the first rib pair is not on both sides");
        Assert.True(xs.Max() - xs.Min() < 170, $"the first rib ring is {xs.Max() - xs.Min():0} mm wide: not the thoracic inlet");

        // Clavicles and the manubrium: bone in front of the spine at the inlet that no label claims.
        foreach (var name in new[] { "clavicle", "manubrium" })
        {
            var shapes = study.Anatomy.Operations.Where(o => o.Name == name).Select(o => o.Shape).ToList();
            var inside = SpineSampling.VoxelsWhere(study, p => shapes.Any(s => s.Distance(p) < -2));
            var hu = SpineSampling.MeanHu(study, inside);
            output.WriteLine($"{name}: {inside.Count} voxels, mean {hu:0} HU");
            Assert.True(inside.Count > 10, $"{name} is not in the scan");
            Assert.True(hu > 200, $"{name} is not bone ({hu:0} HU)");
            var labelled = inside.Count(index => study.RibLabels[index] != 0 || study.VertebraLabels[index] != 0);
            Assert.True(labelled <= inside.Count / 20, $"{labelled} of {name}'s voxels carry a rib or vertebra label");
        }
    }

    [Fact]
    public void ArmsDownLieAlongTheTrunkInTheFieldAndRaisedArmsDoNot()
    {
        var options = Chest(ArmPosition.Down) with { FromLevel = "T12", ToLevel = "L2", ReconstructionDiameterMm = 500 };
        var down = PhantomGenerator.Generate(options);
        var up = PhantomGenerator.Generate(options with { Arms = ArmPosition.Up });
        var (downBone, upBone) = (LateralBone(down), LateralBone(up));
        output.WriteLine($"bone voxels beyond the trunk's sides at T12–L2: arms down {downBone}, arms up {upBone}");
        Assert.True(downBone > 100, "no humerus or forearm beside the trunk with the arms down");
        Assert.Equal(0, upBone);
        Assert.Equal(1, down.Anatomy.DrawnParameters["armsDown"]);
        Assert.Equal(0, up.Anatomy.DrawnParameters["armsDown"]);
    }

    [Fact]
    public void DrawnArmsAreDownInAboutFortyPercent()
    {
        var down = Enumerable.Range(0, 200).Count(seed => new PhantomAnatomy(new PhantomOptions { Seed = seed, Arms = ArmPosition.Drawn }, new CtNumberModel(120)).DrawnParameters["armsDown"] == 1);
        Assert.InRange(down, 60, 100);
    }

    /// <summary>Voxels of bone (over 300 HU) lateral to the trunk's outer surface and above the table top.</summary>
    private static int LateralBone(PhantomStudy study)
    {
        var trunk = study.Anatomy.Operations.Single(o => o.Name == "trunk").Shape;
        var tableTop = study.Anatomy.TableContactY(supine: true);
        return SpineSampling.VoxelsWhere(study, p => trunk.Distance(p) > 3 && p.Y < tableTop - 3).Count(index => study.Volume.Voxels[index] > 300);
    }

    private static Domain.Vector3 ToDomain(Vector3 v) => new(v.X, v.Y, v.Z);
}
