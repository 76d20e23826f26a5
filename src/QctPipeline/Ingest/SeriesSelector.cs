using System.Globalization;

namespace QctPipeline.Ingest;

/// <summary>The series chosen for measurement, or none, and why.</summary>
public sealed record SeriesSelection(SeriesCandidate? Selected, string Reason);

/// <summary>
/// Chooses the series to measure: primary before SECONDARY (reconstructed) series, axial before other planes, slices ≤ 3 mm before thicker ones, soft/standard
/// kernels before sharp ones (sharp kernels add noise and edge overshoot to trabecular HU), then the widest
/// z-coverage (more chance of holding L1 whole), then the thinnest slices.
/// </summary>
public static class SeriesSelector
{
    private const double ThinSliceLimitMm = 3.0;
    private const double CoverageBinMm = 10.0;

    public static SeriesSelection Select(IReadOnlyList<SeriesCandidate> candidates, IngestOptions options)
    {
        if (options.SeriesInstanceUid is { } requested)
        {
            var match = candidates.FirstOrDefault(c => c.SeriesInstanceUid == requested && c.Usable);
            if (match is not null)
            {
                return new SeriesSelection(match, "selected on request (--series)");
            }

            var unusable = candidates.FirstOrDefault(c => c.SeriesInstanceUid == requested);
            return new SeriesSelection(null, unusable is null
                ? $"requested series {requested} is not in the input"
                : $"requested series {requested} is not usable: {unusable.SkipReason}");
        }

        var usable = candidates.Where(c => c.Usable).ToList();
        if (usable.Count == 0)
        {
            return new SeriesSelection(null, candidates.Count == 0 ? "no DICOM image series found" : "no usable CT series");
        }

        var ranked = usable
            .OrderBy(c => SeriesAssembler.IsSecondary(c.Frames[0]))
            .ThenByDescending(IsAxial)
            .ThenByDescending(c => Thickness(c) <= ThinSliceLimitMm)
            .ThenBy(c => KernelClass.Classify(c.Metadata.ConvolutionKernel))
            .ThenByDescending(c => Math.Floor(c.Geometry!.Coverage / CoverageBinMm))
            .ThenBy(Thickness)
            .ThenByDescending(c => c.Frames.Count)
            .ToList();
        var chosen = ranked[0];
        var reason = string.Create(CultureInfo.InvariantCulture,
            $"{(SeriesAssembler.IsSecondary(chosen.Frames[0]) ? "SECONDARY (no primary series qualifies), " : string.Empty)}{(IsAxial(chosen) ? "axial" : "not axial (no axial series)")}, {Thickness(chosen):0.##} mm slices, kernel {chosen.Metadata.ConvolutionKernel ?? "unknown"} ({KernelClass.Classify(chosen.Metadata.ConvolutionKernel)}), {chosen.Geometry!.Coverage:0} mm coverage");
        if (ranked.Count > 1)
        {
            reason += $"; preferred over {ranked.Count - 1} other usable series in order: primary, axial, slices ≤ {ThinSliceLimitMm} mm, soft/standard kernel, coverage, thinner slices";
        }

        return new SeriesSelection(chosen, reason);
    }

    private static bool IsAxial(SeriesCandidate candidate) => Math.Abs(candidate.Geometry!.Normal.Z) > 0.8;

    /// <summary>Nominal thickness when stated (it sets partial-volume blur), else the slice spacing.</summary>
    private static double Thickness(SeriesCandidate candidate) =>
        candidate.Metadata.SliceThickness is > 0 and var thickness ? thickness : candidate.Geometry!.SliceSpacing;
}
