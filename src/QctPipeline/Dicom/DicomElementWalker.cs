using System.Buffers.Binary;

namespace QctPipeline.Dicom;

public enum DicomTokenKind
{
    Element,
    SequenceStart,
    ItemStart,
    ItemEnd,
    SequenceEnd,
    FragmentsStart,
    Fragment,
}

public enum DicomReadStatus
{
    Token,
    End,
    NeedMoreData,
}

/// <summary>
/// One step of the walk. For <see cref="DicomTokenKind.Element"/> and <see cref="DicomTokenKind.Fragment"/> the
/// value lies at <see cref="ValueOffset"/> for <see cref="ValueLength"/> bytes of the walked buffer; a deferred
/// pixel data element (header-only walk) may point past the buffer's end.
/// </summary>
public readonly record struct DicomToken(DicomTokenKind Kind, DicomTag Tag, DicomVR VR, int ValueOffset, int ValueLength, int Depth);

/// <summary>
/// Walks the elements of a DICOM data set in a buffer and reports them one at a time; it interprets nothing
/// beyond the structure (tags, VRs, lengths, sequences, items, encapsulated fragments). Building a data set
/// from the tokens is <see cref="DicomDatasetBuilder"/>'s job.
/// </summary>
public ref struct DicomElementWalker
{
    public const uint UndefinedLength = 0xFFFFFFFF;

    private const int MaxDepth = 256;

    private readonly ReadOnlySpan<byte> buffer;
    private readonly bool explicitVR;
    private readonly bool bigEndian;
    private readonly bool bufferIsWholeStream;
    private readonly bool stopAtPixelData;
    private readonly Stack<Container> containers;
    private int position;
    private bool finished;

    /// <param name="buffer">The bytes, or a prefix of them when <paramref name="bufferIsWholeStream"/> is false.</param>
    /// <param name="start">Offset of the first element.</param>
    /// <param name="stopAtPixelData">End the walk at top-level pixel data, reporting it without needing its value.</param>
    public DicomElementWalker(ReadOnlySpan<byte> buffer, int start, bool explicitVR, bool bigEndian, bool bufferIsWholeStream, bool stopAtPixelData)
    {
        this.buffer = buffer;
        this.explicitVR = explicitVR;
        this.bigEndian = bigEndian;
        this.bufferIsWholeStream = bufferIsWholeStream;
        this.stopAtPixelData = stopAtPixelData;
        containers = new Stack<Container>();
        position = start;
    }

    public readonly int Position => position;

    public readonly int Depth => containers.Count;

    /// <summary>The group of the next top-level element, if its tag is in the buffer.</summary>
    public readonly bool TryPeekGroup(out ushort group)
    {
        group = 0;
        if (position + 4 > buffer.Length)
        {
            return false;
        }

        group = ReadUInt16(position);
        return true;
    }

    public DicomReadStatus Read(out DicomToken token)
    {
        token = default;
        if (finished)
        {
            return DicomReadStatus.End;
        }

        if (containers.TryPeek(out var top) && top.End >= 0)
        {
            if (position == top.End)
            {
                containers.Pop();
                token = new DicomToken(top.Kind == ContainerKind.Item ? DicomTokenKind.ItemEnd : DicomTokenKind.SequenceEnd, top.Tag, DicomVR.None, position, 0, containers.Count);
                return DicomReadStatus.Token;
            }

            if (position > top.End)
            {
                throw new DicomFormatException($"contents of {top.Tag} run past its declared length (offset {position}, end {top.End})");
            }
        }

        if (position >= buffer.Length)
        {
            if (!bufferIsWholeStream)
            {
                return DicomReadStatus.NeedMoreData;
            }

            if (containers.Count > 0)
            {
                throw new DicomFormatException($"file ends inside {containers.Peek().Tag}, which is never closed");
            }

            finished = true;
            return DicomReadStatus.End;
        }

        if (position + 8 > buffer.Length)
        {
            return Shortfall($"file ends inside an element header at offset {position}");
        }

        var tag = new DicomTag(ReadUInt16(position), ReadUInt16(position + 2));
        if (containers.TryPeek(out top) && top.Kind is ContainerKind.Sequence or ContainerKind.Fragments)
        {
            return ReadInsideSequence(tag, top, out token);
        }

        if (tag == DicomTag.ItemDelimitation)
        {
            if (!containers.TryPeek(out top) || top.Kind != ContainerKind.Item || top.End >= 0)
            {
                throw new DicomFormatException($"item delimiter at offset {position} outside an undefined-length item");
            }

            containers.Pop();
            position += 8;
            token = new DicomToken(DicomTokenKind.ItemEnd, tag, DicomVR.None, position, 0, containers.Count);
            return DicomReadStatus.Token;
        }

        return ReadElement(tag, out token);
    }

    private DicomReadStatus ReadInsideSequence(DicomTag tag, Container sequence, out DicomToken token)
    {
        token = default;
        var length = ReadUInt32(position + 4);
        if (tag == DicomTag.SequenceDelimitation)
        {
            if (sequence.End >= 0)
            {
                throw new DicomFormatException($"sequence delimiter at offset {position} inside defined-length {sequence.Tag}");
            }

            containers.Pop();
            position += 8;
            token = new DicomToken(DicomTokenKind.SequenceEnd, sequence.Tag, DicomVR.None, position, 0, containers.Count);
            return DicomReadStatus.Token;
        }

        if (tag != DicomTag.Item)
        {
            throw new DicomFormatException($"expected an item in {sequence.Tag} at offset {position}, found {tag}");
        }

        position += 8;
        if (sequence.Kind == ContainerKind.Fragments)
        {
            if (length == UndefinedLength || length > int.MaxValue)
            {
                throw new DicomFormatException($"pixel data fragment at offset {position - 8} has no usable length");
            }

            var what = $"pixel data fragment at offset {position - 8}";
            if (!ValueInBuffer(what, length, sequence))
            {
                return Shortfall($"{what} claims {length} bytes; only {buffer.Length - position} remain");
            }

            token = new DicomToken(DicomTokenKind.Fragment, tag, DicomVR.OB, position, (int)length, containers.Count);
            position += (int)length;
            return DicomReadStatus.Token;
        }

        Push(new Container(ContainerKind.Item, tag, length == UndefinedLength ? -1 : CheckedEnd(length, sequence), sequence.ImplicitContent));
        token = new DicomToken(DicomTokenKind.ItemStart, tag, DicomVR.None, position, length == UndefinedLength ? -1 : (int)length, containers.Count - 1);
        return DicomReadStatus.Token;
    }

    private DicomReadStatus ReadElement(DicomTag tag, out DicomToken token)
    {
        token = default;
        var headerStart = position;
        DicomVR vr;
        uint length;
        int headerLength;
        var insideImplicitContent = containers.TryPeek(out var enclosing) && enclosing.ImplicitContent;
        if (explicitVR && !insideImplicitContent)
        {
            var first = buffer[position + 4];
            var second = buffer[position + 5];
            if (first is < (byte)'A' or > (byte)'Z' || second is < (byte)'A' or > (byte)'Z')
            {
                throw new DicomFormatException($"element {tag} at offset {headerStart} has invalid VR bytes 0x{first:X2}{second:X2}");
            }

            vr = DicomVR.FromLetters(first, second);
            if (vr.HasLongLength || !vr.IsKnown)
            {
                if (position + 12 > buffer.Length)
                {
                    return Shortfall($"file ends inside the header of {tag} at offset {headerStart}");
                }

                length = ReadUInt32(position + 8);
                headerLength = 12;
            }
            else
            {
                length = ReadUInt16(position + 6);
                headerLength = 8;
            }
        }
        else
        {
            vr = ImplicitVRDictionary.Lookup(tag);
            length = ReadUInt32(position + 4);
            headerLength = 8;
        }

        var valueStart = position + headerLength;
        if (length == UndefinedLength)
        {
            position = valueStart;
            if (tag == DicomTag.PixelData && containers.Count == 0)
            {
                Push(new Container(ContainerKind.Fragments, tag, -1));
                token = new DicomToken(DicomTokenKind.FragmentsStart, tag, vr, valueStart, -1, 0);
                finished = stopAtPixelData;
                return DicomReadStatus.Token;
            }

            if (vr == DicomVR.SQ || vr == DicomVR.UN || !explicitVR || insideImplicitContent)
            {
                Push(new Container(ContainerKind.Sequence, tag, -1, insideImplicitContent || (explicitVR && vr == DicomVR.UN)));
                token = new DicomToken(DicomTokenKind.SequenceStart, tag, DicomVR.SQ, valueStart, -1, containers.Count - 1);
                return DicomReadStatus.Token;
            }

            throw new DicomFormatException($"element {tag} ({vr}) at offset {headerStart} has undefined length, allowed only for sequences and encapsulated pixel data");
        }

        if (length > int.MaxValue)
        {
            throw new DicomFormatException($"element {tag} at offset {headerStart} claims {length} bytes");
        }

        if ((length & 1) != 0)
        {
            throw new DicomFormatException($"element {tag} ({vr}) at offset {headerStart} has odd length {length}; DICOM values have even lengths");
        }

        containers.TryPeek(out var parent);
        if (vr == DicomVR.SQ)
        {
            position = valueStart;
            Push(new Container(ContainerKind.Sequence, tag, CheckedEnd(length, parent), insideImplicitContent));
            token = new DicomToken(DicomTokenKind.SequenceStart, tag, vr, valueStart, (int)length, containers.Count - 1);
            return DicomReadStatus.Token;
        }

        var isDeferrablePixelData = stopAtPixelData && tag == DicomTag.PixelData && containers.Count == 0;
        position = valueStart;
        var what = $"value of {tag} ({vr}) at offset {headerStart}";
        if (!ValueInBuffer(what, length, parent) && !isDeferrablePixelData)
        {
            position = headerStart;
            return Shortfall($"{what} claims {length} bytes; only {buffer.Length - valueStart} remain");
        }

        token = new DicomToken(DicomTokenKind.Element, tag, vr, valueStart, (int)length, containers.Count);
        position = valueStart + (int)length;
        finished = isDeferrablePixelData;
        return DicomReadStatus.Token;
    }

    /// <summary>Whether the value is in the buffer; a value that overruns its declared container is malformed.</summary>
    private readonly bool ValueInBuffer(string what, uint length, Container parent)
    {
        if (parent.Kind != ContainerKind.None && parent.End >= 0 && position + (long)length > parent.End)
        {
            throw new DicomFormatException($"{what} claims {length} bytes but only {parent.End - position} remain in {parent.Tag}");
        }

        return position + (long)length <= buffer.Length;
    }

    private readonly int CheckedEnd(uint length, Container parent)
    {
        var end = position + (long)length;
        if (length > int.MaxValue || end > int.MaxValue)
        {
            throw new DicomFormatException($"length {length} at offset {position} is impossible");
        }

        if (parent.Kind != ContainerKind.None && parent.End >= 0 && end > parent.End)
        {
            throw new DicomFormatException($"item or sequence at offset {position} ({length} bytes) runs past the end of {parent.Tag}");
        }

        if (bufferIsWholeStream && end > buffer.Length)
        {
            throw new DicomFormatException($"sequence or item at offset {position} claims {length} bytes; only {buffer.Length - position} remain");
        }

        return (int)end;
    }

    private readonly DicomReadStatus Shortfall(string reason) =>
        bufferIsWholeStream ? throw new DicomFormatException($"truncated: {reason}") : DicomReadStatus.NeedMoreData;

    private readonly void Push(Container container)
    {
        if (containers.Count >= MaxDepth)
        {
            throw new DicomFormatException($"sequences nested deeper than {MaxDepth} levels at offset {position}");
        }

        containers.Push(container);
    }

    private readonly ushort ReadUInt16(int offset) => bigEndian
        ? BinaryPrimitives.ReadUInt16BigEndian(buffer.Slice(offset, 2))
        : BinaryPrimitives.ReadUInt16LittleEndian(buffer.Slice(offset, 2));

    private readonly uint ReadUInt32(int offset) => bigEndian
        ? BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(offset, 4))
        : BinaryPrimitives.ReadUInt32LittleEndian(buffer.Slice(offset, 4));

    private enum ContainerKind
    {
        None,
        Sequence,
        Item,
        Fragments,
    }

    /// <param name="ImplicitContent">True inside an undefined-length UN element, whose items are implicit VR LE (PS3.5 6.2.2).</param>
    private readonly record struct Container(ContainerKind Kind, DicomTag Tag, int End, bool ImplicitContent = false);
}
