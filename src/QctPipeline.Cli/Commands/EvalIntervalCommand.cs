using System.CommandLine;
using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Phantom;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct eval-interval [--patients N] [--repeats N]`: whether the 95 % vBMD interval holds the truth as often as it
/// says. Each patient (a seed: anatomy, density, kVp, rod phantom) is scanned again and again: a new date gives new
/// noise and a new table position, and the calibration phantom is put down anew (shifted and turned). Every scan goes
/// through DICOM and the whole analyze chain with the shipped model; the truth is what an error-free calibration reads
/// over the truth mask's eroded ROI of that scan, so where the model's ROI lies counts as error.
/// </summary>
internal static class EvalIntervalCommand
{
    private static readonly double[] Densities = [50, 100, 150, 200, 250];
    private static readonly double[] TubeVoltages = [80, 100, 120, 140];
    private static readonly double[] NoiseLevels = [8, 12, 20, 30];
    private static readonly double[] SliceThicknessesMm = [0.625, 1.25, 2.5, 3];
    private static readonly CalibrationPhantomKind[] RodPhantoms = [CalibrationPhantomKind.Mindways, CalibrationPhantomKind.Qrm3, CalibrationPhantomKind.Qrm6, CalibrationPhantomKind.Bmas];

    public static Command Create()
    {
        var seed = new Option<long>("--seed") { Description = "First patient's seed (keep clear of training seeds).", DefaultValueFactory = _ => 640000 };
        var patients = new Option<int>("--patients") { Description = "How many patients.", DefaultValueFactory = _ => 10 };
        var repeats = new Option<int>("--repeats") { Description = "Scans of each patient.", DefaultValueFactory = _ => 10 };
        var model = new ModelArguments();
        var command = new Command("eval-interval", "Score the 95 % vBMD interval's coverage on repeated phantom scans through the whole analyze chain.");
        command.Options.Add(seed);
        command.Options.Add(patients);
        command.Options.Add(repeats);
        model.AddTo(command);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var scratch = Directory.CreateTempSubdirectory("qct-eval-interval-").FullName;
            try
            {
                using var segmentationModel = model.Load(parsed);
                Console.WriteLine($"model {segmentationModel.Manifest.Name} {segmentationModel.Manifest.Version}");
                Console.WriteLine("seed    date       kVp  noise slice phantom   status  vBMD     ci95              truth    err     noise  calib  place  roi-def  covers");
                var rows = new List<(bool? Covers, double? Width, double? RelativeWidth)>();
                foreach (var options in Cases(parsed.GetValue(seed), parsed.GetValue(patients), parsed.GetValue(repeats)))
                {
                    var result = EvalVbmdCommand.Evaluate(new EvalVbmdCommand.VbmdCase(EvalVbmdCommand.Suite.Sync, options.CalibrationPhantom.ToString(), options), segmentationModel, scratch);
                    var (row, covers, width, relative) = Row(options, result);
                    rows.Add((covers, width, relative));
                    Console.WriteLine(row);
                }

                var scored = rows.Where(r => r.Covers is not null).ToList();
                var widths = scored.Select(r => r.Width!.Value).Order().ToArray();
                var relativeWidths = scored.Select(r => r.RelativeWidth!.Value).Order().ToArray();
                var covered = scored.Count(r => r.Covers == true);
                var coverage = scored.Count == 0 ? 0 : 100.0 * covered / scored.Count;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"coverage {covered}/{scored.Count} = {coverage:0.0} % (target 92–98 %); median width {Median(widths):0.00} mg/cm³ ({Median(relativeWidths):0.0} % of the vBMD); without an interval {rows.Count - scored.Count}"));
                return scored.Count > 0 && coverage is >= 92 and <= 98 ? ExitCodes.Ok : ExitCodes.Failure;
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }));
        return command;
    }

    /// <summary>Patient p: density, kVp, noise, slices and rod phantom rotate with p; repeat r: a week later, the phantom shifted and turned anew.</summary>
    private static IEnumerable<PhantomOptions> Cases(long firstSeed, int patients, int repeats)
    {
        for (var p = 0; p < patients; p++)
        {
            var random = new Random((int)(firstSeed + p));
            for (var r = 0; r < repeats; r++)
            {
                yield return new PhantomOptions
                {
                    Seed = firstSeed + p,
                    PatientId = $"INTERVAL-{firstSeed + p}",
                    FromLevel = "T10",
                    ToLevel = "L3",
                    L1BmdMgPerCm3 = Densities[p % Densities.Length],
                    Kvp = TubeVoltages[p % TubeVoltages.Length],
                    NoiseSigmaHu = NoiseLevels[(p + r) % NoiseLevels.Length],
                    SliceThicknessMm = SliceThicknessesMm[p % SliceThicknessesMm.Length],
                    SliceSpacingMm = SliceThicknessesMm[p % SliceThicknessesMm.Length],
                    CalibrationPhantom = RodPhantoms[p % RodPhantoms.Length],
                    CalibrationPhantomShiftMm = Math.Round((random.NextDouble() - 0.5) * 60, 1),
                    CalibrationPhantomRotationDegrees = Math.Round((random.NextDouble() - 0.5) * 20, 1),
                    StudyDate = new DateOnly(2025, 1, 10).AddDays(7 * r),
                };
            }
        }
    }

    private static (string Row, bool? Covers, double? Width, double? RelativeWidth) Row(PhantomOptions o, EvalVbmdCommand.CaseResult result)
    {
        static string V(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
        var model = result.OnModel;
        var truth = result.OnTruth?.Equivalent;
        var ci = model?.Ci95;
        bool? covers = ci is not null && truth is { } t ? t >= ci.Lower && t <= ci.Upper : null;
        var row = string.Create(CultureInfo.InvariantCulture,
            $"{o.Seed,-7} {o.StudyDate:yyyy-MM-dd} {o.Kvp,3} {o.NoiseSigmaHu,5} {o.SliceThicknessMm,5} {o.CalibrationPhantom,-9} {result.Status,-7} {V(model?.Vbmd, "0.00"),7}  {(ci is null ? "-" : $"{ci.Lower:0.00}–{ci.Upper:0.00}"),-16}  {V(truth, "0.00"),7}  {V(model is not null && truth is { } e ? model.Vbmd - e : null, "+0.00;-0.00"),6}  {V(ci?.NoiseSdMg, "0.00"),5}  {V(ci?.CalibrationSdMg, "0.00"),5}  {V(ci?.PlacementSdMg, "0.00"),5}  {V(ci?.RoiDefinitionSdMg, "0.00"),5}  {(covers is null ? "-" : covers.Value ? "yes" : "NO")}");
        return (row, covers, ci is null || truth is null ? null : ci.Upper - ci.Lower, ci is null || truth is null ? null : 100 * (ci.Upper - ci.Lower) / model!.Vbmd);
    }

    private static double Median(double[] sorted) => sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
