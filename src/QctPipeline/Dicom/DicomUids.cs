using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace QctPipeline.Dicom;

/// <summary>
/// UIDs under the UUID-derived root 2.25 (PS3.5 B.2): the decimal value of the first 128 bits of SHA-256 over a text,
/// so the same object gets the same UID on every run and distinct objects never share one.
/// </summary>
public static class DicomUids
{
    public static string FromText(string text)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        return "2.25." + new BigInteger(hash.AsSpan(0, 16), isUnsigned: true, isBigEndian: true).ToString(CultureInfo.InvariantCulture);
    }
}
