using System.Security.Cryptography;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Phantom;

public sealed class PhantomDeterminismTests
{
    private static readonly PhantomOptions Small = SmallPhantoms.Options with { Matrix = 96, SliceThicknessMm = 5, SliceSpacingMm = 5, CalibrationPhantom = CalibrationPhantomKind.Qrm3 };

    [Fact]
    public void SameSeedAndOptionsGiveByteIdenticalFiles()
    {
        var first = SmallPhantoms.TemporaryDirectory();
        var second = SmallPhantoms.TemporaryDirectory();
        try
        {
            PhantomStudyWriter.Write(PhantomGenerator.Generate(Small), first);
            PhantomStudyWriter.Write(PhantomGenerator.Generate(Small), second);
            var a = Digests(first);
            var b = Digests(second);
            Assert.True(a.Count > 10);
            Assert.Equal(a, b);
        }
        finally
        {
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }

    [Fact]
    public void EveryNewFeatureOnStillGivesIdenticalVolumesAndLabels()
    {
        var options = Small with
        {
            Matrix = 128,
            FromLevel = "T1",
            ToLevel = "L2",
            Arms = ArmPosition.Down,
            BeamHardening = 1,
            DegenerationGrade = 1,
            Kernel = ReconstructionKernel.Sharp,
            NoiseSigmaHu = 60,
            WedgeLevel = "T12",
            SliceThicknessMm = 5,
            SliceSpacingMm = 2.5,
        };
        var a = PhantomGenerator.Generate(options);
        var b = PhantomGenerator.Generate(options);
        Assert.Equal(a.Volume.Voxels.ToArray(), b.Volume.Voxels.ToArray());
        Assert.Equal(a.BodyLabels, b.BodyLabels);
        Assert.Equal(a.VertebraLabels, b.VertebraLabels);
        Assert.Equal(a.RibLabels, b.RibLabels);
        Assert.Equal(
            PhantomStudyWriter.BuildTruth(a, new PhantomStudyWriter.StudyUids(options)).ToJson(),
            PhantomStudyWriter.BuildTruth(b, new PhantomStudyWriter.StudyUids(options)).ToJson());
    }

    [Fact]
    public void AnotherSeedGivesAnotherPatient()
    {
        var a = PhantomGenerator.Generate(Small);
        var b = PhantomGenerator.Generate(Small with { Seed = 43 });
        Assert.False(a.Volume.Voxels.SequenceEqual(b.Volume.Voxels));
    }

    [Fact]
    public void TimepointsShareAnatomyButNotPositionOrNoise()
    {
        var baseline = PhantomGenerator.Generate(Small);
        var followUp = PhantomGenerator.Generate(new Timepoint(new DateOnly(2025, 7, 12), 103).Apply(Small));
        var before = baseline.Anatomy.Vertebra("L1");
        var after = followUp.Anatomy.Vertebra("L1");
        Assert.Equal(before.Width, after.Width);
        Assert.Equal(before.Frame, after.Frame);
        Assert.Equal(103, after.TrabecularBmd, 6);
        Assert.NotEqual(baseline.Setup.Translation, followUp.Setup.Translation);
    }

    private static Dictionary<string, string> Digests(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories).ToDictionary(
            path => Path.GetRelativePath(directory, path),
            path => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))));
}
