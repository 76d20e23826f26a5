using QctPipeline.Phantom;

namespace QctPipeline.Tests.Phantom;

/// <summary>
/// Rib labels are what a localizer counts levels by: every rib-bearing vertebra in view has a rib pair carrying its
/// code that meets it at the costovertebral joint, and no rib carries the code of a vertebra below the last rib.
/// </summary>
public sealed class RibLabelTests
{
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void EachRibBearingVertebraInViewHasARibPairWithItsCodeTouchingIt(int ribPairs)
    {
        var options = SmallPhantoms.Options with { RibPairs = ribPairs, FromLevel = "T9", ToLevel = "L1", Matrix = 128, SliceThicknessMm = 3, SliceSpacingMm = 3 };
        var study = PhantomGenerator.Generate(options);
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(options));
        var geometry = study.Volume.Geometry;
        var ribs = study.RibLabels;

        // The lowest labelled rib pair is the last rib-bearing vertebra's: nothing lower, and present.
        Assert.Equal(ribPairs, ribs.Max());
        var inView = truth.Levels.Where(level => level.RibBearing && level.FullyInScan).ToList();
        Assert.Contains(inView, level => level.LabelCode == ribPairs);
        Assert.True(inView.Count >= 3, $"only {inView.Count} rib-bearing vertebrae in view");

        foreach (var level in inView)
        {
            var code = (byte)level.LabelCode;
            var (left, right, touching) = (0, 0, 0);
            for (var index = 0; index < ribs.Length; index++)
            {
                if (ribs[index] != code)
                {
                    continue;
                }

                var i = index % geometry.SizeX;
                var j = index / geometry.SizeX % geometry.SizeY;
                var k = index / (geometry.SizeX * geometry.SizeY);
                var x = geometry.VoxelToPatient(i, j, k).X;
                left += x > level.BodyCentroidLps[0] + 10 ? 1 : 0;
                right += x < level.BodyCentroidLps[0] - 10 ? 1 : 0;
                touching += TouchesVertebra(study, i, j, k, code) ? 1 : 0;
            }

            Assert.True(left > 0 && right > 0, $"{level.Name}: {left} rib voxels on the left, {right} on the right");
            Assert.True(touching > 0, $"{level.Name}: no rib voxel within a voxel of the vertebra at the costovertebral joint");
        }
    }

    /// <summary>Whether the voxel or one of its 26 neighbours (≤ 3 mm on these grids) is labelled as the vertebra.</summary>
    private static bool TouchesVertebra(PhantomStudy study, int i, int j, int k, byte code)
    {
        var geometry = study.Volume.Geometry;
        for (var dk = -1; dk <= 1; dk++)
        {
            for (var dj = -1; dj <= 1; dj++)
            {
                for (var di = -1; di <= 1; di++)
                {
                    var (ni, nj, nk) = (i + di, j + dj, k + dk);
                    if (ni >= 0 && nj >= 0 && nk >= 0 && ni < geometry.SizeX && nj < geometry.SizeY && nk < geometry.SizeZ
                        && study.VertebraLabels[ni + geometry.SizeX * (nj + geometry.SizeY * nk)] == code)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }
}
