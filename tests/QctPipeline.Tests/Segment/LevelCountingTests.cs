using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Tests.Segment;

/// <summary>The level logic on hand-made localizer maps: a stack of box vertebrae on a 4 mm canonical grid.</summary>
public sealed class LevelCountingTests
{
    private const int SizeX = 16;
    private const int SizeY = 16;
    private const int VertebraSlices = 6;
    private const int DiscSlices = 2;

    private static readonly string[] ClassNames =
        ["background", "T1-T8", "T9", "T10", "T11", "T12", "T13", "L1", "L2", "L3", "L4", "L5", "L6", "S1"];

    private static LocalizerSpec Spec(bool ribsTrained = false) => new(
        "localizer.onnx", "0", 4, "image", "logits", 16,
        [.. ClassNames.Select((name, index) => new StageLabel(index, name, []))],
        L1Class: 7, BodyChannel: 14, RibChannel: 15, RibChannelTrained: ribsTrained,
        new IntensityNormalisation(-1000, 2000, 0.001, 0, -1000, -1));

    /// <summary>
    /// Vertebrae listed bottom (inferior) to top, one box each, separated by discs; a margin of empty slices below and
    /// above unless the stack is to reach the scan's edge. Rib-bearing ones get a rib voxel touching their side.
    /// </summary>
    /// <param name="discBridge">Body voxels per disc slice joining each body to the next, as the coarse body channel of a lordotic spine does.</param>
    private static LocalizerMaps Stack(string[] bottomToTop, int marginBelow = 2, int marginAbove = 2, string[]? ribBearing = null, int discBridge = 0)
    {
        var sizeZ = marginBelow + (bottomToTop.Length * (VertebraSlices + DiscSlices)) - DiscSlices + marginAbove;
        var geometry = new VolumeGeometry(SizeX, SizeY, sizeZ, new Vector3(0, 0, -200), new Vector3(4, 4, 4), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1));
        var count = (int)geometry.VoxelCount;
        var classes = new byte[count];
        var body = new byte[count];
        var ribs = new byte[count];
        for (var level = 0; level < bottomToTop.Length; level++)
        {
            var classIndex = (byte)Array.IndexOf(ClassNames, bottomToTop[level]);
            var z0 = marginBelow + (level * (VertebraSlices + DiscSlices));
            for (var z = z0; z < z0 + VertebraSlices; z++)
            {
                for (var y = 5; y < 10; y++)
                {
                    for (var x = 5; x < 11; x++)
                    {
                        classes[x + (SizeX * (y + (SizeY * z)))] = classIndex;
                        body[x + (SizeX * (y + (SizeY * z)))] = 1;
                    }
                }

                for (var bridge = 0; z == z0 + VertebraSlices - 1 && level < bottomToTop.Length - 1 && bridge < discBridge; bridge++)
                {
                    for (var disc = 1; disc <= DiscSlices; disc++)
                    {
                        var at = 5 + (bridge % 6) + (SizeX * (5 + (bridge / 6) + (SizeY * (z + disc))));
                        classes[at] = classIndex;
                        body[at] = 1;
                    }
                }

                if (ribBearing?.Contains(bottomToTop[level]) == true)
                {
                    ribs[4 + (SizeX * (7 + (SizeY * z)))] = 1;
                    ribs[11 + (SizeX * (7 + (SizeY * z)))] = 1;
                }
            }
        }

        return new LocalizerMaps(geometry, classes, Enumerable.Repeat(0.9f, count).ToArray(), body, ribBearing is null ? null : ribs, new float[count]);
    }

    private static LevelEvidence Analyse(LocalizerMaps maps, bool ribsTrained = false) =>
        LevelCounting.Analyse(maps, Spec(ribsTrained), new SegmentOptions());

    private static CountOutcome Outcome(LevelEvidence evidence, string method) => evidence.Counts.Single(c => c.Method == method).Outcome;

    [Fact]
    public void A_full_lumbar_spine_counted_up_from_the_sacrum_agrees()
    {
        var evidence = Analyse(Stack(["S1", "L5", "L4", "L3", "L2", "L1", "T12", "T11"]));

        Assert.Equal(["T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"], evidence.Levels.Select(l => l.Name));
        Assert.Equal(CountOutcome.Agrees, Outcome(evidence, LevelCounting.FromSacrum));
        Assert.Equal(CountOutcome.Unavailable, Outcome(evidence, LevelCounting.FromRibs));
        var verdict = LevelCounting.Judge(evidence, new SegmentOptions());
        Assert.Null(verdict.AbstainReason);
        Assert.Null(verdict.Warning);
        Assert.Equal(0.9, verdict.Confidence, 5);
        Assert.False(evidence.L1!.CutByEdge);
    }

    [Fact]
    public void Bodies_touching_across_their_discs_are_still_counted_one_by_one()
    {
        // 6 of a body's 30 voxels per slice continue through each disc: one 3D blob, but the area dips at every disc.
        var evidence = Analyse(Stack(["S1", "L5", "L4", "L3", "L2", "L1", "T12", "T11"], discBridge: 6));

        Assert.Equal(CountOutcome.Agrees, Outcome(evidence, LevelCounting.FromSacrum));
        Assert.Equal(8, evidence.Bodies.Count);
        Assert.All(evidence.Bodies, body => Assert.Equal(VertebraSlices * 4, body.HeightMm));
    }

    [Fact]
    public void A_body_channel_that_only_dips_a_little_at_its_discs_is_not_counted_through()
    {
        // 20 of 30 voxels per slice continue through each disc: too shallow a dip to call it a disc.
        var evidence = Analyse(Stack(["S1", "L5", "L4", "L3", "L2", "L1", "T12", "T11"], discBridge: 20));

        Assert.Equal(CountOutcome.Unavailable, Outcome(evidence, LevelCounting.FromSacrum));
    }

    [Fact]
    public void Six_lumbar_vertebrae_are_counted_from_the_lowest_lumbar_label()
    {
        var evidence = Analyse(Stack(["S1", "L6", "L5", "L4", "L3", "L2", "L1", "T12"]));

        Assert.Equal(CountOutcome.Agrees, Outcome(evidence, LevelCounting.FromSacrum));
    }

    [Fact]
    public void A_localizer_L1_one_level_off_the_sacral_count_disagrees_and_abstains()
    {
        // Five bodies above S1 labelled L5…L2, then a second "L2" where L1 should be and "L1" on the vertebra above it.
        var evidence = Analyse(Stack(["S1", "L5", "L4", "L3", "L2", "L2", "L1", "T11"]));

        Assert.Equal(CountOutcome.Disagrees, Outcome(evidence, LevelCounting.FromSacrum));
        var verdict = LevelCounting.Judge(evidence, new SegmentOptions());
        Assert.StartsWith("level counts disagree", verdict.AbstainReason);
    }

    [Fact]
    public void An_L1_touching_the_last_slice_is_cut_by_the_edge()
    {
        var evidence = Analyse(Stack(["L3", "L2", "L1"], marginAbove: 0));

        Assert.True(evidence.L1!.CutByEdge);
        Assert.Contains("cut by the edge", LevelCounting.Judge(evidence, new SegmentOptions()).AbstainReason);
    }

    [Fact]
    public void Without_sacrum_or_ribs_L1_rests_on_the_localizer_alone_with_less_confidence()
    {
        var evidence = Analyse(Stack(["L3", "L2", "L1", "T12", "T11"]));

        Assert.Equal(CountOutcome.Unavailable, Outcome(evidence, LevelCounting.FromSacrum));
        var verdict = LevelCounting.Judge(evidence, new SegmentOptions());
        Assert.Null(verdict.AbstainReason);
        Assert.Equal(0.9 * new SegmentOptions().UnconfirmedLevelFactor, verdict.Confidence, 5);
        Assert.Contains("localizer alone", verdict.Warning);
    }

    [Fact]
    public void Levels_out_of_anatomical_order_around_L1_abstain()
    {
        // "T10" below L1: labels that do not form a spine there (on real CT, vessels taken for vertebrae).
        var evidence = Analyse(Stack(["L3", "T10", "L2", "L1", "T12", "T11"]));

        var verdict = LevelCounting.Judge(evidence, new SegmentOptions());
        Assert.Equal("the levels found do not line up as a spine around L1: T10 lies 64 mm below L1", verdict.AbstainReason);
    }

    [Fact]
    public void Two_levels_named_on_one_vertebra_abstain()
    {
        // The upper half of the L1 box relabelled T12: two names 12 mm apart, as when a scan ends inside L1.
        var maps = Stack(["L2", "L1", "T11"]);
        var l1 = (byte)Array.IndexOf(ClassNames, "L1");
        var t12 = (byte)Array.IndexOf(ClassNames, "T12");
        var firstUpperSlice = 2 + VertebraSlices + DiscSlices + (VertebraSlices / 2);
        for (var index = firstUpperSlice * SizeX * SizeY; index < (firstUpperSlice + (VertebraSlices / 2)) * SizeX * SizeY; index++)
        {
            maps.Classes[index] = maps.Classes[index] == l1 ? t12 : maps.Classes[index];
        }

        var verdict = LevelCounting.Judge(Analyse(maps), new SegmentOptions());

        Assert.Equal("the levels found do not line up as a spine around L1: T12 lies 12 mm above L1, closer than one vertebra", verdict.AbstainReason);
    }

    [Fact]
    public void A_scan_without_L1_abstains_naming_the_levels_seen()
    {
        var evidence = Analyse(Stack(["T12", "T11", "T10"]));

        Assert.Null(evidence.L1);
        Assert.Equal("L1 not in the field of view: levels seen T10, T11, T12", LevelCounting.Judge(evidence, new SegmentOptions()).AbstainReason);
    }

    [Fact]
    public void Counting_down_from_the_last_rib_bearing_vertebra_when_the_rib_channel_is_trained()
    {
        var agreeing = Analyse(Stack(["L2", "L1", "T12", "T11"], ribBearing: ["T12", "T11"]), ribsTrained: true);
        var thirteenRibs = Analyse(Stack(["L2", "L1", "T12", "T11"], ribBearing: ["L1", "T12", "T11"]), ribsTrained: true);
        var untrained = Analyse(Stack(["L2", "L1", "T12", "T11"], ribBearing: ["T12", "T11"]), ribsTrained: false);

        Assert.Equal(CountOutcome.Agrees, Outcome(agreeing, LevelCounting.FromRibs));
        Assert.Equal(CountOutcome.Disagrees, Outcome(thirteenRibs, LevelCounting.FromRibs));
        Assert.Equal(CountOutcome.Unavailable, Outcome(untrained, LevelCounting.FromRibs));
    }

    [Fact]
    public void A_rib_contact_below_a_gap_is_not_the_last_rib_bearing_vertebra()
    {
        // The iliac crest taken for a rib beside L5: the run of rib-bearing bodies from the top still ends at T12.
        var withIliacCrest = Analyse(Stack(["L5", "L4", "L3", "L2", "L1", "T12", "T11"], ribBearing: ["L5", "T12", "T11"]), ribsTrained: true);
        var lumbarOnly = Analyse(Stack(["L5", "L4", "L3", "L2"], ribBearing: ["L5"]), ribsTrained: true);

        Assert.Equal(CountOutcome.Agrees, Outcome(withIliacCrest, LevelCounting.FromRibs));
        Assert.Equal(CountOutcome.Unavailable, Outcome(lumbarOnly, LevelCounting.FromRibs));
        Assert.Contains("top vertebra in view bears no rib", lumbarOnly.Counts.Single(c => c.Method == LevelCounting.FromRibs).Detail);
    }

    [Fact]
    public void Specks_too_small_for_a_vertebra_are_not_levels()
    {
        var maps = Stack(["L2", "T12"]);
        maps.Classes[0] = 7; // one voxel of "L1": 0.064 ml

        Assert.Null(Analyse(maps).L1);
    }
}
