using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>
/// A phantom found in the image: its kind, each rod's centre (voxel i, j in <see cref="Slice"/>) or null where the rod
/// lies outside the field of view, the median image of the slab around <see cref="Slice"/> it was found in (the rings'
/// reference for the fit), the rod-HU regression's r, and why it was chosen.
/// </summary>
public sealed record PhantomDetection(PhantomDescription Phantom, IReadOnlyList<(double I, double J)?> RodCentres, int Slice, float[] SlabMedian, double FitR, string Evidence)
{
    public int RodsInView => RodCentres.Count(centre => centre is not null);
}

/// <summary>
/// Finds a calibration phantom anywhere in the scan without being told where or which.
/// <para>
/// Works on the per-pixel median of a slab around the series' middle: rods run along the table and anatomy does not,
/// the median removes noise and anything that crosses the slab in only a few slices (a scapula, a streak). Rods are
/// first found as blobs: pixels whose small central disc is uniform and differs from a uniform ring 12–14 mm away (the
/// resin body). Each catalogue layout — a straight row of rods at the phantom's pitch, in its density order — is then
/// laid through every pair of blobs at a multiple of that pitch, either way round and at any angle (a phantom may
/// stand on its edge beside the patient). A layout holds when every rod position inside the image is uniform in the
/// phantom's own ring, the rings agree (one resin body), the resin between rods is uniform, all but one rod stand out
/// (an HA0 rod matches its resin), the rods' HU rise linearly with their density and the line is plausible. Positions
/// outside the image or its reconstruction circle are out of view: at least three rods must be in view. The layout
/// with most rods in view wins, then most visible rods, then the better line.
/// </para>
/// </summary>
public static partial class PhantomFinder
{
    /// <summary>Half the slab (mm) whose median image is searched: thin enough that a rod yawed a few degrees stays in place.</summary>
    private const double SlabHalfMm = 20;

    private const int SlabSlices = 24;

    /// <summary>Radius (mm) of the disc that must be uniform inside a rod: fits well inside every catalogued rod (7–9 mm).</summary>
    private const double InnerRadiusMm = 3.5;

    /// <summary>The ring (mm) that must be uniform resin around a rod: past the largest rod's edge and its blur, short of the next rod.</summary>
    private const double RingInnerMm = 12;

    private const double RingOuterMm = 14;

    /// <summary>Uniformity limit (SD, HU) in the median image: at least this, or this multiple of the image's own noise.</summary>
    private const double UniformSdFloorHu = 20;

    private const double UniformSdNoiseFactor = 3;

    /// <summary>The point spread function's tail carries a few per cent of a dense rod's contrast into its ring.</summary>
    private const double BlurAllowance = 0.04;

    /// <summary>Largest spread (HU) between the rings of one phantom's rods (they sit in one body).</summary>
    private const double RingAgreementHu = 20;

    /// <summary>Smallest rod-to-ring difference (HU) that counts as a visible rod.</summary>
    private const double RodContrastHu = 15;

    /// <summary>How far (mm) two rods may lie from a whole number of pitches apart: rounding to pixels and a yaw's foreshortening.</summary>
    private const double PitchToleranceMm = 3;

    /// <summary>A blob's plateau (where the central disc fits inside the rod) is at most this wide in radius (mm).</summary>
    private const double MaxBlobRadiusMm = 8;

    /// <summary>A rod position snaps to a blob this close (mm).</summary>
    private const double SnapMm = 3;

    /// <summary>A phantom's own ring around a rod: from this far (mm) past the rod's edge (most of the blur) …</summary>
    private const double RodRingGapMm = 2.5;

    /// <summary>… and at least this many pixels past it.</summary>
    private const double RodRingGapPixels = 1.5;

    /// <summary>… and this wide (mm).</summary>
    private const double RodRingWidthMm = 2;

    /// <summary>A rod in view keeps this far (mm) beyond its ring from padding outside the reconstruction circle.</summary>
    private const double PaddingClearanceMm = 10;

    /// <summary>Pixels at or below this (HU) are padding outside the reconstruction circle, not air.</summary>
    private const double PaddingHu = -1500;

    /// <summary>Rods and resin lie between about −300 and +2000 HU; skipping air, lung and metal saves most of the work.</summary>
    private const double LowestRodHu = -300;

    private const double HighestRodHu = 2000;

    private const int MinimumRodsInView = 3;

    /// <summary>Contrast (HU) a rod needs to be located by its own edge (an HA0 rod in its resin has none).</summary>
    private const double LocatableContrastHu = 30;

    /// <summary>How far (mm) past a rod's edge its centre is searched for once the layout is chosen.</summary>
    private const double RecentreSearchMm = 2;

    /// <summary>Two phantoms whose readings of the same rods give lines this far apart in slope are not both possible.</summary>
    private const double AmbiguousSlopeRatio = 0.15;

    /// <summary>Smallest r of the rod HU against density: stricter when only three rods are seen, where anatomy could pass by chance.</summary>
    private const double MinimumR = 0.95;

    private const double MinimumRThreeRods = 0.99;

    /// <param name="kvp">The series' tube voltage when stated: narrows the plausible slope of the rods' line.</param>
    public static (PhantomDetection? Detection, string Reason) Find(CtVolume volume, double? kvp)
    {
        var geometry = volume.Geometry;
        var slice = geometry.SizeZ / 2;
        var image = MedianImage(volume, VolumeSampling.SlabAround(geometry, slice, SlabHalfMm).ToArray());
        var (pixelX, pixelY) = (geometry.Spacing.X, geometry.Spacing.Y);
        var inner = PixelStats(image, geometry.SizeX, geometry.SizeY, VolumeSampling.Disc(InnerRadiusMm, pixelX, pixelY));
        var uniformLimit = Math.Max(UniformSdFloorHu, UniformSdNoiseFactor * NoiseEstimate(inner));

        // The ring (four times the disc's pixels) only where the disc is uniform: no other pixel can be a rod.
        var ring = PixelStats(image, geometry.SizeX, geometry.SizeY, VolumeSampling.Ring(RingInnerMm, RingOuterMm, pixelX, pixelY), pixel => inner[pixel].Sd <= uniformLimit);
        var search = new SearchImage(image, geometry.SizeX, geometry.SizeY, inner, ring);
        var blobs = Blobs(search, uniformLimit, pixelX, pixelY);
        var plausible = new LinePlausibility(kvp);

        var bestOfEach = PhantomCatalog.All
            .Select(phantom => Best(Layouts(search, blobs, phantom, uniformLimit, plausible, pixelX, pixelY)))
            .OfType<Layout>()
            .ToList();
        var best = Best(bestOfEach);
        if (best is null)
        {
            return (null, Invariant($"no calibration phantom found: no row of uniform rods matching Mindways Model 3, QRM-BDC 3/6-rod or B-MAS 200 in the median of {SlabHalfMm * 2:0} mm around the series' middle ({blobs.Count} rod-like blobs)"));
        }

        // Rods cut by the field of view can leave two phantoms equally well matched (three B-MAS rods HA0–HA100 read as a
        // QRM-BDC 3-rod); their lines then differ by a factor, and guessing would give a confidently wrong density.
        if (bestOfEach.FirstOrDefault(rival => rival != best && rival.InView == best.InView && rival.Visible == best.Visible
                && Math.Abs(rival.HaSlope / best.HaSlope - 1) > AmbiguousSlopeRatio) is { } twin)
        {
            return (null, Invariant($"calibration phantom ambiguous: {best.InView} rods read equally well as {best.Phantom.DisplayName} and as {twin.Phantom.DisplayName} (part of it outside the field of view?), whose lines differ by {Math.Abs(twin.HaSlope / best.HaSlope - 1) * 100:0} %"));
        }

        // Blob centroids are biased where the plateau meets the image edge; each rod's own edge places it exactly.
        var rods = Placed(best.Centres.Select(c => c is { } at ? Recentre(image, geometry, at, best.Phantom.RodRadiusMm, RecentreSearchMm) : null).ToArray(), best.Centres);
        var centre = rods.OfType<(double I, double J)>().ToArray();
        var where = geometry.VoxelToPatient(centre.Average(c => c.I), centre.Average(c => c.J), slice);
        var angle = Math.Atan2((best.Step.J * pixelY), (best.Step.I * pixelX)) * 180 / Math.PI;
        var count = best.Phantom.Rods.Count;
        var evidence = Invariant($"{best.InView} of {count} rods at {best.Phantom.RodPitchMm:0} mm pitch centred at LPS x {where.X:0.#}, y {where.Y:0.#} mm, row at {angle:0.#}° to the image rows, rod HU linear in density with r {best.R:0.####}");
        return (new PhantomDetection(best.Phantom, rods, slice, image, best.R, evidence), evidence);
    }

    private sealed record Layout(PhantomDescription Phantom, (double I, double J)?[] Centres, (double I, double J) Step, int InView, int Visible, double R, double SdSum, double HaSlope)
    {
        public bool IsBetterThan(Layout other) =>
            InView != other.InView ? InView > other.InView
            : Visible != other.Visible ? Visible > other.Visible
            : R != other.R ? R > other.R
            : SdSum < other.SdSum;
    }

    private static Layout? Best(IEnumerable<Layout> layouts) =>
        layouts.Aggregate((Layout?)null, (kept, next) => kept is null || next.IsBetterThan(kept) ? next : kept);

    private static IEnumerable<Layout> Layouts(SearchImage search, List<Blob> blobs, PhantomDescription phantom, double uniformLimit, LinePlausibility plausible, double pixelX, double pixelY)
    {
        var count = phantom.Rods.Count;
        var ring = new RodRing(search, phantom, pixelX, pixelY);
        foreach (var a in blobs)
        {
            foreach (var b in blobs)
            {
                if (ReferenceEquals(a, b))
                {
                    continue;
                }

                var (dx, dy) = ((b.I - a.I) * pixelX, (b.J - a.J) * pixelY);
                var distance = Math.Sqrt(dx * dx + dy * dy);
                for (var apart = 1; apart < count; apart++)
                {
                    if (Math.Abs(distance - apart * phantom.RodPitchMm) > PitchToleranceMm)
                    {
                        continue;
                    }

                    var step = ((b.I - a.I) / apart, (b.J - a.J) / apart);
                    for (var first = 0; first + apart < count; first++)
                    {
                        if (Evaluate(search, ring, blobs, phantom, (a.I - first * step.Item1, a.J - first * step.Item2), step, uniformLimit, plausible, pixelX, pixelY) is { } layout)
                        {
                            yield return layout;
                        }
                    }
                }
            }
        }
    }

    private static Layout? Evaluate(SearchImage search, RodRing ring, List<Blob> blobs, PhantomDescription phantom, (double I, double J) origin, (double I, double J) step, double uniformLimit, LinePlausibility plausible, double pixelX, double pixelY)
    {
        var count = phantom.Rods.Count;
        var centres = new (double I, double J)?[count];
        var hu = new List<double>(count);
        var nominal = new List<double>(count);
        double ringMin = double.MaxValue, ringMax = double.MinValue, largestContrast = 0, sdSum = 0;
        var visible = 0;
        for (var index = 0; index < count; index++)
        {
            var predicted = (I: origin.I + index * step.I, J: origin.J + index * step.J);
            var snapped = Snap(blobs, predicted, pixelX, pixelY);
            var (x, y) = ((int)Math.Round(snapped.I), (int)Math.Round(snapped.J));
            if (!search.InView(x, y, ring.Reach, ring.Clearance))
            {
                continue;
            }

            var (innerMean, innerSd) = search.Inner[x + search.SizeX * y];
            var (ringMean, ringSd) = ring.At(x, y);
            var contrast = Math.Abs(innerMean - ringMean);
            if (!(innerSd <= uniformLimit && ringSd <= uniformLimit + BlurAllowance * contrast))
            {
                return null;
            }

            centres[index] = snapped;
            ringMin = Math.Min(ringMin, ringMean);
            ringMax = Math.Max(ringMax, ringMean);
            largestContrast = Math.Max(largestContrast, contrast);
            visible += contrast > RodContrastHu ? 1 : 0;
            sdSum += innerSd + ringSd;
            var rod = phantom.Rods[index];
            hu.Add(rod.RegressionHu(innerMean));
            nominal.Add(rod.NominalDensity);
        }

        var inView = hu.Count;
        var resinTolerance = RingAgreementHu + BlurAllowance * largestContrast;
        if (inView < MinimumRodsInView || visible < inView - 1 || ringMax - ringMin > resinTolerance
            || !ResinBetweenRods(search, centres, (ringMin + ringMax) / 2, uniformLimit, resinTolerance))
        {
            return null;
        }

        var fit = LinearFit.Of(nominal, hu);
        var (haIntercept, haSlope) = HaLine(phantom, fit);
        return fit.R >= (inView > MinimumRodsInView ? MinimumR : MinimumRThreeRods) && plausible.Holds(haSlope, haIntercept, (ringMin + ringMax) / 2)
            ? new Layout(phantom, centres, step, inView, visible, fit.R, sdSum, haSlope)
            : null;
    }

    /// <summary>
    /// Final rod centres: those located by their own edges as found; the others in view (an HA0 rod) on the straight,
    /// evenly pitched row fitted through the located ones, since the layout puts them there.
    /// </summary>
    private static (double I, double J)?[] Placed((double I, double J)?[] located, (double I, double J)?[] inView)
    {
        var known = Enumerable.Range(0, located.Length).Where(index => located[index] is not null).ToArray();
        if (known.Length < 2)
        {
            return inView;
        }

        var rowI = LinearFit.Of([.. known.Select(index => (double)index)], [.. known.Select(index => located[index]!.Value.I)]);
        var rowJ = LinearFit.Of([.. known.Select(index => (double)index)], [.. known.Select(index => located[index]!.Value.J)]);
        return [.. Enumerable.Range(0, located.Length).Select<int, (double I, double J)?>(index => inView[index] is null ? null : located[index] ?? (rowI.At(index), rowJ.At(index)))];
    }

    /// <summary>The rods' line in HA: directly for HA phantoms, through Mindways' recipe and Faulkner's HA ≈ 1.15 × K₂HPO₄ − 7.32 for Mindways.</summary>
    internal static (double Intercept, double Slope) HaLine(PhantomDescription phantom, LinearFit fit)
    {
        if (!phantom.IsMindways)
        {
            return (fit.Intercept, fit.Slope);
        }

        var slope = (fit.Slope - PhantomCatalog.MindwaysSlopeCorrection) / PhantomCatalog.HaPerK2Hpo4;
        return (fit.Intercept + PhantomCatalog.MindwaysInterceptCorrection - slope * PhantomCatalog.HaOffsetFromK2Hpo4, slope);
    }

    /// <summary>
    /// What a calibration phantom's line can be. Its intercept — the HU of no mineral — is the water-equivalent resin
    /// the rods sit in, so it lies near the rods' rings. Its slope is HA's contrast at the beam's energy: near the
    /// value expected at the stated kVp, or within the clinical 80–140 kVp span when none is stated. Triplets of
    /// vessels or bowel that happen to lie at a phantom's pitch almost never satisfy both; and reading the rods of one
    /// phantom as another's (B-MAS HA0–HA100 as QRM-BDC HA0–HA200) halves or doubles the slope. The expected slope is
    /// the stage's own XCOM-based one (<see cref="ReferenceTissueModel"/>), never the phantom generator's.
    /// </summary>
    private sealed class LinePlausibility(double? kvp)
    {
        /// <summary>Scanners' spectra differ (filtration, tin filters, calibration): the slope may differ this much from the model's.</summary>
        private const double SlopeTolerance = 0.25;

        /// <summary>How far (HU) the line's zero-mineral HU may sit from the resin around the rods.</summary>
        private const double InterceptToResinHu = 40;

        /// <summary>The clinical span of tube voltages, for a series that does not state one.</summary>
        private const double LowestKvp = 80;

        private const double HighestKvp = 140;

        // HA's slope from the stage's own XCOM-based model (ReferenceTissueModel, decision 0006), not the generator's.
        private readonly (double Low, double High) slopes = kvp is { } stated and >= 70 and <= 150
            ? ((1 - SlopeTolerance) * ReferenceTissueModel.HaSlope(stated), (1 + SlopeTolerance) * ReferenceTissueModel.HaSlope(stated))
            : ((1 - SlopeTolerance) * ReferenceTissueModel.HaSlope(HighestKvp), (1 + SlopeTolerance) * ReferenceTissueModel.HaSlope(LowestKvp));

        public bool Holds(double haSlope, double haIntercept, double resinHu) =>
            haSlope >= slopes.Low && haSlope <= slopes.High && Math.Abs(haIntercept - resinHu) <= InterceptToResinHu;
    }

    /// <summary>
    /// Halfway between neighbouring rods lies the phantom's resin: uniform and as dense as the rods' rings. Anatomy that
    /// happens to show uniform blobs at a phantom's pitch (vessels, bowel, kidneys) has other tissue between them.
    /// </summary>
    private static bool ResinBetweenRods(SearchImage search, (double I, double J)?[] centres, double resinHu, double uniformLimit, double tolerance)
    {
        for (var index = 0; index + 1 < centres.Length; index++)
        {
            if (centres[index] is not { } a || centres[index + 1] is not { } b)
            {
                continue;
            }

            var (x, y) = ((int)Math.Round((a.I + b.I) / 2), (int)Math.Round((a.J + b.J) / 2));
            var (mean, sd) = search.Inner[x + search.SizeX * y];
            if (!(sd <= uniformLimit && Math.Abs(mean - resinHu) <= tolerance))
            {
                return false;
            }
        }

        return true;
    }

    private static (double I, double J) Snap(List<Blob> blobs, (double I, double J) predicted, double pixelX, double pixelY)
    {
        var best = predicted;
        var bestDistance = SnapMm;
        foreach (var blob in blobs)
        {
            var distance = Math.Sqrt(Math.Pow((blob.I - predicted.I) * pixelX, 2) + Math.Pow((blob.J - predicted.J) * pixelY, 2));
            if (distance <= bestDistance)
            {
                (best, bestDistance) = ((blob.I, blob.J), distance);
            }
        }

        return best;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
