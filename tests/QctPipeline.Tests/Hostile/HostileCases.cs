using System.Buffers.Binary;
using System.Text;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Hostile;

/// <summary>
/// The hostile suite's malformed files, each derived from one good slice (or a real scanner file), and the byte
/// surgery that makes them: shared by the suite that drops them in a folder of their own and the one that mixes them
/// into good series.
/// </summary>
internal static class HostileCases
{
    private static readonly string[] LongVrs = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"];

    /// <summary>The small series the hostile files are cut from and mixed into: 64², T12–L1, 3 mm slices.</summary>
    public static PhantomOptions GoodSeries(int seed, string patientId) => new()
    {
        Seed = seed,
        Matrix = 64,
        ReconstructionDiameterMm = 300,
        SliceThicknessMm = 3,
        SliceSpacingMm = 3,
        FromLevel = "T12",
        ToLevel = "L1",
        PatientId = patientId,
    };

    /// <summary>Where the Study, Series and SOP Instance UIDs of <paramref name="baseBytes"/> end (their trailing padding left out).</summary>
    public static int[] UidEnds(byte[] baseBytes)
    {
        var elements = TopLevelElements(baseBytes);
        return [.. new (ushort Group, ushort Element)[] { (0x0020, 0x000D), (0x0020, 0x000E), (0x0008, 0x0018) }
            .Select(tag => elements.Single(e => e.Group == tag.Group && e.Element == tag.Element))
            .Select(uid => Enumerable.Range(uid.ValueStart, uid.End - uid.ValueStart).Last(i => baseBytes[i] != 0) + 1)];
    }

    /// <summary>
    /// The case with those UIDs' last three digits replaced by its number: same lengths, so the offsets of the elements
    /// a case mutates stay put, and a case that ends before a UID keeps it as it is.
    /// </summary>
    public static byte[] WithOwnUids(byte[] bytes, int n, int[] uidEnds)
    {
        var copy = (byte[])bytes.Clone();
        foreach (var end in uidEnds.Where(end => end <= copy.Length))
        {
            Encoding.ASCII.GetBytes((n % 1000).ToString("D3", System.Globalization.CultureInfo.InvariantCulture)).CopyTo(copy, end - 3);
        }

        return copy;
    }

    /// <summary>Every single-file case made from <paramref name="baseBytes"/> (explicit VR little endian): its kind and its bytes.</summary>
    public static IEnumerable<(string Kind, byte[] Bytes)> SingleFiles(byte[] baseBytes)
    {
        var elements = TopLevelElements(baseBytes);
        // Truncation at every structural boundary and in the middle of every element.
        foreach (var element in elements)
        {
            yield return ("cut-at-element", baseBytes[..element.Start]);
            yield return ("cut-in-element", baseBytes[..(element.ValueStart + ((element.End - element.ValueStart) / 2))]);
        }

        // Lengths larger than the file, odd lengths, wrong VRs.
        foreach (var element in elements.Where((_, index) => index % 3 == 0))
        {
            yield return ("length-beyond-file", WithLength(baseBytes, element, element.LongLength ? 0x7FFFFFF0u : 0xFFFEu));
            yield return ("odd-length", WithLength(baseBytes, element, (uint)(element.End - element.ValueStart) | 1));
            var wrongVr = (byte[])baseBytes.Clone();
            "ZZ"u8.CopyTo(wrongVr.AsSpan(element.Start + 4));
            yield return ("wrong-vr", wrongVr);
        }

        // An undefined-length sequence and item never closed; sequences nested 1000 deep; no pixel data at all.
        yield return ("undefined-length-never-closed", [.. baseBytes, .. Element(0x7FE1, 0x1010, "SQ", null), .. ItemStart()]);
        var nested = new List<byte>();
        for (var depth = 0; depth < 1000; depth++)
        {
            nested.AddRange(Element(0x7FE1, 0x1010, "SQ", null));
            nested.AddRange(ItemStart());
        }

        for (var depth = 0; depth < 1000; depth++)
        {
            nested.AddRange([0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        }

        yield return ("sequences-1000-deep", [.. baseBytes, .. nested]);
        var pixel = elements.Single(e => e.Group == 0x7FE0 && e.Element == 0x0010);
        yield return ("no-pixel-data", baseBytes[..pixel.Start]);
        yield return ("pixel-data-short", [.. WithLength(baseBytes[..(pixel.ValueStart + ((pixel.End - pixel.ValueStart) / 2))], pixel, (uint)((pixel.End - pixel.ValueStart) / 2))]);
        yield return ("pixel-data-long", [.. WithLength(baseBytes, pixel, (uint)(pixel.End - pixel.ValueStart + 4096)), .. new byte[4096]]);


        // Files that are not DICOM.
        yield return ("zero-bytes", []);
        yield return ("text", Encoding.UTF8.GetBytes("this is not an image\n"));
        yield return ("random", [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 % 251))]);
        yield return ("preamble-only", [.. new byte[128], .. "DICM"u8.ToArray()]);

        // Real scanner files, truncated at their first kilobytes.
        foreach (var real in Directory.GetFiles(RealData.Path("dcm-qa-ts", "In"), "*.dcm").Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(real);
            yield return ("real-cut-1k", bytes[..Math.Min(1024, bytes.Length)]);
            yield return ("real-cut-half", bytes[..(bytes.Length / 2)]);
        }
    }

    internal sealed record TopElement(ushort Group, ushort Element, int Start, int ValueStart, int End, bool LongLength);

    /// <summary>The data set's top-level elements (explicit VR little endian, defined lengths), after the meta group.</summary>
    internal static List<TopElement> TopLevelElements(byte[] bytes)
    {
        var elements = new List<TopElement>();
        var at = 132;
        while (at + 8 <= bytes.Length)
        {
            var group = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at));
            var element = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 2));
            var vr = Encoding.ASCII.GetString(bytes, at + 4, 2);
            var isLong = LongVrs.Contains(vr);
            var length = isLong ? (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8)) : BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 6));
            var valueStart = at + (isLong ? 12 : 8);
            if (group != 0x0002)
            {
                elements.Add(new TopElement(group, element, at, valueStart, valueStart + length, isLong));
            }

            at = valueStart + length;
        }

        return elements;
    }

    internal static byte[] WithLength(byte[] bytes, TopElement element, uint length)
    {
        var copy = (byte[])bytes.Clone();
        if (element.LongLength)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(element.Start + 8), length);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(element.Start + 6), (ushort)length);
        }

        return copy;
    }

    /// <summary>The file with one top-level element's value replaced (length rewritten), or the file as it was when absent.</summary>
    internal static byte[] Replace(byte[] bytes, ushort group, ushort element, byte[] value)
    {
        var found = TopLevelElements(bytes).FirstOrDefault(e => e.Group == group && e.Element == element);
        if (found is null)
        {
            return bytes;
        }

        var rebuilt = new List<byte>(bytes.Length + value.Length);
        rebuilt.AddRange(bytes[..found.ValueStart]);
        rebuilt.AddRange(value);
        rebuilt.AddRange(bytes[found.End..]);
        var result = rebuilt.ToArray();
        return WithLength(result, found, (uint)value.Length);
    }

    internal static byte[] Remove(byte[] bytes, ushort group, ushort element)
    {
        var found = TopLevelElements(bytes).FirstOrDefault(e => e.Group == group && e.Element == element);
        return found is null ? bytes : [.. bytes[..found.Start], .. bytes[found.End..]];
    }

    internal static byte[] ElementValue(byte[] bytes, ushort group, ushort element)
    {
        var found = TopLevelElements(bytes).Single(e => e.Group == group && e.Element == element);
        return bytes[found.ValueStart..found.End];
    }

    internal static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
        return bytes;
    }

    internal static byte[] Text(string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        return bytes.Length % 2 == 0 ? bytes : [.. bytes, (byte)' '];
    }

    internal static byte[] Element(ushort group, ushort element, string vr, uint? length)
    {
        var bytes = new byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, group);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), element);
        Encoding.ASCII.GetBytes(vr).CopyTo(bytes, 4);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), length ?? 0xFFFFFFFF);
        return bytes;
    }

    internal static byte[] ItemStart() => [0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF];
}
