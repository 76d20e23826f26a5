using QctPipeline.Ingest;

namespace QctPipeline.Tests.Ingest;

/// <summary>
/// A research root is often made of symbolic links to study folders kept elsewhere: they are followed. A link that
/// loops back, a second link to a folder already read and a link that points nowhere are each reported in one line.
/// </summary>
public sealed class SymbolicLinkTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly IngestOptions options = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void ARootOfLinkedStudyFoldersIsReadAndLoopsAndDanglingLinksAreReported()
    {
        var store = Directory.CreateDirectory(Path.Combine(folder.Path, "store")).FullName;
        var root = Directory.CreateDirectory(Path.Combine(folder.Path, "root")).FullName;
        var studyA = Directory.CreateDirectory(Path.Combine(store, "a")).FullName;
        var studyB = Directory.CreateDirectory(Path.Combine(store, "b")).FullName;
        new SyntheticSeries { SeriesUid = "2.25.3001" }.Write(studyA, SyntheticSeries.Axial(12, 2.5));
        new SyntheticSeries { SeriesUid = "2.25.3002" }.Write(studyB, SyntheticSeries.Axial(12, 2.5));
        Directory.CreateSymbolicLink(Path.Combine(root, "study-a"), studyA);
        Directory.CreateSymbolicLink(Path.Combine(root, "study-b"), studyB);
        Directory.CreateSymbolicLink(Path.Combine(root, "study-a-again"), studyA);
        Directory.CreateSymbolicLink(Path.Combine(studyB, "back-to-root"), root);
        Directory.CreateSymbolicLink(Path.Combine(root, "gone"), Path.Combine(store, "deleted"));

        var survey = DicomIngest.Survey(root, options);

        // Each study once, whole: the second link to study A adds no duplicate slices.
        Assert.Equal(["2.25.3001", "2.25.3002"], survey.Series.Select(s => s.SeriesInstanceUid).Order(StringComparer.Ordinal));
        Assert.All(survey.Series, s => Assert.True(s.Usable && s.Frames.Count == 12, s.SkipReason));
        var problems = survey.Problems.ToDictionary(p => Path.GetFileName(p.Path), p => p.Reason);
        Assert.Contains("which does not exist", problems["gone"], StringComparison.Ordinal);
        Assert.Contains("a folder already read", problems["back-to-root"], StringComparison.Ordinal);
        Assert.Contains("a folder already read", problems["study-a-again"], StringComparison.Ordinal);
    }

    [Fact]
    public void ABindMountOfTheRootInsideItIsALoopReportedOnce()
    {
        // No link to see here: only the device and inode tell that "inner/again" is the root itself (as find does).
        var root = Directory.CreateDirectory(Path.Combine(folder.Path, "root")).FullName;
        new SyntheticSeries { SeriesUid = "2.25.3003" }.Write(Directory.CreateDirectory(Path.Combine(root, "study")).FullName, SyntheticSeries.Axial(12, 2.5));
        var mountPoint = Directory.CreateDirectory(Path.Combine(root, "inner", "again")).FullName;
        var mount = ExternalProcess.Run("mount", "--bind", root, mountPoint);
        Assert.True(mount.ExitCode == 0, $"mount --bind (the tests run as root): {mount.Error}");
        try
        {
            var survey = DicomIngest.Survey(root, options);

            var series = Assert.Single(survey.Series);
            Assert.Equal(12, series.Frames.Count);
            var loop = Assert.Single(survey.Problems);
            Assert.Equal(mountPoint, loop.Path);
            Assert.Contains("a folder already read", loop.Reason, StringComparison.Ordinal);
        }
        finally
        {
            ExternalProcess.Run("umount", mountPoint);
        }
    }
}
