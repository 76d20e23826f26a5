using System.CommandLine;
using System.Text.Json;
using QctPipeline.Ingest;
using QctPipeline.Nifti;
using QctPipeline.Report;
using QctPipeline.Segment;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct segment`: find L1 in the selected series, with the evidence for the level, and optionally save its mask.</summary>
internal static class SegmentCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var model = new ModelArguments();
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var saveMask = new Option<FileInfo?>("--save-mask") { Description = "Write the L1 body mask (uint8 0/1 on the series grid) as NIfTI (.nii or .nii.gz)." };
        var saveLevels = new Option<FileInfo?>("--save-levels") { Description = "Write a PNG: coronal and sagittal bone-window slabs with the levels found named and the L1, last rib-bearing and L2 bodies overlaid." };
        var command = new Command("segment", "Find L1 and segment its vertebral body (ONNX model; abstains when the level is uncertain).");
        arguments.AddTo(command);
        model.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(saveMask);
        command.Options.Add(saveLevels);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var maskPath = parsed.GetValue(saveMask)?.FullName;
            if (maskPath is not null && !maskPath.EndsWith(".nii", StringComparison.Ordinal) && !maskPath.EndsWith(".nii.gz", StringComparison.Ordinal))
            {
                return ExitCodes.Fail($"{maskPath}: the mask file must end in .nii or .nii.gz", ExitCodes.Usage);
            }

            var levelsPath = parsed.GetValue(saveLevels)?.FullName;
            if (levelsPath is not null && !levelsPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            {
                return ExitCodes.Fail($"{levelsPath}: the level figure must end in .png", ExitCodes.Usage);
            }

            var options = arguments.Options(parsed);
            var (survey, code) = IngestArguments.Survey(parsed.GetValue(arguments.Input)!, options);
            if (survey.Selection.Selected is not { } selected)
            {
                return code;
            }

            using (var segmentationModel = model.Load(parsed))
            {
                var loaded = DicomIngest.Load(selected, options);
                var result = L1Segmenter.Segment(loaded.Volume, selected.Metadata, segmentationModel, new SegmentOptions());
                var report = SegmentReport.From(loaded, result, segmentationModel.Manifest);
                Console.WriteLine(parsed.GetValue(json) ? JsonSerializer.Serialize(report, AnalyzeReport.JsonOptions) : report.ToText());
                if (maskPath is not null)
                {
                    if (result.L1Mask is { } mask)
                    {
                        NiftiWriter.WriteLabels(mask.Geometry, mask.Voxels.ToArray(), maskPath);
                        Console.Error.WriteLine($"{maskPath}: L1 body mask written");
                    }
                    else
                    {
                        Console.Error.WriteLine($"qct: {maskPath} not written: no L1 mask ({result.Reason})");
                    }
                }

                if (levelsPath is not null)
                {
                    PngEncoder.WriteFile(levelsPath, LevelFigure.Render(loaded.Volume, result, new LevelFigureOptions()).ToPng());
                    Console.Error.WriteLine($"{levelsPath}: level figure written ({result.Levels.Count} levels)");
                }

                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
