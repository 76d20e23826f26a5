using System.Globalization;
using QctPipeline.Anatomy;
using QctPipeline.Domain;

namespace QctPipeline.Segment;

public enum CountOutcome
{
    /// <summary>The count names the vertebra decided on as L1.</summary>
    Agrees,

    /// <summary>The count names another vertebra L1, or puts L1 outside the scan where another count finds it inside.</summary>
    Disagrees,

    /// <summary>The count puts L1 outside the scan.</summary>
    L1NotInView,

    /// <summary>The cue this count starts from is missing, unreliable or ambiguous.</summary>
    Unavailable,
}

/// <summary>One way of naming L1: how it counted, what it found (<see cref="Detail"/>), where it puts L1 and its evidence, and how it compares with the decision.</summary>
public sealed record LevelCount(string Method, CountOutcome Outcome, string Detail, Vector3? L1CentroidLps, IReadOnlyList<CountMark> Evidence);

/// <summary>Where a count puts L1: at a vertebra of the column, below or above the scan, or nowhere (unavailable).</summary>
internal enum ClaimKind
{
    L1At,
    L1BelowScan,
    L1AboveScan,
    Unavailable,
}

/// <summary>A count's claim before the decision: the column index it names L1 (lowest vertebra 0; below 0 or past the top when L1 lies beyond the scan, −1 when unknown).</summary>
internal sealed record LevelClaim(string Method, ClaimKind Kind, int Vertebra, string Detail, IReadOnlyList<CountMark> Evidence);

/// <summary>
/// The counts that name L1 on the vertebral column the image shows, each from its own cue. L1 is "the first vertebra
/// below the last rib-bearing one" (models/README.md; the primer's convention for transitional anatomy).
/// </summary>
internal static class LevelCounting
{
    public const string FromLocalizer = "localizer labels";
    public const string FromRibChannel = "down from the last rib-bearing vertebra (model's rib channel)";
    public const string FromImageRibs = "down from the last rib-bearing vertebra (ribs found in the image)";
    public const string FromSacrum = "up from the sacrum (found in the image)";

    /// <summary>Lumbar vertebrae between S1 and the last rib-bearing one in most spines; 4 or 6 in transitional anatomy (primer, ~10–20 %).</summary>
    private const int LumbarVertebrae = 5;

    /// <summary>Names in head-to-feet order around L1: the vertebra <c>k</c> places above L1 is <c>Above[k − 1]</c>.</summary>
    private static readonly string[] Above = ["T12", "T11", "T10", "T9", "T8", "T7", "T6", "T5", "T4", "T3", "T2", "T1"];

    private static readonly string[] Below = ["L2", "L3", "L4", "L5", "S1"];

    /// <summary>How many vertebrae either side of a candidate L1 the localizer's labels are read over.</summary>
    private const int LabelWindow = 3;

    /// <summary>The conventional name of the vertebra <paramref name="offset"/> places above L1 (negative: below); null beyond T1 or S1.</summary>
    public static string? NameAt(int offset) => offset switch
    {
        0 => "L1",
        > 0 when offset <= Above.Length => Above[offset - 1],
        < 0 when -offset <= Below.Length => Below[-offset - 1],
        _ => null,
    };

    /// <summary>
    /// The localizer's labels read on the column: the position of L1 that its labels near L1 agree with (each vertebra
    /// within <see cref="LabelWindow"/> of that L1 labelled as the name its offset gives); a claim when at least three of
    /// those labels agree and 70 % of them do. Near L1, because the labels matter there and a phantom-trained localizer
    /// squeezes the upper thoracic names on real CT; labels off the column (the localizer's "S1" in a shoulder) never
    /// enter.
    /// </summary>
    public static LevelClaim Localizer(VertebralColumn column, IReadOnlyList<LocalizerLabel?> labels)
    {
        var labelled = Enumerable.Range(0, labels.Count).Where(i => labels[i] is { } label && IsNamedLevel(label.Name)).ToList();
        var evidence = labelled.Select(i => new CountMark(CountMarkKind.Other, labels[i]!.Name, column.Vertebrae[i].Centre)).ToList();
        var summary = string.Join(", ", labelled.Select(i => labels[i]!.Name));
        if (labelled.Count == 0)
        {
            return new LevelClaim(FromLocalizer, ClaimKind.Unavailable, -1, "the localizer labels no vertebra of the column", []);
        }

        var best = (L1: 0, Agreeing: -1, Considered: 0);
        for (var l1 = -Below.Length - labels.Count; l1 <= labels.Count + Above.Length; l1++)
        {
            var near = labelled.Where(i => Math.Abs(i - l1) <= LabelWindow).ToList();
            var agreeing = near.Count(i => NameAt(i - l1) == labels[i]!.Name);
            best = agreeing > best.Agreeing ? (l1, agreeing, near.Count) : best;
        }

        if (best.Agreeing < 3 || best.Agreeing < 0.7 * best.Considered)
        {
            return new LevelClaim(FromLocalizer, ClaimKind.Unavailable, -1,
                $"the localizer's labels on the column ({summary}, feet to head) do not form one sequence around any L1", evidence);
        }

        var detail = string.Create(CultureInfo.InvariantCulture, $"{best.Agreeing} of the {best.Considered} labels around L1 agree ({summary}, feet to head)");
        return Place(FromLocalizer, best.L1, column, detail, evidence);
    }

    /// <summary>
    /// Where L1 lies by the localizer's labels alone when every labelled vertebra of the column agrees on it (at least
    /// one label, all naming the place its offset gives): the index, past either end of the column when the labels
    /// put L1 beyond the scan. Null when the labels disagree or there are none. Not a count: it names the vertebrae
    /// of a scan without L1 once the counts have said on which side L1 lies.
    /// </summary>
    public static int? L1ByLabelSequence(IReadOnlyList<LocalizerLabel?> labels)
    {
        var implied = Enumerable.Range(0, labels.Count)
            .Where(i => labels[i] is { } label && IsNamedLevel(label.Name))
            .Select(i => i - OffsetOf(labels[i]!.Name))
            .Distinct()
            .ToList();
        return implied.Count == 1 ? implied[0] : null;
    }

    private static int OffsetOf(string name) =>
        name == NameAt(0) ? 0 : Array.IndexOf(Above, name) is >= 0 and var above ? above + 1 : -(Array.IndexOf(Below, name) + 1);

    /// <summary>
    /// Down from the last rib-bearing vertebra, given which vertebrae bear ribs (true), bear none (false) or cannot be told
    /// (null). The rib-bearing vertebrae run down from the top of the scan (undecided ones inside the run are passed
    /// over: the heads of ribs 2–9 sit on the discs); the run ends at the first vertebra that clearly bears none, and the
    /// last rib-bearing vertebra is the lowest clear one before it, whose lower neighbour must clearly bear none. A rib
    /// seen below a gap (an iliac crest, a long transverse process, a low rib's shaft beside L2) never ends the count:
    /// on 200 phantom series such bars stood on up to 4 adjoining lumbar vertebrae. Ribs on
    /// <see cref="LumbarVertebrae"/> or more adjoining vertebrae below the gap, as many as a whole lumbar spine, mean a
    /// rib was missed above it, and the count names nothing (phantom seed 300065, a T3–T10 chest with its arms down: no
    /// rib found at T5, ribs on the six vertebrae below, and the count had named T5 L1).
    /// </summary>
    public static LevelClaim DownFromRibs(string method, VertebralColumn column, IReadOnlyList<bool?> ribBearing, IReadOnlyList<CountMark> evidence)
    {
        var i = ribBearing.Count - 1;
        while (i >= 0 && ribBearing[i] != true && !column.Vertebrae[i].Whole)
        {
            i--;
        }

        if (i < 0 || ribBearing[i] != true)
        {
            return new LevelClaim(method, ClaimKind.Unavailable, -1, i >= 0 && ribBearing[i] is null
                ? "whether the top vertebra in view bears ribs cannot be told"
                : "the top vertebra in view bears no rib: the scan starts below the ribs, or they were not found", evidence);
        }

        var last = i;
        for (; i >= 0 && ribBearing[i] != false; i--)
        {
            last = ribBearing[i] == true ? i : last;
        }

        if (last == 0)
        {
            return new LevelClaim(method, ClaimKind.L1BelowScan, -1, string.Create(CultureInfo.InvariantCulture,
                $"the lowest vertebra in view (z {column.Vertebrae[0].Centre.Z:0}) bears ribs: L1 lies below the scan"), evidence);
        }

        var longestRunBelow = LongestRibRun(ribBearing, last - 1);
        if (longestRunBelow >= LumbarVertebrae)
        {
            return new LevelClaim(method, ClaimKind.Unavailable, -1, string.Create(CultureInfo.InvariantCulture,
                $"the vertebra at z {column.Vertebrae[last - 1].Centre.Z:0} shows no rib, yet {longestRunBelow} adjoining vertebrae below it do, more than lumbar vertebrae could: a rib was missed above"), evidence);
        }

        if (ribBearing[last - 1] is null)
        {
            return new LevelClaim(method, ClaimKind.Unavailable, -1, string.Create(CultureInfo.InvariantCulture,
                $"whether the vertebra below the last clear rib-bearing one (at z {column.Vertebrae[last].Centre.Z:0}) bears ribs cannot be told"), evidence);
        }

        return Place(method, last - 1, column, string.Create(CultureInfo.InvariantCulture,
            $"{ribBearing.Count(r => r == true)} rib-bearing vertebrae, the last at z {column.Vertebrae[last].Centre.Z:0}"), evidence);
    }

    /// <summary>The most adjoining rib-bearing vertebrae among those below <paramref name="end"/> (exclusive).</summary>
    private static int LongestRibRun(IReadOnlyList<bool?> ribBearing, int end)
    {
        var (longest, run) = (0, 0);
        for (var k = 0; k < end; k++)
        {
            run = ribBearing[k] == true ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        return longest;
    }

    /// <summary>
    /// Up from the sacrum: L1 the fifth vertebra above S1. Where a rib count puts L1 four or six vertebrae above S1 the
    /// spine may be transitional (4 or 6 lumbar vertebrae) or one count may be off: the sacrum then neither confirms nor
    /// contradicts, and says so; further off, it contradicts.
    /// </summary>
    public static LevelClaim UpFromSacrum(VertebralColumn column, int? sacrum, IReadOnlyList<LevelClaim> ribCounts)
    {
        if (sacrum is not { } s1)
        {
            return new LevelClaim(FromSacrum, ClaimKind.Unavailable, -1, "no sacrum in view (no vertebra with the sacral alae and iliac wings beside it)", []);
        }

        var evidence = new[] { new CountMark(CountMarkKind.Sacrum, "S1", column.Vertebrae[s1].Centre) };
        var where = string.Create(CultureInfo.InvariantCulture, $"S1 at z {column.Vertebrae[s1].Centre.Z:0}");
        if (ribCounts.FirstOrDefault(c => c.Kind == ClaimKind.L1At && Math.Abs(c.Vertebra - s1 - LumbarVertebrae) == 1) is { } rib)
        {
            return new LevelClaim(FromSacrum, ClaimKind.Unavailable, -1, string.Create(CultureInfo.InvariantCulture,
                $"{where}; the rib count puts L1 {rib.Vertebra - s1} vertebrae above it: a transitional spine (4 or 6 lumbar vertebrae) or a count one off, so the sacrum neither confirms nor contradicts it"), evidence);
        }

        return Place(FromSacrum, s1 + LumbarVertebrae, column, $"{where}, {LumbarVertebrae} lumbar vertebrae above it", evidence);
    }

    /// <summary>
    /// Which vertebrae bear a rib found in the image: a rib head within a vertebra's stretch of spine (between its discs)
    /// by at least the margin makes it rib-bearing; a head within the margin of a disc leaves both neighbours unclear.
    /// </summary>
    public static (bool?[] RibBearing, List<CountMark> Evidence) ImageRibs(VertebralColumn column, IReadOnlyList<RibAttachment> ribs, double marginMm)
    {
        var bearing = new bool?[column.Vertebrae.Count];
        Array.Fill(bearing, false);
        var evidence = new List<CountMark>();
        foreach (var rib in ribs)
        {
            evidence.Add(new CountMark(CountMarkKind.Rib, rib.Side > 0 ? "RIB L" : "RIB R", rib.Point));
            for (var i = 0; i < column.Vertebrae.Count; i++)
            {
                var v = column.Vertebrae[i];
                var from = v.Below?.ArcMm ?? double.NegativeInfinity;
                var to = v.Above?.ArcMm ?? double.PositiveInfinity;
                if (rib.ArcMm >= from + marginMm && rib.ArcMm <= to - marginMm)
                {
                    bearing[i] = true;
                }
                else if (rib.ArcMm > from - marginMm && rib.ArcMm < to + marginMm && bearing[i] != true)
                {
                    bearing[i] = null;
                }
            }
        }

        return (bearing, evidence);
    }

    /// <summary>The claim that L1 is vertebra <paramref name="l1"/> of the column; an index off the column (kept, so the vertebrae in view can still be named) means L1 lies beyond the scan.</summary>
    private static LevelClaim Place(string method, int l1, VertebralColumn column, string detail, IReadOnlyList<CountMark> evidence) =>
        l1 < 0 ? new LevelClaim(method, ClaimKind.L1BelowScan, l1, detail + ": L1 lies below the scan", evidence)
        : l1 >= column.Vertebrae.Count ? new LevelClaim(method, ClaimKind.L1AboveScan, l1, detail + ": L1 lies above the scan", evidence)
        : new LevelClaim(method, ClaimKind.L1At, l1, string.Create(CultureInfo.InvariantCulture, $"{detail}; L1 at z {column.Vertebrae[l1].Centre.Z:0}"), evidence);

    private static bool IsNamedLevel(string name) => NameAt(0) == name || Above.Contains(name) || Below.Contains(name);
}
