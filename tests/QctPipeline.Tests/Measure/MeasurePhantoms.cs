using QctPipeline.Domain;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Measure;

/// <summary>
/// Phantoms for the Measure stage: fine enough (1.4 mm pixels, 1.25 mm slices) that a 4 mm erosion clears the cortical
/// shell, low noise, T11–L2 so L1 has both neighbours. Bodies come from the truth label volume, not a model.
/// </summary>
public static class MeasurePhantoms
{
    public static PhantomOptions Options => new()
    {
        Seed = 7,
        Matrix = 256,
        ReconstructionDiameterMm = 360,
        SliceThicknessMm = 1.25,
        SliceSpacingMm = 1.25,
        FromLevel = "T11",
        ToLevel = "L2",
        NoiseSigmaHu = 5,
    };

    public static Mask Body(PhantomStudy study, string level)
    {
        var code = SpineLabels.Code(level);
        var inside = new byte[study.BodyLabels.Length];
        for (var index = 0; index < inside.Length; index++)
        {
            inside[index] = study.BodyLabels[index] == code ? (byte)1 : (byte)0;
        }

        return new Mask(study.Volume.Geometry, inside);
    }

    public static LevelTruth Truth(PhantomStudy study, string level) =>
        PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options)).Levels.Single(l => l.Name == level);
}

/// <summary>An intact spine, generated once per test class.</summary>
public sealed class IntactSpineFixture
{
    public PhantomStudy Study { get; } = PhantomGenerator.Generate(MeasurePhantoms.Options);
}
