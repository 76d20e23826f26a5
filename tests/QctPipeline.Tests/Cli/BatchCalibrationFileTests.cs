using QctPipeline.Store;

namespace QctPipeline.Tests.Cli;

/// <summary>`batch --calibration-file`: asynchronous calibration for a whole batch, matched study by study.</summary>
public sealed class BatchCalibrationFileTests
{
    [Fact]
    public void A_saved_calibration_is_used_for_every_study_it_matches_and_not_for_one_it_does_not()
    {
        using var folder = new TempFolder();
        var saved = folder.File("calib.json");
        var calibrate = QctProcess.Run("calibrate", RepositoryFiles.Path("sample-dicom", "patient-c-mindways"), "--save", saved);
        Assert.True(calibrate.ExitCode == 0, calibrate.Error);

        // Every sample study comes from the scanner, kVp and kernel of the Mindways scan: all take its line.
        var matched = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom"), "--out", folder.File("out"), "--db", folder.File("a.sqlite"), "--calibration", "async", "--calibration-file", saved);
        Assert.True(matched.ExitCode == 0, matched.Output + matched.Error);
        using (var store = ResultStore.Open(folder.File("a.sqlite")))
        {
            Assert.Equal(6, store.All().Count);
            Assert.All(store.All(), exam => Assert.Equal("async", exam.CalibrationMethod));
        }

        // The same line saved as if from an 80 kVp scan matches none; auto then falls back to the reference tissues.
        var other = folder.File("calib-80kv.json");
        File.WriteAllText(other, File.ReadAllText(saved).Replace("\"kvp\": 120", "\"kvp\": 80", StringComparison.Ordinal));
        var unmatched = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom", "patient-b"), "--out", folder.File("out-80"), "--db", folder.File("b.sqlite"), "--calibration-file", other);
        Assert.True(unmatched.ExitCode == 0, unmatched.Output + unmatched.Error);
        using (var store = ResultStore.Open(folder.File("b.sqlite")))
        {
            Assert.NotEmpty(store.All());
            Assert.All(store.All(), exam => Assert.NotEqual("async", exam.CalibrationMethod));
        }

        // A file that is not a calibration fails the run before any study, in one line naming it.
        var bad = folder.File("bad.json");
        File.WriteAllText(bad, "{bad");
        var refused = QctProcess.Run("batch", RepositoryFiles.Path("sample-dicom"), "--out", folder.File("out-bad"), "--db", folder.File("c.sqlite"), "--calibration-file", bad);
        Assert.Equal(4, refused.ExitCode);
        Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(bad, refused.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder.File("out-bad")));
    }
}
