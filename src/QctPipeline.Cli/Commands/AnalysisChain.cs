using System.Diagnostics;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Measure;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>What the chain after ingest hands on: the segmentation, the calibration chosen and, when L1 was found, the measurement.</summary>
internal sealed record AnalysisResult(SegmentationResult Segmentation, CalibrationOutcome Calibration, Measurement? Measurement)
{
    /// <summary>
    /// The result's status: no-l1 when the segmentation abstained, review when the level rests on one count alone or the
    /// measurement found something a person should check, ok otherwise.
    /// </summary>
    public SegmentationStatus Status => Segmentation.Status == SegmentationStatus.NoL1 ? SegmentationStatus.NoL1
        : Segmentation.Status == SegmentationStatus.Review || Measurement is null || Measurement.ReviewReasons.Count > 0 || Measurement.Choice.Level is null
            ? SegmentationStatus.Review
            : SegmentationStatus.Ok;

    /// <summary>Why the status is not ok: the segmentation's reason and the measurement's review reasons, in that order; null when ok.</summary>
    public string? Reason => Status == SegmentationStatus.Ok ? null : string.Join("; ", new[] { Segmentation.Reason }
        .Concat(Measurement?.ReviewReasons ?? [])
        .Concat(Measurement is { Choice.Level: null } m ? [m.Choice.Reason] : [])
        .Where(text => !string.IsNullOrEmpty(text)));

    /// <summary>The body mask of the vertebra measured (L1, or the neighbour measured instead); null when none was.</summary>
    public Mask? MeasuredBody => Measurement?.Choice.Level switch
    {
        VertebralLevel.L1 => Segmentation.L1Mask,
        VertebralLevel.L2 => Segmentation.L2Mask,
        VertebralLevel.AboveL1 => Segmentation.AboveL1Mask,
        _ => null,
    };
}

/// <summary>Segment → Calibrate → Measure on a loaded volume, as `qct analyze` runs it and `qct eval-vbmd` scores it.</summary>
internal static class AnalysisChain
{
    /// <param name="timings">Receives each stage's wall time (ms) under its name.</param>
    /// <param name="cancellation">Stops the chain (the network run itself, and between stages) when a study is abandoned.</param>
    public static AnalysisResult Run(CtVolume volume, SeriesMetadata metadata, SegmentationModel model, CalibrationOptions calibrationOptions, IDictionary<string, double> timings, CancellationToken cancellation = default)
    {
        var watch = Stopwatch.StartNew();
        var segmentation = L1Segmenter.Segment(volume, metadata, model, new SegmentOptions(), cancellation);
        timings["segment"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
        watch.Restart();
        var calibration = CalibrationChooser.Choose(volume, metadata, segmentation.L1CentroidLps, calibrationOptions);
        timings["calibrate"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
        cancellation.ThrowIfCancellationRequested();
        watch.Restart();
        var measurement = segmentation.Status != SegmentationStatus.NoL1
            ? VertebralMeasurement.Measure(volume, VertebraInput.Of(segmentation.L1Outline), VertebraInput.Of(segmentation.AboveL1Outline), VertebraInput.Of(segmentation.L2Outline),
                calibration.Calibration, calibration.Contrast.Detected, new MeasureOptions { Kvp = metadata.Kvp })
            : null;
        timings["measure"] = Math.Round(watch.Elapsed.TotalMilliseconds, 1);
        return new AnalysisResult(segmentation, calibration, measurement);
    }
}
