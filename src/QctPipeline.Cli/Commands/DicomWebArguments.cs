using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using QctPipeline.Pacs;

namespace QctPipeline.Cli.Commands;

/// <summary>The DICOMweb options of `qct pull` and `qct batch --dicomweb`, and the pull itself (QIDO-RS search, WADO-RS into a cache).</summary>
internal sealed class DicomWebArguments
{
    public Option<string?> Url { get; } = new("--dicomweb") { Description = "DICOMweb base URL (…/dicom-web). Credentials come from $QCT_DICOMWEB_USER/$QCT_DICOMWEB_PASSWORD or --credentials-file, never from the URL." };

    public Option<string?> Since { get; } = new("--since") { Description = "Only studies from this date on (yyyy-MM-dd)." };

    public Option<string> Modality { get; } = new("--modality") { Description = "Only studies holding this modality.", DefaultValueFactory = _ => "CT" };

    public Option<string?> CredentialsFile { get; } = new("--credentials-file") { Description = "A file whose first line is user:password." };

    public Option<int> TimeoutSeconds { get; } = new("--timeout") { Description = "Seconds to wait for each DICOMweb answer.", DefaultValueFactory = _ => 120 };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Since);
        command.Options.Add(Modality);
        command.Options.Add(CredentialsFile);
        command.Options.Add(TimeoutSeconds);
    }

    /// <summary>The client, or the one-line reason the options cannot make one.</summary>
    public DicomWebClient Client(ParseResult parsed)
    {
        var text = parsed.GetValue(Url) ?? throw new DicomWebException("--dicomweb URL is required");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new DicomWebException("--dicomweb: not an absolute http(s) URL");
        }

        if (url.UserInfo.Length > 0)
        {
            throw new DicomWebException($"--dicomweb {DicomWebClient.Redacted(url)}: credentials in the URL are refused (they would show in process lists); use $QCT_DICOMWEB_USER/$QCT_DICOMWEB_PASSWORD or --credentials-file");
        }

        return new DicomWebClient(new DicomWebOptions
        {
            BaseUrl = url,
            Credentials = DicomWebOptions.CredentialsFrom(parsed.GetValue(CredentialsFile)),
            Timeout = TimeSpan.FromSeconds(Math.Max(1, parsed.GetValue(TimeoutSeconds))),
        });
    }

    public DateOnly? SinceDate(ParseResult parsed) => parsed.GetValue(Since) is { } text
        ? DateOnly.TryParseExact(text, ["yyyy-MM-dd", "yyyyMMdd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new DicomWebException($"--since {text}: not yyyy-MM-dd")
        : null;

    /// <summary>
    /// Every matching study retrieved into its own cache folder (study-HASH), files written under temporary names and a
    /// `.complete` marker last, so a study pulled whole is not fetched again and a half-pulled one is fetched anew.
    /// </summary>
    public static async Task<IReadOnlyList<(string StudyUid, string Folder, int Files, bool Cached)>> Pull(DicomWebClient client, DateOnly? since, string? modality, string cache, Action<string> report)
    {
        var pulled = new List<(string, string, int, bool)>();
        foreach (var study in await client.SearchStudies(since, modality, CancellationToken.None))
        {
            var folder = Path.Combine(cache, "study-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(study)))[..16]);
            var marker = Path.Combine(folder, ".complete");
            if (File.Exists(marker))
            {
                pulled.Add((study, folder, Directory.GetFiles(folder, "*.dcm").Length, true));
                report($"cached  {study}");
                continue;
            }

            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            Directory.CreateDirectory(folder);
            var instances = await client.RetrieveStudy(study, CancellationToken.None);
            for (var n = 0; n < instances.Count; n++)
            {
                var path = Path.Combine(folder, $"{n:D5}.dcm");
                File.WriteAllBytes(path + ".tmp", instances[n]);
                File.Move(path + ".tmp", path, overwrite: true);
            }

            File.WriteAllText(marker, study + "\n");
            pulled.Add((study, folder, instances.Count, false));
            report($"pulled  {study}: {instances.Count} instance(s)");
        }

        return pulled;
    }
}
