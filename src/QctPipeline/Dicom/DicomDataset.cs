using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace QctPipeline.Dicom;

/// <summary>One element's value: raw bytes, nested items, or encapsulated fragments.</summary>
public sealed record DicomElement(DicomTag Tag, DicomVR VR, ReadOnlyMemory<byte> Value, IReadOnlyList<DicomDataset> Items, IReadOnlyList<ReadOnlyMemory<byte>> Fragments)
{
    /// <summary>Set when the element was reported without its value (pixel data in a header-only read).</summary>
    public int DeferredLength { get; init; } = -1;

    /// <summary>Offset just past the deferred value in the stream, where the file must extend to.</summary>
    public long DeferredEnd { get; init; }
}

/// <summary>
/// An immutable data set built from walked elements. Value accessors decode on request and throw
/// <see cref="DicomFormatException"/> naming the tag when a value cannot be what it must be.
/// </summary>
public sealed class DicomDataset(IReadOnlyDictionary<DicomTag, DicomElement> elements, bool bigEndian, Encoding textEncoding)
{
    public static readonly DicomDataset Empty = new(new Dictionary<DicomTag, DicomElement>(), false, Encoding.Latin1);

    public bool BigEndian => bigEndian;

    public IEnumerable<DicomElement> Elements => elements.Values.OrderBy(e => e.Tag.Value);

    public bool Contains(DicomTag tag) => elements.ContainsKey(tag);

    public DicomElement? Find(DicomTag tag) => elements.GetValueOrDefault(tag);

    /// <summary>
    /// A data set of only the top-level <paramref name="tags"/> present, their values copied out of the buffer the file
    /// was read into, so that buffer is not kept alive by a few strings (a batch keeps every study's frames from
    /// discovery to the end of the run).
    /// </summary>
    public DicomDataset Retaining(params ReadOnlySpan<DicomTag> tags)
    {
        var kept = new Dictionary<DicomTag, DicomElement>(tags.Length);
        foreach (var tag in tags)
        {
            if (elements.TryGetValue(tag, out var element))
            {
                kept[tag] = element with { Value = element.Value.ToArray(), Items = [], Fragments = [] };
            }
        }

        return new DicomDataset(kept, bigEndian, textEncoding);
    }

    /// <summary>The value with trailing padding (spaces, NULs) and leading spaces removed; null when absent or empty.</summary>
    public string? GetString(DicomTag tag)
    {
        if (!elements.TryGetValue(tag, out var element) || element.Value.IsEmpty)
        {
            return null;
        }

        var text = textEncoding.GetString(element.Value.Span).Trim(' ', '\0');
        return text.Length == 0 ? null : text;
    }

    public string[] GetStrings(DicomTag tag) =>
        GetString(tag)?.Split('\\').Select(part => part.Trim(' ', '\0')).ToArray() ?? [];

    /// <summary>Numbers from DS/IS text or from binary FL/FD/US/SS/UL/SL values.</summary>
    public double[]? GetNumbers(DicomTag tag)
    {
        if (!elements.TryGetValue(tag, out var element) || element.Value.IsEmpty)
        {
            return null;
        }

        var vr = element.VR;
        var bytes = element.Value.Span;
        if (vr == DicomVR.FD)
        {
            return Binary(bytes, 8, b => bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(b) : BinaryPrimitives.ReadDoubleLittleEndian(b));
        }

        if (vr == DicomVR.FL)
        {
            return Binary(bytes, 4, b => (double)(bigEndian ? BinaryPrimitives.ReadSingleBigEndian(b) : BinaryPrimitives.ReadSingleLittleEndian(b)));
        }

        if (vr == DicomVR.US || vr == DicomVR.SS || vr == DicomVR.UL || vr == DicomVR.SL)
        {
            return GetIntegers(tag)?.Select(v => (double)v).ToArray();
        }

        var parts = GetStrings(tag);
        var values = new double[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw new DicomFormatException($"{tag} value '{Printable(parts[i])}' is not a number");
            }
        }

        return values;
    }

    public double? GetNumber(DicomTag tag) => GetNumbers(tag) is { Length: > 0 } values ? values[0] : null;

    /// <summary>Integers from binary US/SS/UL/SL values (also implicit-VR UN of the known tags) or IS text.</summary>
    public long[]? GetIntegers(DicomTag tag)
    {
        if (!elements.TryGetValue(tag, out var element) || element.Value.IsEmpty)
        {
            return null;
        }

        var vr = element.VR;
        var bytes = element.Value.Span;
        if (vr == DicomVR.US || (vr == DicomVR.UN && ImplicitVRDictionary.Lookup(tag) == DicomVR.US))
        {
            return Binary(bytes, 2, b => bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b))
                .Select(v => (long)v).ToArray();
        }

        if (vr == DicomVR.SS)
        {
            return Binary(bytes, 2, b => bigEndian ? BinaryPrimitives.ReadInt16BigEndian(b) : BinaryPrimitives.ReadInt16LittleEndian(b))
                .Select(v => (long)v).ToArray();
        }

        if (vr == DicomVR.UL)
        {
            return Binary(bytes, 4, b => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b))
                .Select(v => (long)v).ToArray();
        }

        if (vr == DicomVR.SL)
        {
            return Binary(bytes, 4, b => bigEndian ? BinaryPrimitives.ReadInt32BigEndian(b) : BinaryPrimitives.ReadInt32LittleEndian(b))
                .Select(v => (long)v).ToArray();
        }

        var parts = GetStrings(tag);
        var values = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new DicomFormatException($"{tag} value '{Printable(parts[i])}' is not an integer");
            }
        }

        return values;
    }

    public long? GetInteger(DicomTag tag) => GetIntegers(tag) is { Length: > 0 } values ? values[0] : null;

    public IReadOnlyList<DicomDataset> GetSequence(DicomTag tag) =>
        elements.TryGetValue(tag, out var element) ? element.Items : [];

    /// <summary>A DA value; null when absent, throws when present but not a date.</summary>
    public DateOnly? GetDate(DicomTag tag)
    {
        var text = GetString(tag);
        if (text is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ||
            DateOnly.TryParseExact(text, "yyyy.MM.dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
        {
            return date;
        }

        throw new DicomFormatException($"{tag} value '{Printable(text)}' is not a date");
    }

    private static T[] Binary<T>(ReadOnlySpan<byte> bytes, int size, ReadSpan<T> read)
    {
        var values = new T[bytes.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = read(bytes.Slice(i * size, size));
        }

        return values;
    }

    private static string Printable(string text)
    {
        var clipped = text.Length > 40 ? text[..40] + "…" : text;
        return new string(clipped.Select(c => char.IsControl(c) ? '?' : c).ToArray());
    }

    private delegate T ReadSpan<out T>(ReadOnlySpan<byte> bytes);
}
