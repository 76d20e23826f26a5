using System.CommandLine;
using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Ingest;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct calibrate`: find the calibration phantom in a phantom scan, print the fit and optionally store it for asynchronous use.</summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var save = new Option<FileInfo?>("--save") { Description = "Write the calibration (β, σ, scanner, kVp, kernel, date) as JSON for `--calibration-file`." };
        var command = new Command("calibrate", "Fit HU = β + σ·ρ from the calibration phantom (Mindways Model 3, QRM-BDC, B-MAS 200) in a scan.");
        arguments.AddTo(command);
        command.Options.Add(save);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var options = arguments.Options(parsed);
            var (survey, code) = IngestArguments.Survey(parsed.GetValue(arguments.Input)!, options);
            if (survey.Selection.Selected is not { } selected)
            {
                return code;
            }

            var loaded = DicomIngest.Load(selected, options);
            var calibration = PhantomCalibrator.Calibrate(loaded.Volume, selected.Metadata.Kvp, new CalibrationOptions());
            Console.WriteLine(Describe(calibration));
            if (!calibration.HasLine)
            {
                return ExitCodes.Fail($"{parsed.GetValue(arguments.Input)}: {calibration.NoneReason}", ExitCodes.Failure);
            }

            if (parsed.GetValue(save)?.FullName is { } path)
            {
                CalibrationFile.Save(CalibrationRecord.From(calibration, selected.Metadata), path);
                Console.Error.WriteLine($"{path}: calibration written");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static string Describe(Calibration calibration)
    {
        var lines = new List<string>();
        if (calibration.HasLine)
        {
            lines.Add(Invariant($"{calibration.Method.ToString().ToLowerInvariant()} calibration ({calibration.Reference}): HU = {calibration.InterceptHu:0.00} + {calibration.SlopeHuPerMgPerCm3:0.0000} × ρ (mg/cm³ HA), r {calibration.R:0.00000}"));
            lines.AddRange(calibration.Points.Select(point => Invariant(
                $"  {point.Name,-6} {point.NominalDensity,8:0.00} {point.NominalMaterial,-7} ({point.KnownDensityMgPerCm3,7:0.0} HA)  measured {point.MeasuredHu,8:0.0} HU  fitted {point.FittedHu,8:0.0}  residual {point.ResidualHu,5:+0.0;-0.0;0.0}  ROI {point.RoiAreaMm2:0} mm² × {point.Slices} slices")));
        }

        lines.AddRange(calibration.Warnings.Select(warning => $"  warning: {warning}"));
        return string.Join(Environment.NewLine, lines);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
