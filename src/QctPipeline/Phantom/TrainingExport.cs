using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using QctPipeline.Domain;
using QctPipeline.Nifti;

namespace QctPipeline.Phantom;

public enum TrainingFormat
{
    Npz,
    Nifti,
}

/// <summary>
/// Cases for segmentation training: the phantom rendered directly on an isotropic grid (no resampling error), with
/// acquisition and anatomy varied per case from its seed so a model sees the spread it will meet — partial coverage,
/// transitional spines, contrast, kernels, fractures.
/// <para>
/// npz: image.npy (int16 HU), vertebral_bodies.npy, vertebrae.npy and ribs.npy (uint8 label codes), all C-order
/// (z, y, x) in the series' voxel order, plus affine_lps.npy (float64 4×4, voxel (x, y, z) → DICOM LPS mm); nifti:
/// image.nii.gz and the three label files with RAS sform/qform. truth.json in both.
/// </para>
/// </summary>
public static class TrainingExport
{
    private static readonly DateTimeOffset FixedZipTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// The options rendered on a cubic grid of <paramref name="spacingMm"/> covering the same field of view. Slices are
    /// <paramref name="spacingMm"/> apart and at least that thick: a thicker slice of the options (a 5 mm series drawn
    /// for training) keeps its slice sensitivity profile, reconstructed overlapping on the grid.
    /// </summary>
    public static PhantomOptions OnIsotropicGrid(PhantomOptions options, double spacingMm)
    {
        var matrix = (int)Math.Ceiling(options.ReconstructionDiameterMm / spacingMm / 2) * 2;
        return options with
        {
            Matrix = matrix,
            PixelSpacingMm = spacingMm,
            SliceThicknessMm = Math.Max(spacingMm, options.SliceThicknessMm),
            SliceSpacingMm = spacingMm,
        };
    }

    /// <summary>
    /// A training case's options drawn from its seed: density, kVp, contrast, kernel, noise, coverage (a quarter of cases
    /// without a whole L1: chest-only, abdomen-only, L1 cut by the scan's edge), transitional anatomy, fracture, lesion,
    /// metal and orientation; then, from a stream of their own (<see cref="WithRealism"/>), slice thickness up to 5 mm,
    /// sharp kernels, low-dose noise, beam hardening, arms, degeneration and grade-1 wedges.
    /// </summary>
    public static PhantomOptions RandomCase(PhantomOptions template, long seed)
    {
        var random = PhantomRandom.Stream(seed, "training-case");
        string Pick(params string[] values) => values[random.Next(values.Length)];
        var ribs = random.NextDouble() switch { < 0.05 => 11, < 0.10 => 13, _ => 12 };
        var lumbar = random.NextDouble() switch { < 0.05 => 4, < 0.12 => 6, _ => 5 };
        var labels = new SpineLabels(ribs, lumbar);
        var l1 = labels.IndexOf("L1");
        var from = labels.Names[Math.Clamp(l1 - 1 - random.Next(7), 0, l1 - 1)];
        var to = labels.Names[Math.Clamp(l1 + 1 + random.Next(lumbar + 1), l1 + 1, labels.Names.Count - 1)];
        var lesion = random.NextDouble() switch { < 0.03 => LesionKind.Sclerotic, < 0.06 => LesionKind.Lytic, _ => LesionKind.None };
        var screws = random.NextDouble() < 0.04 ? new[] { labels.Names[l1 + 2], labels.Names[l1 + 3] } : [];
        var (topMargin, bottomMargin) = (4.0, 4.0);

        // Drawn after everything above so seeds keep the rest of their case. A model must also see scans without L1
        // (chest-only, abdomen-only) and with L1 cut by the scan's edge, or it learns to find an L1 in every scan.
        var coverage = random.NextDouble();
        if (coverage < 0.10)
        {
            to = labels.Names[l1 - 1 - random.Next(3)];
            from = labels.Names[Math.Max(0, labels.IndexOf(to) - 3 - random.Next(6))];
        }
        else if (coverage < 0.17)
        {
            from = labels.Names[l1 + 1 + random.Next(2)];
            to = labels.Names[Math.Min(labels.Names.Count - 1, labels.IndexOf(from) + 2 + random.Next(4))];
        }
        else if (coverage < 0.25)
        {
            var cut = -Math.Round(random.Uniform(4, 18), 1);
            (from, to, topMargin, bottomMargin) = random.NextDouble() < 0.7
                ? (labels.Names[Math.Max(0, l1 - 2 - random.Next(6))], "L1", 4.0, cut)
                : ("L1", labels.Names[Math.Min(labels.Names.Count - 1, l1 + 2 + random.Next(4))], cut, 4.0);
        }

        var density = Math.Round(random.Uniform(40, 220), 1);
        var kvp = double.Parse(Pick("80", "100", "120", "120", "120", "140"), CultureInfo.InvariantCulture);
        var contrast = random.NextDouble() switch { < 0.55 => ContrastPhase.None, < 0.9 => ContrastPhase.Venous, _ => ContrastPhase.Arterial };

        // The kernel, drawn here before, is drawn with the rest of the realism now; its draw stays so that the draws
        // after it keep their values.
        _ = random.NextDouble();
        var drawn = template with
        {
            Seed = seed,
            PatientId = $"TRAIN-{seed:000000}",
            L1BmdMgPerCm3 = density,
            Kvp = kvp,
            Contrast = contrast,
            NoiseSigmaHu = Math.Round(random.Uniform(6, 28), 1),
            ReconstructionDiameterMm = Math.Round(random.Uniform(320, 460)),
            RibPairs = ribs,
            LumbarVertebrae = lumbar,
            FromLevel = from,
            ToLevel = to,
            TopMarginMm = topMargin,
            BottomMarginMm = bottomMargin,
            L1FractureHeightLoss = random.NextDouble() < 0.1 ? Math.Round(random.Uniform(0.15, 0.45), 2) : 0,
            Lesion = lesion,
            LesionLevel = labels.Names[l1 + random.Next(2)],
            ScrewLevels = screws,
            Orientation = random.NextDouble() switch { < 0.9 => PatientOrientation.HeadFirstSupine, < 0.97 => PatientOrientation.FeetFirstSupine, _ => PatientOrientation.HeadFirstProne },
            CalibrationPhantom = random.NextDouble() < 0.1 ? CalibrationPhantomKind.Mindways : CalibrationPhantomKind.None,
        };
        return drawn.WithRealism(seed, labels);
    }

    /// <summary>
    /// What makes a case look like a patient's scan rather than a clean phantom, each drawn independently:
    /// <list type="bullet">
    /// <item>the series' slice thickness: 40 % 1 mm or less (the grid's own), else 1.25–5 mm, a third of those 5 mm
    /// (the opportunistic-screening abdomen);</item>
    /// <item>the kernel: soft 20 %, standard 55 %, bone 12 %, sharp (lung) 13 %; the sharper, the noisier at the same
    /// dose (bone × 1.8, sharp × 3), and 20 % of cases at low dose (noise × 1.6–2.6, up to 60 HU in soft tissue with
    /// soft or standard kernels);</item>
    /// <item>beam hardening off in 30 %, else 0.3–1 of the uncorrected spectrum's;</item>
    /// <item>arms down in 40 %;</item>
    /// <item>a degenerative spine in 30 %, grade 0.15–1;</item>
    /// <item>a grade-1 wedge (20–25 % anterior height loss) at T11, T12, L1 or L2 in 15 %.</item>
    /// </list>
    /// </summary>
    private static PhantomOptions WithRealism(this PhantomOptions options, long seed, SpineLabels labels)
    {
        var random = PhantomRandom.Stream(seed, "training-case/realism");
        var thickness = random.NextDouble() < 0.4 ? 1 : random.NextDouble() switch { < 0.33 => 5, < 0.5 => 3, < 0.67 => 2.5, < 0.83 => 2, _ => 1.25 };
        var kernel = random.NextDouble() switch
        {
            < 0.20 => ReconstructionKernel.Soft,
            < 0.75 => ReconstructionKernel.Standard,
            < 0.87 => ReconstructionKernel.Bone,
            _ => ReconstructionKernel.Sharp,
        };
        var lowDose = random.NextDouble() < 0.2 ? random.Uniform(1.6, 2.6) : 1;
        var kernelNoise = kernel switch { ReconstructionKernel.Bone => 1.8, ReconstructionKernel.Sharp => 3.0, _ => 1.0 };
        var noise = Math.Min(kernel is ReconstructionKernel.Soft or ReconstructionKernel.Standard ? 60 : 150, options.NoiseSigmaHu * lowDose * kernelNoise);
        var beamHardening = random.NextDouble() < 0.3 ? 0 : Math.Round(random.Uniform(0.3, 1.0), 2);
        var armsDown = random.NextDouble() < 0.4;
        var degeneration = random.NextDouble() < 0.3 ? Math.Round(random.Uniform(0.15, 1.0), 2) : 0;
        var l1 = labels.IndexOf("L1");
        var wedge = random.NextDouble() < 0.15 ? labels.Names[l1 - 2 + random.Next(4)] : null;
        var wedgeLoss = Math.Round(random.Uniform(0.20, 0.25), 3);
        return options with
        {
            SliceThicknessMm = thickness,
            Kernel = kernel,
            NoiseSigmaHu = Math.Round(noise, 1),
            BeamHardening = beamHardening,
            Arms = armsDown ? ArmPosition.Down : ArmPosition.Up,
            DegenerationGrade = degeneration,
            WedgeLevel = wedge,
            WedgeHeightLoss = wedge is null ? options.WedgeHeightLoss : wedgeLoss,
        };
    }

    public static PhantomTruth Write(PhantomStudy study, string directory, TrainingFormat format)
    {
        Directory.CreateDirectory(directory);
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(study.Options)) with
        {
            Files = format == TrainingFormat.Npz
                ? new Dictionary<string, string> { ["npz"] = "case.npz" }
                : new Dictionary<string, string>
                {
                    ["image"] = "image.nii.gz",
                    ["vertebralBodyLabels"] = PhantomStudyWriter.BodyLabelFile,
                    ["vertebraLabels"] = PhantomStudyWriter.VertebraLabelFile,
                    ["ribLabels"] = PhantomStudyWriter.RibLabelFile,
                },
        };
        if (format == TrainingFormat.Npz)
        {
            WriteNpz(Path.Combine(directory, "case.npz"), study);
        }
        else
        {
            NiftiWriter.Write(study.Volume, Path.Combine(directory, "image.nii.gz"));
            PhantomStudyWriter.WriteLabels(study, directory);
        }

        File.WriteAllText(Path.Combine(directory, PhantomStudyWriter.TruthFile), truth.ToJson() + "\n");
        return truth;
    }

    private static void WriteNpz(string path, PhantomStudy study)
    {
        var geometry = study.Volume.Geometry;
        int[] shape = [geometry.SizeZ, geometry.SizeY, geometry.SizeX];
        var image = new byte[geometry.VoxelCount * 2];
        var voxels = study.Volume.Voxels;
        for (var index = 0; index < voxels.Length; index++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(image.AsSpan(2 * index), (short)voxels[index]);
        }

        var affine = new byte[16 * 8];
        double[] matrix =
        [
            geometry.RowDirection.X * geometry.Spacing.X, geometry.ColumnDirection.X * geometry.Spacing.Y, geometry.SliceDirection.X * geometry.Spacing.Z, geometry.Origin.X,
            geometry.RowDirection.Y * geometry.Spacing.X, geometry.ColumnDirection.Y * geometry.Spacing.Y, geometry.SliceDirection.Y * geometry.Spacing.Z, geometry.Origin.Y,
            geometry.RowDirection.Z * geometry.Spacing.X, geometry.ColumnDirection.Z * geometry.Spacing.Y, geometry.SliceDirection.Z * geometry.Spacing.Z, geometry.Origin.Z,
            0, 0, 0, 1,
        ];
        for (var index = 0; index < matrix.Length; index++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(affine.AsSpan(8 * index), matrix[index]);
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            AddNpy(zip, "image.npy", "<i2", shape, image);
            AddNpy(zip, "vertebral_bodies.npy", "|u1", shape, study.BodyLabels);
            AddNpy(zip, "vertebrae.npy", "|u1", shape, study.VertebraLabels);
            AddNpy(zip, "ribs.npy", "|u1", shape, study.RibLabels);
            AddNpy(zip, "affine_lps.npy", "<f8", [4, 4], affine);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>An .npy entry (format 1.0): magic, header length, a Python dict literal padded to 64 bytes, then the data.</summary>
    private static void AddNpy(ZipArchive zip, string name, string dtype, int[] shape, byte[] data)
    {
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        var header = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
        var total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
        entry.LastWriteTime = FixedZipTime;
        using var stream = entry.Open();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(data);
    }
}
