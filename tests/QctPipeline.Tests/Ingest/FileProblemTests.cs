using System.Buffers.Binary;
using QctPipeline.Dicom;
using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

public sealed class FileProblemTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private string[] WriteSeries(int count = 12) => new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(count, 2.0));

    private IngestSurvey Survey() => DicomIngest.Survey(folder.Path, new IngestOptions());

    [Fact]
    public void TruncatedPixelDataIsNamedAndTheRestOfTheSeriesStillLoadsWithAGapWarning()
    {
        var paths = WriteSeries(13);
        var bytes = File.ReadAllBytes(paths[6]);
        File.WriteAllBytes(paths[6], bytes[..(bytes.Length - 100)]);

        var survey = Survey();

        var problem = Assert.Single(survey.Problems);
        Assert.Equal(paths[6], problem.Path);
        Assert.StartsWith("truncated: pixel data needs 640 bytes but the file ends 100 bytes short", problem.Reason, StringComparison.Ordinal);
        Assert.Contains(survey.Selection.Selected!.Warnings, w => w.StartsWith("missing slice", StringComparison.Ordinal));
    }

    [Fact]
    public void FileCutInsideTheHeaderIsTruncated()
    {
        var paths = WriteSeries();
        File.WriteAllBytes(paths[0], File.ReadAllBytes(paths[0])[..300]);

        Assert.StartsWith("truncated:", Assert.Single(Survey().Problems).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void LengthLargerThanTheFileIsRejectedWithTheTagAndOffset()
    {
        var paths = WriteSeries();
        var bytes = File.ReadAllBytes(paths[3]);
        var offset = FindElement(bytes, DicomTag.PatientId);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset + 6), 0x7FFE);
        File.WriteAllBytes(paths[3], bytes);

        var reason = Assert.Single(Survey().Problems).Reason;

        Assert.Contains("(0010,0020)", reason);
    }

    [Fact]
    public void OddLengthIsRejected()
    {
        var paths = WriteSeries();
        var bytes = File.ReadAllBytes(paths[2]);
        var offset = FindElement(bytes, DicomTag.PatientId);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset + 6), 7);
        File.WriteAllBytes(paths[2], bytes);

        Assert.Contains("odd length 7", Assert.Single(Survey().Problems).Reason);
    }

    [Fact]
    public void GarbageVrBytesAreRejected()
    {
        var paths = WriteSeries();
        var bytes = File.ReadAllBytes(paths[1]);
        var offset = FindElement(bytes, DicomTag.Modality);
        bytes[offset + 4] = 0x01;
        File.WriteAllBytes(paths[1], bytes);

        Assert.Contains("invalid VR bytes 0x0153", Assert.Single(Survey().Problems).Reason);
    }

    [Fact]
    public void NonDicomAndEmptyFilesAreListedAndIgnored()
    {
        WriteSeries();
        File.WriteAllText(folder.File("notes.txt"), "radiologist's notes, not an image\n");
        File.WriteAllBytes(folder.File("empty.dcm"), []);

        var survey = Survey();

        Assert.NotNull(survey.Selection.Selected);
        Assert.Equal([(folder.File("empty.dcm"), "empty file (0 bytes)")], survey.Problems.Select(p => (p.Path, p.Reason)));
        Assert.Equal([(folder.File("notes.txt"), "not a DICOM file (no 'DICM' marker and no plausible data set at the start)")], survey.Ignored.Select(p => (p.Path, p.Reason)));
    }

    [Fact]
    public void NamedPipeInTheFolderDoesNotBlockTheSurvey()
    {
        WriteSeries();
        var pipe = folder.File("pipe.dcm");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", pipe))
        {
            mkfifo.WaitForExit();
        }

        var survey = Survey();

        Assert.NotNull(survey.Selection.Selected);
        Assert.Equal([(pipe, "empty file (0 bytes)")], survey.Problems.Select(p => (p.Path, p.Reason)));
    }

    [Fact]
    public void TextWhereANumberMustBeFailsTheFileNamingTheTag()
    {
        new SyntheticSeries().Write(folder.Path, SyntheticSeries.Axial(12, 2.0), (k, w) =>
        {
            if (k == 0)
            {
                w.Add(DicomTag.PixelSpacing, DicomVR.DS, "abc\\0.8");
            }
        });

        Assert.Equal("(0028,0030) value 'abc' is not a number", Assert.Single(Survey().Problems).Reason);
    }

    [Fact]
    public void MissingInputFolderIsAnError()
    {
        Assert.Throws<FileNotFoundException>(() => DicomIngest.Survey(folder.File("absent"), new IngestOptions()));
    }

    private static int FindElement(byte[] bytes, DicomTag tag)
    {
        Span<byte> pattern = stackalloc byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(pattern, tag.Group);
        BinaryPrimitives.WriteUInt16LittleEndian(pattern[2..], tag.Element);
        var offset = bytes.AsSpan(132).IndexOf(pattern);
        Assert.True(offset >= 0, $"{tag} not found");
        return offset + 132;
    }
}
