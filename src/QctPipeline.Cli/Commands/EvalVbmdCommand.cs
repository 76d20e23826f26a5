using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Ingest;
using QctPipeline.Measure;
using QctPipeline.Phantom;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct eval-vbmd`: phantom studies with known truth are written as DICOM, read back and run through the analyze chain
/// with the shipped model, then measured again on the truth body labels; both are scored against the calibration and
/// vBMD must-holds (synchronous phantom accuracy, internal calibration, repositioning precision, contrast, fracture).
/// </summary>
internal static class EvalVbmdCommand
{
    public enum Suite
    {
        All,
        Sync,
        Internal,
        Reposition,
        Contrast,
        Fracture,
    }

    private const int Repeats = 10;
    private static readonly double[] Densities = [50, 100, 150, 200, 250];
    private static readonly double[] TubeVoltages = [80, 100, 120, 140];
    private static readonly CalibrationPhantomKind[] RodPhantoms = [CalibrationPhantomKind.Mindways, CalibrationPhantomKind.Qrm3, CalibrationPhantomKind.Qrm6, CalibrationPhantomKind.Bmas];
    private static readonly (double NoiseHu, double SliceMm)[] Acquisitions = [(30, 0.625), (12, 3), (20, 1.25), (30, 3), (8, 1), (30, 2.5)];

    public static Command Create()
    {
        var suite = new Option<Suite>("--suite") { Description = "Which must-hold to evaluate: all, sync, internal, reposition, contrast, fracture.", DefaultValueFactory = _ => Suite.All };
        var seed = new Option<long>("--seed") { Description = "First seed; cases use seeds from here up (keep clear of training seeds).", DefaultValueFactory = _ => 500000 };
        var model = new ModelArguments();
        var command = new Command("eval-vbmd", "Score calibration and vBMD on generated phantom studies with known truth, through DICOM and the whole analyze chain.");
        command.Options.Add(suite);
        command.Options.Add(seed);
        model.AddTo(command);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var scratch = Directory.CreateTempSubdirectory("qct-eval-vbmd-").FullName;
            try
            {
                using var segmentationModel = model.Load(parsed);
                Console.WriteLine($"model {segmentationModel.Manifest.Name} {segmentationModel.Manifest.Version}");
                Console.WriteLine("truth, over the voxels of the eroded ROI measured: 'mineral' is the HA density the phantom rendered there; 'equiv' what an error-free");
                Console.WriteLine("calibration reads from their noise-free HU (through the rods' reference line, or HA in water for internal calibration), which");
                Console.WriteLine("differs from 'mineral' by single-energy QCT's marrow-fat error. Errors are against 'equiv'; truth-mask errors against its own ROI.");
                Console.WriteLine(CaseResult.Header);
                var results = new List<CaseResult>();
                foreach (var evalCase in Cases(parsed.GetValue(suite), parsed.GetValue(seed)))
                {
                    var result = Evaluate(evalCase, segmentationModel, scratch);
                    results.Add(result);
                    Console.WriteLine(result.ToRow());
                }

                foreach (var line in Summary(results))
                {
                    Console.WriteLine(line);
                }

                return ExitCodes.Ok;
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }
        }));
        return command;
    }

    /// <summary>One generated study and the suite and group it is scored in.</summary>
    internal sealed record VbmdCase(Suite Suite, string Group, PhantomOptions Options);

    /// <summary>
    /// The cases of a suite, deterministic from the first seed. Sync: every density 50–250 mg/cm³ at every kVp 80–140,
    /// twice, rod phantom and noise/slice pairs (σ 8–30 HU, 0.625–3 mm) rotating. Internal: the same grid once, no
    /// phantom. Repositioning: one patient re-scanned 10 times (new table position and noise), with a Mindways phantom and
    /// without. Contrast: arterial and venous at 80, 120, 140 kVp. Fracture: L1 wedge fractures of 40–50 % (Genant grade 2 and 3 as the image reads them; on dished bodies a 30–35 % wedge reads 20–24 %, grade 1, decision 0005; a grade-1 wedge is measured in place).
    /// </summary>
    internal static IEnumerable<VbmdCase> Cases(Suite suite, long firstSeed)
    {
        var common = new PhantomOptions { FromLevel = "T10", ToLevel = "L3" };
        PhantomOptions Study(long seed, double kvp, double noise, double slice) => common with
        {
            Seed = seed,
            PatientId = $"EVAL-{seed}",
            Kvp = kvp,
            NoiseSigmaHu = noise,
            SliceThicknessMm = slice,
            SliceSpacingMm = slice,
        };

        if (suite is Suite.All or Suite.Sync)
        {
            var n = 0;
            foreach (var density in Densities)
            {
                foreach (var kvp in TubeVoltages)
                {
                    for (var repeat = 0; repeat < 2; repeat++, n++)
                    {
                        var (noise, slice) = Acquisitions[n % Acquisitions.Length];
                        var phantom = RodPhantoms[n % RodPhantoms.Length];
                        yield return new VbmdCase(Suite.Sync, phantom.ToString(), Study(firstSeed + n, kvp, noise, slice) with { L1BmdMgPerCm3 = density, CalibrationPhantom = phantom });
                    }
                }
            }
        }

        if (suite is Suite.All or Suite.Internal)
        {
            var n = 0;
            foreach (var density in Densities)
            {
                foreach (var kvp in TubeVoltages)
                {
                    var (noise, slice) = Acquisitions[n % Acquisitions.Length];
                    yield return new VbmdCase(Suite.Internal, $"{kvp:0} kVp", Study(firstSeed + 100 + n++, kvp, noise, slice) with { L1BmdMgPerCm3 = density });
                }
            }
        }

        if (suite is Suite.All or Suite.Reposition)
        {
            foreach (var (group, phantom, offset) in new[] { ("Mindways", CalibrationPhantomKind.Mindways, 200), ("internal", CalibrationPhantomKind.None, 201) })
            {
                for (var repeat = 0; repeat < Repeats; repeat++)
                {
                    yield return new VbmdCase(Suite.Reposition, group, Study(firstSeed + offset, 120, 12, 1.25) with
                    {
                        CalibrationPhantom = phantom,
                        StudyDate = new DateOnly(2025, 1, 10).AddDays(7 * repeat),
                    });
                }
            }
        }

        if (suite is Suite.All or Suite.Contrast)
        {
            var n = 0;
            foreach (var phase in new[] { ContrastPhase.Arterial, ContrastPhase.Venous })
            {
                foreach (var kvp in new double[] { 80, 120, 140 })
                {
                    yield return new VbmdCase(Suite.Contrast, phase.ToString().ToLowerInvariant(), Study(firstSeed + 300 + n++, kvp, 12, 1.25) with { Contrast = phase });
                }
            }
        }

        if (suite is Suite.All or Suite.Fracture)
        {
            var n = 0;
            foreach (var loss in new[] { 0.4, 0.45, 0.5 })
            {
                yield return new VbmdCase(Suite.Fracture, $"{loss:0.00} loss", Study(firstSeed + 400 + n++, 120, 12, 1.25) with { L1FractureHeightLoss = loss });
            }
        }
    }

    /// <summary>One case: generated, written as DICOM under <paramref name="scratch"/>, read back, analysed with the model and on the truth masks, scored.</summary>
    internal static CaseResult Evaluate(VbmdCase evalCase, SegmentationModel model, string scratch)
    {
        var watch = Stopwatch.StartNew();
        var options = evalCase.Options;
        var study = PhantomGenerator.Generate(options);
        var truth = PhantomStudyWriter.BuildTruth(study, new PhantomStudyWriter.StudyUids(options));
        var folder = Path.Combine(scratch, $"{options.Seed}-{options.StudyDate:yyyyMMdd}");
        PhantomStudyWriter.WriteSeries(study, folder);
        try
        {
            var ingestOptions = new IngestOptions();
            var selected = DicomIngest.Survey(folder, ingestOptions).Selection.Selected
                ?? throw new InvalidOperationException($"{folder}: the generated series was not selected");
            var loaded = DicomIngest.Load(selected, ingestOptions);
            var analysis = AnalysisChain.Run(loaded.Volume, selected.Metadata, model, new CalibrationOptions(), new Dictionary<string, double>());

            var levelAbove = truth.Levels[truth.Levels.ToList().FindIndex(level => level.Name == "L1") - 1].Name;
            Mask TruthMask(string level) => Resampled(study.BodyLabels, study.Volume.Geometry, loaded.Volume.Geometry, (byte)SpineLabels.Code(level));
            var truthL1 = truth.Levels.Single(level => level.Name == "L1");
            var truthCentroid = new Vector3(truthL1.BodyCentroidLps[0], truthL1.BodyCentroidLps[1], truthL1.BodyCentroidLps[2]);
            var truthCalibration = CalibrationChooser.Choose(loaded.Volume, selected.Metadata, truthCentroid, new CalibrationOptions());
            var onTruth = VertebralMeasurement.Measure(loaded.Volume, new VertebraInput(TruthMask("L1")), new VertebraInput(TruthMask(levelAbove)), new VertebraInput(TruthMask("L2")),
                truthCalibration.Calibration, truthCalibration.Contrast.Detected, new MeasureOptions { Kvp = selected.Metadata.Kvp });

            return new CaseResult(
                evalCase,
                AnalyzeReport.StatusName(analysis.Status),
                CalibrationReport.MethodName(analysis.Calibration.Calibration.Method),
                Scored(analysis.Measurement, study, truth, loaded.Volume.Geometry, levelAbove),
                Scored(onTruth, study, truth, loaded.Volume.Geometry, levelAbove),
                analysis.Calibration.Contrast.Detected,
                analysis.Measurement?.ContrastAffected == true,
                analysis.Measurement?.Assessments.FirstOrDefault(a => a.Level == VertebralLevel.L1) is { Usable: false } l1 ? string.Join("; ", l1.UnusableReasons) : null,
                watch.Elapsed.TotalSeconds);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The measured level with its vBMD and both truths of the voxels its eroded ROI holds (the phantom's density there,
    /// and what an error-free calibration reads from its noise-free HU); null when nothing was measured.
    /// </summary>
    private static LevelScore? Scored(Measurement? measurement, PhantomStudy study, PhantomTruth truth, VolumeGeometry grid, string levelAbove)
    {
        if (measurement?.Choice.Level is not { } level || measurement.VbmdMgPerCm3 is not { } vbmd || measurement.ErodedBody is not { } roi)
        {
            return null;
        }

        var name = level switch
        {
            VertebralLevel.L1 => "L1",
            VertebralLevel.L2 => "L2",
            _ => levelAbove,
        };
        var mineral = study.TrueTrabecularDensity(name, grid, roi.VoxelIndices.Span, roi.Weights.Span);
        var phantom = measurement.Calibration?.Method == CalibrationMethod.Phantom;
        var equivalent = truth.EquivalentDensity(name, mineral, phantom);
        var twoLevels = measurement.L1L2 is { } mean
            ? new TwoLevelScore(mean.VbmdMgPerCm3, (equivalent + truth.EquivalentDensity("L2", study.TrueTrabecularDensity("L2", grid, mean.L2.VoxelIndices.Span, mean.L2.Weights.Span), phantom)) / 2)
            : null;
        return new LevelScore(name, measurement.Choice.Usable, vbmd, equivalent, mineral, twoLevels) { Ci95 = measurement.Ci95, HaInWater = truth.EquivalentDensity(name, mineral, false) };
    }

    /// <summary>Labels of one code moved onto another grid by nearest neighbour through patient space.</summary>
    private static Mask Resampled(ReadOnlySpan<byte> labels, VolumeGeometry from, VolumeGeometry to, byte code)
    {
        var inside = new byte[to.VoxelCount];
        for (var k = 0; k < to.SizeZ; k++)
        {
            for (var j = 0; j < to.SizeY; j++)
            {
                var start = from.PatientToVoxel(to.VoxelToPatient(0, j, k));
                var step = from.PatientToVoxel(to.VoxelToPatient(1, j, k)) - start;
                for (var i = 0; i < to.SizeX; i++)
                {
                    var (x, y, z) = ((int)Math.Round(start.X + (i * step.X)), (int)Math.Round(start.Y + (i * step.Y)), (int)Math.Round(start.Z + (i * step.Z)));
                    if (x >= 0 && y >= 0 && z >= 0 && x < from.SizeX && y < from.SizeY && z < from.SizeZ && labels[x + (from.SizeX * (y + (from.SizeY * z)))] == code)
                    {
                        inside[i + (to.SizeX * (j + (to.SizeY * k)))] = 1;
                    }
                }
            }
        }

        return new Mask(to, inside);
    }

    private static IEnumerable<string> Summary(List<CaseResult> results)
    {
        static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);
        static bool Within(LevelScore? score) => score?.WithinPhantomTolerance == true;
        static string Range(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted.Length == 0
                ? "n/a"
                : $"min {F(sorted[0], "+0.00;-0.00")} median {F(Statistics(sorted).Median, "+0.00;-0.00")} max {F(sorted[^1], "+0.00;-0.00")} RMS {F(Math.Sqrt(sorted.Average(v => v * v)))}";
        }

        foreach (var group in results.GroupBy(r => r.Case.Suite))
        {
            var cases = group.ToList();
            yield return $"== {group.Key.ToString().ToLowerInvariant()}: {cases.Count} cases";
            switch (group.Key)
            {
                case Suite.Sync:
                    foreach (var (label, pick) in MaskSources)
                    {
                        var scores = cases.Select(pick).ToList();
                        yield return $"{label}: within max(1 mg/cm³, 1 %) of the equivalent truth {scores.Count(Within)}/{cases.Count} (target all); " +
                            $"error mg/cm³ {Range(scores.OfType<LevelScore>().Select(s => s.ErrorMg))}; phantom calibration used {cases.Count(c => c.Method == "phantom")}/{cases.Count}";
                        yield return $"{label}: vs mineral truth (marrow-fat error of single-energy QCT) % {Range(scores.OfType<LevelScore>().Select(s => s.MineralErrorPercent))}";
                        var mindways = cases.Where(c => c.Case.Group == nameof(CalibrationPhantomKind.Mindways)).Select(pick).OfType<LevelScore>().ToList();
                        yield return $"{label}: the Mindways chain itself (its truth against HA in water; rods rendered as certified K2HPO4 and water) % {Range(mindways.Select(s => s.ReferenceLineErrorPercent))}; " +
                            $"Mindways vBMD against HA in water % {Range(mindways.Select(s => 100 * (s.Vbmd - s.HaInWater) / s.HaInWater))}";
                        var pairs = scores.Select(s => s?.TwoLevels).OfType<TwoLevelScore>().ToList();
                        yield return $"{label}: L1–L2 mean within max(1 mg/cm³, 1 %) of both levels' truth {pairs.Count(p => Math.Abs(p.ErrorMg) <= Math.Max(1, 0.01 * p.Equivalent))}/{pairs.Count}; error mg/cm³ {Range(pairs.Select(p => p.ErrorMg))}";
                    }

                    break;
                case Suite.Internal:
                    foreach (var (label, pick) in MaskSources)
                    {
                        var scores = cases.Select(pick).ToList();
                        yield return $"{label}: within 5 % of the equivalent truth {scores.Count(s => s is not null && Math.Abs(s.ErrorPercent) <= 5)}/{cases.Count} (target all); " +
                            $"error % {Range(scores.OfType<LevelScore>().Select(s => s.ErrorPercent))}";
                        foreach (var kvp in cases.GroupBy(c => c.Case.Group))
                        {
                            yield return $"  {kvp.Key}: error % {Range(kvp.Select(pick).OfType<LevelScore>().Select(s => s.ErrorPercent))}";
                        }

                        yield return $"{label}: vs mineral truth % {Range(scores.OfType<LevelScore>().Select(s => s.MineralErrorPercent))}";
                        var pairs = scores.Select(s => s?.TwoLevels).OfType<TwoLevelScore>().ToList();
                        yield return $"{label}: L1–L2 mean within 5 % of both levels' truth {pairs.Count(p => Math.Abs(p.ErrorPercent) <= 5)}/{pairs.Count}; error % {Range(pairs.Select(p => p.ErrorPercent))}";
                    }

                    break;
                case Suite.Reposition:
                    foreach (var patient in cases.GroupBy(c => c.Case.Group))
                    {
                        foreach (var (label, pick) in MaskSources)
                        {
                            var values = patient.Select(pick).OfType<LevelScore>().Select(s => s.Vbmd).ToArray();
                            var mean = values.Average();
                            var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
                            yield return $"{patient.Key}, {label}: {values.Length} repeats, mean {F(mean)} mg/cm³, SD {F(sd, "0.000")}, CV {F(100 * sd / mean, "0.000")} % (target ≤ 0.5 %)";
                        }
                    }

                    break;
                case Suite.Contrast:
                    yield return $"contrast detected and category marked contrast-affected: {cases.Count(c => c.ContrastDetected && c.CategoryContrastAffected)}/{cases.Count} (target all)";
                    break;
                case Suite.Fracture:
                    foreach (var (label, pick) in MaskSources)
                    {
                        yield return $"{label}: L1 unusable and a usable neighbour measured {cases.Count(c => c.L1Unusable is not null && pick(c) is { Usable: true, Level: not "L1" })}/{cases.Count} (target all)";
                    }

                    break;
                default:
                    break;
            }
        }
    }

    private static readonly (string Label, Func<CaseResult, LevelScore?> Pick)[] MaskSources =
    [
        ("shipped model", r => r.OnModel),
        ("truth mask", r => r.OnTruth),
    ];

    private static (double Median, int Count) Statistics(double[] sorted) =>
        (sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2, sorted.Length);

    /// <summary>The L1–L2 mean and the mean of both levels' ROI truths.</summary>
    internal sealed record TwoLevelScore(double Vbmd, double Equivalent)
    {
        public double ErrorMg => Vbmd - Equivalent;

        public double ErrorPercent => 100 * ErrorMg / Equivalent;
    }

    internal sealed record LevelScore(string Level, bool Usable, double Vbmd, double Equivalent, double Mineral, TwoLevelScore? TwoLevels)
    {
        /// <summary>The measured vBMD's 95 % interval; null without one.</summary>
        public VbmdInterval? Ci95 { get; init; }

        /// <summary>What the ROI's noise-free HU read through HA in water: the phantom's reference line's own error is <see cref="Equivalent"/> against this.</summary>
        public double HaInWater { get; init; }

        /// <summary>How far the reference line itself (Mindways: its published K₂HPO₄ chain) reads from HA in water, in %.</summary>
        public double ReferenceLineErrorPercent => 100 * (Equivalent - HaInWater) / HaInWater;

        public double ErrorMg => Vbmd - Equivalent;

        public double ErrorPercent => 100 * ErrorMg / Equivalent;

        public double MineralErrorPercent => 100 * (Vbmd - Mineral) / Mineral;

        /// <summary>The synchronous-phantom must-hold: within 1 mg/cm³ or 1 %, whichever is larger.</summary>
        public bool WithinPhantomTolerance => Math.Abs(ErrorMg) <= Math.Max(1, 0.01 * Equivalent);
    }

    internal sealed record CaseResult(VbmdCase Case, string Status, string Method, LevelScore? OnModel, LevelScore? OnTruth, bool ContrastDetected, bool CategoryContrastAffected, string? L1Unusable, double Seconds)
    {
        public const string Header = "suite       group       seed    kVp  noise slice  status method   level  equiv   mineral  model   err     truth-mask err     contrast  L1 unusable";

        public string ToRow()
        {
            var o = Case.Options;
            static string V(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
            var score = OnModel ?? OnTruth;
            return string.Create(CultureInfo.InvariantCulture,
                $"{Case.Suite.ToString().ToLowerInvariant(),-11} {Case.Group,-11} {o.Seed,-7} {o.Kvp,3} {o.NoiseSigmaHu,5} {o.SliceThicknessMm,5}  {Status,-6} {Method,-8} {OnModel?.Level ?? "-",-5}  {V(score?.Equivalent, "0.00"),7} {V(score?.Mineral, "0.00"),7}  {V(OnModel?.Vbmd, "0.00"),7} {V(OnModel?.ErrorMg, "+0.00;-0.00"),6}  {V(OnTruth?.Vbmd, "0.00"),7} {V(OnTruth?.ErrorMg, "+0.00;-0.00"),6}  {(ContrastDetected ? (CategoryContrastAffected ? "flagged" : "detected") : "-"),-8}  {L1Unusable ?? "-"} ({Seconds:0.0} s)");
        }
    }
}
