using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using QctPipeline.Phantom;
using QctPipeline.Report;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct phantom`: synthetic CT series with known bone density, labels and truth.json.</summary>
internal static class PhantomCommand
{
    public static Command Create()
    {
        var defaults = new PhantomOptions();
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder (created).", Required = true };
        var seed = new Option<long>("--seed") { Description = "Anatomy seed; same seed and options give byte-identical output.", DefaultValueFactory = _ => defaults.Seed };
        var patient = new Option<string>("--patient") { Description = "Patient ID.", DefaultValueFactory = _ => defaults.PatientId };
        var patientName = new Option<string>("--patient-name") { Description = "Patient name (DICOM PN).", DefaultValueFactory = _ => defaults.PatientName };
        var sex = new Option<string?>("--sex") { Description = "F or M (default: drawn from the seed)." };
        var birthDate = new Option<string>("--birth-date") { Description = "YYYY-MM-DD.", DefaultValueFactory = _ => Date(defaults.PatientBirthDate) };
        var studyDate = new Option<string>("--study-date") { Description = "YYYY-MM-DD.", DefaultValueFactory = _ => Date(defaults.StudyDate) };
        var timepoints = new Option<string?>("--timepoints") { Description = "Longitudinal studies of one patient, DATE:L1BMD,… e.g. \"2025-01-10:110,2025-07-12:103\"; one folder per date." };
        var l1Bmd = new Option<double>("--l1-bmd") { Description = "L1 trabecular density, mg/cm³ HA.", DefaultValueFactory = _ => defaults.L1BmdMgPerCm3 };
        var marrowFat = new Option<double?>("--marrow-fat") { Description = "Marrow fat volume fraction (default: from density)." };
        var kvp = new Option<double>("--kvp") { Description = "Tube voltage, 70–150.", DefaultValueFactory = _ => defaults.Kvp };
        var contrast = new Option<ContrastPhase>("--contrast") { Description = "none|arterial|venous.", DefaultValueFactory = _ => defaults.Contrast };
        var noise = new Option<double>("--noise") { Description = "Noise SD in HU in a uniform region, after the kernel's shaping (routine dose 8–25; low dose up to ~60 with soft or standard kernels; sharp kernels ~3 × at the same dose).", DefaultValueFactory = _ => defaults.NoiseSigmaHu };
        var kernel = new Option<ReconstructionKernel>("--kernel") { Description = "soft (B30f-like) | standard (B40f, GE STANDARD) | bone (B60f, GE BONE: edge overshoot) | sharp (B70f, GE LUNG: strong high-frequency noise, overshoot and ringing).", DefaultValueFactory = _ => defaults.Kernel };
        var matrix = new Option<int>("--matrix") { Description = "Rows and columns.", DefaultValueFactory = _ => defaults.Matrix };
        var pixelSpacing = new Option<double?>("--pixel-spacing") { Description = "In-plane pixel size, mm (default: FOV / matrix)." };
        var fov = new Option<double>("--fov") { Description = "Reconstruction diameter, mm.", DefaultValueFactory = _ => defaults.ReconstructionDiameterMm };
        var scanFov = new Option<double>("--scan-fov") { Description = "Scan (data collection) diameter, mm; anatomy outside is truncated.", DefaultValueFactory = _ => defaults.DataCollectionDiameterMm };
        var thickness = new Option<double>("--slice-thickness") { Description = "mm: the FWHM of a helical slice sensitivity profile (bell-shaped, FWTM ≈ 1.75 × FWHM).", DefaultValueFactory = _ => defaults.SliceThicknessMm };
        var spacing = new Option<double>("--slice-spacing") { Description = "mm between slice centres.", DefaultValueFactory = _ => defaults.SliceSpacingMm };
        var from = new Option<string>("--from") { Description = "Top of coverage: vertebra name.", DefaultValueFactory = _ => defaults.FromLevel };
        var to = new Option<string>("--to") { Description = "Bottom of coverage: vertebra name.", DefaultValueFactory = _ => defaults.ToLevel };
        var tilt = new Option<double>("--gantry-tilt") { Description = "Degrees (sheared stack)." };
        var orientation = new Option<string>("--orientation") { Description = "HFS|FFS|HFP (prone).", DefaultValueFactory = _ => "HFS" };
        var tableHeight = new Option<double?>("--table-height") { Description = "Table top below the isocentre, mm (default: patient centred)." };
        var phantom = new Option<CalibrationPhantomKind>("--calibration-phantom") { Description = "none|mindways|qrm3|qrm6|bmas.", DefaultValueFactory = _ => defaults.CalibrationPhantom };
        var phantomPlacement = new Option<CalibrationPhantomPlacement>("--phantom-placement") { Description = "under (the patient lies on it) | beside (on the table next to the trunk).", DefaultValueFactory = _ => defaults.CalibrationPhantomPlacement };
        var phantomShift = new Option<double>("--phantom-shift") { Description = "Lateral offset of the calibration phantom, mm towards patient left (large values push rods out of the field of view)." };
        var phantomRotation = new Option<double>("--phantom-rotation") { Description = "In-plane rotation of the calibration phantom, degrees." };
        var phantomTilt = new Option<double>("--phantom-tilt") { Description = "Yaw of the calibration phantom on the table, degrees (rods cross the slices obliquely)." };
        var ribs = new Option<int>("--rib-pairs") { Description = "11, 12 or 13 (transitional anatomy).", DefaultValueFactory = _ => defaults.RibPairs };
        var lumbar = new Option<int>("--lumbar") { Description = "4, 5 or 6 lumbar vertebrae.", DefaultValueFactory = _ => defaults.LumbarVertebrae };
        var lowestRib = new Option<double?>("--lowest-rib") { Description = "Length of the lowest rib pair relative to a normal 12th rib." };
        var trunkWidth = new Option<double?>("--trunk-width") { Description = "Trunk width at L1, mm." };
        var fat = new Option<double?>("--fat") { Description = "Subcutaneous fat at L1, mm." };
        var lordosis = new Option<double?>("--lordosis") { Description = "L1–S1 lordosis, degrees." };
        var kyphosis = new Option<double?>("--kyphosis") { Description = "T4–T12 kyphosis, degrees." };
        var scoliosis = new Option<double?>("--scoliosis") { Description = "Peak coronal angulation, degrees." };
        var fracture = new Option<double>("--l1-fracture") { Description = "L1 anterior height loss, 0–0.7." };
        var wedge = new Option<string?>("--wedge") { Description = "A vertebra with an anterior wedge (grade 1 by default: a finding that leaves it measurable), e.g. T12." };
        var wedgeLoss = new Option<double>("--wedge-loss") { Description = "Anterior height loss of --wedge, 0–0.7 (Genant grade 1: 0.20–0.25).", DefaultValueFactory = _ => defaults.WedgeHeightLoss };
        var vertebralSize = new Option<double?>("--vertebral-size") { Description = "Vertebral body size relative to the build's, 0.7–1.3 (default: drawn, ±15 %)." };
        var concavity = new Option<double?>("--endplate-concavity") { Description = "Central depth of a lumbar endplate's dish, mm (default: drawn 1.2–2.6; thoracic 0.7 ×, per endplate 0.8–1.35 ×)." };
        var arms = new Option<ArmPosition>("--arms") { Description = "up (raised, the usual positioning: out of a trunk scan) | down (along the trunk: humeri, elbows and forearms in the field, beam-hardening streaks) | drawn (down in 40 % of seeds).", DefaultValueFactory = _ => defaults.Arms };
        var degeneration = new Option<double?>("--degeneration") { Description = "Spondylosis grade 0 (none) … 1 (severe) (default: drawn from the age)." };
        var degenerativeFeatures = new Option<string>("--degenerative-features") { Description = "Changes the grade may bring: all, none, or a list of osteophytes, disc-narrowing, endplate-sclerosis, schmorl-nodes, vacuum-discs.", DefaultValueFactory = _ => "all" };
        var lesion = new Option<LesionKind>("--lesion") { Description = "none|sclerotic|lytic.", DefaultValueFactory = _ => defaults.Lesion };
        var lesionLevel = new Option<string>("--lesion-level") { Description = "Vertebra with the lesion.", DefaultValueFactory = _ => defaults.LesionLevel };
        var lesionDiameter = new Option<double>("--lesion-diameter") { Description = "mm.", DefaultValueFactory = _ => defaults.LesionDiameterMm };
        var screws = new Option<string?>("--screws") { Description = "Levels with pedicle screws, e.g. L2,L3." };
        var shift = new Option<double>("--reposition-mm") { Description = "SD of the per-study table shift, mm.", DefaultValueFactory = _ => defaults.PositioningShiftMm };
        var rotation = new Option<double>("--reposition-deg") { Description = "SD of the per-study rotation, degrees.", DefaultValueFactory = _ => defaults.PositioningRotationDegrees };
        var subSlices = new Option<int?>("--sub-slices") { Description = "Planes painted per slice spacing for partial volume along the table (default: planes at most 1 mm apart)." };
        var beamFiltration = new Option<double>("--beam-filtration") { Description = "Beam filtration in mm Al (1–20) of the CT-number model; the pipeline's tissue model assumes 7.", DefaultValueFactory = _ => defaults.BeamFiltrationMm };
        var beamWaterPath = new Option<double?>("--beam-water-path") { Description = "Water path in mm (100–450) hardening the beam of the CT-number model; default: the patient's own water-equivalent diameter at L1." };
        var fatShift = new Option<double>("--fat-shift") { Description = "HU added to this patient's fat (±60).", DefaultValueFactory = _ => defaults.FatHuShift };
        var muscleShift = new Option<double>("--muscle-shift") { Description = "HU added to this patient's muscle, e.g. −15 for fatty muscle (±60).", DefaultValueFactory = _ => defaults.MuscleHuShift };
        var bloodShift = new Option<double>("--blood-shift") { Description = "HU added to this patient's blood, e.g. −10 for anaemia (±60).", DefaultValueFactory = _ => defaults.BloodHuShift };
        var beamHardening = new Option<double>("--beam-hardening") { Description = "Beam hardening left in the image: 1 = bone hardening of this spectrum with water correction only (dark streaks between dense structures, slight cupping), 0 = none; 0–2.", DefaultValueFactory = _ => defaults.BeamHardening };
        var deflate = new Option<bool>("--deflate") { Description = "Write Deflated Explicit VR Little Endian (smaller files)." };
        var format = new Option<string>("--format") { Description = "dicom (a series) or, for training, npz|nifti on an isotropic grid.", DefaultValueFactory = _ => "dicom" };
        var gridSpacing = new Option<double?>("--spacing") { Description = "Isotropic grid spacing for --format npz|nifti, mm." };
        var cases = new Option<int>("--cases") { Description = "Training mode: this many cases with seeds SEED…, each with acquisition and anatomy drawn from its seed.", DefaultValueFactory = _ => 1 };
        var preview = new Option<bool>("--preview") { Description = "Also write axial and mid-sagittal PNGs at L1." };

        var command = new Command("phantom", "Generate a synthetic CT series with known vBMD, labels and truth.json.");
        foreach (var option in new Option[]
                 {
                     output, seed, patient, patientName, sex, birthDate, studyDate, timepoints, l1Bmd, marrowFat, kvp, contrast, noise, kernel, matrix,
                     pixelSpacing, fov, scanFov, thickness, spacing, from, to, tilt, orientation, tableHeight, phantom, phantomPlacement, phantomShift, phantomRotation, phantomTilt, ribs, lumbar, lowestRib, trunkWidth,
                     fat, lordosis, kyphosis, scoliosis, fracture, wedge, wedgeLoss, vertebralSize, concavity, arms, degeneration, degenerativeFeatures, lesion, lesionLevel, lesionDiameter, screws, shift, rotation, subSlices, beamHardening, beamFiltration, beamWaterPath, fatShift, muscleShift, bloodShift, deflate, format,
                     gridSpacing, cases, preview,
                 })
        {
            command.Options.Add(option);
        }

        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            if (!TryDate(parsed.GetValue(birthDate)!, "--birth-date", out var birth, out var error)
                || !TryDate(parsed.GetValue(studyDate)!, "--study-date", out var study, out error)
                || !TryOrientation(parsed.GetValue(orientation)!, out var position, out error)
                || !TryDegenerativeFeatures(parsed.GetValue(degenerativeFeatures)!, out var features, out error))
            {
                return ExitCodes.Fail(error!, ExitCodes.Usage);
            }

            var options = new PhantomOptions
            {
                Seed = parsed.GetValue(seed),
                PatientId = parsed.GetValue(patient)!,
                PatientName = parsed.GetValue(patientName)!,
                PatientSex = parsed.GetValue(sex)?.ToUpperInvariant(),
                PatientBirthDate = birth,
                StudyDate = study,
                L1BmdMgPerCm3 = parsed.GetValue(l1Bmd),
                MarrowFatFraction = parsed.GetValue(marrowFat),
                Kvp = parsed.GetValue(kvp),
                Contrast = parsed.GetValue(contrast),
                NoiseSigmaHu = parsed.GetValue(noise),
                Kernel = parsed.GetValue(kernel),
                Matrix = parsed.GetValue(matrix),
                PixelSpacingMm = parsed.GetValue(pixelSpacing),
                ReconstructionDiameterMm = parsed.GetValue(fov),
                DataCollectionDiameterMm = parsed.GetValue(scanFov),
                SliceThicknessMm = parsed.GetValue(thickness),
                SliceSpacingMm = parsed.GetValue(spacing),
                FromLevel = parsed.GetValue(from)!.ToUpperInvariant(),
                ToLevel = parsed.GetValue(to)!.ToUpperInvariant(),
                GantryTiltDegrees = parsed.GetValue(tilt),
                Orientation = position,
                TableHeightMm = parsed.GetValue(tableHeight),
                CalibrationPhantom = parsed.GetValue(phantom),
                CalibrationPhantomPlacement = parsed.GetValue(phantomPlacement),
                CalibrationPhantomShiftMm = parsed.GetValue(phantomShift),
                CalibrationPhantomRotationDegrees = parsed.GetValue(phantomRotation),
                CalibrationPhantomTiltDegrees = parsed.GetValue(phantomTilt),
                RibPairs = parsed.GetValue(ribs),
                LumbarVertebrae = parsed.GetValue(lumbar),
                LowestRibLengthFactor = parsed.GetValue(lowestRib),
                TrunkWidthMm = parsed.GetValue(trunkWidth),
                SubcutaneousFatMm = parsed.GetValue(fat),
                LordosisDegrees = parsed.GetValue(lordosis),
                KyphosisDegrees = parsed.GetValue(kyphosis),
                ScoliosisDegrees = parsed.GetValue(scoliosis),
                L1FractureHeightLoss = parsed.GetValue(fracture),
                WedgeLevel = parsed.GetValue(wedge)?.ToUpperInvariant(),
                WedgeHeightLoss = parsed.GetValue(wedgeLoss),
                VertebralSizeScale = parsed.GetValue(vertebralSize),
                EndplateConcavityMm = parsed.GetValue(concavity),
                Arms = parsed.GetValue(arms),
                DegenerationGrade = parsed.GetValue(degeneration),
                DegenerativeFeatures = features,
                Lesion = parsed.GetValue(lesion),
                LesionLevel = parsed.GetValue(lesionLevel)!.ToUpperInvariant(),
                LesionDiameterMm = parsed.GetValue(lesionDiameter),
                ScrewLevels = (parsed.GetValue(screws) ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(s => s.ToUpperInvariant()).ToArray(),
                PositioningShiftMm = parsed.GetValue(shift),
                PositioningRotationDegrees = parsed.GetValue(rotation),
                SubSlices = parsed.GetValue(subSlices),
                BeamHardening = parsed.GetValue(beamHardening),
                BeamFiltrationMm = parsed.GetValue(beamFiltration),
                BeamWaterPathMm = parsed.GetValue(beamWaterPath),
                FatHuShift = parsed.GetValue(fatShift),
                MuscleHuShift = parsed.GetValue(muscleShift),
                BloodHuShift = parsed.GetValue(bloodShift),
                Deflate = parsed.GetValue(deflate),
            };

            var directory = parsed.GetValue(output)!.FullName;
            var formatName = parsed.GetValue(format)!.ToLowerInvariant();
            var caseCount = parsed.GetValue(cases);
            if (formatName is not ("dicom" or "npz" or "nifti"))
            {
                return ExitCodes.Fail($"--format {formatName}: must be dicom, npz or nifti", ExitCodes.Usage);
            }

            if (formatName != "dicom")
            {
                if (parsed.GetValue(gridSpacing) is not { } grid || grid is < 0.3 or > 10)
                {
                    return ExitCodes.Fail($"--format {formatName} needs --spacing between 0.3 and 10 mm", ExitCodes.Usage);
                }

                return Training(options, directory, formatName == "npz" ? TrainingFormat.Npz : TrainingFormat.Nifti, grid, caseCount);
            }

            if (caseCount != 1)
            {
                return ExitCodes.Fail("--cases is for the training formats (--format npz|nifti)", ExitCodes.Usage);
            }

            IReadOnlyList<Timepoint>? series = null;
            if (parsed.GetValue(timepoints) is { } text)
            {
                try
                {
                    series = Timepoint.ParseList(text);
                }
                catch (FormatException ex)
                {
                    return ExitCodes.Fail($"--timepoints: {ex.Message}", ExitCodes.Usage);
                }
            }

            var studies = series is null
                ? [(options, directory)]
                : series.Select(t => (t.Apply(options), Path.Combine(directory, t.FolderName))).ToList();
            foreach (var (studyOptions, studyDirectory) in studies)
            {
                if (studyOptions.Validate() is { } problem)
                {
                    return ExitCodes.Fail(problem, ExitCodes.Usage);
                }
            }

            foreach (var (studyOptions, studyDirectory) in studies)
            {
                var clock = Stopwatch.StartNew();
                var generated = PhantomGenerator.Generate(studyOptions);
                var generatedMs = clock.ElapsedMilliseconds;
                var truth = PhantomStudyWriter.Write(generated, studyDirectory);
                if (parsed.GetValue(preview))
                {
                    WritePreviews(generated, studyDirectory);
                }

                var l1 = truth.Levels.First(level => level.Name == "L1");
                var g = generated.Volume.Geometry;
                Console.WriteLine(FormattableString.Invariant(
                    $"{studyDirectory}: {g.SizeX}x{g.SizeY}x{g.SizeZ} {studyOptions.Kvp:0} kVp {truth.Series.ConvolutionKernel}, L1 {l1.TrueVbmdMgPerCm3:0.0} mg/cm3 HA ({l1.ExpectedTrabecularHu:0.0} HU); generated in {generatedMs} ms, written in {clock.ElapsedMilliseconds - generatedMs} ms"));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static int Training(PhantomOptions options, string directory, TrainingFormat format, double grid, int caseCount)
    {
        if (caseCount is < 1 or > 100_000)
        {
            return ExitCodes.Fail($"--cases {caseCount}: must be 1–100000", ExitCodes.Usage);
        }

        for (var index = 0; index < caseCount; index++)
        {
            var caseOptions = caseCount == 1 ? options : TrainingExport.RandomCase(options, options.Seed + index);
            caseOptions = TrainingExport.OnIsotropicGrid(caseOptions, grid);
            if (caseOptions.Validate() is { } problem)
            {
                return ExitCodes.Fail($"case {caseOptions.Seed}: {problem}", ExitCodes.Usage);
            }

            var caseDirectory = caseCount == 1 ? directory : Path.Combine(directory, $"case-{caseOptions.Seed:000000}");
            var clock = Stopwatch.StartNew();
            var generated = PhantomGenerator.Generate(caseOptions);
            TrainingExport.Write(generated, caseDirectory, format);
            var g = generated.Volume.Geometry;
            Console.WriteLine(FormattableString.Invariant($"{caseDirectory}: {g.SizeX}x{g.SizeY}x{g.SizeZ} at {grid} mm in {clock.ElapsedMilliseconds} ms"));
        }

        return ExitCodes.Ok;
    }

    /// <summary>Axial (soft tissue window) and mid-sagittal (bone window) images through L1's centre.</summary>
    internal static void WritePreviews(PhantomStudy study, string directory)
    {
        var volume = study.Volume;
        var geometry = volume.Geometry;
        var l1 = study.Anatomy.Vertebra("L1");
        var centre = study.Setup.ToPatient(l1.Frame.Origin);
        var k = Math.Clamp((int)Math.Round((centre.Z - geometry.Origin.Z) / (geometry.SliceDirection.Z * geometry.Spacing.Z)), 0, geometry.SizeZ - 1);
        var i = Math.Clamp((int)Math.Round((centre.X - geometry.Origin.X) / (geometry.RowDirection.X * geometry.Spacing.X)), 0, geometry.SizeX - 1);
        PngEncoder.WriteFile(Path.Combine(directory, "preview-axial-l1.png"), SliceRenderer.Axial(volume, k, WindowLevel.SoftTissue).ToPng());
        PngEncoder.WriteFile(Path.Combine(directory, "preview-sagittal.png"), SliceRenderer.Sagittal(volume, i, WindowLevel.Bone).ToPng());
    }

    private static string Date(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static bool TryDate(string text, string option, out DateOnly date, out string? error)
    {
        error = DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date)
            ? null
            : $"{option} {text}: not a date (YYYY-MM-DD)";
        return error is null;
    }

    private static bool TryDegenerativeFeatures(string text, out DegenerativeFeatures features, out string? error)
    {
        features = DegenerativeFeatures.None;
        error = null;
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            features |= name.ToLowerInvariant() switch
            {
                "all" => DegenerativeFeatures.All,
                "none" => DegenerativeFeatures.None,
                "osteophytes" => DegenerativeFeatures.Osteophytes,
                "disc-narrowing" => DegenerativeFeatures.DiscNarrowing,
                "endplate-sclerosis" => DegenerativeFeatures.EndplateSclerosis,
                "schmorl-nodes" => DegenerativeFeatures.SchmorlNodes,
                "vacuum-discs" => DegenerativeFeatures.VacuumDiscs,
                _ => Unknown(name, ref error),
            };
        }

        return error is null;

        static DegenerativeFeatures Unknown(string name, ref string? error)
        {
            error = $"--degenerative-features {name}: must be all, none, osteophytes, disc-narrowing, endplate-sclerosis, schmorl-nodes or vacuum-discs";
            return DegenerativeFeatures.None;
        }
    }

    private static bool TryOrientation(string text, out PatientOrientation orientation, out string? error)
    {
        (orientation, error) = text.ToUpperInvariant() switch
        {
            "HFS" => (PatientOrientation.HeadFirstSupine, (string?)null),
            "FFS" => (PatientOrientation.FeetFirstSupine, null),
            "HFP" or "PRONE" => (PatientOrientation.HeadFirstProne, null),
            _ => (PatientOrientation.HeadFirstSupine, $"--orientation {text}: must be HFS, FFS or HFP"),
        };
        return error is null;
    }
}
