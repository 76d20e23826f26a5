using System.Numerics;
using QctPipeline.Domain;
using Vector3 = System.Numerics.Vector3;

namespace QctPipeline.Phantom;

/// <summary>
/// Where the patient lies and how the series samples space: the rigid placement of the anatomy in DICOM patient
/// coordinates (origin at the isocentre; re-positioning drawn per study), the table and calibration phantom in scanner
/// space, and the slice planes.
/// <para>
/// Image orientation: supine patients (HFS, FFS) are reconstructed in the usual radiological display, rows along +x
/// (patient left) and columns along +y (posterior), as scanners do for both; prone (HFP) images keep the scanner's
/// view, rows along −x and columns along −y. Gantry tilt turns the column direction about x while slices still step
/// along the table (z), so a tilted stack is sheared, as real tilted acquisitions are. HFS series run head to feet,
/// FFS feet to head.
/// </para>
/// </summary>
public sealed class ScanSetup
{
    private const float PadThicknessMm = 5;
    private const float TableThicknessMm = 55;

    /// <summary>Half the length of the phantom and its rods: longer than any series, short enough that a yawed rod's bounds stay small.</summary>
    private const float RodHalfLengthMm = 1000;
    private readonly List<PaintOperation> scannerOperations = [];
    private readonly List<CalibrationRod> rods = [];
    private readonly Quaternion inverseRotation;

    public ScanSetup(PhantomOptions options, PhantomAnatomy anatomy, CtNumberModel physics)
    {
        var random = PhantomRandom.Stream(options.Seed, $"scan/{options.StudyDate:yyyyMMdd}/position");
        var rotationSd = options.PositioningRotationDegrees * Math.PI / 180;
        Rotation = Quaternion.Normalize(Quaternion.CreateFromYawPitchRoll(
            (float)random.Normal(0, rotationSd),
            (float)random.Normal(0, rotationSd),
            (float)random.Normal(0, rotationSd)));
        var shiftX = (float)random.Normal(0, options.PositioningShiftMm);
        var shiftZ = (float)random.Normal(0, options.PositioningShiftMm * 2);

        Supine = options.Orientation != PatientOrientation.HeadFirstProne;
        var down = Supine ? 1f : -1f;
        var phantomHeight = PhantomHeight(options.CalibrationPhantom);

        // A phantom beside the trunk leaves the patient on the pad; one under it lifts the patient by its height.
        var liftHeight = options.CalibrationPhantomPlacement == CalibrationPhantomPlacement.Beside ? 0 : phantomHeight;
        var contactY = anatomy.TableContactY(Supine);
        float translationY;
        if (options.TableHeightMm is { } tableHeight)
        {
            translationY = down * (float)tableHeight - down * (PadThicknessMm + liftHeight) - contactY;
            TableHeightMm = tableHeight;
        }
        else
        {
            translationY = -anatomy.OuterAtL1.CentreY;
            TableHeightMm = Math.Round(down * (translationY + contactY) + PadThicknessMm + liftHeight, 1);
        }

        Translation = new Vector3(shiftX, translationY, -320 + shiftZ);
        inverseRotation = Quaternion.Conjugate(Rotation);

        // Slice geometry.
        PixelSpacing = options.ResolvedPixelSpacingMm;
        var tilt = options.GantryTiltDegrees * Math.PI / 180;
        var feetFirst = options.Orientation == PatientOrientation.FeetFirstSupine;
        RowDirection = Supine ? new Domain.Vector3(1, 0, 0) : new Domain.Vector3(-1, 0, 0);
        ColumnDirection = Supine
            ? new Domain.Vector3(0, Math.Cos(tilt), feetFirst ? Math.Sin(tilt) : -Math.Sin(tilt))
            : new Domain.Vector3(0, -Math.Cos(tilt), -Math.Sin(tilt));
        var top = anatomy.Vertebra(options.FromLevel);
        var bottom = anatomy.Vertebra(options.ToLevel);
        var topZ = ToPatient(top.Frame.ToWorld(new Vector3(0, 0, top.Height / 2 + (float)options.TopMarginMm))).Z;
        var bottomZ = ToPatient(bottom.Frame.ToWorld(new Vector3(0, 0, -bottom.Height / 2 - (float)options.BottomMarginMm))).Z;
        var spacing = options.SliceSpacingMm;
        SliceCount = Math.Max(1, (int)Math.Floor((topZ - bottomZ) / spacing) + 1);
        var firstZ = feetFirst ? bottomZ : topZ;
        TableDirection = new Domain.Vector3(0, 0, feetFirst ? 1 : -1);
        SliceCentres = Enumerable.Range(0, SliceCount).Select(k => Math.Round(firstZ + TableDirection.Z * k * spacing, 3)).ToArray();
        var half = (options.Matrix - 1) / 2.0 * PixelSpacing;
        var offset = RowDirection * -half + ColumnDirection * -half;
        Geometry = new VolumeGeometry(
            options.Matrix,
            options.Matrix,
            SliceCount,
            new Domain.Vector3(0, 0, SliceCentres[0]) + offset,
            new Domain.Vector3(PixelSpacing, PixelSpacing, spacing),
            RowDirection,
            ColumnDirection,
            TableDirection);

        var tableTop = down * (float)TableHeightMm;
        BuildTable(tableTop, down, physics);
        var placement = new PhantomPlacement(
            tableTop - down * PadThicknessMm,
            down,
            phantomHeight,
            (float)SliceCentres.Average(),
            options.CalibrationPhantomPlacement == CalibrationPhantomPlacement.Beside ? anatomy.OuterAtL1.HalfWidth : null);
        BuildCalibrationPhantom(options, placement, physics, random);
    }

    /// <summary>Anatomy → patient: p = Rotation(a) + Translation.</summary>
    public Quaternion Rotation { get; }

    public Vector3 Translation { get; }

    public bool Supine { get; }

    public double TableHeightMm { get; }

    public double PixelSpacing { get; }

    public int SliceCount { get; }

    /// <summary>Table position (z, mm) of each slice's centre, in instance order.</summary>
    public IReadOnlyList<double> SliceCentres { get; }

    public Domain.Vector3 RowDirection { get; }

    public Domain.Vector3 ColumnDirection { get; }

    public Domain.Vector3 TableDirection { get; }

    /// <summary>Voxel grid in patient space; k steps along the table, so a tilted series is sheared.</summary>
    public VolumeGeometry Geometry { get; }

    public IReadOnlyList<PaintOperation> ScannerOperations => scannerOperations;

    public IReadOnlyList<CalibrationRod> Rods => rods;

    public Vector3 ToPatient(Vector3 anatomyPoint) => Vector3.Transform(anatomyPoint, Rotation) + Translation;

    public Vector3 ToAnatomy(Vector3 patientPoint) => Vector3.Transform(patientPoint - Translation, inverseRotation);

    public Vector3 DirectionToAnatomy(Vector3 patientDirection) => Vector3.Transform(patientDirection, inverseRotation);

    private static float PhantomHeight(CalibrationPhantomKind kind) => kind switch
    {
        CalibrationPhantomKind.None => 0,
        CalibrationPhantomKind.Mindways => 32,
        CalibrationPhantomKind.Bmas => 35,
        _ => 40,
    };

    private void BuildTable(float tableTop, float down, CtNumberModel physics)
    {
        const float length = 4000;
        var foamHu = physics.Hu(MaterialLibrary.Foam);
        var table = new RoundedBox(Frame.Axial(new Vector3(0, tableTop + down * TableThicknessMm / 2, 0)), new Vector3(225, TableThicknessMm / 2, length), 14);
        scannerOperations.Add(new PaintOperation("table", table, new Fill(FillKind.ShellCore, 0, TissueClass.Equipment)
        {
            ShellHu = (float)physics.Hu(MaterialLibrary.CarbonFibre),
            ShellThicknessMm = 2.5f,
            CoreIntercept = (float)foamHu,
            CoreTissue = TissueClass.Equipment,
        }, ShapeSpace.Scanner));
        var pad = new RoundedBox(Frame.Axial(new Vector3(0, tableTop - down * PadThicknessMm / 2, 0)), new Vector3(240, PadThicknessMm / 2, length), 2);
        scannerOperations.Add(new PaintOperation("pad", pad, Fill.Uniform(physics.Hu(MaterialLibrary.Foam, 0.12), TissueClass.Equipment), ShapeSpace.Scanner));
    }

    private void BuildCalibrationPhantom(PhantomOptions options, PhantomPlacement placement, CtNumberModel physics, PhantomRandom random)
    {
        var kind = options.CalibrationPhantom;
        if (kind == CalibrationPhantomKind.None)
        {
            return;
        }

        // Rod sets: Mindways Model 3 (K2HPO4 with water-equivalent densities, Mindways), QRM-BDC 3- and 6-rod and
        // B-MAS 200 (HA in water-equivalent resin), values as in docs/qct-primer.md.
        (string Name, double Value, double? Water)[] set = kind switch
        {
            CalibrationPhantomKind.Mindways => [("A", -51.83, 1012.25), ("B", -53.40, 1056.95), ("C", 58.88, 1103.57), ("D", 157.05, 1119.52), ("E", 375.83, 923.20)],
            CalibrationPhantomKind.Qrm3 => [("HA0", 0, null), ("HA100", 100, null), ("HA200", 200, null)],
            CalibrationPhantomKind.Qrm6 => [("HA0", 0, null), ("HA100", 100, null), ("HA200", 200, null), ("HA400", 400, null), ("HA600", 600, null), ("HA800", 800, null)],
            _ => [("HA0", 0, null), ("HA50", 50, null), ("HA100", 100, null), ("HA150", 150, null), ("HA200", 200, null)],
        };
        var (pitch, radius) = kind switch
        {
            CalibrationPhantomKind.Mindways => (52f, 7f),
            CalibrationPhantomKind.Qrm3 => (45f, 9f),
            CalibrationPhantomKind.Qrm6 => (38f, 8f),
            _ => (45f, 7.5f),
        };

        // Drawn even when placed explicitly, so the placement options never shift the draws that follow.
        var jitterX = (float)random.Normal(0, 6);
        var halfWidth = pitch * set.Length / 2 + 12;
        var height = placement.Height;
        var roll = (float)(options.CalibrationPhantomRotationDegrees * Math.PI / 180);
        var yaw = (float)(options.CalibrationPhantomTiltDegrees * Math.PI / 180);
        float centreX, centreY;
        if (placement.TrunkHalfWidth is { } trunk)
        {
            // Beside the trunk there is no room to lie flat in a usual field of view: the phantom stands on its long
            // edge on the pad, rods in a column, a hand's breadth from the patient's left flank.
            roll += MathF.PI / 2;
            var halfAcross = halfWidth * MathF.Abs(MathF.Cos(roll)) + height / 2 * MathF.Abs(MathF.Sin(roll));
            var halfUp = halfWidth * MathF.Abs(MathF.Sin(roll)) + height / 2 * MathF.Abs(MathF.Cos(roll));
            centreX = trunk + halfAcross + 10 + (float)options.CalibrationPhantomShiftMm;
            centreY = placement.SupportY - placement.Down * halfUp;
        }
        else
        {
            // Under the patient, turned in the plane, the phantom still touches the patient with its highest corner.
            var reach = halfWidth * MathF.Abs(MathF.Sin(roll)) + height / 2 * MathF.Cos(roll);
            centreX = jitterX + (float)options.CalibrationPhantomShiftMm;
            centreY = placement.SupportY - placement.Down * height + placement.Down * reach;
        }

        var frame = Frame.Axial(new Vector3(centreX, centreY, placement.MiddleZ))
            .Rotated(Quaternion.CreateFromAxisAngle(Vector3.UnitY, yaw) * Quaternion.CreateFromAxisAngle(Vector3.UnitZ, roll));
        var resinHu = physics.Hu(MaterialLibrary.SolidWater);
        scannerOperations.Add(new PaintOperation($"{kind} phantom body", new RoundedBox(frame, new Vector3(halfWidth, height / 2, RodHalfLengthMm), 6),
            Fill.Uniform(resinHu, TissueClass.Equipment), ShapeSpace.Scanner));

        var haLine = physics.MineralInBase(MaterialLibrary.Hydroxyapatite, MaterialLibrary.SolidWater);
        for (var index = 0; index < set.Length; index++)
        {
            var (name, value, water) = set[index];
            var local = (index - (set.Length - 1) / 2f) * pitch;

            // The rod's centre where it crosses the series' middle slice (truth is stated there; a yawed rod drifts along z).
            var centre = frame.ToWorld(new Vector3(local, 0, 0));
            centre -= frame.AxisZ * ((centre.Z - placement.MiddleZ) / frame.AxisZ.Z);
            var hu = water is { } w ? MindwaysRodHu(value, w, physics) : haLine.HuAt(value);
            rods.Add(new CalibrationRod(name, water is null ? "HA" : "K2HPO4", value, water, centre.X, centre.Y, radius, hu));
            scannerOperations.Add(new PaintOperation($"rod {name}", new EllipticCylinder(frame with { Origin = centre }, radius, radius, RodHalfLengthMm),
                Fill.Uniform(hu, TissueClass.Equipment), ShapeSpace.Scanner));
        }
    }

    /// <summary>Where the phantom rests: the pad's top (y), which way is down, its height, the series' middle z, and the trunk's half width when it lies beside the patient.</summary>
    private readonly record struct PhantomPlacement(float SupportY, float Down, float Height, float MiddleZ, float? TrunkHalfWidth);

    /// <summary>
    /// A Mindways rod's HU as the solid insert its certificate describes: K₂HPO₄ and water at their equivalent densities,
    /// each attenuating as itself in this scanner's beam (<see cref="CtNumberModel.HuOfEquivalence"/>). Nothing of the
    /// calibrator's conversion goes into it: the published chain (regress HU − water-equivalent on K₂HPO₄, σ = slope −
    /// 0.2174, β = intercept + 999.6, HA = 1.15 × K₂HPO₄ − 7.32) meets this physics as it would meet a real scanner's,
    /// and its error shows (<see cref="MindwaysChainLine"/>).
    /// </summary>
    internal static double MindwaysRodHu(double k2Hpo4MgPerCm3, double waterEquivalentMgPerCm3, CtNumberModel physics) =>
        physics.HuOfEquivalence(MaterialLibrary.PotassiumPhosphate, k2Hpo4MgPerCm3, waterEquivalentMgPerCm3);

    /// <summary>
    /// What an error-free measurement of these rods reads through Mindways' published chain, as an HU line in HA
    /// (mg/cm³): the truth a Mindways calibration is scored against, apart from the chain's own error against HA in
    /// water, which is reported separately. Its constants are the primer's (Mindways; Faulkner 1993), kept here apart
    /// from the calibrator's so the truth does not borrow the code it checks.
    /// </summary>
    internal static HuLine MindwaysChainLine(IReadOnlyList<CalibrationRod> rods)
    {
        const double slopeCorrection = 0.2174;
        const double interceptCorrection = 999.6;
        const double haPerK2Hpo4 = 1.15;
        const double haOffset = -7.32;
        var k = rods.Select(r => r.NominalMgPerCm3).ToArray();
        var y = rods.Select(r => r.ExpectedHu - (r.WaterEquivalentMgPerCm3 ?? 0)).ToArray();
        var (meanK, meanY) = (k.Average(), y.Average());
        var slope = k.Zip(y).Sum(p => (p.First - meanK) * (p.Second - meanY)) / k.Sum(v => (v - meanK) * (v - meanK));
        var intercept = meanY - (slope * meanK);
        var (sigmaK, betaK) = (slope - slopeCorrection, intercept + interceptCorrection);

        // HU = β_K + σ_K·K with K = (HA − offset) / 1.15.
        return new HuLine("HA through the Mindways K2HPO4 chain", "mg/cm3 HA", betaK - (sigmaK * haOffset / haPerK2Hpo4), sigmaK / haPerK2Hpo4);
    }
}
