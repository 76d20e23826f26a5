using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace QctPipeline.Tests.Cli;

/// <summary>
/// A real Orthanc (Debian `orthanc` + `orthanc-dicomweb`) on 127.0.0.1, free ports, a temporary storage folder and a
/// user with a password, started for a test class and stopped (its process killed, its folder removed) afterwards.
/// </summary>
public sealed class OrthancServer : IDisposable
{
    public const string User = "qct";
    public const string Password = "correct horse battery";
    private readonly Process process;
    private readonly TempFolder folder = new();

    public OrthancServer()
    {
        var (http, dicom) = (FreePorts.Next(), FreePorts.Next());
        var config = folder.File("orthanc.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Name"] = "QCT-TEST",
            ["StorageDirectory"] = folder.File("storage"),
            ["IndexDirectory"] = folder.File("storage"),
            ["HttpPort"] = http,
            ["DicomPort"] = dicom,
            ["RemoteAccessAllowed"] = false,
            ["AuthenticationEnabled"] = true,
            ["RegisteredUsers"] = new Dictionary<string, string> { [User] = Password },
            ["Plugins"] = new[] { "/usr/share/orthanc/plugins/libOrthancDicomWeb.so" },
            ["DicomWeb"] = new Dictionary<string, object> { ["Enable"] = true, ["Root"] = "/dicom-web/" },
        }));
        var start = new ProcessStartInfo("Orthanc") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(config);
        start.Environment["TCP_NODELAY"] = "1";
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/") };
        Rest.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Rest.GetAsync("system").Result.StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
            }
            catch (AggregateException) when (attempt < 100)
            {
            }

            if (attempt >= 100 || process.HasExited)
            {
                throw new InvalidOperationException("Orthanc did not start");
            }

            Thread.Sleep(100);
        }

        DicomWebUrl = $"http://127.0.0.1:{http}/dicom-web/";
    }

    public HttpClient Rest { get; }

    public string DicomWebUrl { get; }

    public static IReadOnlyDictionary<string, string> Credentials => new Dictionary<string, string> { ["QCT_DICOMWEB_USER"] = User, ["QCT_DICOMWEB_PASSWORD"] = Password };

    /// <summary>Stores files through Orthanc's REST API (POST /instances).</summary>
    public void Upload(IEnumerable<string> files)
    {
        foreach (var file in files)
        {
            using var response = Rest.PostAsync("instances", new ByteArrayContent(File.ReadAllBytes(file))).Result;
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The modalities in each stored study, by StudyInstanceUID (QIDO-RS).</summary>
    public Dictionary<string, string[]> ModalitiesByStudy()
    {
        using var json = JsonDocument.Parse(Rest.GetStringAsync("dicom-web/studies?includefield=00080061").Result);
        return json.RootElement.EnumerateArray().ToDictionary(
            s => s.GetProperty("0020000D").GetProperty("Value")[0].GetString()!,
            s => s.GetProperty("00080061").GetProperty("Value").EnumerateArray().Select(v => v.GetString()!).Order(StringComparer.Ordinal).ToArray());
    }

    public void Dispose()
    {
        Rest.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        process.Dispose();
        folder.Dispose();
    }
}
