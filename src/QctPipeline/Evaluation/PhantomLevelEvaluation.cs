using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Phantom;
using QctPipeline.Segment;

namespace QctPipeline.Evaluation;

/// <summary>One phantom case of `qct eval-model`: what was drawn, what the L1 stage said, and how it scores against the truth.</summary>
public sealed record PhantomLevelCase(
    long Seed,
    PhantomOptions Options,
    bool L1InScan,
    string Status,
    double? ErrorMm,
    double? Dice,
    string? Reason)
{
    /// <summary>L1 named (ok or review) within 10 mm of the true L1 body's centroid.</summary>
    public bool Right => L1InScan && Status != "no-l1" && ErrorMm <= 10;

    /// <summary>L1 named elsewhere, or where there is no whole L1.</summary>
    public bool Wrong => Status != "no-l1" && !Right;

    public string Verdict => (L1InScan, Status) switch
    {
        (_, _) when Right => Status == "ok" ? "right" : "right, review",
        (true, "no-l1") => "abstained",
        (false, "no-l1") => "not found ok",
        _ => Status == "ok" ? "WRONG, OK" : "wrong, review",
    };

    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"{Seed,-8} {Options.FromLevel + "-" + Options.ToLevel,-9} {Options.RibPairs,4} {Options.LumbarVertebrae,4} {Options.SliceThicknessMm,6:0.###} {Options.Kernel,-8} {(Degenerative(Options) ? "yes" : "-"),-5} {Options.WedgeLevel ?? "-",-5}  {(L1InScan ? "yes" : "no"),-10}  {Status,-6}  {(ErrorMm is { } e ? e.ToString("0.0", CultureInfo.InvariantCulture) : "-"),8}  {(Dice is { } d ? d.ToString("0.000", CultureInfo.InvariantCulture) : "-"),5}  {Verdict,-14}  {Reason}");

    public const string Header = "seed     coverage  ribs lumb  slice kernel   degen wedge  L1 in scan  status  error_mm  dice   verdict         reason";

    public static bool Degenerative(PhantomOptions options) => options.DegenerationGrade is > 0;
}

/// <summary>
/// `qct eval-model`: phantom cases drawn from seeds never used in training (anatomy, coverage and acquisition as for
/// training, at clinical slice thicknesses), each run through the L1 stage and scored against the generator's truth.
/// </summary>
public static class PhantomLevelEvaluation
{
    private static readonly double[] SliceThicknessesMm = [0.625, 1, 1.25, 2, 2.5, 3, 5];

    /// <summary>The case's options as drawn for training, at a slice thickness drawn from the seed too.</summary>
    public static PhantomOptions CaseOptions(long seed)
    {
        var drawn = TrainingExport.RandomCase(new PhantomOptions(), seed);
        var thickness = SliceThicknessesMm[PhantomRandom.Stream(seed, "eval-acquisition").Next(SliceThicknessesMm.Length)];
        return drawn with { SliceThicknessMm = thickness, SliceSpacingMm = thickness };
    }

    public static PhantomLevelCase Evaluate(long seed, SegmentationModel model)
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
        var status = result.Status switch { SegmentationStatus.Ok => "ok", SegmentationStatus.Review => "review", _ => "no-l1" };
        return new PhantomLevelCase(seed, options, truthL1?.FullyInScan == true, status, error, dice, result.Reason);
    }

    /// <summary>Writes the case's DICOM series, truth.json and label volumes (what `qct phantom` writes) for a person to open.</summary>
    public static void Save(long seed, string folder) => PhantomStudyWriter.Write(PhantomGenerator.Generate(CaseOptions(seed)), folder);

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

    /// <summary>The totals issue 14 asks for, overall and for the cases drawn harder than training's average.</summary>
    public static IEnumerable<string> Summary(IReadOnlyList<PhantomLevelCase> cases)
    {
        var present = cases.Where(c => c.L1InScan).ToList();
        var absent = cases.Where(c => !c.L1InScan).ToList();
        static string Percent(int count, int total) => total == 0
            ? "n/a"
            : string.Create(CultureInfo.InvariantCulture, $"{count}/{total} ({100.0 * count / total:0.0} %)");
        var dices = present.Select(c => c.Dice ?? 0).Order().ToArray();
        var median = dices.Length == 0 ? double.NaN : dices.Length % 2 == 1 ? dices[dices.Length / 2] : (dices[(dices.Length / 2) - 1] + dices[dices.Length / 2]) / 2;
        yield return $"cases: {cases.Count} ({present.Count} with L1 fully in the scan, {absent.Count} without)";
        yield return $"L1 right (named within 10 mm of the truth, ok or review), L1 in scan: {Percent(present.Count(c => c.Right), present.Count)}  (target ≥ 99.5 %)";
        yield return $"  of which ok: {Percent(present.Count(c => c.Right && c.Status == "ok"), present.Count)}; review: {Percent(present.Count(c => c.Right && c.Status == "review"), present.Count)}";
        yield return string.Create(CultureInfo.InvariantCulture, $"median Dice of the L1 body, L1 in scan (abstentions count 0): {median:0.000}  (target ≥ 0.92)");
        yield return $"abstained (no-l1) although L1 in scan: {Percent(present.Count(c => c.Status == "no-l1"), present.Count)}";
        yield return $"wrong level with status ok: {Percent(cases.Count(c => c.Wrong && c.Status == "ok"), cases.Count)}  (target 0)";
        yield return $"wrong level with status review: {Percent(cases.Count(c => c.Wrong && c.Status == "review"), cases.Count)}";
        yield return $"no L1 claimed where L1 is absent or cut: {Percent(absent.Count(c => c.Status == "no-l1"), absent.Count)}";
        foreach (var (name, selected) in new (string, Func<PhantomLevelCase, bool>)[]
        {
            ("5 mm slices", c => c.Options.SliceThicknessMm >= 5),
            ("sharp or bone kernel", c => c.Options.Kernel is ReconstructionKernel.Sharp or ReconstructionKernel.Bone),
            ("degenerative spine", c => PhantomLevelCase.Degenerative(c.Options)),
            ("grade-1 wedge", c => c.Options.WedgeLevel is not null),
            ("11 or 13 rib pairs, 4 or 6 lumbar", c => c.Options.RibPairs != 12 || c.Options.LumbarVertebrae != 5),
        })
        {
            var group = present.Where(selected).ToList();
            yield return $"  {name}: L1 right {Percent(group.Count(c => c.Right), group.Count)}, wrong with ok {group.Count(c => c.Wrong && c.Status == "ok")}";
        }
    }
}
