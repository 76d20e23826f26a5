using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Segment;

/// <summary>
/// What the localizer said, on its canonical grid (x → L, y → P, z → S, padding cropped off): the most probable class
/// per voxel and that class's probability, the vertebral-body and rib channels thresholded at 0.5, and the
/// probability of "L1 and body" used when a model ships without a refiner.
/// </summary>
public sealed record LocalizerMaps(
    VolumeGeometry Geometry,
    byte[] Classes,
    float[] ClassProbability,
    byte[] Body,
    byte[]? Ribs,
    float[] L1BodyProbability);

/// <summary>A vertebral level the localizer found: its largest plausible component of that class.</summary>
/// <param name="CentroidLps">Centroid of the level's vertebral body (of the whole vertebra when no body voxel was marked).</param>
/// <param name="VoxelCount">Voxels of the whole vertebra on the localizer grid.</param>
/// <param name="CutByEdge">The body touches the first or last slice along the patient's long axis.</param>
public sealed record LevelFound(string Name, int ClassIndex, Vector3 CentroidLps, long VoxelCount, long BodyVoxelCount, double MeanProbability, bool CutByEdge);

public enum CountOutcome
{
    /// <summary>The count lands on the vertebra the localizer calls L1.</summary>
    Agrees,

    /// <summary>The count lands elsewhere (or the localizer has no L1 where the count finds one).</summary>
    Disagrees,

    /// <summary>The count puts L1 outside the scan.</summary>
    L1NotInView,

    /// <summary>The cue this count starts from is missing or unreliable.</summary>
    Unavailable,
}

/// <summary>One way of naming the vertebra L1 and how it compares with the localizer's own L1.</summary>
public sealed record LevelCount(string Method, CountOutcome Outcome, string Detail);

/// <summary>A vertebral body as a slab of the body channel between discs (slices of the localizer grid), with the class most of its voxels carry.</summary>
public sealed record VertebralBody(Vector3 CentroidLps, double CentroidZ, int FirstSlice, int LastSlice, double HeightMm, int MajorityClass, bool RibBearing);

/// <summary>Everything the localizer's maps say about levels, and the three ways of counting to L1.</summary>
public sealed record LevelEvidence(IReadOnlyList<LevelFound> Levels, LevelFound? L1, IReadOnlyList<VertebralBody> Bodies, IReadOnlyList<LevelCount> Counts);

/// <summary>Whether the evidence names L1 well enough to segment it: the reason to abstain, or the confidence and any warning.</summary>
public sealed record LevelVerdict(LevelFound? L1, string? AbstainReason, double Confidence, string? Warning);

/// <summary>
/// Finds the levels in the localizer's output and counts to L1 independently of its L1 class: up from the sacrum
/// (anchored on the lumbar number of the body just above S1, so 4 or 6 lumbar vertebrae count right) and down from
/// the last rib-bearing vertebra when the rib channel is trained. L1 is "the first vertebra below the last
/// rib-bearing one", the convention of models/README.md.
/// </summary>
public static class LevelCounting
{
    public const string FromLocalizer = "localizer L1 class";
    public const string FromSacrum = "up from the sacrum";
    public const string FromRibs = "down from the last rib-bearing vertebra";

    public static LevelEvidence Analyse(LocalizerMaps maps, LocalizerSpec spec, SegmentOptions options)
    {
        var geometry = maps.Geometry;
        var voxelMl = geometry.Spacing.X * geometry.Spacing.Y * geometry.Spacing.Z / 1000;
        var (labels, components) = ConnectedComponents.Label(maps.Classes, geometry.SizeX, geometry.SizeY, geometry.SizeZ);
        var levels = new List<LevelFound>();
        for (var classIndex = 1; classIndex < spec.ClassCount; classIndex++)
        {
            var name = spec.Labels[classIndex].Name;
            var plausible = components.FirstOrDefault(c => c.Value == classIndex
                && c.VoxelCount * voxelMl >= options.MinVertebraMl && c.VoxelCount * voxelMl <= options.MaxVertebraMl);
            if (!IsGroup(name) && plausible is not null)
            {
                levels.Add(Describe(maps, labels, plausible, name));
            }
        }

        levels.Sort((a, b) => PatientZ(b).CompareTo(PatientZ(a)));
        var l1 = levels.FirstOrDefault(level => level.ClassIndex == spec.L1Class);
        var bodies = FindBodies(maps, spec, voxelMl, options);
        var counts = new List<LevelCount>
        {
            l1 is null
                ? new LevelCount(FromLocalizer, CountOutcome.L1NotInView, "no L1-sized component of the L1 class")
                : new LevelCount(FromLocalizer, CountOutcome.Agrees, string.Create(CultureInfo.InvariantCulture, $"L1 at {l1.CentroidLps}, mean probability {l1.MeanProbability:0.00}")),
            CountFromSacrum(levels, bodies, spec, l1, geometry, options),
            CountFromRibs(maps, spec, bodies, l1, options),
        };
        return new LevelEvidence(levels, l1, bodies, counts);
    }

    /// <summary>
    /// Abstains when L1 is absent, cut by the scan's edge, when its neighbouring levels are out of anatomical order,
    /// when an independent count disagrees or puts L1 outside the scan, or when the confidence is low; a level named by the localizer alone costs confidence and a warning.
    /// </summary>
    public static LevelVerdict Judge(LevelEvidence evidence, SegmentOptions options)
    {
        if (evidence.L1 is not { } l1)
        {
            return new LevelVerdict(null, evidence.Levels.Count == 0
                ? "L1 not in the field of view: no vertebra found"
                : $"L1 not in the field of view: levels seen {string.Join(", ", evidence.Levels.Select(level => level.Name))}", 0, null);
        }

        if (l1.CutByEdge)
        {
            return new LevelVerdict(l1, "L1 is cut by the edge of the scan (its body reaches the first or last slice)", l1.MeanProbability, null);
        }

        if (OrderProblem(evidence.Levels, l1, options) is { } problem)
        {
            return new LevelVerdict(l1, "the levels found do not line up as a spine around L1: " + problem, l1.MeanProbability, null);
        }

        var independent = evidence.Counts.Where(c => c.Method != FromLocalizer).ToList();
        var conflicts = independent.Where(c => c.Outcome is CountOutcome.Disagrees or CountOutcome.L1NotInView).ToList();
        if (conflicts.Count > 0)
        {
            return new LevelVerdict(l1, $"level counts disagree: {string.Join("; ", conflicts.Select(c => $"{c.Method}: {c.Detail}"))}", l1.MeanProbability, null);
        }

        var confirmed = independent.Any(c => c.Outcome == CountOutcome.Agrees);
        var confidence = confirmed ? l1.MeanProbability : l1.MeanProbability * options.UnconfirmedLevelFactor;
        var warning = confirmed ? null : "L1 named by the localizer alone: " + string.Join("; ", independent.Select(c => $"{c.Method}: {c.Detail}"));
        return confidence < options.MinConfidence
            ? new LevelVerdict(l1, LowConfidence(confidence, options), confidence, warning)
            : new LevelVerdict(l1, null, confidence, warning);
    }

    /// <summary>
    /// A level within <see cref="SegmentOptions.NeighbourLevels"/> classes of L1 that lies on the wrong side of it (a
    /// "T10" below L1), further from it than <see cref="SegmentOptions.MaxLevelSpacingMm"/> per class step or closer
    /// than <see cref="SegmentOptions.MinLevelSpacingMm"/> means the labels are not a spine there — on real CT a contrast-filled vessel taken for vertebrae does this. Class indices
    /// run head to feet, patient z (LPS) runs feet to head.
    /// </summary>
    private static string? OrderProblem(IReadOnlyList<LevelFound> levels, LevelFound l1, SegmentOptions options)
    {
        foreach (var level in levels)
        {
            var steps = level.ClassIndex - l1.ClassIndex;
            if (steps == 0 || Math.Abs(steps) > options.NeighbourLevels)
            {
                continue;
            }

            var rise = level.CentroidLps.Z - l1.CentroidLps.Z;
            if (steps < 0 != rise > 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{level.Name} lies {Math.Abs(rise):0} mm {(rise > 0 ? "above" : "below")} L1");
            }

            var distance = (level.CentroidLps - l1.CentroidLps).Length;
            if (distance > options.MaxLevelSpacingMm * Math.Abs(steps))
            {
                return string.Create(CultureInfo.InvariantCulture, $"{level.Name} lies {distance:0} mm from L1, too far for {Math.Abs(steps)} level(s)");
            }

            // Along the spine, not in 3D: a label blob beside the body (pedicles, a rib head) puts its centroid off
            // the axis and would hide two names given to one vertebra.
            if (Math.Abs(rise) < options.MinLevelSpacingMm)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{level.Name} lies {Math.Abs(rise):0} mm {(rise > 0 ? "above" : "below")} L1, closer than one vertebra");
            }
        }

        return null;
    }

    public static string LowConfidence(double confidence, SegmentOptions options) =>
        string.Create(CultureInfo.InvariantCulture, $"low confidence in L1 ({confidence:0.00} < {options.MinConfidence:0.00})");

    private static LevelFound Describe(LocalizerMaps maps, int[] labels, Component plausible, string name)
    {
        var geometry = maps.Geometry;
        double sumX = 0, sumY = 0, sumZ = 0, probability = 0;
        long bodyCount = 0;
        var touchesEnd = false;
        var sliceLength = geometry.SliceLength;
        for (var index = 0; index < labels.Length; index++)
        {
            if (labels[index] != plausible.Label)
            {
                continue;
            }

            probability += maps.ClassProbability[index];
            if (maps.Body[index] == 0)
            {
                continue;
            }

            var z = index / sliceLength;
            var y = (index - (z * sliceLength)) / geometry.SizeX;
            sumX += index - (z * sliceLength) - (y * geometry.SizeX);
            sumY += y;
            sumZ += z;
            bodyCount++;
            touchesEnd |= z == 0 || z == geometry.SizeZ - 1;
        }

        var centroid = bodyCount > 0
            ? geometry.VoxelToPatient(sumX / bodyCount, sumY / bodyCount, sumZ / bodyCount)
            : geometry.VoxelToPatient(plausible.MeanX, plausible.MeanY, plausible.MeanZ);
        var cut = bodyCount > 0 ? touchesEnd : plausible.MinZ == 0 || plausible.MaxZ == geometry.SizeZ - 1;
        return new LevelFound(name, plausible.Value, centroid, plausible.VoxelCount, bodyCount, probability / plausible.VoxelCount, cut);
    }

    /// <summary>
    /// Vertebral bodies as slabs of the body channel between intervertebral discs. On the localizer's coarse grid the
    /// bodies of a lordotic spine touch across their tilted discs, so 3D blobs of the body channel run several
    /// vertebrae together; the number of body voxels per axial slice still dips at every disc, and those dips
    /// separate the slabs.
    /// </summary>
    private static List<VertebralBody> FindBodies(LocalizerMaps maps, LocalizerSpec spec, double voxelMl, SegmentOptions options)
    {
        var geometry = maps.Geometry;
        var sliceLength = geometry.SliceLength;
        var classCount = spec.ClassCount;
        var area = new int[geometry.SizeZ];
        var sumX = new double[geometry.SizeZ];
        var sumY = new double[geometry.SizeZ];
        var histogram = new int[geometry.SizeZ * classCount];
        for (var index = 0; index < maps.Body.Length; index++)
        {
            if (maps.Body[index] == 0 || maps.Classes[index] == 0)
            {
                continue;
            }

            var z = index / sliceLength;
            var y = (index - (z * sliceLength)) / geometry.SizeX;
            area[z]++;
            sumX[z] += index - (z * sliceLength) - (y * geometry.SizeX);
            sumY[z] += y;
            histogram[(z * classCount) + maps.Classes[index]]++;
        }

        var ribContactSlices = RibContactSlices(maps);
        var bodies = new List<VertebralBody>();
        foreach (var (first, last) in BodySlabs(area, options.DiscDipFraction))
        {
            double voxels = 0, x = 0, y = 0, z = 0;
            var counts = new int[classCount];
            var ribBearing = false;
            for (var slice = first; slice <= last; slice++)
            {
                voxels += area[slice];
                x += sumX[slice];
                y += sumY[slice];
                z += (double)slice * area[slice];
                for (var c = 1; c < classCount; c++)
                {
                    counts[c] += histogram[(slice * classCount) + c];
                }

                ribBearing |= ribContactSlices?[slice] == true;
            }

            if (voxels * voxelMl < options.MinBodyMl)
            {
                continue;
            }

            var majority = 1;
            for (var c = 2; c < classCount; c++)
            {
                majority = counts[c] > counts[majority] ? c : majority;
            }

            bodies.Add(new VertebralBody(
                geometry.VoxelToPatient(x / voxels, y / voxels, z / voxels),
                z / voxels,
                first,
                last,
                (last - first + 1) * geometry.Spacing.Z,
                majority,
                ribBearing));
        }

        return bodies;
    }

    /// <summary>
    /// Runs of slices with body voxels, cut at discs (a slice, or a run of equal slices, as <see cref="IsDisc"/> tells).
    /// Slabs bottom to top, as (first, last) slice.
    /// </summary>
    private static List<(int First, int Last)> BodySlabs(int[] area, double dipFraction)
    {
        var slabs = new List<(int, int)>();
        var start = -1;
        for (var z = 0; z <= area.Length; z++)
        {
            var empty = z == area.Length || area[z] == 0;
            if (empty)
            {
                if (start >= 0)
                {
                    slabs.Add((start, z - 1));
                }

                start = -1;
                continue;
            }

            if (start < 0)
            {
                start = z;
            }
            else if (IsDisc(area, z, dipFraction))
            {
                slabs.Add((start, z - 1));
                while (z + 1 < area.Length && area[z + 1] == area[z])
                {
                    z++;
                }

                start = -1;
            }
        }

        return slabs;
    }

    /// <summary>
    /// A local minimum of the area whose dip is deep against the fullest slice on each side before the area falls
    /// lower again (its topographic prominence): a wobble inside one body is shallow against that body's own peak.
    /// </summary>
    private static bool IsDisc(int[] area, int z, double dipFraction)
    {
        if (z == 0 || z == area.Length - 1 || area[z] > area[z - 1] || area[z] > area[z + 1])
        {
            return false;
        }

        int below = 0, above = 0;
        for (var k = z - 1; k >= 0 && area[k] >= area[z]; k--)
        {
            below = Math.Max(below, area[k]);
        }

        for (var k = z + 1; k < area.Length && area[k] >= area[z]; k++)
        {
            above = Math.Max(above, area[k]);
        }

        return area[z] <= dipFraction * Math.Min(below, above);
    }

    /// <summary>
    /// Slices where a rib voxel touches a vertebra voxel: a rib articulating with its vertebra. Shafts of higher ribs
    /// pass beside lower vertebrae without touching them, the trap the primer warns of.
    /// </summary>
    private static bool[]? RibContactSlices(LocalizerMaps maps)
    {
        if (maps.Ribs is not { } ribs)
        {
            return null;
        }

        var geometry = maps.Geometry;
        var contact = new bool[geometry.SizeZ];
        var sliceLength = geometry.SliceLength;
        for (var index = 0; index < ribs.Length; index++)
        {
            if (ribs[index] == 0)
            {
                continue;
            }

            var z = index / sliceLength;
            var y = (index - (z * sliceLength)) / geometry.SizeX;
            var x = index - (z * sliceLength) - (y * geometry.SizeX);
            var touches = (x > 0 && maps.Classes[index - 1] != 0)
                || (x < geometry.SizeX - 1 && maps.Classes[index + 1] != 0)
                || (y > 0 && maps.Classes[index - geometry.SizeX] != 0)
                || (y < geometry.SizeY - 1 && maps.Classes[index + geometry.SizeX] != 0);
            contact[z] |= touches;
        }

        return contact;
    }

    private static LevelCount CountFromSacrum(List<LevelFound> levels, List<VertebralBody> bodies, LocalizerSpec spec, LevelFound? l1, VolumeGeometry geometry, SegmentOptions options)
    {
        var sacrumClass = spec.ClassNamed("S1");
        var sacrum = levels.FirstOrDefault(level => level.ClassIndex == sacrumClass);
        if (sacrum is null)
        {
            return new LevelCount(FromSacrum, CountOutcome.Unavailable, "sacrum not in view");
        }

        // Counting starts above the slab that holds the sacrum's centroid; a slab there that most of the time is
        // something else means S1 did not separate from the bodies above it.
        var sacrumZ = geometry.PatientToVoxel(sacrum.CentroidLps).Z;
        var sacrumSlab = bodies.FindIndex(body => body.FirstSlice - 0.5 <= sacrumZ && sacrumZ <= body.LastSlice + 0.5);
        if (sacrumSlab >= 0 && bodies[sacrumSlab].HeightMm > options.MaxBodyHeightMm)
        {
            return new LevelCount(FromSacrum, CountOutcome.Unavailable, string.Create(CultureInfo.InvariantCulture,
                $"the sacrum's body slab is {bodies[sacrumSlab].HeightMm:0} mm tall: S1 does not separate from the bodies above it; not counted"));
        }

        if (sacrumSlab >= 0 && bodies[sacrumSlab].MajorityClass != sacrum.ClassIndex)
        {
            return new LevelCount(FromSacrum, CountOutcome.Unavailable,
                $"the sacrum's body slab is mostly {spec.Labels[bodies[sacrumSlab].MajorityClass].Name}: S1 does not separate from the bodies above it; not counted");
        }

        var above = bodies
            .Where(body => body.MajorityClass != sacrum.ClassIndex && body.FirstSlice > (sacrumSlab >= 0 ? bodies[sacrumSlab].LastSlice : sacrumZ + (options.MinBodySeparationMm / geometry.Spacing.Z)))
            .ToList();
        if (above.Count == 0)
        {
            return new LevelCount(FromSacrum, CountOutcome.Unavailable, "no vertebral body found above S1");
        }

        var lowestName = spec.Labels[above[0].MajorityClass].Name;
        var lumbarNumber = LumbarNumber(lowestName);
        if (lumbarNumber is not (>= 4 and <= 6))
        {
            return new LevelCount(FromSacrum, CountOutcome.Disagrees, $"the body just above S1 is labelled {lowestName}, not L4–L6");
        }

        if (above.Take(lumbarNumber.Value).FirstOrDefault(body => body.HeightMm > options.MaxBodyHeightMm) is { } merged)
        {
            return new LevelCount(FromSacrum, CountOutcome.Unavailable,
                string.Create(CultureInfo.InvariantCulture, $"vertebral bodies above S1 run together ({merged.HeightMm:0} mm tall at {merged.CentroidLps}); not counted"));
        }

        if (above.Take(lumbarNumber.Value).FirstOrDefault(body => body.HeightMm < options.MinBodyHeightMm) is { } split)
        {
            return new LevelCount(FromSacrum, CountOutcome.Unavailable,
                string.Create(CultureInfo.InvariantCulture, $"the body channel above S1 does not separate into vertebrae (a {split.HeightMm:0} mm slab at {split.CentroidLps}); not counted"));
        }

        if (above.Count < lumbarNumber.Value)
        {
            return new LevelCount(FromSacrum, CountOutcome.L1NotInView,
                $"{above.Count} bodies above S1 with the lowest one {lowestName}: L1 lies above the scan");
        }

        return Compare(FromSacrum, above[lumbarNumber.Value - 1], l1, $"{lumbarNumber} bodies up from S1 (lowest lumbar labelled {lowestName})", options);
    }

    private static LevelCount CountFromRibs(LocalizerMaps maps, LocalizerSpec spec, List<VertebralBody> bodies, LevelFound? l1, SegmentOptions options)
    {
        if (!spec.RibChannelTrained || maps.Ribs is null)
        {
            return new LevelCount(FromRibs, CountOutcome.Unavailable, "the model's rib channel is not trained (manifest ribChannelTrained: false)");
        }

        if (bodies.Count == 0 || !bodies[^1].RibBearing)
        {
            return new LevelCount(FromRibs, CountOutcome.Unavailable, bodies.Any(body => body.RibBearing)
                ? "the top vertebra in view bears no rib: rib contacts lower down (iliac crest, transverse processes) are not counted from"
                : "no rib-bearing vertebra in view");
        }

        // Every thoracic vertebra bears a rib pair, so the rib-bearing ones form one run from the top of a scan that
        // starts in the thorax; the last rib-bearing vertebra ends that run. A rib contact below a gap is something
        // else taken for a rib (the iliac crest beside L5, a lumbar transverse process) and must not end the count.
        var lastRibBearing = bodies.Count - 1;
        while (lastRibBearing > 0 && bodies[lastRibBearing - 1].RibBearing)
        {
            lastRibBearing--;
        }

        if (lastRibBearing == 0)
        {
            return new LevelCount(FromRibs, CountOutcome.L1NotInView, "the scan ends at the last rib-bearing vertebra: L1 lies below it");
        }

        return Compare(FromRibs, bodies[lastRibBearing - 1], l1, "first body below the last rib-bearing vertebra", options);
    }

    private static LevelCount Compare(string method, VertebralBody counted, LevelFound? l1, string how, SegmentOptions options)
    {
        if (l1 is null)
        {
            return new LevelCount(method, CountOutcome.Disagrees, $"{how} gives L1 at {counted.CentroidLps}, where the localizer has no L1");
        }

        var distance = (counted.CentroidLps - l1.CentroidLps).Length;
        return distance <= options.CountAgreementMm
            ? new LevelCount(method, CountOutcome.Agrees, string.Create(CultureInfo.InvariantCulture, $"{how} lands on the localizer's L1 ({distance:0.0} mm)"))
            : new LevelCount(method, CountOutcome.Disagrees, string.Create(CultureInfo.InvariantCulture, $"{how} gives L1 at {counted.CentroidLps}, {distance:0} mm from the localizer's L1"));
    }

    /// <summary>A class standing for several vertebrae (e.g. "T1-T8") is not a level.</summary>
    private static bool IsGroup(string name) => name.Contains('-', StringComparison.Ordinal) || name == "background";

    private static int? LumbarNumber(string name) =>
        name.Length == 2 && name[0] == 'L' && char.IsAsciiDigit(name[1]) ? name[1] - '0' : null;

    private static double PatientZ(LevelFound level) => level.CentroidLps.Z;
}
