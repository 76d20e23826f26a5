using System.Numerics;
using QctPipeline.Phantom;
using Xunit.Abstractions;

namespace QctPipeline.Tests.Phantom;

/// <summary>
/// Beam hardening as the phantom renders it, measured as the difference between the same study with and without it
/// (noise off): a dark streak along rays through a row of dense rods, and a lowered vertebral body whose amount
/// truth.json states.
/// </summary>
public sealed class BeamHardeningTests(ITestOutputHelper output)
{
    // The CT numbers' own spectrum held at the 250 mm reference path: with each patient's own path (the default) a
    // large patient's bone already reads lower in the base CT numbers, and these tests are about what beam hardening
    // adds to a reference spectrum.
    private static readonly PhantomOptions Clean = SmallPhantoms.Options with { NoiseSigmaHu = 0, Matrix = 192, ReconstructionDiameterMm = 420, SliceThicknessMm = 5, SliceSpacingMm = 5, BeamWaterPathMm = 250 };

    [Fact]
    public void DenseRodsInARowCastADarkStreakAlongTheRow()
    {
        var options = Clean with { CalibrationPhantom = CalibrationPhantomKind.Qrm6, FromLevel = "L1", ToLevel = "L1" };
        var hardened = PhantomGenerator.Generate(options with { BeamHardening = 1 });
        var ideal = PhantomGenerator.Generate(options);
        var rods = hardened.Setup.Rods.OrderBy(rod => rod.CentreX).ToList();
        var (a, b) = (rods[^2], rods[^1]);
        var between = Difference(hardened, ideal, (a.CentreX + b.CentreX) / 2, a.CentreY);
        var aside = Difference(hardened, ideal, (a.CentreX + b.CentreX) / 2, a.CentreY - 30);
        output.WriteLine($"between {a.Name} and {b.Name}: {between:0.0} HU; 30 mm off the row: {aside:0.0} HU");
        Assert.True(between < -15, $"no dark streak between the rods ({between:0.0} HU)");
        Assert.True(between < aside - 10, $"the streak is not along the row ({between:0.0} vs {aside:0.0} HU)");
    }

    [Fact]
    public void VertebralBodiesReadLowerByTheAmountTruthStates()
    {
        // A large patient: bone behind long water paths reads lower (about 3 % per 100 mm beyond 250 mm).
        var large = Clean with { TrunkWidthMm = 400, SubcutaneousFatMm = 45 };
        var hardened = PhantomGenerator.Generate(large with { BeamHardening = 1 });
        var ideal = PhantomGenerator.Generate(large);
        var truth = PhantomStudyWriter.BuildTruth(hardened, new PhantomStudyWriter.StudyUids(hardened.Options)).Levels.Single(l => l.Name == "L1");
        var l1 = hardened.Anatomy.Vertebra("L1");
        var geometry = hardened.Volume.Geometry;
        var core = new List<int>();
        double sum = 0;
        for (var index = 0; index < hardened.Volume.Voxels.Length; index++)
        {
            var p = geometry.VoxelToPatient(index % geometry.SizeX, index / geometry.SizeX % geometry.SizeY, index / geometry.SliceLength);
            if (l1.Body.Distance(hardened.Setup.ToAnatomy(new Vector3((float)p.X, (float)p.Y, (float)p.Z))) < -(l1.CorticalShellMm + 4))
            {
                sum += hardened.Volume.Voxels[index] - ideal.Volume.Voxels[index];
                core.Add(index);
            }
        }

        var measured = sum / core.Count;
        var stated = hardened.BeamHardeningHu(geometry, core.ToArray(), []);
        output.WriteLine($"L1 deep core: {measured:0.00} HU over {core.Count} voxels, the study's field says {stated:0.00}; truth.json (whole core) {truth.BeamHardeningHu:0.00} HU");
        Assert.True(measured < -1, $"beam hardening did not lower L1 ({measured:0.00} HU)");
        Assert.InRange(stated, measured - 0.3, measured + 0.3);
        Assert.True(truth.BeamHardeningHu < -1, $"truth.json states {truth.BeamHardeningHu:0.00} HU for L1");
        Assert.Equal(0, PhantomStudyWriter.BuildTruth(ideal, new PhantomStudyWriter.StudyUids(ideal.Options)).Levels.Single(l => l.Name == "L1").BeamHardeningHu);
    }

    [Fact]
    public void ArmsDownCastADarkStreakAcrossTheTrunk()
    {
        var options = Clean with { Arms = ArmPosition.Down, ReconstructionDiameterMm = 500, FromLevel = "L1", ToLevel = "L1", TopMarginMm = -8, BottomMarginMm = -8, DegenerationGrade = 0 };
        var hardened = PhantomGenerator.Generate(options with { BeamHardening = 1 });
        var ideal = PhantomGenerator.Generate(options);
        var geometry = hardened.Volume.Geometry;
        var k = geometry.SizeZ / 2;

        // The humeri (or forearms) in this slice: the brightest voxels left and right of the trunk.
        var trunk = hardened.Anatomy.Operations.Single(o => o.Name == "trunk").Shape;
        var bones = new List<Domain.Vector3>();
        for (var side = -1; side <= 1; side += 2)
        {
            var best = (Hu: 0f, At: default(Domain.Vector3));
            for (var j = 0; j < geometry.SizeY; j++)
            {
                for (var i = 0; i < geometry.SizeX; i++)
                {
                    var p = geometry.VoxelToPatient(i, j, k);
                    var inAnatomy = hardened.Setup.ToAnatomy(new Vector3((float)p.X, (float)p.Y, (float)p.Z));
                    if (Math.Sign(inAnatomy.X) == side && trunk.Distance(inAnatomy) > 5 && ideal.Volume[i, j, k] > best.Hu)
                    {
                        best = (ideal.Volume[i, j, k], p);
                    }
                }
            }

            Assert.True(best.Hu > 500, $"no arm bone on side {side}");
            bones.Add(best.At);
        }

        // Along the line joining them through the trunk's middle third, against lines 40 mm in front of it.
        double OnLine(double shiftY)
        {
            var values = new List<double>();
            for (var t = 0.35; t <= 0.65; t += 0.01)
            {
                var p = bones[0] + ((bones[1] - bones[0]) * t);
                values.Add(Difference(hardened, ideal, p.X, p.Y + shiftY));
            }

            return values.Average();
        }

        var (along, inFront) = (OnLine(0), OnLine(-40));
        output.WriteLine($"between the arms: {along:0.0} HU; 40 mm in front: {inFront:0.0} HU");
        Assert.True(along < inFront - 5, $"no dark streak between the arms ({along:0.0} vs {inFront:0.0} HU)");
    }

    /// <summary>Mean HU difference over a 3 mm disc around (x, y) in the middle slice.</summary>
    private static double Difference(PhantomStudy a, PhantomStudy b, double x, double y)
    {
        var geometry = a.Volume.Geometry;
        var k = geometry.SizeZ / 2;
        double sum = 0;
        var count = 0;
        for (var j = 0; j < geometry.SizeY; j++)
        {
            for (var i = 0; i < geometry.SizeX; i++)
            {
                var p = geometry.VoxelToPatient(i, j, k);
                if (Math.Pow(p.X - x, 2) + Math.Pow(p.Y - y, 2) <= 9)
                {
                    sum += a.Volume[i, j, k] - b.Volume[i, j, k];
                    count++;
                }
            }
        }

        return sum / count;
    }
}
