using QctPipeline.Calibrate;
using QctPipeline.Domain;

namespace QctPipeline.Tests.Calibrate;

public sealed class CalibrationFileTests
{
    private static readonly SeriesMetadata Series = new()
    {
        SeriesInstanceUid = "1.2.3",
        Manufacturer = "ACME",
        ManufacturerModelName = "Scan 64",
        DeviceSerialNumber = "SN-1",
        Kvp = 120,
        ConvolutionKernel = "STANDARD",
        StudyDate = new DateOnly(2025, 6, 1),
    };

    private static readonly Calibration Fitted = new()
    {
        Method = CalibrationMethod.Phantom,
        InterceptHu = -3.5,
        SlopeHuPerMgPerCm3 = 1.34,
        R = 0.9999,
        Reference = "QRM-BDC 3-rod",
        Points = [new CalibrationPoint("HA100", 100, "HA", 100, 130.6, 130.5, 56, 560, 10)],
        Warnings = ["a warning"],
    };

    [Fact]
    public void RoundTripsEveryField()
    {
        using var folder = new TempFolder();
        var record = CalibrationRecord.From(Fitted, Series with { StudyDate = new DateOnly(2025, 5, 1) });

        CalibrationFile.Save(record, folder.File("calib.json"));
        var loaded = CalibrationFile.Load(folder.File("calib.json"));

        Assert.Equal(record with { Points = [], Warnings = [] }, loaded with { Points = [], Warnings = [] });
        Assert.Equal(record.Points, loaded.Points);
        Assert.Equal(record.Warnings, loaded.Warnings);
        Assert.Single(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void MatchesScannerKvpAndKernelFromAFolder()
    {
        using var folder = new TempFolder();
        CalibrationFile.Save(CalibrationRecord.From(Fitted, Series with { Kvp = 100, StudyDate = new DateOnly(2025, 5, 1) }), folder.File("a-100kvp.json"));
        CalibrationFile.Save(CalibrationRecord.From(Fitted with { SlopeHuPerMgPerCm3 = 1.2 }, Series with { StudyDate = new DateOnly(2025, 5, 1) }), folder.File("b-120kvp.json"));
        CalibrationFile.Save(CalibrationRecord.From(Fitted, Series with { ConvolutionKernel = "BONE", StudyDate = new DateOnly(2025, 5, 1) }), folder.File("c-bone.json"));

        var calibration = CalibrationFile.Match(CalibrationFile.LoadAll(folder.Path), Series, new CalibrationOptions());

        Assert.Equal(CalibrationMethod.Async, calibration.Method);
        Assert.Equal(1.2, calibration.SlopeHuPerMgPerCm3);
        Assert.Contains("b-120kvp.json", calibration.Reference, StringComparison.Ordinal);
        Assert.DoesNotContain(calibration.Warnings, w => w.Contains("older", StringComparison.Ordinal));

        var otherScanner = CalibrationFile.Match(CalibrationFile.LoadAll(folder.Path), Series with { DeviceSerialNumber = "SN-2" }, new CalibrationOptions());
        Assert.Equal(CalibrationMethod.None, otherScanner.Method);
        Assert.Contains("serial SN-1, series SN-2", otherScanner.NoneReason, StringComparison.Ordinal);
    }

    [Fact]
    public void WarnsWhenOlderThanTheLimit()
    {
        using var folder = new TempFolder();
        CalibrationFile.Save(CalibrationRecord.From(Fitted, Series with { StudyDate = new DateOnly(2024, 1, 1) }), folder.File("old.json"));

        var files = CalibrationFile.LoadAll(folder.File("old.json"));
        var old = CalibrationFile.Match(files, Series, new CalibrationOptions { MaxCalibrationAgeDays = 365 });
        var allowed = CalibrationFile.Match(files, Series, new CalibrationOptions { MaxCalibrationAgeDays = 600 });

        Assert.Contains(old.Warnings, w => w.Contains("old.json is 517 days older than the scan (limit 365)", StringComparison.Ordinal));
        Assert.DoesNotContain(allowed.Warnings, w => w.Contains("older", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{\"formatVersion\": 9, \"interceptHu\": 0, \"slopeHuPerMgPerCm3\": 1, \"method\": \"phantom\", \"reference\": \"x\", \"scanner\": {}}")]
    [InlineData("{\"interceptHu\": 0, \"slopeHuPerMgPerCm3\": -1, \"method\": \"phantom\", \"reference\": \"x\", \"scanner\": {}}")]
    [InlineData("{\"interceptHu\": 0}")]
    public void BadFileGivesOneLineNamingIt(string content)
    {
        using var folder = new TempFolder();
        var path = folder.File("bad.json");
        File.WriteAllText(path, content);

        var error = Assert.Throws<CalibrationFileException>(() => CalibrationFile.Load(path));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingFileIsACalibrationFileError()
    {
        var error = Assert.Throws<CalibrationFileException>(() => CalibrationFile.Load("/nonexistent/calib.json"));
        Assert.StartsWith("/nonexistent/calib.json: ", error.Message, StringComparison.Ordinal);
    }
}
