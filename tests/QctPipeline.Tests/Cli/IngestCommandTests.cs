using System.Text.Json;
using QctPipeline.Nifti;
using QctPipeline.Tests.Ingest;

namespace QctPipeline.Tests.Cli;

public sealed class IngestCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void InspectJsonListsEverySeriesWithItsFate()
    {
        var result = QctProcess.Run("inspect", RealData.Path("dcm-qa-ct-exam"), "--json");

        Assert.Equal(0, result.ExitCode);
        using var report = JsonDocument.Parse(result.Output);
        var series = report.RootElement.GetProperty("series").EnumerateArray().ToList();
        var selected = Assert.Single(series, s => s.GetProperty("selected").GetBoolean());
        Assert.Equal(28, selected.GetProperty("sliceCount").GetInt32());
        Assert.Equal(5.0, selected.GetProperty("spacing")[2].GetDouble(), 3);
        Assert.Equal(6, selected.GetProperty("directionCosines").GetArrayLength());
        Assert.Equal(3, selected.GetProperty("origin").GetArrayLength());
        Assert.Equal(-1024, selected.GetProperty("huMin").GetSingle());
        Assert.True(selected.TryGetProperty("huMean", out _));
        Assert.Equal(["Explicit VR Little Endian"], selected.GetProperty("transferSyntaxes").EnumerateArray().Select(e => e.GetString()));
        Assert.All(series.Where(s => !s.GetProperty("selected").GetBoolean()), s => Assert.False(string.IsNullOrEmpty(s.GetProperty("skipReason").GetString())));
        Assert.Contains(report.RootElement.GetProperty("ignoredFiles").EnumerateArray(), f => f.GetProperty("reason").GetString() == "DICOMDIR (media directory index), not an image");
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public void NoUsableCtSeriesExitsThreeWithEachCandidatesReason()
    {
        new SyntheticSeries { Modality = "MR" }.Write(folder.Path, SyntheticSeries.Axial(12, 2.0));

        var result = QctProcess.Run("inspect", folder.Path);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("series 2.25.1000: modality MR is not CT (--any-modality accepts it)", result.Error);
        Assert.Equal(0, QctProcess.Run("inspect", folder.Path, "--any-modality").ExitCode);
    }

    [Fact]
    public void MissingInputExitsFourWithOneLine()
    {
        var result = QctProcess.Run("inspect", folder.File("absent"));

        Assert.Equal(4, result.ExitCode);
        Assert.Equal($"qct: {folder.File("absent")}: no such file or folder", result.Error.Trim());
    }

    [Fact]
    public void FolderOfNonDicomFilesExitsFour()
    {
        File.WriteAllText(folder.File("a.txt"), "not dicom");

        var result = QctProcess.Run("inspect", folder.Path);

        Assert.Equal(4, result.ExitCode);
        Assert.Contains($"{folder.File("a.txt")}: not a DICOM file", result.Error);
    }

    [Fact]
    public void UnknownOptionIsAUsageError()
    {
        Assert.Equal(2, QctProcess.Run("inspect", folder.Path, "--frobnicate").ExitCode);
        Assert.Equal(2, QctProcess.Run("convert", folder.Path).ExitCode);
    }

    [Fact]
    public void ConvertWritesTheSpineSeriesOnTheLabelMapsGrid()
    {
        var output = folder.File("spine.nii.gz");

        var result = QctProcess.Run("convert", RealData.Path("ts-spine-j2k", "dicom"), "--out", output);

        Assert.Equal(0, result.ExitCode);
        var written = NiftiReader.Read(output);
        var labels = NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz"));
        Assert.Equal(labels.Dimensions, written.Dimensions);
        Assert.True(written.Sform.MaxAbsDifference(labels.Sform) < 1e-3, $"sform {written.Sform} vs {labels.Sform}");
        Assert.Equal(NiftiDataType.Int16, written.DataType);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void ConvertRefusesAnOutputThatIsNotNifti()
    {
        var result = QctProcess.Run("convert", RealData.Path("ts-spine-j2k", "dicom"), "--out", folder.File("spine.img"));

        Assert.Equal(2, result.ExitCode);
        Assert.False(File.Exists(folder.File("spine.img")));
    }
}
