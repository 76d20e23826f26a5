using System.CommandLine;
using QctPipeline.Ingest;
using QctPipeline.Nifti;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct convert`: the selected series as NIfTI-1 with RAS sform/qform, for research use.</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var arguments = new IngestArguments();
        var output = new Option<FileInfo>("--out") { Description = "Output NIfTI file (.nii or .nii.gz).", Required = true };
        var asFloat = new Option<bool>("--float") { Description = "Store float32 HU instead of int16." };
        var command = new Command("convert", "Write the selected series as a NIfTI-1 volume.");
        arguments.AddTo(command);
        command.Options.Add(output);
        command.Options.Add(asFloat);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            var path = parsed.GetValue(output)!.FullName;
            if (!path.EndsWith(".nii", StringComparison.Ordinal) && !path.EndsWith(".nii.gz", StringComparison.Ordinal))
            {
                return ExitCodes.Fail($"{path}: output must end in .nii or .nii.gz", ExitCodes.Usage);
            }

            var options = arguments.Options(parsed);
            var (survey, code) = IngestArguments.Survey(parsed.GetValue(arguments.Input)!, options);
            if (survey.Selection.Selected is not { } selected)
            {
                return code;
            }

            var loaded = DicomIngest.Load(selected, options);
            foreach (var warning in loaded.Warnings)
            {
                Console.Error.WriteLine($"warning: {selected.SeriesInstanceUid}: {warning}");
            }

            NiftiWriter.Write(loaded.Volume, path, new NiftiWriteOptions { DataType = parsed.GetValue(asFloat) ? NiftiDataType.Float32 : NiftiDataType.Int16 });
            var size = loaded.Volume.Geometry;
            Console.WriteLine($"{path}: {size.SizeX}x{size.SizeY}x{size.SizeZ} from series {selected.SeriesInstanceUid} ({survey.Selection.Reason})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
