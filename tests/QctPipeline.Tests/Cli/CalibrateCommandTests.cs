using QctPipeline.Calibrate;
using QctPipeline.Domain;

namespace QctPipeline.Tests.Cli;

public sealed class CalibrateCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void A_Mindways_scan_is_fitted_and_saved_for_asynchronous_use()
    {
        var saved = folder.File("calib.json");

        var result = QctProcess.Run("calibrate", RepositoryFiles.Path("sample-dicom", "patient-c-mindways"), "--save", saved);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("phantom calibration (", result.Output);
        Assert.Equal(5, result.Output.Split('\n').Count(line => line.Contains("residual", StringComparison.Ordinal)));
        var record = CalibrationFile.Load(saved);
        Assert.Equal(CalibrationMethod.Phantom, record.Method);
        Assert.Equal(120, record.Kvp);
        Assert.InRange(record.R!.Value, 0.999, 1.0);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void A_scan_without_a_phantom_fails_with_one_line_naming_the_folder()
    {
        var input = RepositoryFiles.Path("sample-dicom", "patient-d-venous");

        var result = QctProcess.Run("calibrate", input, "--save", folder.File("calib.json"));

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"qct: {input}: no calibration phantom found", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.False(File.Exists(folder.File("calib.json")));
    }

    [Fact]
    public void An_unknown_calibration_method_is_a_one_line_usage_error()
    {
        var result = QctProcess.Run("analyze", RepositoryFiles.Path("sample-dicom", "patient-d-venous"), "--json", "--calibration", "bogus");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("qct: Cannot parse argument 'bogus' for option '--calibration'", result.Error);
        Assert.Single(result.Error.Trim().Split('\n'));
        Assert.Equal(string.Empty, result.Output);
    }
}
