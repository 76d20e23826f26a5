using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Anatomy;

/// <summary>A rib found in the image, where its head meets the spine: its side (+1 the patient's left, −1 the right), the head's estimated position beside the canal, and how far along the spine that is.</summary>
public sealed record RibAttachment(int Side, Vector3 Point, double ArcMm);

/// <summary>
/// Finds ribs meeting the spine without a model, in the <see cref="PosteriorProjection"/>: there each rib is a bright
/// bar running out and down from the spine, a lumbar transverse process a short bar that ends by 35–50 mm, the scapula a
/// plate far out. A rib is a bar followed from 45 (or 38) mm beside the canal in to 25 mm without a break (the bar may
/// rise as it nears the spine: ribs descend laterally); where it reaches the spine is its attachment. Shafts of higher ribs passing beside a lower vertebra are never followed in to it: they
/// rise to their own vertebra. That is the trap the primer warns of when a slice is judged in isolation.
/// </summary>
public static class RibFinder
{
    private const int MaxLateralMm = PosteriorProjection.MaxLateralMm;

    public static IReadOnlyList<RibAttachment> Find(CanonicalView view, VertebralColumn column, PosteriorProjection projection, AnatomyOptions options)
    {
        var samples = column.Centreline;
        if (samples.Count < 3)
        {
            return [];
        }

        var attachments = new List<RibAttachment>();
        foreach (var side in new[] { +1, -1 })
        {
            var image = projection.Side(side);
            var boneHu = view.Geometry.Spacing.Z > 3 ? options.RibBoneThickSliceHu : options.RibBoneHu;
            foreach (var (slice, z) in Follow(image, samples, boneHu, view.Geometry.Spacing.Z, options))
            {
                var sample = samples[slice];
                var canal = view.Geometry.PatientToVoxel(sample.Canal);
                var point = view.Geometry.VoxelToPatient(canal.X + (side * options.RibHeadMm / view.Geometry.Spacing.X), canal.Y, sample.Slice + (z - slice));
                attachments.Add(new RibAttachment(side, point, ArcAt(samples, z)));
            }
        }

        return [.. attachments.OrderBy(a => a.ArcMm)];
    }

    /// <summary>
    /// Bars crossing each of <see cref="AnatomyOptions.RibStartsMm"/> beside the canal (far out first; nearer starts
    /// catch low ribs that leave the scan's lower end before reaching further out), each followed inwards (and outwards,
    /// to measure its reach) one mm at a time as the run of bright samples nearest the previous one (within 6 mm along
    /// the spine). A bar is a rib when it reaches the attachment distance inwards, is no thicker than a rib where it
    /// starts, and either runs out beyond <see cref="AnatomyOptions.RibMinReachMm"/> (no transverse process does) or
    /// rises towards the spine as a rib does (<see cref="AnatomyOptions.RibMinRiseMm"/> per 20 mm) while running on
    /// outwards or out of the scan. Its head is placed by carrying its
    /// course on inwards to <see cref="AnatomyOptions.RibHeadMm"/> beside the canal: measured 25 mm out, a lower rib is
    /// still a few mm below its head (LIDC-IDRI 0001's 12th ribs: at the T12/L1 disc 25 mm out, on T12 by eye).
    /// Returns fractional sample indices of the heads.
    /// </summary>
    private static List<(int Slice, double Z)> Follow(float[][] image, IReadOnlyList<CentrelineSample> samples, double boneHu, double sliceMm, AnatomyOptions options)
    {
        var found = new List<(int, double)>();
        var heads = new List<double>();
        foreach (var startMm in options.RibStartsMm)
        {
            foreach (var start in Runs(image, startMm, boneHu))
            {
                var startCentre = (start.First + start.Last) / 2.0;
                if ((start.Last - start.First + 1) * sliceMm > options.RibMaxThicknessMm
                    || Trace(image, startCentre, startMm, options.RibAttachmentMm, -1, boneHu, sliceMm) is not { } attachment)
                {
                    continue;
                }

                // Outwards a rib runs on beyond any transverse process, or leaves the scan descending.
                var reach = startMm;
                var leaves = false;
                for (var d = startMm + 1; d <= MaxLateralMm; d++)
                {
                    if (Trace(image, startCentre, startMm, d, +1, boneHu, sliceMm) is not { } outer)
                    {
                        break;
                    }

                    reach = d;
                    leaves |= outer <= 0.5;
                }

                var rise = HeightAt(samples, attachment) - HeightAt(samples, startCentre);
                var riseNeeded = options.RibMinRiseMm * (startMm - options.RibAttachmentMm) / 20.0;
                if (reach < options.RibMinReachMm && !(rise >= riseNeeded && (leaves || reach > startMm || startMm > options.RibStartsMm[^1])))
                {
                    continue;
                }

                var slope = Math.Clamp(rise / (startMm - options.RibAttachmentMm), 0, 1);
                var head = IndexAtHeight(samples, HeightAt(samples, attachment) + (slope * (options.RibAttachmentMm - options.RibHeadMm)));

                // The same rib picked up again from a nearer start: one head per rib.
                if (heads.All(h => Math.Abs(h - head) * sliceMm > options.MinPitchMm / 2))
                {
                    heads.Add(head);
                    found.Add(((int)Math.Round(head), head));
                }
            }
        }

        return found;
    }

    /// <summary>Follows a bar from <paramref name="from"/> mm to <paramref name="to"/> mm beside the canal; the run centre (fractional sample) where it arrives, or null when it breaks.</summary>
    private static double? Trace(float[][] image, double centre, int from, int to, int step, double boneHu, double sliceMm)
    {
        var tolerance = Math.Max(1, 6 / sliceMm);
        for (var d = from + step; step < 0 ? d >= to : d <= to; d += step)
        {
            var next = Runs(image, d, boneHu)
                .Select(run => (Run: run, Distance: Math.Max(0, Math.Max(run.First - centre, centre - run.Last))))
                .Where(c => c.Distance <= tolerance)
                .OrderBy(c => c.Distance)
                .Select(c => ((int First, int Last)?)c.Run)
                .FirstOrDefault();
            if (next is not { } run)
            {
                return null;
            }

            // Near the spine the run of a rib can merge with a pedicle's: follow the part nearest the rib.
            centre = Math.Clamp(centre, run.First, run.Last);
        }

        return centre;
    }

    private static double HeightAt(IReadOnlyList<CentrelineSample> samples, double index)
    {
        var i = Math.Clamp((int)Math.Floor(index), 0, samples.Count - 1);
        var j = Math.Min(samples.Count - 1, i + 1);
        return samples[i].Body.Z + (Math.Clamp(index - i, 0, 1) * (samples[j].Body.Z - samples[i].Body.Z));
    }

    private static double IndexAtHeight(IReadOnlyList<CentrelineSample> samples, double height)
    {
        for (var i = 1; i < samples.Count; i++)
        {
            var (a, b) = (samples[i - 1].Body.Z, samples[i].Body.Z);
            if ((height - a) * (height - b) <= 0 && a != b)
            {
                return i - 1 + ((height - a) / (b - a));
            }
        }

        return Math.Abs(height - samples[0].Body.Z) < Math.Abs(height - samples[^1].Body.Z) ? 0 : samples.Count - 1;
    }

    /// <summary>Runs (first, last sample) of bright values in column <paramref name="d"/>.</summary>
    private static List<(int First, int Last)> Runs(float[][] image, int d, double boneHu)
    {
        var runs = new List<(int, int)>();
        var start = -1;
        for (var s = 0; s <= image.Length; s++)
        {
            var bright = s < image.Length && image[s][d] > boneHu;
            if (bright && start < 0)
            {
                start = s;
            }
            else if (!bright && start >= 0)
            {
                runs.Add((start, s - 1));
                start = -1;
            }
        }

        return runs;
    }

    private static double ArcAt(IReadOnlyList<CentrelineSample> samples, double index)
    {
        var i = Math.Clamp((int)Math.Floor(index), 0, samples.Count - 1);
        var j = Math.Min(samples.Count - 1, i + 1);
        var t = Math.Clamp(index - i, 0, 1);
        return samples[i].ArcMm + (t * (samples[j].ArcMm - samples[i].ArcMm));
    }
}
