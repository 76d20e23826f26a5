using System.Text.Json;
using QctPipeline.Dicom;

namespace QctPipeline.Tests.Cli;

/// <summary>The SEG a batch writes parses with dcmtk and GDCM, and its frames hold the segmented bodies.</summary>
public sealed class DicomOutputTests
{
    [Fact]
    public void Batch_segmentation_parses_with_dcmtk_and_gdcm_and_holds_the_L1_body()
    {
        using var folder = new TempFolder();
        var batch = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom", "patient-c-mindways"), "--out", folder.File("out"), "--db", folder.File("results.sqlite"));
        Assert.True(batch.ExitCode == 0, batch.Error);
        var seg = Assert.Single(Directory.GetFiles(folder.File("out"), "seg.dcm", SearchOption.AllDirectories));
        var result = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(seg)!, "result.json"))).RootElement;

        var dump = ExternalProcess.Run("dcmdump", "-E", seg);
        Assert.True(dump.ExitCode == 0, dump.Error);
        Assert.DoesNotContain("E:", dump.Error, StringComparison.Ordinal);
        Assert.Contains("SegmentationStorage", dump.Output, StringComparison.Ordinal);

        using (var reader = new gdcm.Reader())
        {
            reader.SetFileName(seg);
            Assert.True(reader.Read(), "GDCM could not read the SEG");
        }

        var file = DicomFile.Parse(seg, File.ReadAllBytes(seg));
        var data = file.Dataset;
        Assert.Equal("SEG", data.GetString(DicomTag.Modality));
        Assert.Equal(result.GetProperty("studyInstanceUid").GetString(), data.GetString(DicomTag.StudyInstanceUid));
        Assert.Equal(result.GetProperty("seriesInstanceUid").GetString(), data.GetSequence(new DicomTag(0x0008, 0x1115))[0].GetString(DicomTag.SeriesInstanceUid));
        var segments = data.GetSequence(new DicomTag(0x0062, 0x0002));
        Assert.Contains(segments, s => s.GetString(new DicomTag(0x0062, 0x0005)) == "L1 vertebral body"
            && s.GetSequence(new DicomTag(0x0062, 0x000F))[0].GetString(new DicomTag(0x0008, 0x0100)) == "66794005");

        var frames = (int)data.GetInteger(new DicomTag(0x0028, 0x0008))!.Value;
        var (rows, columns) = ((int)data.GetInteger(new DicomTag(0x0028, 0x0010))!.Value, (int)data.GetInteger(new DicomTag(0x0028, 0x0011))!.Value);
        Assert.Equal(frames, data.GetSequence(new DicomTag(0x5200, 0x9230)).Count);
        var pixels = data.Find(new DicomTag(0x7FE0, 0x0010))!.Value.Span;
        Assert.Equal(((((long)frames * rows * columns) + 7) / 8) + 1 & ~1L, pixels.Length);

        // The set bits of L1's frames make its body's volume (voxels × voxel volume).
        var l1Number = (int)segments.First(s => s.GetString(new DicomTag(0x0062, 0x0005)) == "L1 vertebral body").GetInteger(new DicomTag(0x0062, 0x0004))!.Value;
        var perFrame = data.GetSequence(new DicomTag(0x5200, 0x9230));
        long l1Voxels = 0;
        for (var frame = 0; frame < frames; frame++)
        {
            if (perFrame[frame].GetSequence(new DicomTag(0x0062, 0x000A))[0].GetInteger(new DicomTag(0x0062, 0x000B)) != l1Number)
            {
                continue;
            }

            for (long bit = (long)frame * rows * columns; bit < (long)(frame + 1) * rows * columns; bit++)
            {
                l1Voxels += (pixels[(int)(bit >> 3)] >> (int)(bit & 7)) & 1;
            }
        }

        var spacing = data.GetSequence(new DicomTag(0x5200, 0x9229))[0].GetSequence(new DicomTag(0x0028, 0x9110))[0];
        var pixel = spacing.GetNumbers(new DicomTag(0x0028, 0x0030))!;
        var thickness = spacing.GetNumber(DicomTag.SliceThickness)!.Value;
        var volumeMl = l1Voxels * pixel[0] * pixel[1] * thickness / 1000;
        Assert.Equal(result.GetProperty("l1").GetProperty("volumeMl").GetDouble(), volumeMl, 1);
    }

    [Fact]
    public void Batch_measurement_report_parses_with_dsrdump_and_gdcm_and_states_the_measurement_and_the_decline()
    {
        using var folder = new TempFolder();
        var batch = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom", "patient-a"), "--out", folder.File("out"), "--db", folder.File("results.sqlite"));
        Assert.True(batch.ExitCode == 0, batch.Error);
        var followUp = Directory.GetFiles(folder.File("out"), "result.json", SearchOption.AllDirectories)
            .Single(f => File.ReadAllText(f).Contains("\"studyDate\": \"2025-07-11\"", StringComparison.Ordinal));
        var sr = Path.Combine(Path.GetDirectoryName(followUp)!, "sr.dcm");
        var vbmd = JsonDocument.Parse(File.ReadAllText(followUp)).RootElement.GetProperty("l1").GetProperty("vbmd").GetProperty("mgPerCm3").GetDouble();

        var dump = ExternalProcess.Run("dsrdump", sr);

        Assert.True(dump.ExitCode == 0, dump.Error);
        Assert.Equal(string.Empty, dump.Error.Trim());
        Assert.Contains("Comprehensive SR Document", dump.Output, StringComparison.Ordinal);
        Assert.Contains("(66794005,SCT,\"L1 vertebra\")", dump.Output, StringComparison.Ordinal);
        Assert.Contains("\"Decline of 5 % or more from baseline\")=(373066001,SCT,\"Yes\")", dump.Output, StringComparison.Ordinal);
        var reported = dump.Output.Split('\n').Single(l => l.Contains("eroded body", StringComparison.Ordinal));
        var value = double.Parse(reported.Split("=\"")[1].Split('"')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(vbmd, value, 0.01);

        // The ACR two-level figure in a group of its own, at the lumbar spine.
        var twoLevels = JsonDocument.Parse(File.ReadAllText(followUp)).RootElement.GetProperty("l1").GetProperty("l1l2").GetProperty("vbmdMgPerCm3").GetDouble();
        Assert.Contains("(122496007,SCT,\"Lumbar spine\")", dump.Output, StringComparison.Ordinal);
        var averaged = dump.Output.Split('\n').Single(l => l.Contains("mean of L1 and L2", StringComparison.Ordinal));
        Assert.Equal(twoLevels, double.Parse(averaged.Split("=\"")[1].Split('"')[0], System.Globalization.CultureInfo.InvariantCulture), 0.01);
        using var reader = new gdcm.Reader();
        reader.SetFileName(sr);
        Assert.True(reader.Read(), "GDCM could not read the SR");
    }
}
