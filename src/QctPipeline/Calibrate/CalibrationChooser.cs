using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>The calibration chosen for a series, the contrast assessment, and the reference tissues measured (if any).</summary>
public sealed record CalibrationOutcome(Calibration Calibration, ContrastAssessment Contrast, ReferenceTissues? Tissues);

/// <summary>
/// Chooses the calibration: a phantom in the scan, else a matching calibration file, else reference tissues, else
/// none — each method skipped leaves a warning saying why. A requested method is used alone: when it fails the
/// result is method None with its reason rather than a silent substitute.
/// </summary>
public static class CalibrationChooser
{
    /// <param name="l1CentroidLps">Centre of the L1 body (LPS mm); null makes internal calibration and aortic contrast detection unavailable.</param>
    public static CalibrationOutcome Choose(CtVolume volume, SeriesMetadata metadata, Vector3? l1CentroidLps, CalibrationOptions options)
    {
        var tissues = l1CentroidLps is { } centroid ? InternalCalibrator.Measure(volume, centroid, options) : null;
        var contrast = ContrastDetector.Assess(metadata, tissues?.Of(ReferenceTissue.Blood)?.MedianHu);
        var skipped = new List<string>();
        var order = options.Request switch
        {
            CalibrationRequest.Auto => [CalibrationMethod.Phantom, CalibrationMethod.Async, CalibrationMethod.Internal],
            CalibrationRequest.Phantom => [CalibrationMethod.Phantom],
            CalibrationRequest.Async => [CalibrationMethod.Async],
            CalibrationRequest.Internal => [CalibrationMethod.Internal],
            _ => Array.Empty<CalibrationMethod>(),
        };

        foreach (var method in order)
        {
            var calibration = method switch
            {
                CalibrationMethod.Phantom => PhantomCalibrator.Calibrate(volume, metadata.Kvp, options),
                CalibrationMethod.Async => FromFiles(metadata, options),
                _ => tissues is null
                    ? Calibration.None("internal calibration needs the L1 centroid", [])
                    : InternalCalibrator.Calibrate(tissues, metadata.Kvp, contrast.Detected, options),
            };
            if (calibration.HasLine)
            {
                return new CalibrationOutcome(calibration with { Warnings = [.. skipped, .. calibration.Warnings] }, contrast, tissues);
            }

            skipped.Add($"{method.ToString().ToLowerInvariant()} calibration not used: {calibration.NoneReason}");
            skipped.AddRange(calibration.Warnings);
        }

        var reason = options.Request == CalibrationRequest.None
            ? "calibration disabled by request: HU only"
            : $"no calibration available ({string.Join("; ", order.Select(m => m.ToString().ToLowerInvariant()))} tried): HU only";
        return new CalibrationOutcome(Calibration.None(reason, skipped), contrast, tissues);
    }

    private static Calibration FromFiles(SeriesMetadata metadata, CalibrationOptions options)
    {
        if (options.CalibrationFileOrFolder is not { } source)
        {
            return Calibration.None("no calibration file or folder given", []);
        }

        try
        {
            return CalibrationFile.Match(CalibrationFile.LoadAll(source), metadata, options);
        }
        catch (CalibrationFileException ex)
        {
            return Calibration.None(ex.Message, []);
        }
    }
}
