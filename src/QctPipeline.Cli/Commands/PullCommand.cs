using System.CommandLine;

namespace QctPipeline.Cli.Commands;

/// <summary>`qct pull --dicomweb URL`: search (QIDO-RS) and retrieve (WADO-RS) studies into a local cache.</summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var dicomWeb = new DicomWebArguments();
        var cache = new Option<string>("--cache") { Description = "Folder the studies are retrieved into (one sub-folder per study).", DefaultValueFactory = _ => "qct-cache" };
        var command = new Command("pull", "Retrieve studies from a DICOMweb server into a local cache.");
        dicomWeb.AddTo(command);
        command.Options.Add(cache);
        command.SetAction(parsed => ExitCodes.Guard(() =>
        {
            using var client = dicomWeb.Client(parsed);
            var pulled = DicomWebArguments.Pull(client, dicomWeb.SinceDate(parsed), parsed.GetValue(dicomWeb.Modality), Path.GetFullPath(parsed.GetValue(cache)!), Console.WriteLine).GetAwaiter().GetResult();
            Console.WriteLine($"{pulled.Count} stud(ies) in {Path.GetFullPath(parsed.GetValue(cache)!)}");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
