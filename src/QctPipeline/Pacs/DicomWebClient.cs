using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace QctPipeline.Pacs;

/// <summary>A DICOMweb server that failed, refused or could not be reached: one line, the URL without credentials.</summary>
public sealed class DicomWebException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>How to reach a DICOMweb server: base URL (…/dicom-web), optional basic-auth credentials, timeout and retries.</summary>
public sealed record DicomWebOptions
{
    public required Uri BaseUrl { get; init; }

    /// <summary>User and password for HTTP basic authentication; never printed or logged.</summary>
    public (string User, string Password)? Credentials { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Attempts per request; a network failure or a 5xx/429 answer is retried after 1, 2, 4… s.</summary>
    public int Attempts { get; init; } = 3;

    /// <summary>
    /// Credentials from $QCT_DICOMWEB_USER and $QCT_DICOMWEB_PASSWORD, else from a file holding "user:password" on its
    /// first line (never from the command line, where other users could read them).
    /// </summary>
    public static (string User, string Password)? CredentialsFrom(string? file)
    {
        if (Environment.GetEnvironmentVariable("QCT_DICOMWEB_USER") is { Length: > 0 } user)
        {
            return (user, Environment.GetEnvironmentVariable("QCT_DICOMWEB_PASSWORD") ?? string.Empty);
        }

        if (file is null)
        {
            return null;
        }

        var line = File.ReadLines(file).FirstOrDefault() ?? string.Empty;
        var colon = line.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 ? (line[..colon], line[(colon + 1)..]) : throw new DicomWebException($"{file}: credentials file must hold user:password on its first line");
    }
}

/// <summary>
/// The three DICOMweb services the batch needs: QIDO-RS study search, WADO-RS study retrieval (multipart/related
/// application/dicom) and STOW-RS storage.
/// </summary>
public sealed class DicomWebClient : IDisposable
{
    private readonly HttpClient http;
    private readonly DicomWebOptions options;

    public DicomWebClient(DicomWebOptions options)
    {
        this.options = options;
        http = new HttpClient { Timeout = options.Timeout };
        if (options.Credentials is { } credentials)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.User}:{credentials.Password}")));
        }
    }

    /// <summary>StudyInstanceUIDs of studies holding the modality, from the date on when given (QIDO-RS).</summary>
    public async Task<IReadOnlyList<string>> SearchStudies(DateOnly? since, string? modality, CancellationToken cancel)
    {
        var query = new List<string>();
        if (since is { } date)
        {
            query.Add($"StudyDate={date:yyyyMMdd}-");
        }

        if (modality is { Length: > 0 })
        {
            query.Add($"ModalitiesInStudy={Uri.EscapeDataString(modality)}");
        }

        query.Add("includefield=0020000D");
        var body = await Send(() => new HttpRequestMessage(HttpMethod.Get, Url("studies?" + string.Join('&', query))) { Headers = { Accept = { new MediaTypeWithQualityHeaderValue("application/dicom+json") } } }, cancel);
        if (body.Length == 0)
        {
            return [];
        }

        using var json = JsonDocument.Parse(body);
        return [.. json.RootElement.EnumerateArray()
            .Select(study => study.TryGetProperty("0020000D", out var uid) && uid.TryGetProperty("Value", out var value) ? value[0].GetString() : null)
            .OfType<string>()];
    }

    /// <summary>Every instance of a study (WADO-RS), as the DICOM files' bytes.</summary>
    public async Task<IReadOnlyList<byte[]>> RetrieveStudy(string studyInstanceUid, CancellationToken cancel)
    {
        using var response = await SendForResponse(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url($"studies/{Uri.EscapeDataString(studyInstanceUid)}"));
            request.Headers.Accept.Add(MediaTypeWithQualityHeaderValue.Parse("multipart/related; type=\"application/dicom\""));
            return request;
        }, cancel);
        var boundary = response.Content.Headers.ContentType?.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value?.Trim('"')
            ?? throw new DicomWebException($"{Redacted(Url("studies/" + studyInstanceUid))}: answer is not multipart/related");
        return Multipart.Parts(await response.Content.ReadAsByteArrayAsync(cancel), boundary);
    }

    /// <summary>Stores DICOM files (STOW-RS), all in one request.</summary>
    public async Task Store(IReadOnlyList<byte[]> instances, CancellationToken cancel)
    {
        var boundary = "qct-" + Guid.NewGuid().ToString("N");
        var body = Multipart.Build(instances, boundary);
        await Send(() =>
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/related; type=\"application/dicom\"; boundary={boundary}");
            var request = new HttpRequestMessage(HttpMethod.Post, Url("studies")) { Content = content };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/dicom+json"));
            return request;
        }, cancel);
    }

    public void Dispose() => http.Dispose();

    private Uri Url(string relative) => new(new Uri(options.BaseUrl.AbsoluteUri.TrimEnd('/') + "/"), relative);

    /// <summary>A URL as it may be printed: any user information removed.</summary>
    public static string Redacted(Uri url) => new UriBuilder(url) { UserName = string.Empty, Password = string.Empty }.Uri.AbsoluteUri;

    private async Task<byte[]> Send(Func<HttpRequestMessage> request, CancellationToken cancel)
    {
        using var response = await SendForResponse(request, cancel);
        return await response.Content.ReadAsByteArrayAsync(cancel);
    }

    private async Task<HttpResponseMessage> SendForResponse(Func<HttpRequestMessage> makeRequest, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = makeRequest();
            var where = $"{request.Method} {Redacted(request.RequestUri!)}";
            try
            {
                var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancel);
                if (response.IsSuccessStatusCode)
                {
                    return response;
                }

                var retry = (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests;
                response.Dispose();
                if (!retry || attempt >= options.Attempts)
                {
                    throw new DicomWebException($"{where}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                if (attempt >= options.Attempts)
                {
                    throw new DicomWebException($"{where}: {(ex is TaskCanceledException ? $"no answer within {options.Timeout.TotalSeconds:0} s" : ex.Message)} (after {attempt} attempts)", ex);
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(1 << (attempt - 1)), cancel);
        }
    }
}

/// <summary>multipart/related bodies (RFC 2387) as DICOMweb uses them: parts of application/dicom.</summary>
internal static class Multipart
{
    public static List<byte[]> Parts(byte[] body, string boundary)
    {
        var delimiter = Encoding.ASCII.GetBytes("--" + boundary);
        var parts = new List<byte[]>();
        var span = body.AsSpan();
        var at = span.IndexOf(delimiter);
        while (at >= 0)
        {
            var afterDelimiter = at + delimiter.Length;
            if (span[afterDelimiter..].StartsWith("--"u8))
            {
                break;
            }

            var headersEnd = span[afterDelimiter..].IndexOf("\r\n\r\n"u8);
            if (headersEnd < 0)
            {
                break;
            }

            var contentStart = afterDelimiter + headersEnd + 4;
            var next = span[contentStart..].IndexOf(delimiter);
            if (next < 0)
            {
                break;
            }

            var contentEnd = contentStart + next - 2;
            parts.Add(span[contentStart..Math.Max(contentStart, contentEnd)].ToArray());
            at = contentStart + next;
        }

        return parts;
    }

    public static byte[] Build(IReadOnlyList<byte[]> parts, string boundary)
    {
        using var body = new MemoryStream();
        foreach (var part in parts)
        {
            body.Write(Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n"));
            body.Write(part);
            body.Write("\r\n"u8);
        }

        body.Write(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return body.ToArray();
    }
}
