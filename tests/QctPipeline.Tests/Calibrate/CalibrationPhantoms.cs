using QctPipeline.Domain;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Calibrate;

/// <summary>Small generated studies for the calibration tests: T12–L1 only, 192² at 1.9 mm, with their truth.</summary>
internal static class CalibrationPhantoms
{
    public static PhantomOptions Options => new()
    {
        Seed = 7,
        Matrix = 192,
        ReconstructionDiameterMm = 360,
        SliceThicknessMm = 2.5,
        SliceSpacingMm = 2.5,
        FromLevel = "T12",
        ToLevel = "L1",
        NoiseSigmaHu = 12,
    };

    public static (CtVolume Volume, SeriesMetadata Metadata, PhantomTruth Truth) Generate(PhantomOptions options)
    {
        var study = PhantomGenerator.Generate(options);
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(options));
        var metadata = new SeriesMetadata
        {
            SeriesInstanceUid = truth.Series.SeriesInstanceUid,
            Manufacturer = PhantomStudyWriter.Manufacturer,
            ManufacturerModelName = "Phantom",
            Kvp = truth.Series.Kvp,
            ConvolutionKernel = truth.Series.ConvolutionKernel,
            ContrastBolusAgent = truth.Series.ContrastBolusAgent,
            StudyDate = truth.Series.StudyDate,
        };
        return (study.Volume, metadata, truth);
    }

    public static LevelTruth L1(PhantomTruth truth) => truth.Levels.Single(level => level.Name == "L1");

    public static Vector3 L1Centroid(PhantomTruth truth)
    {
        var c = L1(truth).BodyCentroidLps;
        return new Vector3(c[0], c[1], c[2]);
    }

    /// <summary>The truth line of a material named exactly, or by its name before a parenthesis.</summary>
    public static HuLine Line(PhantomTruth truth, string material) =>
        truth.Physics.Lines.Single(line => line.Material == material || line.Material.StartsWith(material + " (", StringComparison.Ordinal));
}
