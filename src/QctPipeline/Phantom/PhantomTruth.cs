using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace QctPipeline.Phantom;

/// <summary>The known answer for a generated study, written as truth.json next to the series.</summary>
public sealed record PhantomTruth
{
    /// <summary>3 (issue 14): per level shape and degeneration, beam hardening per level and rod, the slice profile; TrueVbmd leaves sclerotic bands out.</summary>
    public const int FormatVersion = 3;

    /// <summary>The name of the hydroxyapatite-in-water line in <see cref="PhysicsTruth.Lines"/>.</summary>
    public const string HaInWater = "hydroxyapatite in water";

    public int TruthVersion { get; init; } = FormatVersion;

    public required string Generator { get; init; }

    public required long Seed { get; init; }

    public required PhantomOptions Options { get; init; }

    /// <summary>Values drawn from the seed (or taken from options) that shape the anatomy.</summary>
    public required IReadOnlyDictionary<string, double> Drawn { get; init; }

    public required string LabelConvention { get; init; }

    public required IReadOnlyList<KeyValuePair<string, int>> LabelMap { get; init; }

    public required IReadOnlyDictionary<string, string> Files { get; init; }

    public required SeriesTruth Series { get; init; }

    public required PhysicsTruth Physics { get; init; }

    public required IReadOnlyList<LevelTruth> Levels { get; init; }

    public required CalibrationPhantomTruth? CalibrationPhantom { get; init; }

    public required LesionTruth? Lesion { get; init; }

    public required IReadOnlyList<string> ScrewLevels { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// What an error-free single-energy calibration reads for a vertebra whose trabecular HA density is
    /// <paramref name="mineralMgPerCm3"/>: its noise-free HU through the rods' reference line when the calibration came from
    /// this study's phantom, else through HA in water (the internal calibration's reference).
    /// </summary>
    public double EquivalentDensity(string level, double mineralMgPerCm3, bool phantomCalibration)
    {
        var line = phantomCalibration && CalibrationPhantom is { } phantom
            ? phantom.ReferenceLine
            : Physics.Lines.Single(l => l.Material == HaInWater);
        return line.DensityAt(Levels.Single(l => l.Name == level).TrabecularHuLine.HuAt(mineralMgPerCm3));
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static PhantomTruth FromJson(string json) =>
        JsonSerializer.Deserialize<PhantomTruth>(json, JsonOptions) ?? throw new JsonException("truth.json is empty");
}

/// <summary>
/// The series as written; positions and directions in DICOM patient coordinates (LPS, mm). SliceSpacingMm is the
/// table step between slices; with gantry tilt the spacing along the image normal is smaller by cos(tilt).
/// </summary>
public sealed record SeriesTruth(
    string StudyInstanceUid,
    string SeriesInstanceUid,
    string FrameOfReferenceUid,
    string PatientId,
    DateOnly StudyDate,
    string PatientPosition,
    double Kvp,
    string ConvolutionKernel,
    string? ContrastBolusAgent,
    int Rows,
    int Columns,
    int SliceCount,
    double PixelSpacingMm,
    double SliceThicknessMm,
    double SliceSpacingMm,
    double SliceSpacingAlongNormalMm,
    int SubPlanesPerSlice,
    double GantryTiltDegrees,
    double TableHeightMm,
    double[] ImageOrientationPatient,
    double[] FirstImagePositionPatient,
    double[] LastImagePositionPatient,
    double[] TableDirection,
    string TransferSyntaxUid,
    double RescaleIntercept,
    double RescaleSlope,
    double[] AnatomyToPatientRotation,
    double[] AnatomyToPatientTranslation,
    SliceProfileTruth SliceProfile);

/// <summary>
/// The slice sensitivity profile along the table (box of the collimation ⊗ triangular z-filter, decision 0003): its FWHM
/// along the table (the nominal thickness, over cos(tilt) when tilted), full width at tenth maximum, and the planes each slice averages —
/// PlaneStepMm apart, weights from the centre outwards symmetric, SubPlanesPerSlice of them.
/// </summary>
public sealed record SliceProfileTruth(string Shape, double FwhmMm, double FwtmMm, double CollimationMm, double PlaneStepMm, double[] PlaneWeights);

/// <summary>The HU model at this kVp: a line per material (HU = intercept + slope × density) and fixed tissues' HU.</summary>
public sealed record PhysicsTruth(
    double Kvp,
    double MeanDetectedEnergyKeV,
    string Model,
    double HuPerMgPerCm3Iodine,
    IReadOnlyList<HuLine> Lines,
    IReadOnlyDictionary<string, double> TissueHu);

/// <summary>
/// One vertebra. TrueVbmd is the mean HA density of its trabecular core as rendered (texture included): inside the
/// cortical shell, outside bands of endplate sclerosis and the sclerotic rims of Schmorl nodes (an ROI that holds those
/// has its own truth, <see cref="PhantomStudy.TrueTrabecularDensity"/>). The HU line maps it to the core's noise-free
/// mean HU. HaInWaterEquivalent is the density of HA in water with that HU: what an error-free single-energy
/// calibration reads, TrueVbmd plus the marrow-fat error (decision 0003). Centroid and volume are of the body's label —
/// the body with its osteophytes, without Schmorl nodes — computed on a 0.5 mm grid. AnteriorHeightLoss is the wedge (a
/// fracture or a drawn grade-1 wedge). BeamHardeningHu is the mean beam-hardening error over the core (0 unless beam
/// hardening is on): the noise-free core reads ExpectedTrabecularHu plus it.
/// </summary>
public sealed record LevelTruth(
    string Name,
    int LabelCode,
    bool RibBearing,
    bool FullyInScan,
    double TrueVbmdMgPerCm3,
    double NominalVbmdMgPerCm3,
    double MarrowFatFraction,
    double MarrowIodineMgPerCm3,
    HuLine TrabecularHuLine,
    double ExpectedTrabecularHu,
    double HaInWaterEquivalentMgPerCm3,
    double[] BodyCentroidLps,
    double[] SuperiorAxisLps,
    double BodyVolumeMm3,
    double TrabecularCoreVolumeMm3,
    double BodyWidthMm,
    double BodyDepthMm,
    double BodyHeightMm,
    double CorticalShellMm,
    double AnteriorHeightLoss,
    double BeamHardeningHu,
    BodyShapeTruth Shape,
    DegenerationTruth Degeneration);

/// <summary>
/// A body's shape beyond its box: waist (fraction narrower at mid-height), endplate dish depths, the posterior wall's
/// concavity at the midline, and the height at the endplates' centres (rim height less both dishes), all mm.
/// </summary>
public sealed record BodyShapeTruth(double WaistFraction, double SuperiorConcavityMm, double InferiorConcavityMm, double PosteriorWallConcavityMm, double CentralHeightMm);

/// <summary>
/// A vertebra's degenerative change: its osteophytes (count; volume inside the body label), sclerotic band depths at its
/// superior and inferior endplates, Schmorl nodes (count; volume taken out of the label), and the disc below it: height,
/// degeneration 0–1, gas (vacuum disc), bridging osteophytes across it.
/// </summary>
public sealed record DegenerationTruth(
    int Osteophytes,
    double OsteophyteVolumeMm3,
    double SuperiorSclerosisMm,
    double InferiorSclerosisMm,
    int SchmorlNodes,
    double SchmorlNodeVolumeMm3,
    double DiscBelowMm,
    double DiscBelowDegeneration,
    bool VacuumDiscBelow,
    bool BridgingBelow);

/// <summary>
/// The rods, and the line of the material their densities are equivalent to (HA in resin for QRM and B-MAS, HA in water
/// for Mindways through its published K₂HPO₄ chain): an error-free calibration with this phantom reads a vertebra's
/// noise-free HU through this line.
/// </summary>
public sealed record CalibrationPhantomTruth(CalibrationPhantomKind Kind, string Note, IReadOnlyList<CalibrationRod> Rods, HuLine ReferenceLine);

public sealed record LesionTruth(LesionKind Kind, string Level, double DiameterMm, double[] CentreLps);

internal static class TruthVectors
{
    public static double[] Of(Vector3 v) => [Math.Round(v.X, 4), Math.Round(v.Y, 4), Math.Round(v.Z, 4)];

    public static double[] Of(Domain.Vector3 v) => [Math.Round(v.X, 4), Math.Round(v.Y, 4), Math.Round(v.Z, 4)];
}
