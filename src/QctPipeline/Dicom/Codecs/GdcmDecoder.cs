using System.Buffers;

namespace QctPipeline.Dicom.Codecs;

/// <summary>
/// Decodes JPEG (baseline, extended, lossless process 14 with any predictor), JPEG-LS and JPEG 2000 pixel data
/// through GDCM's C# binding. The output is the stored values as the codestream holds them, little-endian: no
/// rescale, no MONOCHROME1 inversion, no masking or sign extension of the bits above BitsStored (the caller does
/// those, the same way for every transfer syntax).
/// </summary>
/// <remarks>
/// Independent GDCM decodes may run in parallel (OpenJPEG also spreads one J2K decode over all cores). GDCM's
/// diagnostics are global, so they stay switched off while decodes share the library and are switched on only to
/// replay a failed decode alone, which is how a failure gets GDCM's own reason.
/// </remarks>
public static class GdcmDecoder
{
    private const int MaxReasons = 4;

    private static readonly ReaderWriterLockSlim DiagnosticsLock = new();
    private static readonly gdcm.SWIGTYPE_p_std__ostream StandardError;

    static GdcmDecoder()
    {
        StandardError = gdcm.Trace.GetStream();

        // Left on, GDCM writes to stderr from every decoding thread, including a routine warning for each J2K
        // slice whose codestream precision differs from BitsStored.
        gdcm.Trace.WarningOff();
        gdcm.Trace.ErrorOff();
    }

    /// <returns>Why GDCM failed, or null when <paramref name="destination"/> holds the decoded pixels.</returns>
    private delegate string? DecodeAttempt(Span<byte> destination);

    /// <summary>Decodes every frame of a file, which GDCM reads by name.</summary>
    /// <param name="destination">Exactly Rows × Columns × frames × SamplesPerPixel × BitsAllocated / 8 bytes.</param>
    public static void DecodeFile(string path, Span<byte> destination)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("DICOM file to decode not found", path);
        }

        Decode(target => TryDecodeFile(path, target), destination);
    }

    /// <summary>
    /// Decodes one monochrome frame from its encoded bytes (as <see cref="EncapsulatedFrames.Split"/> gives them),
    /// without GDCM reading the file.
    /// </summary>
    /// <param name="destination">Exactly rows × columns × bitsAllocated / 8 bytes.</param>
    public static void DecodeFrame(ReadOnlySpan<byte> encodedFrame, TransferSyntax syntax, int rows, int columns, int bitsAllocated, int samplesPerPixel, int pixelRepresentation, Span<byte> destination)
    {
        if (!syntax.IsEncapsulated)
        {
            throw new ArgumentException($"{syntax.Name} pixel data is not encoded; there is nothing to decode", nameof(syntax));
        }

        var syntaxType = gdcm.TransferSyntax.GetTSType(syntax.Uid);
        if (syntax.Pixels == PixelEncoding.Unsupported || syntaxType == gdcm.TransferSyntax.TSType.TS_END)
        {
            throw new DicomFormatException($"no decoder for {syntax.Name} pixel data");
        }

        // The photometric interpretation steers GDCM's colour conversions, which a CT pipeline never needs.
        if (samplesPerPixel != 1)
        {
            throw new DicomFormatException($"frame decoding handles monochrome images only; this one has {samplesPerPixel} samples per pixel");
        }

        if (rows is <= 0 or > ushort.MaxValue || columns is <= 0 or > ushort.MaxValue || bitsAllocated is not (8 or 16 or 32) || pixelRepresentation is not (0 or 1))
        {
            throw new DicomFormatException($"cannot decode a {rows}x{columns} frame of {bitsAllocated}-bit samples with pixel representation {pixelRepresentation}");
        }

        if ((long)rows * columns * (bitsAllocated / 8) != destination.Length)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes; a {rows}x{columns} frame of {bitsAllocated}-bit samples needs {(long)rows * columns * (bitsAllocated / 8)}", nameof(destination));
        }

        // GDCM takes a managed array; DICOM fragments have even lengths, so a trailing pad byte is what it expects.
        var encoded = new byte[encodedFrame.Length + (encodedFrame.Length & 1)];
        encodedFrame.CopyTo(encoded);
        var format = new FrameFormat(syntaxType, (uint)rows, (uint)columns, (ushort)bitsAllocated, (ushort)pixelRepresentation);
        Decode(target => TryDecodeFrame(encoded, format, target), destination);
    }

    private static void Decode(DecodeAttempt attempt, Span<byte> destination)
    {
        string? failure;
        DiagnosticsLock.EnterReadLock();
        try
        {
            failure = attempt(destination);
        }
        finally
        {
            DiagnosticsLock.ExitReadLock();
        }

        if (failure is not null)
        {
            throw new DicomFormatException($"{failure}{ReplayForReasons(attempt, destination)}");
        }
    }

    private static string? TryDecodeFile(string path, Span<byte> destination)
    {
        using var reader = new gdcm.ImageReader();
        reader.SetFileName(path);
        if (!reader.Read())
        {
            return "GDCM cannot read the file as a DICOM image";
        }

        using var image = reader.GetImage();
        KeepBitsAboveBitsStored(image);
        return TryGetBuffer(image, destination);
    }

    private static string? TryDecodeFrame(byte[] encoded, FrameFormat format, Span<byte> destination)
    {
        using var image = new gdcm.Image();
        image.SetNumberOfDimensions(2);
        image.SetDimension(0, format.Columns);
        image.SetDimension(1, format.Rows);

        // Every allocated bit declared stored, for the reason given in KeepBitsAboveBitsStored.
        using var pixelFormat = new gdcm.PixelFormat(1, format.BitsAllocated, format.BitsAllocated, (ushort)(format.BitsAllocated - 1), format.PixelRepresentation);
        image.SetPixelFormat(pixelFormat);
        using var photometric = new gdcm.PhotometricInterpretation(gdcm.PhotometricInterpretation.PIType.MONOCHROME2);
        image.SetPhotometricInterpretation(photometric);
        using var syntax = new gdcm.TransferSyntax(format.Syntax);
        image.SetTransferSyntax(syntax);

        using var fragment = new gdcm.Fragment();
        using var length = new gdcm.VL((uint)encoded.Length);
        fragment.SetByteValue(encoded, length);
        using var fragments = gdcm.SequenceOfFragments.New();
        fragments.AddFragment(fragment);
        using var pixelDataTag = new gdcm.Tag(DicomTag.PixelData.Group, DicomTag.PixelData.Element);
        using var pixelData = new gdcm.DataElement(pixelDataTag);
        pixelData.SetValue(fragments.__ref__());
        image.SetDataElement(pixelData);
        return TryGetBuffer(image, destination);
    }

    private static string? TryGetBuffer(gdcm.Image image, Span<byte> destination)
    {
        var length = image.GetBufferLength();
        if (length != destination.Length)
        {
            // Not GDCM's failure, so there is no reason of its to replay for.
            using var format = image.GetPixelFormat();
            throw new DicomFormatException($"GDCM decodes {length} bytes ({Describe(image, format)}) where the header implies {destination.Length}");
        }

        // GDCM fills a managed array of at least GetBufferLength() bytes; it cannot write into a span.
        var buffer = ArrayPool<byte>.Shared.Rent(destination.Length);
        try
        {
            if (!image.GetBuffer(buffer))
            {
                using var syntax = image.GetTransferSyntax();
                return $"GDCM cannot decode the {TransferSyntax.FromUid(syntax.toString().Trim('\0', ' ')).Name} pixel data";
            }

            buffer.AsSpan(0, destination.Length).CopyTo(destination);
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// GDCM clears the bits above BitsStored (or copies the sign bit into them) for native, RLE and JPEG lossless
    /// data but not for JPEG-LS. Declaring every allocated bit stored makes all codecs hand back the bits as stored.
    /// </summary>
    private static void KeepBitsAboveBitsStored(gdcm.Image image)
    {
        using var format = image.GetPixelFormat();
        var bitsAllocated = format.GetBitsAllocated();
        if (format.GetBitsStored() == bitsAllocated)
        {
            return;
        }

        using var allBits = new gdcm.PixelFormat(format.GetSamplesPerPixel(), bitsAllocated, bitsAllocated, (ushort)(bitsAllocated - 1), format.GetPixelRepresentation());
        image.SetPixelFormat(allBits);
    }

    private static string Describe(gdcm.Image image, gdcm.PixelFormat format)
    {
        var frames = image.GetNumberOfDimensions() > 2 ? image.GetDimension(2) : 1;
        return $"{image.GetColumns()}x{image.GetRows()}, {frames} frame(s), {format.GetSamplesPerPixel()} x {format.GetBitsAllocated()}-bit samples";
    }

    /// <summary>Runs the failed decode again alone with GDCM's diagnostics captured, and returns them as a clause.</summary>
    private static string ReplayForReasons(DecodeAttempt attempt, Span<byte> destination)
    {
        var log = Path.GetTempFileName();
        try
        {
            DiagnosticsLock.EnterWriteLock();
            try
            {
                gdcm.Trace.SetStreamToFile(log);
                gdcm.Trace.WarningOn();
                gdcm.Trace.ErrorOn();
                attempt(destination);
            }
            finally
            {
                gdcm.Trace.WarningOff();
                gdcm.Trace.ErrorOff();

                // Returning to stderr closes, and so flushes, the log file.
                gdcm.Trace.SetStream(StandardError);
                DiagnosticsLock.ExitWriteLock();
            }

            var reasons = ReasonsIn(File.ReadAllLines(log));
            return reasons.Length == 0 ? string.Empty : $" (GDCM: {string.Join("; ", reasons)})";
        }
        finally
        {
            File.Delete(log);
        }
    }

    /// <summary>GDCM's messages without the "Warning: In file, line, function" line that precedes each one.</summary>
    private static string[] ReasonsIn(string[] lines) =>
        lines.Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith("Warning: In ", StringComparison.Ordinal) &&
                           !line.StartsWith("Error: In ", StringComparison.Ordinal) && !line.StartsWith("Debug: In ", StringComparison.Ordinal))
            .Distinct()
            .Take(MaxReasons)
            .ToArray();

    private readonly record struct FrameFormat(gdcm.TransferSyntax.TSType Syntax, uint Rows, uint Columns, ushort BitsAllocated, ushort PixelRepresentation);
}
