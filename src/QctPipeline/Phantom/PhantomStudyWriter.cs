using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Nifti;
using Vector3 = System.Numerics.Vector3;

namespace QctPipeline.Phantom;

/// <summary>
/// Writes a generated study: dicom/ (one CT Image Storage file per slice, int16, slope 1, intercept −1024),
/// truth.json, and the three label volumes (vertebral bodies, whole vertebrae, ribs) as uint8 NIfTI on the series'
/// grid.
/// </summary>
public static class PhantomStudyWriter
{
    public const string DicomFolder = "dicom";
    public const string TruthFile = "truth.json";
    public const string BodyLabelFile = "labels-vertebral-bodies.nii.gz";
    public const string VertebraLabelFile = "labels-vertebrae.nii.gz";
    public const string RibLabelFile = "labels-ribs.nii.gz";
    public const string Manufacturer = "QctPipeline Phantom";
    private const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";
    private const double RescaleIntercept = -1024;

    public const string LabelConvention =
        "Rib-bearing vertebrae are thoracic, numbered T1… from the top (13 rib pairs give a T13); L1 is the first vertebra below the " +
        "last rib-bearing one; lumbar vertebrae run down to S1. Codes: T1–T13 = 1–13, L1–L6 = 21–26, S1 = 31, background 0. " +
        $"{BodyLabelFile} labels vertebral bodies only; {VertebraLabelFile} whole vertebrae (body and posterior elements); " +
        $"{RibLabelFile} bony ribs (not costal cartilage) by the code of the vertebra each articulates with, so the lowest rib code names the last rib-bearing vertebra. " +
        "Labels are taken from the plane at each slice's centre where a structure covers at least half a pixel.";

    public static PhantomTruth Write(PhantomStudy study, string directory)
    {
        Directory.CreateDirectory(directory);
        var uids = new StudyUids(study.Options);
        var truth = BuildTruth(study, uids);
        WriteSeries(study, uids, Path.Combine(directory, DicomFolder));
        WriteLabels(study, directory);
        var truthPath = Path.Combine(directory, TruthFile);
        var temporary = truthPath + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, truth.ToJson() + "\n");
        File.Move(temporary, truthPath, overwrite: true);
        return truth;
    }

    /// <summary>The series alone, one DICOM file per slice, as <see cref="Write"/> puts it under <see cref="DicomFolder"/>.</summary>
    public static void WriteSeries(PhantomStudy study, string directory) => WriteSeries(study, new StudyUids(study.Options), directory);

    /// <summary>The UIDs of one study, all derived from the seed, patient and study date.</summary>
    public sealed record StudyUids(string Study, string Series, string FrameOfReference, long Seed)
    {
        public StudyUids(PhantomOptions options)
            : this(
                PhantomUids.Make(options.Seed, options.PatientId, options.StudyDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture), "study"),
                PhantomUids.Make(options.Seed, options.PatientId, options.StudyDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture), "series"),
                PhantomUids.Make(options.Seed, options.PatientId, options.StudyDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture), "frame-of-reference"),
                options.Seed)
        {
        }

        public string Instance(int k) => PhantomUids.Make(Seed, Series, "instance", k.ToString(CultureInfo.InvariantCulture));
    }

    public static string PatientPosition(PatientOrientation orientation) => orientation switch
    {
        PatientOrientation.FeetFirstSupine => "FFS",
        PatientOrientation.HeadFirstProne => "HFP",
        _ => "HFS",
    };

    public static string? ContrastAgent(ContrastPhase phase) => phase == ContrastPhase.None ? null : "IOHEXOL 350 MG I/ML";

    internal static void WriteSeries(PhantomStudy study, StudyUids uids, string directory)
    {
        // Slices left from an earlier, longer run into the same folder would join this series (same UIDs).
        if (Directory.Exists(directory))
        {
            foreach (var stale in Directory.EnumerateFiles(directory, "IM*.dcm"))
            {
                File.Delete(stale);
            }
        }

        Directory.CreateDirectory(directory);
        var options = study.Options;
        var geometry = study.Volume.Geometry;
        var date = options.StudyDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var age = options.StudyDate.Year - options.PatientBirthDate.Year - (options.StudyDate.DayOfYear < options.PatientBirthDate.DayOfYear ? 1 : 0);
        var sex = study.Anatomy.DrawnParameters["female"] > 0.5 ? "F" : "M";
        var accession = PhantomUids.Make(options.Seed, uids.Study, "accession")[5..21];
        var parallelism = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, geometry.SizeZ, parallelism, k =>
        {
            var position = geometry.VoxelToPatient(0, 0, k);
            var writer = new DicomWriter()
                .Add(DicomTag.SpecificCharacterSet, DicomVR.CS, "ISO_IR 100")
                .AddStrings(DicomTag.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL")
                .Add(DicomTag.SopClassUid, DicomVR.UI, CtImageStorage)
                .Add(DicomTag.SopInstanceUid, DicomVR.UI, uids.Instance(k))
                .Add(DicomTag.StudyDate, DicomVR.DA, date)
                .Add(new DicomTag(0x0008, 0x0021), DicomVR.DA, date)
                .Add(new DicomTag(0x0008, 0x0022), DicomVR.DA, date)
                .Add(new DicomTag(0x0008, 0x0023), DicomVR.DA, date)
                .Add(new DicomTag(0x0008, 0x0030), DicomVR.TM, "093000")
                .Add(new DicomTag(0x0008, 0x0031), DicomVR.TM, "093012")
                .Add(new DicomTag(0x0008, 0x0032), DicomVR.TM, "093012")
                .Add(new DicomTag(0x0008, 0x0033), DicomVR.TM, "093015")
                .Add(new DicomTag(0x0008, 0x0050), DicomVR.SH, accession)
                .Add(DicomTag.Modality, DicomVR.CS, "CT")
                .Add(DicomTag.Manufacturer, DicomVR.LO, Manufacturer)
                .Add(new DicomTag(0x0008, 0x0080), DicomVR.LO, "Synthetic")
                .Add(new DicomTag(0x0008, 0x0090), DicomVR.PN, string.Empty)
                .Add(new DicomTag(0x0008, 0x1030), DicomVR.LO, options.StudyDescription)
                .Add(DicomTag.SeriesDescription, DicomVR.LO, $"{study.Reconstruction.DicomName} {options.SliceThicknessMm.ToString("0.###", CultureInfo.InvariantCulture)}mm")
                .Add(DicomTag.ManufacturerModelName, DicomVR.LO, "Digital QCT phantom")
                .Add(DicomTag.PatientName, DicomVR.PN, options.PatientName)
                .Add(DicomTag.PatientId, DicomVR.LO, options.PatientId)
                .Add(DicomTag.PatientBirthDate, DicomVR.DA, options.PatientBirthDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture))
                .Add(DicomTag.PatientSex, DicomVR.CS, sex)
                .Add(DicomTag.PatientAge, DicomVR.AS, $"{Math.Clamp(age, 0, 999):000}Y")
                .Add(DicomTag.ContrastBolusAgent, DicomVR.LO, ContrastAgent(options.Contrast))
                .Add(new DicomTag(0x0018, 0x1040), DicomVR.LO, options.Contrast == ContrastPhase.None ? null : "IV")
                .Add(DicomTag.BodyPartExamined, DicomVR.CS, "ABDOMEN")
                .AddDecimals(DicomTag.SliceThickness, options.SliceThicknessMm)
                .AddDecimals(DicomTag.Kvp, options.Kvp)
                .AddDecimals(new DicomTag(0x0018, 0x0088), options.SliceSpacingMm)
                .AddDecimals(new DicomTag(0x0018, 0x0090), options.DataCollectionDiameterMm)
                .Add(DicomTag.DeviceSerialNumber, DicomVR.LO, "QCTP-0001")
                .Add(new DicomTag(0x0018, 0x1020), DicomVR.LO, "qct phantom 1")
                .AddDecimals(new DicomTag(0x0018, 0x1100), options.Matrix * options.ResolvedPixelSpacingMm)
                .AddDecimals(DicomTag.GantryDetectorTilt, options.GantryTiltDegrees)
                .AddDecimals(new DicomTag(0x0018, 0x1130), study.Setup.TableHeightMm)
                .AddInteger(new DicomTag(0x0018, 0x1151), TubeCurrent(options))
                .Add(DicomTag.ConvolutionKernel, DicomVR.SH, study.Reconstruction.DicomName)
                .Add(new DicomTag(0x0018, 0x5100), DicomVR.CS, PatientPosition(options.Orientation))
                .Add(DicomTag.StudyInstanceUid, DicomVR.UI, uids.Study)
                .Add(DicomTag.SeriesInstanceUid, DicomVR.UI, uids.Series)
                .Add(new DicomTag(0x0020, 0x0010), DicomVR.SH, "1")
                .AddInteger(DicomTag.SeriesNumber, 2)
                .AddInteger(DicomTag.AcquisitionNumber, 1)
                .AddInteger(DicomTag.InstanceNumber, k + 1)
                .AddDecimals(DicomTag.ImagePositionPatient, Round(position.X), Round(position.Y), Round(position.Z))
                .AddDecimals(DicomTag.ImageOrientationPatient, geometry.DirectionCosines.Select(Round).ToArray())
                .Add(new DicomTag(0x0020, 0x0052), DicomVR.UI, uids.FrameOfReference)
                .Add(new DicomTag(0x0020, 0x1040), DicomVR.LO, string.Empty)
                .AddDecimals(new DicomTag(0x0020, 0x1041), Round(position.Z))
                .AddUInt16(DicomTag.SamplesPerPixel, 1)
                .Add(DicomTag.PhotometricInterpretation, DicomVR.CS, "MONOCHROME2")
                .AddUInt16(DicomTag.Rows, (ushort)geometry.SizeY)
                .AddUInt16(DicomTag.Columns, (ushort)geometry.SizeX)
                .AddDecimals(DicomTag.PixelSpacing, geometry.Spacing.Y, geometry.Spacing.X)
                .AddUInt16(DicomTag.BitsAllocated, 16)
                .AddUInt16(DicomTag.BitsStored, 16)
                .AddUInt16(DicomTag.HighBit, 15)
                .AddUInt16(DicomTag.PixelRepresentation, 1)
                .AddDecimals(new DicomTag(0x0028, 0x1050), 40)
                .AddDecimals(new DicomTag(0x0028, 0x1051), 400)
                .AddDecimals(DicomTag.RescaleIntercept, RescaleIntercept)
                .AddDecimals(DicomTag.RescaleSlope, 1)
                .Add(new DicomTag(0x0028, 0x1054), DicomVR.LO, "HU")
                .AddBytes(DicomTag.PixelData, DicomVR.OW, PixelBytes(study.Volume.Slice(k)));
            writer.WriteFile(Path.Combine(directory, $"IM{k + 1:000000}.dcm"), options.Deflate);
        });
    }

    /// <summary>A tube current consistent with the requested noise (σ ∝ 1/√mAs), for realistic headers.</summary>
    private static int TubeCurrent(PhantomOptions options) =>
        (int)Math.Clamp(Math.Round(250 * Math.Pow(12 / Math.Max(1, options.NoiseSigmaHu), 2) / Math.Max(0.5, options.SliceThicknessMm)), 20, 800);

    private static double Round(double value) => Math.Round(value, 4);

    private static byte[] PixelBytes(ReadOnlySpan<float> hu)
    {
        var bytes = new byte[hu.Length * 2];
        for (var index = 0; index < hu.Length; index++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(2 * index), (short)(hu[index] - RescaleIntercept));
        }

        return bytes;
    }

    /// <summary>The label volumes under their file names in <paramref name="directory"/>.</summary>
    internal static void WriteLabels(PhantomStudy study, string directory)
    {
        var geometry = study.Volume.Geometry;
        NiftiWriter.WriteLabels(geometry, study.BodyLabels, Path.Combine(directory, BodyLabelFile));
        NiftiWriter.WriteLabels(geometry, study.VertebraLabels, Path.Combine(directory, VertebraLabelFile));
        NiftiWriter.WriteLabels(geometry, study.RibLabels, Path.Combine(directory, RibLabelFile));
    }

    public static PhantomTruth BuildTruth(PhantomStudy study, StudyUids uids)
    {
        var options = study.Options;
        var setup = study.Setup;
        var physics = study.Physics;
        var geometry = study.Volume.Geometry;
        var anatomy = study.Anatomy;
        var scanTop = Math.Max(setup.SliceCentres[0], setup.SliceCentres[^1]) + options.SliceThicknessMm / 2;
        var scanBottom = Math.Min(setup.SliceCentres[0], setup.SliceCentres[^1]) - options.SliceThicknessMm / 2;
        var haInWater = physics.MineralInBase(MaterialLibrary.Hydroxyapatite, MaterialLibrary.Water) with { Material = PhantomTruth.HaInWater };
        var haInResin = physics.MineralInBase(MaterialLibrary.Hydroxyapatite, MaterialLibrary.SolidWater) with { Material = "hydroxyapatite in water-equivalent resin (QRM, B-MAS rods)" };
        var levels = anatomy.Vertebrae.Select(v => LevelTruths.Of(study, v, scanTop, scanBottom, haInWater)).ToList();

        var lines = new List<HuLine>
        {
            haInWater,
            haInResin,
            physics.MineralInBase(MaterialLibrary.PotassiumPhosphate, MaterialLibrary.Water) with { Material = "K2HPO4 in water" },
            new("iodine in water", "mg/cm3", 0, physics.HuPerMilligramIodine),
        };
        lines.AddRange(levels.Select(level => level.TrabecularHuLine));

        var tissues = new Dictionary<string, double>
        {
            ["air"] = physics.Hu(MaterialLibrary.Air),
            ["water"] = 0,
            ["adipose"] = physics.Hu(MaterialLibrary.Adipose),
            ["muscle"] = anatomy.Contrast.Hu(TissueKind.Muscle),
            ["blood (aorta)"] = anatomy.Contrast.Hu(TissueKind.ArterialBlood),
            ["blood (IVC)"] = anatomy.Contrast.Hu(TissueKind.VenousBlood),
            ["liver"] = anatomy.Contrast.Hu(TissueKind.Liver),
            ["spleen"] = anatomy.Contrast.Hu(TissueKind.Spleen),
            ["kidney cortex"] = anatomy.Contrast.Hu(TissueKind.KidneyCortex),
            ["cortical bone"] = physics.Hu(MaterialLibrary.CorticalBone),
            ["red marrow"] = physics.Hu(MaterialLibrary.RedMarrow),
            ["yellow marrow"] = physics.Hu(MaterialLibrary.YellowMarrow),
            ["water-equivalent resin"] = physics.Hu(MaterialLibrary.SolidWater),
        };

        var rotation = setup.Rotation;
        return new PhantomTruth
        {
            Generator = $"{Manufacturer} (qct phantom)",
            Seed = options.Seed,
            Options = options,
            Drawn = new SortedDictionary<string, double>(anatomy.DrawnParameters.ToDictionary(p => p.Key, p => Math.Round(p.Value, 4)), StringComparer.Ordinal),
            LabelConvention = LabelConvention,
            LabelMap = SpineLabels.LabelMap,
            Files = new Dictionary<string, string>
            {
                ["dicom"] = DicomFolder,
                ["vertebralBodyLabels"] = BodyLabelFile,
                ["vertebraLabels"] = VertebraLabelFile,
                ["ribLabels"] = RibLabelFile,
            },
            Series = new SeriesTruth(
                uids.Study,
                uids.Series,
                uids.FrameOfReference,
                options.PatientId,
                options.StudyDate,
                PatientPosition(options.Orientation),
                options.Kvp,
                study.Reconstruction.DicomName,
                ContrastAgent(options.Contrast),
                geometry.SizeY,
                geometry.SizeX,
                geometry.SizeZ,
                geometry.Spacing.X,
                options.SliceThicknessMm,
                options.SliceSpacingMm,
                Math.Round(options.SliceSpacingMm * Math.Cos(options.GantryTiltDegrees * Math.PI / 180), 6),
                study.PlaneSamples.Count,
                options.GantryTiltDegrees,
                setup.TableHeightMm,
                geometry.DirectionCosines.Select(Round).ToArray(),
                TruthVectors.Of(geometry.VoxelToPatient(0, 0, 0)),
                TruthVectors.Of(geometry.VoxelToPatient(0, 0, geometry.SizeZ - 1)),
                TruthVectors.Of(geometry.SliceDirection),
                options.Deflate ? TransferSyntax.DeflatedExplicitVRLittleEndian.Uid : TransferSyntax.ExplicitVRLittleEndian.Uid,
                RescaleIntercept,
                1,
                [Math.Round(rotation.X, 6), Math.Round(rotation.Y, 6), Math.Round(rotation.Z, 6), Math.Round(rotation.W, 6)],
                TruthVectors.Of(setup.Translation),
                new SliceProfileTruth(
                    "detector aperture (box) convolved with a triangular z-filter, along the table",
                    Math.Round(study.SliceProfile.FwhmMm, 4),
                    Math.Round(study.SliceProfile.FwtmMm, 4),
                    Math.Round(study.SliceProfile.CollimationMm, 4),
                    Math.Round(study.PlaneStepMm, 6),
                    study.PlaneSamples.Select(sample => Math.Round(sample.Weight, 6)).ToArray())),
            Physics = new PhysicsTruth(
                options.Kvp,
                Math.Round(physics.MeanDetectedEnergyKeV, 3),
                FormattableString.Invariant($"Kramers spectrum, {physics.FiltrationAluminiumMm} mm Al + {physics.WaterPathMm:0.#} mm water hardening, energy-integrating; per-element Compton (Klein–Nishina) + coherent + photoelectric fitted to NIST XCOM; HU = 1000 (mu - mu_water) / (mu_water - mu_air)"),
                physics.HuPerMilligramIodine,
                lines,
                tissues),
            Levels = levels,
            CalibrationPhantom = options.CalibrationPhantom == CalibrationPhantomKind.None
                ? null
                : new CalibrationPhantomTruth(options.CalibrationPhantom, "Rods run through the whole series (along z unless the options yaw the phantom); centres are LPS x, y (mm) where a rod crosses the series' middle slice; ExpectedHu is noise-free, before the beam-hardening error BeamHardeningHu.", LevelTruths.RodsWithBeamHardening(study),
                    options.CalibrationPhantom == CalibrationPhantomKind.Mindways ? ScanSetup.MindwaysChainLine(setup.Rods) : haInResin),
            Lesion = anatomy.LesionCentre is { } lesion
                ? new LesionTruth(options.Lesion, options.LesionLevel, options.LesionDiameterMm, TruthVectors.Of(setup.ToPatient(lesion)))
                : null,
            ScrewLevels = options.ScrewLevels,
        };
    }
}
