using System.Globalization;
using QctPipeline.Anatomy;

namespace QctPipeline.Segment;

/// <summary>
/// The decision on L1 from the counts: <see cref="SegmentationStatus.Ok"/> when at least two counts name the same whole
/// vertebra and none names another; <see cref="SegmentationStatus.Review"/> when one count alone names it, or when both
/// discs around it barely show in the image (L1 still reported); <see cref="SegmentationStatus.NoL1"/> when counts disagree (both named), when they put L1 outside the
/// scan, when the vertebra named is cut by the scan's edge, or when no count could name it.
/// </summary>
public sealed record LevelVerdict(SegmentationStatus Status, int L1Vertebra, string? Reason, double Confidence, IReadOnlyList<LevelCount> Counts);

internal static class LevelDecision
{
    public static LevelVerdict Decide(VertebralColumn column, IReadOnlyList<LevelClaim> claims, double faintDiscSignalHu)
    {
        var voting = claims.Where(c => c.Kind != ClaimKind.Unavailable).ToList();
        if (voting.Count == 0)
        {
            return Verdict(column, SegmentationStatus.NoL1, -1, "no count could name L1: " + Details(claims), 0, claims);
        }

        var positions = voting.Select(c => (c.Kind, Vertebra: c.Kind == ClaimKind.L1At ? c.Vertebra : -1)).Distinct().ToList();
        if (positions.Count > 1)
        {
            return Verdict(column, SegmentationStatus.NoL1, -1, "the counts disagree: " + Details(voting), 0, claims);
        }

        var (kind, vertebra) = positions[0];
        var agreeing = voting.Count;
        var confidence = Math.Min(1, agreeing / 2.0);
        if (kind != ClaimKind.L1At)
        {
            return Verdict(column, SegmentationStatus.NoL1, -1, "L1 not in the field of view: " + Details(voting), confidence, claims);
        }

        var l1 = column.Vertebrae[vertebra];
        if (!l1.Whole)
        {
            return Verdict(column, SegmentationStatus.NoL1, vertebra, string.Create(CultureInfo.InvariantCulture,
                $"L1 (z {l1.Centre.Z:0}) is cut by the edge of the scan: {Details(voting)}"), confidence, claims);
        }

        if (agreeing >= 2 && Math.Max(l1.Below!.SignalHu, l1.Above!.SignalHu) < faintDiscSignalHu)
        {
            return Verdict(column, SegmentationStatus.Review, vertebra, string.Create(CultureInfo.InvariantCulture,
                $"the discs below and above L1 barely show in the image ({l1.Below.SignalHu:0} and {l1.Above.SignalHu:0} HU against {faintDiscSignalHu:0}): where L1 ends is uncertain"), confidence, claims);
        }

        return agreeing >= 2
            ? Verdict(column, SegmentationStatus.Ok, vertebra, null, confidence, claims)
            : Verdict(column, SegmentationStatus.Review, vertebra, $"L1 named by one count only ({voting[0].Method}); the others: {Details(claims.Where(c => c.Kind == ClaimKind.Unavailable))}", confidence, claims);
    }

    private static LevelVerdict Verdict(VertebralColumn column, SegmentationStatus status, int vertebra, string? reason, double confidence, IReadOnlyList<LevelClaim> claims) =>
        new(status, vertebra, reason, confidence, [.. claims.Select(claim => new LevelCount(
            claim.Method,
            Outcome(claim, vertebra),
            claim.Detail,
            claim.Kind == ClaimKind.L1At ? column.Vertebrae[claim.Vertebra].Centre : null,
            claim.Evidence))]);

    private static CountOutcome Outcome(LevelClaim claim, int decided) => claim.Kind switch
    {
        ClaimKind.Unavailable => CountOutcome.Unavailable,
        ClaimKind.L1At => claim.Vertebra == decided ? CountOutcome.Agrees : CountOutcome.Disagrees,
        _ => decided >= 0 ? CountOutcome.Disagrees : CountOutcome.L1NotInView,
    };

    private static string Details(IEnumerable<LevelClaim> claims) => string.Join("; ", claims.Select(c => $"{c.Method}: {c.Detail}"));
}
