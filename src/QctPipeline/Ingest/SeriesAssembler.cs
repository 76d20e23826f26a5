using System.Globalization;
using QctPipeline.Dicom;
using QctPipeline.Domain;

namespace QctPipeline.Ingest;

/// <summary>
/// Groups frames into series, splits what does not belong together, sorts slices along the normal and works out the
/// stack geometry, or says why a group cannot be a volume. Pure: frames in, candidates out.
/// </summary>
public static class SeriesAssembler
{
    private const double DuplicateTolerance = 0.01;
    private const double OrthonormalTolerance = 0.01;
    private const double TiltThresholdDegrees = 0.01;

    /// <summary>What an assembled frame's header keeps beyond the first frame: its identity and what <see cref="ImageFrame"/> reads from it.</summary>
    private static readonly DicomTag[] FrameIdentity = [DicomTag.SopClassUid, DicomTag.SopInstanceUid, DicomTag.SeriesInstanceUid, DicomTag.Modality, DicomTag.ImageType];

    private static readonly string[] LocalizerWords = ["LOCALIZER", "SCOUT", "SURVIEW", "TOPOGRAM", "SCANOGRAM"];

    public static IReadOnlyList<SeriesCandidate> Assemble(IReadOnlyList<ImageFrame> frames, IngestOptions options)
    {
        var candidates = new List<SeriesCandidate>();
        foreach (var series in frames.GroupBy(SeriesKey))
        {
            var parts = series.GroupBy(PartKey).ToList();
            foreach (var part in parts)
            {
                var partFrames = part.ToList();
                var labels = new[] { series.Key.Fallback, parts.Count > 1 ? PartLabel(partFrames[0]) : null }.OfType<string>().ToArray();
                var label = labels.Length > 0 ? string.Join(", ", labels) : null;
                try
                {
                    candidates.AddRange([.. AssemblePart(series.Key.Uid, label, partFrames, parts.Count, options)]);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Whatever a malformed header provokes stays with its own series: the study's other series and the
                    // survey's other studies go on.
                    var reason = $"could not be assembled ({ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")})";
                    candidates.Add(Candidate(series.Key.Uid, label, MetadataReader.Read(partFrames[0].Header, series.Key.Uid, []), partFrames, null, reason, []));
                }
            }
        }

        return candidates;
    }

    /// <summary>
    /// Files without a SeriesInstanceUID (anonymised exports blank it) are grouped by folder and SeriesNumber, and the
    /// part label says so, so that the assumption shows in every report of the series.
    /// </summary>
    private static (string Uid, string? Fallback) SeriesKey(ImageFrame frame) =>
        frame.SeriesInstanceUid is { } uid
            ? (uid, null)
            : (string.Empty, $"no SeriesInstanceUID: grouped by folder {Path.GetDirectoryName(frame.FilePath)} and SeriesNumber {frame.Header.GetString(DicomTag.SeriesNumber) ?? "(none)"}");

    /// <summary>Frames belong to one volume only if orientation, matrix and kind of image agree (GDCM SerieHelper, dcm2niix).</summary>
    private static string PartKey(ImageFrame frame)
    {
        var orientation = frame.RowDirection is { } r && frame.ColumnDirection is { } c
            ? string.Join(',', new[] { r.X, r.Y, r.Z, c.X, c.Y, c.Z }.Select(v => Math.Round(v, 3).ToString("0.000", CultureInfo.InvariantCulture)))
            : "none";
        var size = frame.Pixels is { } p ? $"{p.Rows}x{p.Columns}" : "no pixels";
        return $"{orientation}|{size}|{ImageKind(frame)}";
    }

    private static string ImageKind(ImageFrame frame) => string.Join('\\', frame.ImageType.Take(3));

    private static string PartLabel(ImageFrame frame)
    {
        var size = frame.Pixels is { } p ? $"{p.Rows}x{p.Columns}" : "no pixels";
        var kind = ImageKind(frame);
        return $"{(kind.Length > 0 ? kind : "no ImageType")}, {size}, {Orientation(frame)}";
    }

    private static string Orientation(ImageFrame frame)
    {
        if (frame.Normal is not { } normal)
        {
            return "no orientation";
        }

        var ax = Math.Abs(normal.X);
        var ay = Math.Abs(normal.Y);
        var az = Math.Abs(normal.Z);
        return az >= ax && az >= ay ? "axial" : ay >= ax ? "coronal" : "sagittal";
    }

    private static IEnumerable<SeriesCandidate> AssemblePart(string seriesUid, string? part, List<ImageFrame> frames, int partCount, IngestOptions options)
    {
        var first = frames[0];
        var warnings = new List<string>();
        var metadata = MetadataReader.Read(first.Header, seriesUid, warnings);
        if (seriesUid.Length == 0)
        {
            warnings.Add("files have no SeriesInstanceUID: grouped by folder and SeriesNumber");
        }

        if (partCount > 1)
        {
            warnings.Add($"series split into {partCount} parts by orientation, matrix size and image type");
        }

        warnings.AddRange(frames.SelectMany(f => f.Notes).Distinct());

        // Every frame's geometry is checked before any is used: a slice without a position (a broken export or
        // anonymiser) leaves the stack, named, instead of failing the sort for the whole series.
        var lost = frames.Where(f => MissingGeometry(f) is not null).ToList();
        if (lost.Count > 0 && lost.Count < frames.Count)
        {
            frames = [.. frames.Except(lost)];
            first = frames[0];
            warnings.Add(LostFramesWarning(lost));
        }

        var (unique, conflict) = DuplicateInstances.KeepOnce(frames, warnings);
        frames = unique;
        first = frames[0];

        // What the object is comes first: an MR or a localizer is skipped as such, whatever its files repeat.
        var skip = ClassifyObject(first, frames.Count, options) ?? conflict ?? (lost.Count > 0 ? GapLeftByLostFrames(frames, lost.Count, options) : null);
        if (skip is null && IsSecondary(first))
        {
            warnings.Add($"ImageType {string.Join('\\', first.ImageType)} marks the series SECONDARY (a reconstruction or reformat; TCIA and many PACS mark axial series so): used only when no primary series qualifies");
        }
        if (skip is not null)
        {
            yield return Candidate(seriesUid, part, metadata, frames, null, skip, warnings);
            yield break;
        }

        var sorted = frames.OrderBy(f => f.Position!.Value.Dot(first.Normal!.Value)).ToList();
        var duplicates = FindDuplicate(sorted, first.Normal!.Value);
        if (duplicates is { } pair)
        {
            var acquisitions = frames.GroupBy(f => f.Header.GetInteger(DicomTag.AcquisitionNumber)).ToList();
            if (acquisitions.Count > 1 && acquisitions.All(a => FindDuplicate(a.OrderBy(f => f.Position!.Value.Dot(first.Normal!.Value)).ToList(), first.Normal!.Value) is null))
            {
                foreach (var acquisition in acquisitions)
                {
                    var acquisitionPart = $"{(part is null ? string.Empty : part + ", ")}acquisition {acquisition.Key?.ToString(CultureInfo.InvariantCulture) ?? "none"}";
                    var splitWarnings = warnings.Append($"slice positions repeat across acquisitions; split into {acquisitions.Count} volumes by AcquisitionNumber").ToList();
                    yield return AssembleStack(seriesUid, acquisitionPart, metadata, acquisition.ToList(), splitWarnings, options);
                }

                yield break;
            }

            var z = pair.First.Position!.Value.Dot(first.Normal!.Value);
            yield return Candidate(seriesUid, part, metadata, frames, null,
                $"duplicate slice position {z.ToString("0.###", CultureInfo.InvariantCulture)} mm along the normal in {Describe(pair.First)} and {Describe(pair.Second)}", warnings);
            yield break;
        }

        yield return AssembleStack(seriesUid, part, metadata, frames, warnings, options);
    }

    private static string? ClassifyObject(ImageFrame first, int frameCount, IngestOptions options)
    {
        var sopClass = first.SopClassUid ?? string.Empty;
        if (first.Pixels is null)
        {
            return $"no pixel data: {SopClassNames.Describe(sopClass)}";
        }

        if (sopClass.StartsWith(SopClassNames.SecondaryCapturePrefix, StringComparison.Ordinal))
        {
            return $"secondary capture ({SopClassNames.Describe(sopClass)}), not an acquired image";
        }

        var imageType = first.ImageType.Select(t => t.ToUpperInvariant()).ToArray();
        if (imageType.Any(t => LocalizerWords.Contains(t)))
        {
            return $"localizer/scout (ImageType {string.Join('\\', first.ImageType)})";
        }

        var modality = first.Modality ?? "(none)";
        if (modality != "CT" && !options.AnyModality)
        {
            return $"modality {modality} is not CT (--any-modality accepts it)";
        }

        if (first.Pixels.SamplesPerPixel != 1 || !first.Pixels.PhotometricInterpretation.StartsWith("MONOCHROME", StringComparison.Ordinal))
        {
            return $"colour image ({first.Pixels.PhotometricInterpretation}, {first.Pixels.SamplesPerPixel} samples per pixel), not a greyscale slice";
        }

        if (MissingGeometry(first) is { } missing)
        {
            return $"no patient-space geometry ({missing} missing)";
        }

        var row = first.RowDirection!.Value;
        var column = first.ColumnDirection!.Value;
        if (Math.Abs(row.Length - 1) > OrthonormalTolerance || Math.Abs(column.Length - 1) > OrthonormalTolerance || Math.Abs(row.Dot(column)) > OrthonormalTolerance)
        {
            return $"ImageOrientationPatient {row} {column} is not two orthogonal unit vectors";
        }

        return frameCount < options.MinSlices ? $"only {frameCount} slice{(frameCount == 1 ? string.Empty : "s")} (fewer than {options.MinSlices})" : null;
    }

    /// <summary>
    /// ImageType's second value SECONDARY: derived from other images. Only Secondary Capture SOP classes are screenshots;
    /// a SECONDARY axial CT series is a reconstruction, ranked below primary ones (<see cref="SeriesSelector"/>).
    /// </summary>
    public static bool IsSecondary(ImageFrame frame) => frame.ImageType is [_, var value, ..] && string.Equals(value, "SECONDARY", StringComparison.OrdinalIgnoreCase);

    /// <summary>Which of the tags a slice needs to be placed in patient space it lacks; null when it has them all.</summary>
    private static string? MissingGeometry(ImageFrame frame)
    {
        var missing = new[]
        {
            frame.Position is null ? "ImagePositionPatient" : null,
            frame.RowDirection is null || frame.ColumnDirection is null ? "ImageOrientationPatient" : null,
            frame.RowSpacing is null || frame.ColumnSpacing is null ? "PixelSpacing" : null,
        }.OfType<string>().ToArray();
        return missing.Length == 0 ? null : string.Join(", ", missing);
    }

    private static string LostFramesWarning(List<ImageFrame> lost)
    {
        const int Named = 3;
        var named = string.Join("; ", lost.Take(Named).Select(f => $"{Describe(f)} ({MissingGeometry(f)} missing)"));
        var more = lost.Count > Named ? $"; and {lost.Count - Named} more" : string.Empty;
        return $"{lost.Count} slice{(lost.Count == 1 ? string.Empty : "s")} left out without patient-space geometry: {named}{more}";
    }

    /// <summary>
    /// With slices left out, the series is refused when what remains has a hole of more than
    /// <see cref="IngestOptions.MaxLostSlicesInARow"/> slices: interpolating across it would invent anatomy.
    /// </summary>
    private static string? GapLeftByLostFrames(List<ImageFrame> frames, int lostCount, IngestOptions options)
    {
        var normal = frames[0].Normal!.Value;
        var distances = frames.Select(f => f.Position!.Value.Dot(normal)).Order().ToArray();
        var gaps = distances.Zip(distances.Skip(1), (a, b) => b - a).ToArray();
        if (gaps.Length < 2)
        {
            return null;
        }

        var median = Statistics.Median(gaps);
        var widest = gaps.Max();
        var absent = (int)Math.Round(widest / median) - 1;
        return absent > options.MaxLostSlicesInARow
            ? string.Create(CultureInfo.InvariantCulture,
                $"{lostCount} slice{(lostCount == 1 ? string.Empty : "s")} without patient-space geometry left a gap of {widest:0.###} mm (about {absent} slices) in the stack")
            : null;
    }

    private static (ImageFrame First, ImageFrame Second)? FindDuplicate(List<ImageFrame> sorted, Vector3 normal)
    {
        for (var i = 1; i < sorted.Count; i++)
        {
            if (Math.Abs(sorted[i].Position!.Value.Dot(normal) - sorted[i - 1].Position!.Value.Dot(normal)) < DuplicateTolerance)
            {
                return (sorted[i - 1], sorted[i]);
            }
        }

        return null;
    }

    private static SeriesCandidate AssembleStack(string seriesUid, string? part, SeriesMetadata metadata, List<ImageFrame> frames, List<string> warnings, IngestOptions options)
    {
        var first = frames[0];
        var row = first.RowDirection!.Value.Normalized();
        var column = first.ColumnDirection!.Value.Normalized();
        var normal = row.Cross(column).Normalized();
        var sorted = frames.OrderBy(f => f.Position!.Value.Dot(normal)).ToList();
        var origin = sorted[0].Position!.Value;
        var distances = sorted.Select(f => (f.Position!.Value - origin).Dot(normal)).ToArray();
        var offsets = sorted.Select((f, k) => f.Position!.Value - origin - normal * distances[k]).ToArray();

        if (sorted.Select(f => (f.RowSpacing, f.ColumnSpacing)).Distinct().Count() > 1)
        {
            return Candidate(seriesUid, part, metadata, sorted, null, "PixelSpacing differs between slices", warnings);
        }

        var gaps = distances.Zip(distances.Skip(1), (a, b) => b - a).ToArray();
        double sliceSpacing;
        var uneven = false;
        if (gaps.Length == 0)
        {
            sliceSpacing = metadata.SliceThickness is > 0 and var thickness ? thickness : 1.0;
            warnings.Add($"single slice: slice spacing taken from SliceThickness ({sliceSpacing.ToString("0.###", CultureInfo.InvariantCulture)} mm)");
        }
        else
        {
            var median = Statistics.Median(gaps);
            uneven = gaps.Any(g => Math.Abs(g - median) > Math.Max(options.UnevenSpacingTolerance * median, 0.005));
            sliceSpacing = uneven ? median : distances[^1] / gaps.Length;
            if (uneven)
            {
                DescribeUnevenSpacing(gaps, distances, median, warnings);
            }
        }

        var (tiltDegrees, shearPerMm, worstResidual) = EstimateTilt(distances, offsets);
        var pixel = Math.Min(first.RowSpacing!.Value, first.ColumnSpacing!.Value);
        if (worstResidual > pixel / 2)
        {
            return Candidate(seriesUid, part, metadata, sorted, null,
                $"slice positions do not lie on a line: in-plane jumps of up to {worstResidual.ToString("0.##", CultureInfo.InvariantCulture)} mm", warnings);
        }

        var tagTilt = first.Header.GetNumber(DicomTag.GantryDetectorTilt) ?? 0;
        if (tiltDegrees > TiltThresholdDegrees)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"gantry tilt {tiltDegrees:0.##}° found in the slice positions (tag (0018,1120) says {tagTilt:0.##}°): resampled onto an orthogonal grid, in-plane shift up to {offsets.Max(o => o.Length):0.#} mm"));
        }
        else
        {
            tiltDegrees = 0;
            shearPerMm = default;
            if (Math.Abs(tagTilt) > TiltThresholdDegrees)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"GantryDetectorTilt (0018,1120) is {tagTilt:0.##}° but the slice positions show no shear: the scanner already resampled; nothing done"));
            }
        }

        var shifts = distances.Select(d => shearPerMm * d).ToArray();
        if (metadata.SliceThickness is { } nominal && gaps.Length > 0 && nominal > 0 && sliceSpacing > nominal * 1.5)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"slices are {nominal:0.##} mm thick every {sliceSpacing:0.##} mm: gaps between slices are not imaged"));
        }

        var geometry = new StackGeometry(
            origin,
            row,
            column,
            normal,
            first.ColumnSpacing.Value,
            first.RowSpacing.Value,
            sliceSpacing,
            gaps.Length == 0 ? 0 : gaps.Min(),
            gaps.Length == 0 ? 0 : gaps.Max(),
            uneven,
            tiltDegrees,
            distances,
            shifts);
        return Candidate(seriesUid, part, metadata, sorted, geometry, null, warnings);
    }

    private static void DescribeUnevenSpacing(double[] gaps, double[] distances, double median, List<string> warnings)
    {
        warnings.Add(string.Create(CultureInfo.InvariantCulture,
            $"uneven slice spacing: gaps from {gaps.Min():0.###} to {gaps.Max():0.###} mm (median {median:0.###}): resampled to an even {median:0.###} mm grid by linear interpolation"));
        for (var i = 0; i < gaps.Length; i++)
        {
            var missing = (int)Math.Round(gaps[i] / median) - 1;
            if (missing >= 1)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"missing slice{(missing > 1 ? "s" : string.Empty)}: gap of {gaps[i]:0.###} mm between slices at {distances[i]:0.###} and {distances[i + 1]:0.###} mm (about {missing} slice{(missing > 1 ? "s" : string.Empty)} absent); filled by interpolation"));
            }
        }
    }

    /// <summary>
    /// A tilted gantry shears the stack: each slice is offset in-plane in proportion to its distance along the
    /// normal. Least-squares fit of that proportion; returns the angle, the shear per mm and the worst misfit.
    /// </summary>
    private static (double Degrees, Vector3 ShearPerMm, double WorstResidual) EstimateTilt(double[] distances, Vector3[] offsets)
    {
        var denominator = distances.Sum(d => d * d);
        if (denominator == 0)
        {
            return (0, default, 0);
        }

        var shear = default(Vector3);
        for (var k = 0; k < distances.Length; k++)
        {
            shear += offsets[k] * (distances[k] / denominator);
        }

        var worst = 0.0;
        for (var k = 0; k < distances.Length; k++)
        {
            worst = Math.Max(worst, (offsets[k] - shear * distances[k]).Length);
        }

        return (Math.Atan(shear.Length) * 180 / Math.PI, shear, worst);
    }


    internal static string Describe(ImageFrame frame) =>
        frame.FramesInFile > 1 ? $"{frame.FilePath} frame {frame.FrameIndex + 1}" : frame.FilePath;

    private static SeriesCandidate Candidate(string seriesUid, string? part, SeriesMetadata metadata, List<ImageFrame> frames, StackGeometry? geometry, string? skipReason, List<string> warnings)
    {
        var first = frames[0];
        var syntaxes = frames.Select(f => f.TransferSyntax.Name).Distinct().ToArray();

        // Once assembled, a series needs the first frame's whole header (the source of its SEG and SR) and, of every
        // other frame, only what names it. Keeping each file's read buffer instead cost a batch about 15 MB per
        // 330-slice study for the whole run, whether the study was analysed yet or long done.
        List<ImageFrame> kept = [first, .. frames.Skip(1).Select(f => f with { Header = f.Header.Retaining(FrameIdentity) })];
        return new SeriesCandidate(seriesUid, part, metadata, kept, first.Pixels?.Rows ?? 0, first.Pixels?.Columns ?? 0, syntaxes, geometry, skipReason, warnings.Distinct().ToArray());
    }

}
