using System.Text;

namespace QctPipeline.Dicom;

/// <summary>Builds a <see cref="DicomDataset"/> tree from the tokens a <see cref="DicomElementWalker"/> reports.</summary>
public sealed class DicomDatasetBuilder(ReadOnlyMemory<byte> buffer, bool bigEndian)
{
    private readonly Stack<Level> levels = new([new Level(null)]);
    private Encoding textEncoding = Encoding.Latin1;

    public void Add(in DicomToken token)
    {
        var level = levels.Peek();
        switch (token.Kind)
        {
            case DicomTokenKind.Element:
                var deferred = token.ValueOffset + (long)token.ValueLength > buffer.Length;
                var value = deferred ? ReadOnlyMemory<byte>.Empty : buffer.Slice(token.ValueOffset, token.ValueLength);
                level.Elements[token.Tag] = new DicomElement(token.Tag, token.VR, value, [], []) { DeferredLength = deferred ? token.ValueLength : -1, DeferredEnd = token.ValueOffset + (long)token.ValueLength };
                if (token.Tag == DicomTag.SpecificCharacterSet && levels.Count == 1)
                {
                    textEncoding = EncodingFor(Encoding.ASCII.GetString(value.Span));
                }

                break;
            case DicomTokenKind.SequenceStart:
            case DicomTokenKind.FragmentsStart:
                levels.Push(new Level(token));
                break;
            case DicomTokenKind.ItemStart:
                levels.Push(new Level(token));
                break;
            case DicomTokenKind.ItemEnd:
                levels.Pop();
                levels.Peek().Items.Add(new DicomDataset(level.Elements, bigEndian, textEncoding));
                break;
            case DicomTokenKind.Fragment:
                level.Fragments.Add(buffer.Slice(token.ValueOffset, token.ValueLength));
                break;
            case DicomTokenKind.SequenceEnd:
                levels.Pop();
                var opener = level.Opener!.Value;
                levels.Peek().Elements[opener.Tag] = new DicomElement(opener.Tag, opener.VR, ReadOnlyMemory<byte>.Empty, level.Items, level.Fragments);
                break;
        }
    }

    /// <summary>The top-level data set. Containers still open (a header-only walk stopped inside them) are closed as they stand.</summary>
    public DicomDataset Build()
    {
        while (levels.Count > 1)
        {
            Add(new DicomToken(levels.Peek().Opener!.Value.Kind == DicomTokenKind.ItemStart ? DicomTokenKind.ItemEnd : DicomTokenKind.SequenceEnd, default, default, 0, 0, 0));
        }

        return new DicomDataset(levels.Peek().Elements, bigEndian, textEncoding);
    }

    /// <summary>
    /// Text encoding for (0008,0005). Code extensions (ISO 2022 escapes) are decoded as their base set: the
    /// strings the pipeline reads (IDs, UIDs, kernels) are ASCII; names may show stray characters.
    /// </summary>
    private static Encoding EncodingFor(string characterSet)
    {
        var terms = characterSet.Split('\\').Select(t => t.Trim(' ', '\0')).ToArray();
        return terms.Contains("ISO_IR 192") ? Encoding.UTF8 : Encoding.Latin1;
    }

    private sealed class Level(DicomToken? opener)
    {
        public DicomToken? Opener { get; } = opener;
        public Dictionary<DicomTag, DicomElement> Elements { get; } = [];
        public List<DicomDataset> Items { get; } = [];
        public List<ReadOnlyMemory<byte>> Fragments { get; } = [];
    }
}
