using System.CommandLine;
using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Phantom;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct eval-model --seeds A..B`: phantom cases generated in memory, each with anatomy, coverage and acquisition drawn
/// from its seed at clinical resolution (not the isotropic training grid), segmented and scored against truth.
/// </summary>
internal static class EvalModelCommand
{
    private static readonly double[] SliceThicknessesMm = [0.625, 1, 1.25, 2, 2.5, 3, 5];

    public static Command Create()
    {
        var seeds = new Option<string>("--seeds") { Description = "Seed range A..B (inclusive); use seeds never used in training.", Required = true };
        var model = new ModelArguments();
        var command = new Command("eval-model", "Score the L1 model on generated phantom cases: level correct, Dice, abstention when L1 is absent.");
        command.Options.Add(seeds);
        model.AddTo(command);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            if (ParseRange(parsed.GetValue(seeds)!) is not { } range)
            {
                return ExitCodes.Fail($"--seeds {parsed.GetValue(seeds)}: expected A..B with A ≤ B", ExitCodes.Usage);
            }

            using (var segmentationModel = model.Load(parsed))
            {
                Console.WriteLine($"model {segmentationModel.Manifest.Name} {segmentationModel.Manifest.Version}; seeds {range.First}..{range.Last}");
                Console.WriteLine("seed     coverage  ribs lumb  slice  L1 in scan  status  error_mm  dice   verdict       reason");
                var cases = new List<CaseScore>();
                for (var seed = range.First; seed <= range.Last; seed++)
                {
                    var score = Evaluate(seed, segmentationModel);
                    cases.Add(score);
                    Console.WriteLine(score.ToRow());
                }

                foreach (var line in Summary(cases))
                {
                    Console.WriteLine(line);
                }

                return ExitCodes.Ok;
            }
        }));
        return command;
    }

    /// <summary>The case's options as drawn for training, at a slice thickness drawn from the seed too.</summary>
    public static PhantomOptions CaseOptions(long seed)
    {
        var drawn = TrainingExport.RandomCase(new PhantomOptions(), seed);
        var thickness = SliceThicknessesMm[PhantomRandom.Stream(seed, "eval-acquisition").Next(SliceThicknessesMm.Length)];
        return drawn with { SliceThicknessMm = thickness, SliceSpacingMm = thickness };
    }

    private static CaseScore Evaluate(long seed, SegmentationModel model)
    {
        var options = CaseOptions(seed);
        var study = PhantomGenerator.Generate(options);
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(options));
        var truthL1 = truth.Levels.FirstOrDefault(level => level.Name == "L1");
        var metadata = new SeriesMetadata { SeriesInstanceUid = truth.Series.SeriesInstanceUid, Modality = "CT" };
        var result = L1Segmenter.Segment(study.Volume, metadata, model, new SegmentOptions());
        double? error = result.L1CentroidLps is { } found && truthL1 is not null
            ? (found - new Vector3(truthL1.BodyCentroidLps[0], truthL1.BodyCentroidLps[1], truthL1.BodyCentroidLps[2])).Length
            : null;
        double? dice = truthL1?.FullyInScan == true ? Dice(result.L1Mask, study.BodyLabels, SpineLabels.Code("L1")) : null;
        return new CaseScore(seed, $"{options.FromLevel}-{options.ToLevel}", options.RibPairs, options.LumbarVertebrae, options.SliceThicknessMm,
            truthL1?.FullyInScan == true, AnalyzeReport.StatusName(result.Status), error, dice, result.Reason);
    }

    /// <summary>Dice of the mask against the voxels labelled <paramref name="code"/>; an absent mask scores 0.</summary>
    public static double Dice(Mask? mask, ReadOnlySpan<byte> labels, byte code)
    {
        long both = 0, inMask = 0, inTruth = labels.Count(code);
        if (mask is not null)
        {
            var voxels = mask.Voxels;
            for (var index = 0; index < voxels.Length; index++)
            {
                if (voxels[index] != 0)
                {
                    inMask++;
                    both += labels[index] == code ? 1 : 0;
                }
            }
        }

        return inMask + inTruth == 0 ? 1 : 2.0 * both / (inMask + inTruth);
    }

    private static IEnumerable<string> Summary(List<CaseScore> cases)
    {
        var present = cases.Where(c => c.L1InScan).ToList();
        var absent = cases.Where(c => !c.L1InScan).ToList();
        static string Percent(int count, int total) => total == 0
            ? "n/a"
            : string.Create(CultureInfo.InvariantCulture, $"{count}/{total} ({100.0 * count / total:0.0} %)");
        var dices = present.Select(c => c.Dice ?? 0).Order().ToArray();
        var median = dices.Length == 0 ? double.NaN : dices.Length % 2 == 1 ? dices[dices.Length / 2] : (dices[(dices.Length / 2) - 1] + dices[dices.Length / 2]) / 2;
        yield return $"cases: {cases.Count} ({present.Count} with L1 fully in the scan, {absent.Count} without)";
        yield return $"level correct (L1 centroid within 10 mm of truth), L1 in scan: {Percent(present.Count(c => c.Correct), present.Count)}  (target ≥ 99 %)";
        yield return string.Create(CultureInfo.InvariantCulture, $"median Dice of the L1 body, L1 in scan (abstentions count 0): {median:0.000}  (target ≥ 0.90)");
        yield return $"abstained (no-l1) although L1 in scan: {Percent(present.Count(c => c.Status != "ok"), present.Count)}";
        yield return $"wrong level claimed (ok, centroid > 10 mm off), L1 in scan: {Percent(present.Count(c => c.Status == "ok" && !c.Correct), present.Count)}";
        yield return $"not found when L1 absent or cut: {Percent(absent.Count(c => c.Status != "ok"), absent.Count)}  (target 100 %)";
    }

    private static (long First, long Last)? ParseRange(string text)
    {
        var parts = text.Split("..");
        return parts.Length == 2
            && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            && first <= last
            ? (first, last)
            : null;
    }

    private sealed record CaseScore(long Seed, string Coverage, int Ribs, int Lumbar, double SliceMm, bool L1InScan, string Status, double? ErrorMm, double? Dice, string? Reason)
    {
        public bool Correct => L1InScan && Status == "ok" && ErrorMm <= 10;

        private string Verdict => (L1InScan, Status) switch
        {
            (true, "ok") => Correct ? "correct" : "WRONG LEVEL",
            (true, _) => "abstained",
            (false, "ok") => "CLAIMED",
            _ => "not found ok",
        };

        public string ToRow() => string.Create(CultureInfo.InvariantCulture,
            $"{Seed,-8} {Coverage,-9} {Ribs,4} {Lumbar,4} {SliceMm,6:0.###}  {(L1InScan ? "yes" : "no"),-10}  {Status,-6}  {(ErrorMm is { } e ? e.ToString("0.0", CultureInfo.InvariantCulture) : "-"),8}  {(Dice is { } d ? d.ToString("0.000", CultureInfo.InvariantCulture) : "-"),5}  {Verdict,-12}  {Reason}");
    }
}
