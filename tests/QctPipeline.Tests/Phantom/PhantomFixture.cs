using QctPipeline.Phantom;

namespace QctPipeline.Tests.Phantom;

/// <summary>Small studies shared by the phantom tests: coarse grids keep each generation well under a second.</summary>
public static class SmallPhantoms
{
    public static PhantomOptions Options => new()
    {
        Seed = 42,
        Matrix = 160,
        ReconstructionDiameterMm = 400,
        SliceThicknessMm = 2.5,
        SliceSpacingMm = 2.5,
        FromLevel = "T11",
        ToLevel = "L2",
        NoiseSigmaHu = 10,
    };

    public static string TemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "qct-phantom-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>One study with a Mindways phantom, generated and written once for a test class.</summary>
public sealed class WrittenPhantomFixture : IDisposable
{
    public WrittenPhantomFixture()
    {
        Directory = SmallPhantoms.TemporaryDirectory();
        Study = PhantomGenerator.Generate(SmallPhantoms.Options with { CalibrationPhantom = CalibrationPhantomKind.Mindways });
        Truth = PhantomStudyWriter.Write(Study, Directory);
    }

    public string Directory { get; }

    public PhantomStudy Study { get; }

    public PhantomTruth Truth { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
