using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using QctPipeline.Calibrate;
using QctPipeline.Dicom;
using QctPipeline.Domain;
using QctPipeline.Evaluation;
using QctPipeline.Nifti;
using QctPipeline.Report;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>
/// `qct eval-real MANIFEST`: every case of a real-CT manifest through exactly the analyze chain (no store), scored
/// against its reference by <see cref="CaseScoring"/>; a row per case, then the totals. Bad rows are named on standard
/// error and skipped; the exit code is non-zero only when no row could be evaluated.
/// </summary>
internal static class EvalRealCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new(AnalyzeReport.JsonOptions)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static Command Create()
    {
        var manifestArgument = new Argument<string>("manifest") { Description = "CSV: case, series, level[, reference_mask, centroid_lps, reference_hu, l1_in_view, note]; paths relative to it." };
        var figures = new Option<DirectoryInfo?>("--figures") { Description = "Write each case's level figure as DIR/<case>-levels.png." };
        var json = new Option<bool>("--json") { Description = "Print the cases, problems and totals as one JSON object." };
        var model = new ModelArguments();
        var command = new Command("eval-real", "Score the analyze chain on real CT against references: level right, wrong or abstained, centroid error, Dice, HU difference.");
        command.Arguments.Add(manifestArgument);
        command.Options.Add(figures);
        command.Options.Add(json);
        model.AddTo(command);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var manifest = EvaluationManifest.Read(parsed.GetValue(manifestArgument)!);
            var problems = manifest.Problems.Select(problem => problem.ToString()).ToList();
            Console.Error.Write(string.Concat(problems.Select(problem => $"qct: {problem}{Environment.NewLine}")));
            var figureFolder = parsed.GetValue(figures)?.FullName;
            var printJson = parsed.GetValue(json);
            using var segmentationModel = model.Load(parsed);
            if (!printJson)
            {
                Console.WriteLine($"model {segmentationModel.Manifest.Name} {segmentationModel.Manifest.Version}; manifest {manifest.Path}");
                Console.WriteLine(EvaluationTotals.Header);
            }

            var scores = new List<CaseScore>();
            (EvaluationSeries Series, PipelineAnswer Answer, SegmentationResult? Segmentation)? last = null;
            foreach (var evaluationCase in manifest.Cases)
            {
                try
                {
                    // Rows of one series (T11 and T12 of one scan, say) share one load and one run of the chain.
                    var series = last?.Series.Path == evaluationCase.SeriesPath ? last.Value.Series : Loaded(evaluationCase);
                    var reference = ReferenceStandard.For(evaluationCase, series.Volume);
                    last = last?.Series == series ? last : Analyse(series, segmentationModel);
                    var score = CaseScoring.Score(evaluationCase.Name, reference, last.Value.Answer);
                    scores.Add(score);
                    if (!printJson)
                    {
                        Console.WriteLine(EvaluationTotals.Row(score));
                    }

                    if (figureFolder is not null && last.Value.Segmentation is { } segmentation)
                    {
                        Directory.CreateDirectory(figureFolder);
                        PngEncoder.WriteFile(Path.Combine(figureFolder, $"{evaluationCase.Name}-levels.png"), LevelFigure.Render(series.Volume, segmentation, new LevelFigureOptions()).ToPng());
                    }
                }
                catch (Exception exception) when (IsBadInput(exception))
                {
                    var problem = $"{evaluationCase.Where}: {exception.Message}";
                    problems.Add(problem);
                    Console.Error.WriteLine($"qct: {problem}");
                }
            }

            var totals = EvaluationTotals.Of(scores, problems.Count);
            if (printJson)
            {
                var modelName = $"{segmentationModel.Manifest.Name} {segmentationModel.Manifest.Version}";
                Console.WriteLine(JsonSerializer.Serialize(new { model = modelName, manifest = manifest.Path, cases = scores, problems, totals }, JsonOptions));
            }
            else
            {
                foreach (var line in totals.Lines())
                {
                    Console.WriteLine(line);
                }
            }

            return scores.Count == 0 ? ExitCodes.Fail($"{manifest.Path}: no row could be evaluated", ExitCodes.Failure) : ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>
    /// The analyze chain as `qct analyze --no-store` runs it, read into what a reference can check. A failure of the
    /// chain itself is the case's answer (status error), not a bad row: the evaluation must show it.
    /// </summary>
    private static (EvaluationSeries, PipelineAnswer, SegmentationResult?) Analyse(EvaluationSeries series, SegmentationModel model)
    {
        AnalysisResult analysis;
        try
        {
            analysis = AnalysisChain.Run(series.Volume, series.Metadata, model, new CalibrationOptions(), new Dictionary<string, double>());
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            return (series, PipelineAnswer.Failed($"{exception.GetType().Name}: {exception.Message}"), null);
        }

        var segmentation = analysis.Segmentation;
        var aboveL1Name = L1Report.AboveL1Name(segmentation);
        var masks = new (string? Name, Mask? Mask)[] { ("L1", segmentation.L1Mask), ("L2", segmentation.L2Mask), (aboveL1Name, segmentation.AboveL1Mask) }
            .Where(named => named.Name is not null && named.Mask is not null).DistinctBy(named => named.Name).ToDictionary(named => named.Name!, named => named.Mask!);

        var measured = analysis.Measurement;
        var answer = new PipelineAnswer(
            AnalyzeReport.StatusName(analysis.Status),
            analysis.Reason,
            [.. segmentation.Levels.Select(level => new NamedLevel(level.Name, level.CentroidLps))],
            segmentation.L1CentroidLps,
            masks,
            // An above-L1 body the level list does not name is compared with no reference (the report's "T12" is a guess).
            measured?.Choice.Level is { } level && (level != VertebralLevel.AboveL1 || aboveL1Name is not null) ? MeasuredLevelReport.LevelName(level, aboveL1Name) : null,
            measured?.ErodedBody?.Hu.Mean);
        return (series, answer, segmentation);
    }

    /// <summary>The case's series, with what ingest had to assume (a NIfTI's missing metadata, say) on standard error.</summary>
    private static EvaluationSeries Loaded(EvaluationCase evaluationCase)
    {
        var series = EvaluationSeries.Load(evaluationCase.SeriesPath);
        foreach (var warning in series.Warnings)
        {
            Console.Error.WriteLine($"warning: {evaluationCase.Where}: {warning}");
        }

        return series;
    }

    private static bool IsBadInput(Exception exception) => exception is EvaluationInputException or FileNotFoundException or DirectoryNotFoundException
        or DicomFormatException or NiftiFormatException or InvalidDataException or IOException or UnauthorizedAccessException;
}
