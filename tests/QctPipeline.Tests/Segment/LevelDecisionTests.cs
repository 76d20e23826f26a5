using QctPipeline.Anatomy;
using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Tests.Segment;

/// <summary>The counts and the decision on a hand-made column of vertebrae 30 mm apart, the lowest centred at z 0.</summary>
public sealed class LevelDecisionTests
{
    private const double Pitch = 30;

    private static readonly double FaintDisc = new AnatomyOptions().FaintDiscSignalHu;

    /// <summary><paramref name="count"/> vertebrae, lowest first; the lowest and highest cut by the scan when asked; every disc showing with <paramref name="discSignalHu"/>.</summary>
    private static VertebralColumn Column(int count, bool cutBelow = false, bool cutAbove = false, double discSignalHu = 100)
    {
        var discs = Enumerable.Range(0, count + 1).Select(i => new Disc(i * Pitch, new Vector3(0, 0, (i * Pitch) - (Pitch / 2)), discSignalHu)).ToList();
        var vertebrae = Enumerable.Range(0, count).Select(i => new ColumnVertebra(
            new Vector3(0, 0, i * Pitch), new Vector3(0, 0, 1), new Vector3(0, 25, i * Pitch),
            i == 0 && cutBelow ? null : discs[i], i == count - 1 && cutAbove ? null : discs[i + 1], Pitch)).ToList();
        var samples = Enumerable.Range(0, (int)(count * Pitch)).Select(k => new CentrelineSample(k, new Vector3(0, 25, k - (Pitch / 2)), new Vector3(0, 0, k - (Pitch / 2)), k, 45)).ToList();
        return new VertebralColumn(new CanalTrack(new VolumeGeometry(1, 1, 1, new(0, 0, 0), new(1, 1, 1), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1)), [0], [0], [0]), samples, discs, vertebrae);
    }

    private static LevelClaim At(string method, int vertebra) => new(method, ClaimKind.L1At, vertebra, "test", []);

    private static LevelClaim Unavailable(string method) => new(method, ClaimKind.Unavailable, -1, "no cue", []);

    [Fact]
    public void TwoAgreeingCountsGiveOkAndOneAloneGivesReview()
    {
        var column = Column(6);

        var ok = LevelDecision.Decide(column, [At("a", 2), At("b", 2), Unavailable("c")], FaintDisc);
        var review = LevelDecision.Decide(column, [At("a", 2), Unavailable("b"), Unavailable("c")], FaintDisc);

        Assert.Equal((SegmentationStatus.Ok, 2), (ok.Status, ok.L1Vertebra));
        Assert.Equal([CountOutcome.Agrees, CountOutcome.Agrees, CountOutcome.Unavailable], ok.Counts.Select(c => c.Outcome));
        Assert.Equal((SegmentationStatus.Review, 2), (review.Status, review.L1Vertebra));
        Assert.Contains("one count only", review.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AgreeingCountsGiveReviewWhenL1sDiscsBarelyShow()
    {
        var faint = LevelDecision.Decide(Column(6, discSignalHu: FaintDisc - 5), [At("a", 2), At("b", 2)], FaintDisc);
        var clear = LevelDecision.Decide(Column(6, discSignalHu: FaintDisc + 5), [At("a", 2), At("b", 2)], FaintDisc);

        Assert.Equal((SegmentationStatus.Review, 2), (faint.Status, faint.L1Vertebra));
        Assert.Contains("barely show", faint.Reason, StringComparison.Ordinal);
        Assert.Equal(SegmentationStatus.Ok, clear.Status);
    }

    [Fact]
    public void DisagreeingCountsAbstainNamingBoth()
    {
        var verdict = LevelDecision.Decide(Column(6), [At("localizer", 2), At("ribs", 3)], FaintDisc);

        Assert.Equal(SegmentationStatus.NoL1, verdict.Status);
        Assert.Contains("disagree", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("localizer", verdict.Reason, StringComparison.Ordinal);
        Assert.Contains("ribs", verdict.Reason, StringComparison.Ordinal);
        Assert.All(verdict.Counts, c => Assert.Equal(CountOutcome.Disagrees, c.Outcome));
    }

    [Fact]
    public void AnL1OutsideTheScanOrCutByItsEdgeIsNotClaimed()
    {
        var below = LevelDecision.Decide(Column(4), [new LevelClaim("ribs", ClaimKind.L1BelowScan, -1, "lowest bears ribs", []), Unavailable("localizer")], FaintDisc);
        var cut = LevelDecision.Decide(Column(4, cutBelow: true), [At("a", 0), At("b", 0)], FaintDisc);
        var inside = LevelDecision.Decide(Column(4), [new LevelClaim("ribs", ClaimKind.L1BelowScan, -1, "lowest bears ribs", []), At("localizer", 1)], FaintDisc);

        Assert.Equal(SegmentationStatus.NoL1, below.Status);
        Assert.StartsWith("L1 not in the field of view", below.Reason, StringComparison.Ordinal);
        Assert.Equal(SegmentationStatus.NoL1, cut.Status);
        Assert.Contains("cut by the edge of the scan", cut.Reason, StringComparison.Ordinal);
        Assert.Equal(SegmentationStatus.NoL1, inside.Status);
        Assert.Contains("disagree", inside.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void TheLocalizerLabelsCountWhenTheyFormASequenceAroundL1()
    {
        var column = Column(7);
        LocalizerLabel Label(string name) => new(0, name, 1, 0.9);

        // Lowest first: L3 L2 L1 T12 T11, then two squeezed thoracic labels far above L1 that the window leaves out.
        var consistent = LevelCounting.Localizer(column, [Label("L3"), Label("L2"), Label("L1"), Label("T12"), Label("T11"), Label("T11"), Label("T10")]);
        var scattered = LevelCounting.Localizer(column, [Label("L3"), Label("T9"), Label("L1"), Label("L4"), Label("S1"), null, Label("T12")]);

        Assert.Equal((ClaimKind.L1At, 2), (consistent.Kind, consistent.Vertebra));
        Assert.Equal(ClaimKind.Unavailable, scattered.Kind);
    }

    [Theory]
    [InlineData("T T T F F", "L1At", 1)]
    [InlineData("T ? T F F", "L1At", 1)]
    [InlineData("T T T ? F", "Unavailable", -1)]
    [InlineData("T T T T T", "L1BelowScan", -1)]
    [InlineData("F F F F F", "Unavailable", -1)]
    [InlineData("T T F F T", "L1At", 2)]
    [InlineData("T T F T T T T", "L1At", 4)]
    [InlineData("T T F T T T T T", "Unavailable", -1)]
    [InlineData("T F T T T T T F", "Unavailable", -1)]
    public void DownFromTheRibsEndsAtTheFirstVertebraWithoutThem(string topToBottom, string kind, int vertebra)
    {
        // Written head first; the column lists the lowest vertebra first. "T F F T": a rib-like bar below a gap (an
        // iliac crest) does not end the count, nor do such bars on four lumbar vertebrae; on five or more adjoining vertebrae a
        // rib was missed above the gap, and the count names nothing.
        var bearing = topToBottom.Split(' ').Reverse().Select(c => c switch { "T" => true, "F" => false, _ => (bool?)null }).ToList();

        var claim = LevelCounting.DownFromRibs("ribs", Column(bearing.Count), bearing, []);

        Assert.Equal((kind, vertebra), (claim.Kind.ToString(), claim.Kind == ClaimKind.L1At ? claim.Vertebra : -1));
    }

    [Fact]
    public void ARibHeadOnADiscLeavesBothNeighboursUndecided()
    {
        var column = Column(3);
        RibAttachment Head(double arc) => new(+1, new Vector3(12, 25, arc - (Pitch / 2)), arc);

        var (inside, _) = LevelCounting.ImageRibs(column, [Head(45)], marginMm: 3);
        var (onDisc, _) = LevelCounting.ImageRibs(column, [Head(61)], marginMm: 3);

        Assert.Equal(new bool?[] { false, true, false }, inside);
        Assert.Equal(new bool?[] { false, null, null }, onDisc);
    }
}
