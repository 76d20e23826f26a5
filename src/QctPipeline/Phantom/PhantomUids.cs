using System.Numerics;
using System.Security.Cryptography;
using System.Text;

namespace QctPipeline.Phantom;

/// <summary>
/// UIDs under the UUID-derived root 2.25 (PS3.5 B.2): the decimal value of 128 bits of SHA-256 over the seed and a
/// description, so every generated object gets the same UID on every run and distinct objects never share one.
/// </summary>
public static class PhantomUids
{
    public static string Make(long seed, params string[] parts)
    {
        var text = $"qct-phantom|{seed}|{string.Join('|', parts)}";
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        var value = new BigInteger(hash.AsSpan(0, 16), isUnsigned: true, isBigEndian: true);
        return "2.25." + value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
