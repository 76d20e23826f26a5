using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using QctPipeline.Nifti;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Phantom;

public sealed class TrainingExportTests
{
    [Fact]
    public void NpzHoldsImageAndLabelsOnTheIsotropicGrid()
    {
        var directory = SmallPhantoms.TemporaryDirectory();
        try
        {
            var options = TrainingExport.OnIsotropicGrid(SmallPhantoms.Options, 4);
            Assert.Equal(4, options.ResolvedPixelSpacingMm);
            Assert.Equal(4, options.SliceThicknessMm);
            var study = PhantomGenerator.Generate(options);
            TrainingExport.Write(study, directory, TrainingFormat.Npz);
            var geometry = study.Volume.Geometry;

            using var zip = ZipFile.OpenRead(Path.Combine(directory, "case.npz"));
            Assert.Equal(["image.npy", "vertebral_bodies.npy", "vertebrae.npy", "ribs.npy", "affine_lps.npy"], zip.Entries.Select(e => e.FullName));
            var image = ReadNpy(zip.GetEntry("image.npy")!, out var header);
            Assert.Contains("'descr': '<i2'", header, StringComparison.Ordinal);
            Assert.Contains($"'shape': ({geometry.SizeZ}, {geometry.SizeY}, {geometry.SizeX})", header, StringComparison.Ordinal);
            var voxels = study.Volume.Voxels;
            for (var index = 0; index < voxels.Length; index += 101)
            {
                Assert.Equal(voxels[index], BinaryPrimitives.ReadInt16LittleEndian(image.AsSpan(2 * index)));
            }

            var bodies = ReadNpy(zip.GetEntry("vertebral_bodies.npy")!, out _);
            Assert.Equal(study.BodyLabels, bodies);
            Assert.Contains((byte)21, bodies);
            var ribs = ReadNpy(zip.GetEntry("ribs.npy")!, out var ribHeader);
            Assert.Contains("'descr': '|u1'", ribHeader, StringComparison.Ordinal);
            Assert.Contains($"'shape': ({geometry.SizeZ}, {geometry.SizeY}, {geometry.SizeX})", ribHeader, StringComparison.Ordinal);
            Assert.Equal(study.RibLabels, ribs);
            Assert.Contains((byte)12, ribs);
            Assert.True(File.Exists(Path.Combine(directory, PhantomStudyWriter.TruthFile)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void NiftiCaseHoldsTheImageAndTheThreeLabelFiles()
    {
        var directory = SmallPhantoms.TemporaryDirectory();
        try
        {
            var study = PhantomGenerator.Generate(TrainingExport.OnIsotropicGrid(SmallPhantoms.Options, 5));
            var truth = TrainingExport.Write(study, directory, TrainingFormat.Nifti);
            string[] expected = ["image.nii.gz", PhantomStudyWriter.BodyLabelFile, PhantomStudyWriter.VertebraLabelFile, PhantomStudyWriter.RibLabelFile];
            Assert.Equal(expected, truth.Files.Values);
            Assert.All(expected, file => Assert.True(File.Exists(Path.Combine(directory, file)), file));
            var ribs = NiftiReader.Read(Path.Combine(directory, PhantomStudyWriter.RibLabelFile)).Voxels.ToArray();
            Assert.Equal(study.RibLabels.Count(code => code != 0), ribs.Count(code => code != 0));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void RandomCasesAreValidAndVaried()
    {
        var cases = Enumerable.Range(1000, 60).Select(seed => TrainingExport.RandomCase(new PhantomOptions(), seed)).ToList();
        Assert.All(cases, options => Assert.Null(options.Validate()));
        Assert.True(cases.Select(c => c.Kvp).Distinct().Count() >= 3);
        Assert.True(cases.Select(c => c.FromLevel).Distinct().Count() >= 3);
        Assert.Contains(cases, c => c.Contrast != ContrastPhase.None);
        Assert.Equal(cases.Select(c => c.L1BmdMgPerCm3), Enumerable.Range(1000, 60).Select(seed => TrainingExport.RandomCase(new PhantomOptions(), seed).L1BmdMgPerCm3));
    }

    [Fact]
    public void RandomCasesDrawPatientLikeScansAtTheStatedRates()
    {
        var cases = Enumerable.Range(20000, 2000).Select(seed => TrainingExport.RandomCase(new PhantomOptions(), seed)).ToList();
        double Rate(Func<PhantomOptions, bool> what) => cases.Count(what) / (double)cases.Count;
        Assert.All(cases, options => Assert.Null(options.Validate()));
        Assert.InRange(Rate(c => c.Kernel is ReconstructionKernel.Bone or ReconstructionKernel.Sharp), 0.21, 0.29);
        Assert.InRange(Rate(c => c.Kernel == ReconstructionKernel.Sharp), 0.10, 0.16);
        Assert.InRange(Rate(c => c.Arms == ArmPosition.Down), 0.36, 0.44);
        Assert.InRange(Rate(c => c.DegenerationGrade > 0), 0.26, 0.34);
        Assert.InRange(Rate(c => c.WedgeLevel is not null), 0.12, 0.18);
        Assert.InRange(Rate(c => c.BeamHardening > 0), 0.65, 0.75);
        Assert.InRange(Rate(c => c.SliceThicknessMm == 5), 0.16, 0.24);
        Assert.All(cases.Where(c => c.WedgeLevel is not null), c =>
        {
            Assert.Contains(c.WedgeLevel, new[] { "T10", "T11", "T12", "T13", "L1", "L2" });
            Assert.InRange(c.WedgeHeightLoss, 0.20, 0.25);
        });

        // Low dose: soft-tissue noise up to 60 HU with soft and standard kernels, sharp kernels noisier still.
        Assert.Contains(cases, c => c.Kernel == ReconstructionKernel.Standard && c.NoiseSigmaHu > 45);
        Assert.All(cases.Where(c => c.Kernel is ReconstructionKernel.Soft or ReconstructionKernel.Standard), c => Assert.InRange(c.NoiseSigmaHu, 6, 60));
        Assert.True(cases.Where(c => c.Kernel == ReconstructionKernel.Sharp).Average(c => c.NoiseSigmaHu) > 2 * cases.Where(c => c.Kernel == ReconstructionKernel.Standard).Average(c => c.NoiseSigmaHu));
    }

    [Fact]
    public void HeldOutEvaluationCasesIncludeThickSlicesSharpKernelsDegenerationAndWedges()
    {
        var cases = Enumerable.Range(900000, 200).Select(seed => QctPipeline.Evaluation.PhantomLevelEvaluation.CaseOptions(seed)).ToList();
        Assert.Contains(cases, c => c.SliceThicknessMm == 5);
        Assert.All(cases, c => Assert.Equal(c.SliceThicknessMm, c.SliceSpacingMm));
        Assert.True(cases.Count(c => c.Kernel == ReconstructionKernel.Sharp) >= 10);
        Assert.True(cases.Count(c => c.DegenerationGrade > 0.5) >= 10);
        Assert.True(cases.Count(c => c.WedgeLevel is not null) >= 10);
        Assert.True(cases.Count(c => c.Arms == ArmPosition.Down) >= 40);
    }

    [Fact]
    public void TheIsotropicGridKeepsAThickerSeriesProfile()
    {
        var options = TrainingExport.OnIsotropicGrid(SmallPhantoms.Options with { SliceThicknessMm = 5 }, 2);
        Assert.Equal(5, options.SliceThicknessMm);
        Assert.Equal(2, options.SliceSpacingMm);
        Assert.Equal(2, TrainingExport.OnIsotropicGrid(SmallPhantoms.Options with { SliceThicknessMm = 1 }, 2).SliceThicknessMm);
    }

    private static byte[] ReadNpy(ZipArchiveEntry entry, out string header)
    {
        using var stream = entry.Open();
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        Assert.Equal("\u0093NUMPY", Encoding.Latin1.GetString(bytes, 0, 6));
        var length = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + length) % 64);
        header = Encoding.ASCII.GetString(bytes, 10, length);
        return bytes[(10 + length)..];
    }
}
