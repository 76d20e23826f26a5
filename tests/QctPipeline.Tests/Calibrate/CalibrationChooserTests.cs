using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Calibrate;

public sealed class CalibrationChooserTests
{
    [Fact]
    public void WithoutAPhantomFallsToInternalAndSaysWhy()
    {
        var (volume, metadata, truth) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options);

        var outcome = CalibrationChooser.Choose(volume, metadata, CalibrationPhantoms.L1Centroid(truth), new CalibrationOptions());

        Assert.Equal(CalibrationMethod.Internal, outcome.Calibration.Method);
        Assert.Contains(outcome.Calibration.Warnings, w => w.StartsWith("phantom calibration not used: no calibration phantom found", StringComparison.Ordinal));
        Assert.Contains(outcome.Calibration.Warnings, w => w.StartsWith("async calibration not used: no calibration file", StringComparison.Ordinal));
        Assert.False(outcome.Contrast.Detected);
    }

    [Fact]
    public void PrefersThePhantomAndHonoursARequest()
    {
        var (volume, metadata, truth) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options with { CalibrationPhantom = CalibrationPhantomKind.Bmas });
        var centroid = CalibrationPhantoms.L1Centroid(truth);

        Assert.Equal(CalibrationMethod.Phantom, CalibrationChooser.Choose(volume, metadata, centroid, new CalibrationOptions()).Calibration.Method);
        Assert.Equal(CalibrationMethod.Internal, CalibrationChooser.Choose(volume, metadata, centroid, new CalibrationOptions { Request = CalibrationRequest.Internal }).Calibration.Method);
        var none = CalibrationChooser.Choose(volume, metadata, centroid, new CalibrationOptions { Request = CalibrationRequest.None }).Calibration;
        Assert.Equal(CalibrationMethod.None, none.Method);
        Assert.Contains("disabled", none.NoneReason, StringComparison.Ordinal);
        var asyncWithoutFile = CalibrationChooser.Choose(volume, metadata, centroid, new CalibrationOptions { Request = CalibrationRequest.Async }).Calibration;
        Assert.Equal(CalibrationMethod.None, asyncWithoutFile.Method);
        Assert.Contains(asyncWithoutFile.Warnings, w => w.Contains("no calibration file or folder given", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutL1OnlyPhantomOrFileRemain()
    {
        var (volume, metadata, _) = CalibrationPhantoms.Generate(CalibrationPhantoms.Options);

        var outcome = CalibrationChooser.Choose(volume, metadata, l1CentroidLps: null, new CalibrationOptions());

        Assert.Equal(CalibrationMethod.None, outcome.Calibration.Method);
        Assert.Contains(outcome.Calibration.Warnings, w => w.Contains("internal calibration needs the L1 centroid", StringComparison.Ordinal));
    }
}
