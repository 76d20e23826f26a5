namespace QctPipeline.Store;

/// <summary>
/// The pseudonym key every worker of a research run shares: $QCT_PSEUDONYM_KEY (hex), or the first line of the file
/// named by $QCT_PSEUDONYM_KEY_FILE. At least 128 bits, so that pseudonyms cannot be reversed by trying PatientIDs.
/// </summary>
public static class SharedPseudonymKey
{
    private const int MinBytes = 16;

    /// <summary>The shared key, or null when neither variable is set; a malformed one is a <see cref="ResultStoreException"/>.</summary>
    public static byte[]? FromEnvironment()
    {
        var file = Environment.GetEnvironmentVariable("QCT_PSEUDONYM_KEY_FILE");
        string? text;
        string source;
        if (Environment.GetEnvironmentVariable("QCT_PSEUDONYM_KEY") is { Length: > 0 } inline)
        {
            (text, source) = (inline, "$QCT_PSEUDONYM_KEY");
        }
        else if (file is { Length: > 0 })
        {
            try
            {
                (text, source) = (File.ReadLines(file).FirstOrDefault(), $"{file} ($QCT_PSEUDONYM_KEY_FILE)");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ResultStoreException($"{file} ($QCT_PSEUDONYM_KEY_FILE): cannot be read: {ex.Message}", ex);
            }
        }
        else
        {
            return null;
        }

        return Parse(text?.Trim() ?? string.Empty, source);
    }

    private static byte[] Parse(string hex, string source)
    {
        try
        {
            var key = Convert.FromHexString(hex);
            return key.Length >= MinBytes ? key : throw new ResultStoreException($"{source}: the pseudonym key must be at least {2 * MinBytes} hex digits");
        }
        catch (FormatException)
        {
            throw new ResultStoreException($"{source}: the pseudonym key is not hexadecimal");
        }
    }
}
