using QctPipeline.Dicom;

namespace QctPipeline.Ingest;

/// <summary>One SOP instance found in more than one file of a series: kept once when the copies agree, refused when they do not.</summary>
internal static class DuplicateInstances
{
    /// <summary>
    /// A folder can hold one instance twice (a resent slice, an export copied over another). Copies that agree on
    /// geometry and pixel bytes are one image: the first by path is kept and the others are named. Copies that differ
    /// cannot be told apart, so the series is refused with both files named rather than measured on a guess.
    /// </summary>
    public static (List<ImageFrame> Frames, string? Conflict) KeepOnce(List<ImageFrame> frames, List<string> warnings)
    {
        var kept = new List<ImageFrame>(frames.Count);
        foreach (var copies in frames.GroupBy(f => (Uid: f.Header.GetString(DicomTag.SopInstanceUid) ?? "\0" + f.FilePath, f.FrameIndex)))
        {
            var ordered = copies.OrderBy(f => f.FilePath, StringComparer.Ordinal).ToList();
            kept.Add(ordered[0]);
            foreach (var copy in ordered.Skip(1))
            {
                if (Difference(ordered[0], copy) is { } difference)
                {
                    return (frames, $"{SeriesAssembler.Describe(ordered[0])} and {SeriesAssembler.Describe(copy)} are both SOPInstanceUID {copies.Key.Uid} but differ in {difference}: which is the image cannot be told");
                }

                warnings.Add($"{SeriesAssembler.Describe(copy)} repeats SOPInstanceUID {copies.Key.Uid} of {SeriesAssembler.Describe(ordered[0])} with the same geometry and pixels: left out");
            }
        }

        return (kept.Count == frames.Count ? frames : kept, null);
    }

    private static string? Difference(ImageFrame a, ImageFrame b)
    {
        if (a.Position != b.Position || a.RowDirection != b.RowDirection || a.ColumnDirection != b.ColumnDirection || a.RowSpacing != b.RowSpacing || a.ColumnSpacing != b.ColumnSpacing)
        {
            return "geometry";
        }

        if (a.Pixels != b.Pixels || a.RescaleSlope != b.RescaleSlope || a.RescaleIntercept != b.RescaleIntercept || a.TransferSyntax != b.TransferSyntax)
        {
            return "pixel format or rescale";
        }

        return SamePixelBytes(a, b) ? null : "pixel data";
    }

    private static bool SamePixelBytes(ImageFrame a, ImageFrame b)
    {
        static byte[]? Pixels(ImageFrame frame)
        {
            if (frame.Header.Find(DicomTag.PixelData) is not { DeferredLength: >= 0 } element)
            {
                return null;
            }

            using var file = File.OpenRead(frame.FilePath);
            file.Position = element.DeferredEnd - element.DeferredLength;
            var bytes = new byte[element.DeferredLength];
            file.ReadExactly(bytes);
            return bytes;
        }

        try
        {
            return Pixels(a) is { } first && Pixels(b) is { } second && first.AsSpan().SequenceEqual(second);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
