namespace QctPipeline.Phantom;

public enum CalibrationPhantomKind
{
    None,
    Mindways,
    Qrm3,
    Qrm6,
    Bmas,
}

public enum CalibrationPhantomPlacement
{
    Under,
    Beside,
}

public enum ContrastPhase
{
    None,
    Arterial,
    Venous,
}

public enum ReconstructionKernel
{
    Soft,
    Standard,
    Bone,

    /// <summary>A sharp lung kernel (Siemens B70f, GE LUNG): strong high-frequency noise, overshoot and ringing at edges.</summary>
    Sharp,
}

/// <summary>Patient position as DICOM (0018,5100) names it; prone is head first (HFP).</summary>
public enum PatientOrientation
{
    HeadFirstSupine,
    FeetFirstSupine,
    HeadFirstProne,
}

/// <summary>Where the arms are: raised above the head (the usual position for chest and abdominal CT), down along the trunk, or drawn from the seed (down 40 %).</summary>
public enum ArmPosition
{
    Up,
    Down,
    Drawn,
}

public enum LesionKind
{
    None,
    Sclerotic,
    Lytic,
}

/// <summary>
/// Everything a phantom study depends on. Anatomy is drawn from <see cref="Seed"/>; the acquisition (positioning on
/// the table, noise) from the seed and <see cref="StudyDate"/>, so timepoints of one patient share the anatomy. A
/// null anatomy value means "draw it from the seed"; every drawn value is written to truth.json.
/// </summary>
public sealed record PhantomOptions
{
    public long Seed { get; init; } = 1;

    public string PatientId { get; init; } = "PHANTOM-0001";

    public string PatientName { get; init; } = "PHANTOM^SYNTHETIC";

    /// <summary>"F" or "M"; null draws it.</summary>
    public string? PatientSex { get; init; }

    public DateOnly PatientBirthDate { get; init; } = new(1958, 3, 14);

    public DateOnly StudyDate { get; init; } = new(2025, 1, 10);

    /// <summary>Trabecular HA density of L1 (mg/cm³); other levels vary around it by a level profile and ±3 %.</summary>
    public double L1BmdMgPerCm3 { get; init; } = 110;

    /// <summary>Marrow fat volume fraction in the vertebral bodies; null derives it from the density (fattier when lower).</summary>
    public double? MarrowFatFraction { get; init; }

    public double Kvp { get; init; } = 120;

    public ContrastPhase Contrast { get; init; } = ContrastPhase.None;

    /// <summary>Standard deviation (HU) of the image noise in a uniform region, after the kernel's shaping.</summary>
    public double NoiseSigmaHu { get; init; } = 12;

    public ReconstructionKernel Kernel { get; init; } = ReconstructionKernel.Standard;

    public int Matrix { get; init; } = 512;

    /// <summary>In-plane pixel size (mm); null takes <see cref="ReconstructionDiameterMm"/> / <see cref="Matrix"/>.</summary>
    public double? PixelSpacingMm { get; init; }

    /// <summary>Display field of view (0018,1100); a body wider than it is cut at the image edge.</summary>
    public double ReconstructionDiameterMm { get; init; } = 380;

    /// <summary>Scan field of view (0018,0090); anatomy outside it is not measured and shows a truncation artefact.</summary>
    public double DataCollectionDiameterMm { get; init; } = 500;

    public double SliceThicknessMm { get; init; } = 1.0;

    public double SliceSpacingMm { get; init; } = 1.0;

    /// <summary>Scan coverage: from the top of this vertebra …</summary>
    public string FromLevel { get; init; } = "T8";

    /// <summary>… to the bottom of this one (names follow <see cref="SpineLabels"/>).</summary>
    public string ToLevel { get; init; } = "S1";

    /// <summary>How far the scan reaches beyond the top of <see cref="FromLevel"/> (mm); negative cuts through that vertebra.</summary>
    public double TopMarginMm { get; init; } = 4;

    /// <summary>How far the scan reaches beyond the bottom of <see cref="ToLevel"/> (mm); negative cuts through that vertebra.</summary>
    public double BottomMarginMm { get; init; } = 4;

    public double GantryTiltDegrees { get; init; }

    public PatientOrientation Orientation { get; init; } = PatientOrientation.HeadFirstSupine;

    /// <summary>Table top below the isocentre (mm, DICOM TableHeight's sense); null centres the patient as a technologist does.</summary>
    public double? TableHeightMm { get; init; }

    public CalibrationPhantomKind CalibrationPhantom { get; init; } = CalibrationPhantomKind.None;

    /// <summary>Where the calibration phantom lies: under the patient (as phantoms are used) or on the table beside the trunk.</summary>
    public CalibrationPhantomPlacement CalibrationPhantomPlacement { get; init; } = CalibrationPhantomPlacement.Under;

    /// <summary>Lateral offset (mm, towards patient left) of the phantom's centre from where the placement puts it; a large one pushes rods out of the field of view.</summary>
    public double CalibrationPhantomShiftMm { get; init; }

    /// <summary>In-plane rotation (degrees) of the phantom about the table axis: a phantom propped up on one side or rolled in its cushion.</summary>
    public double CalibrationPhantomRotationDegrees { get; init; }

    /// <summary>Yaw (degrees) of the phantom on the table: its rods cross the slices obliquely and drift sideways along z.</summary>
    public double CalibrationPhantomTiltDegrees { get; init; }

    /// <summary>Rib-bearing (thoracic) vertebrae: 11, 12 or 13.</summary>
    public int RibPairs { get; init; } = 12;

    /// <summary>Presacral vertebrae without ribs: 4, 5 or 6.</summary>
    public int LumbarVertebrae { get; init; } = 5;

    /// <summary>Length of the lowest rib pair as a fraction of a normal 12th rib; null draws 0.35–1.1 (short and variable).</summary>
    public double? LowestRibLengthFactor { get; init; }

    /// <summary>Trunk width (mm) at L1; null draws it (with sex and build).</summary>
    public double? TrunkWidthMm { get; init; }

    /// <summary>Subcutaneous fat thickness (mm) at L1; null draws it.</summary>
    public double? SubcutaneousFatMm { get; init; }

    /// <summary>Lumbar lordosis L1–S1 (degrees); null draws 35–60.</summary>
    public double? LordosisDegrees { get; init; }

    /// <summary>Thoracic kyphosis T4–T12 (degrees); null draws 25–50.</summary>
    public double? KyphosisDegrees { get; init; }

    /// <summary>Peak lateral (coronal) angulation of a mild scoliosis (degrees); null draws 0–6.</summary>
    public double? ScoliosisDegrees { get; init; }

    /// <summary>Anterior height loss of L1 as a fraction (0 = intact, 0.2–0.4 a moderate wedge fracture, Genant).</summary>
    public double L1FractureHeightLoss { get; init; }

    /// <summary>A vertebra with an anterior wedge deformity of <see cref="WedgeHeightLoss"/>; null for none.</summary>
    public string? WedgeLevel { get; init; }

    /// <summary>Anterior height loss of <see cref="WedgeLevel"/> (Genant grade 1: 0.20–0.25, a finding that leaves the level measurable).</summary>
    public double WedgeHeightLoss { get; init; } = 0.22;

    /// <summary>Vertebral body size relative to the build's (per person, ±15 %); null draws it.</summary>
    public double? VertebralSizeScale { get; init; }

    /// <summary>Typical central depth of a lumbar endplate's dish (mm; thoracic 0.7 ×, per endplate 0.7–1.4 ×); null draws 1.2–2.6.</summary>
    public double? EndplateConcavityMm { get; init; }

    /// <summary>Arms raised (default: the usual positioning), down along the trunk, or drawn from the seed.</summary>
    public ArmPosition Arms { get; init; } = ArmPosition.Up;

    /// <summary>Spondylosis grade, 0 (none) … 1 (severe); null draws it from the age (<see cref="DegenerativeSpine"/>).</summary>
    public double? DegenerationGrade { get; init; }

    /// <summary>Which degenerative changes the grade may bring.</summary>
    public DegenerativeFeatures DegenerativeFeatures { get; init; } = DegenerativeFeatures.All;

    public LesionKind Lesion { get; init; } = LesionKind.None;

    public string LesionLevel { get; init; } = "L1";

    public double LesionDiameterMm { get; init; } = 14;

    /// <summary>Levels with bilateral titanium pedicle screws (joined by rods); empty for no metal.</summary>
    public IReadOnlyList<string> ScrewLevels { get; init; } = [];

    /// <summary>Random re-positioning on the table per study: translation SD (mm) …</summary>
    public double PositioningShiftMm { get; init; } = 8;

    /// <summary>… and rotation SD (degrees).</summary>
    public double PositioningRotationDegrees { get; init; } = 1.5;

    /// <summary>
    /// Beam hardening left in the image (<see cref="Phantom.BeamHardening"/>): 1 = this spectrum's bone hardening with
    /// water correction only (dark streaks between dense structures, lower CT numbers in large patients, slight cupping);
    /// 0 = none, as after an iterative bone beam-hardening correction — the default, so that the noise-free CT numbers are
    /// the truth's HU lines (truth.json states the error per level and rod when it is on); values between scale it.
    /// </summary>
    public double BeamHardening { get; init; }

    /// <summary>
    /// The beam's filtration (mm aluminium equivalent) in the CT-number model: 7 is what the pipeline's tissue model
    /// assumes; other values make a scanner whose beam the internal calibration cannot know.
    /// </summary>
    public double BeamFiltrationMm { get; init; } = 7;

    /// <summary>
    /// The water path (mm) that hardens the beam in the CT-number model; null (the default) takes the patient's own
    /// water-equivalent diameter at L1, so a small patient's beam is softer and a large one's harder, as on a scanner.
    /// </summary>
    public double? BeamWaterPathMm { get; init; }

    /// <summary>HU added to this patient's fat (fat quality: Framingham's visceral fat spans about −106 to −79 HU).</summary>
    public double FatHuShift { get; init; }

    /// <summary>HU added to this patient's muscle (fatty muscle with age and obesity lowers it by 10–20 HU).</summary>
    public double MuscleHuShift { get; init; }

    /// <summary>HU added to this patient's blood (anaemia lowers it by about 10 HU).</summary>
    public double BloodHuShift { get; init; }

    /// <summary>Planes painted per slice spacing for partial volume along the table; null picks one per mm of spacing.</summary>
    public int? SubSlices { get; init; }

    /// <summary>Study description; also names the series.</summary>
    public string StudyDescription { get; init; } = "CT ABDOMEN PHANTOM";

    /// <summary>Deflate the data sets (transfer syntax 1.2.840.10008.1.2.1.99) — for committed samples.</summary>
    public bool Deflate { get; init; }

    public double ResolvedPixelSpacingMm => PixelSpacingMm ?? ReconstructionDiameterMm / Matrix;

    /// <summary>The first problem with these options, naming the option, or null when they are usable.</summary>
    public string? Validate()
    {
        if (Kvp is < 70 or > 150)
        {
            return $"--kvp {Kvp}: must be 70–150";
        }

        if (L1BmdMgPerCm3 is < 10 or > 400)
        {
            return $"--l1-bmd {L1BmdMgPerCm3}: must be 10–400 mg/cm³";
        }

        if (MarrowFatFraction is < 0 or > 0.95)
        {
            return $"--marrow-fat {MarrowFatFraction}: must be 0–0.95";
        }

        if (NoiseSigmaHu is < 0 or > 200)
        {
            return $"--noise {NoiseSigmaHu}: must be 0–200 HU";
        }

        if (Matrix is < 32 or > 2048)
        {
            return $"--matrix {Matrix}: must be 32–2048";
        }

        if (ResolvedPixelSpacingMm is < 0.1 or > 5)
        {
            return $"--pixel-spacing {ResolvedPixelSpacingMm}: must be 0.1–5 mm";
        }

        if (SliceThicknessMm is < 0.25 or > 10)
        {
            return $"--slice-thickness {SliceThicknessMm}: must be 0.25–10 mm";
        }

        if (SliceSpacingMm is < 0.1 or > 10)
        {
            return $"--slice-spacing {SliceSpacingMm}: must be 0.1–10 mm";
        }

        if (Math.Abs(GantryTiltDegrees) > 30)
        {
            return $"--gantry-tilt {GantryTiltDegrees}: must be within ±30°";
        }

        if (RibPairs is < 11 or > 13)
        {
            return $"--rib-pairs {RibPairs}: must be 11, 12 or 13";
        }

        if (LumbarVertebrae is < 4 or > 6)
        {
            return $"--lumbar {LumbarVertebrae}: must be 4, 5 or 6";
        }

        if (L1FractureHeightLoss is < 0 or > 0.7)
        {
            return $"--l1-fracture {L1FractureHeightLoss}: must be 0–0.7";
        }

        if (WedgeHeightLoss is < 0 or > 0.7)
        {
            return $"--wedge-loss {WedgeHeightLoss}: must be 0–0.7";
        }

        if (VertebralSizeScale is < 0.7 or > 1.3)
        {
            return $"--vertebral-size {VertebralSizeScale}: must be 0.7–1.3";
        }

        if (EndplateConcavityMm is < 0 or > 4)
        {
            return $"--endplate-concavity {EndplateConcavityMm}: must be 0–4 mm";
        }

        if (DegenerationGrade is < 0 or > 1)
        {
            return $"--degeneration {DegenerationGrade}: must be 0–1";
        }

        if (LesionDiameterMm is < 3 or > 30)
        {
            return $"--lesion-diameter {LesionDiameterMm}: must be 3–30 mm";
        }

        if (TableHeightMm is < 0 or > 300)
        {
            return $"--table-height {TableHeightMm}: must be 0–300 mm";
        }

        if (BeamFiltrationMm is < 1 or > 20)
        {
            return $"--beam-filtration {BeamFiltrationMm}: must be 1–20 mm Al";
        }

        if (new[] { FatHuShift, MuscleHuShift, BloodHuShift }.Any(shift => Math.Abs(shift) > 60))
        {
            return $"--fat-shift {FatHuShift}, --muscle-shift {MuscleHuShift}, --blood-shift {BloodHuShift}: each must be within ±60 HU";
        }

        if (BeamWaterPathMm is < 100 or > 450)
        {
            return $"--beam-water-path {BeamWaterPathMm}: must be 100–450 mm";
        }

        if (BeamHardening is < 0 or > 2)
        {
            return $"--beam-hardening {BeamHardening}: must be 0–2";
        }

        if (SubSlices is < 1 or > 16)
        {
            return $"--sub-slices {SubSlices}: must be 1–16";
        }

        if (PatientSex is not (null or "F" or "M"))
        {
            return $"--sex {PatientSex}: must be F or M";
        }

        var labels = new SpineLabels(RibPairs, LumbarVertebrae);
        foreach (var (option, level) in new[] { ("--from", FromLevel), ("--to", ToLevel), ("--lesion-level", LesionLevel) }
                     .Concat(ScrewLevels.Select(level => ("--screws", level)))
                     .Concat(WedgeLevel is { } wedge ? [("--wedge", wedge)] : []))
        {
            if (labels.IndexOf(level) < 0)
            {
                return $"{option} {level}: no such vertebra (this spine has {labels.Names[0]}–{labels.Names[^1]})";
            }
        }

        if (labels.IndexOf(FromLevel) > labels.IndexOf(ToLevel))
        {
            return $"--from {FromLevel} --to {ToLevel}: the first level must lie above the last";
        }

        return null;
    }
}
