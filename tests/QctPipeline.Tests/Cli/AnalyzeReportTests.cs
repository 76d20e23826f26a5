using QctPipeline.Cli.Commands;
using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Tests.Cli;

/// <summary>How the analyze report names what was measured.</summary>
public sealed class AnalyzeReportTests
{
    private static LevelFound Level(string name, int classIndex, double z) => new(name, classIndex, new Vector3(0, 30, z), 500, 300, 0.9, false);

    private static SegmentationResult Found(double l1Z, params LevelFound[] levels) => new(
        SegmentationStatus.Ok, null, null, new Vector3(0, 25, l1Z), 20, 0.9, levels, [], null, null, [], []);

    [Fact]
    public void The_vertebra_above_L1_is_named_by_the_nearest_higher_class_not_by_the_localizers_own_L1()
    {
        // The localizer's L1 centroid lies 4 mm above the refined one; the vertebra above L1 is its T12.
        var result = Found(-330, Level("T11", 4, -265), Level("T12", 5, -296), Level("L1", 7, -326), Level("L2", 8, -363));

        Assert.Equal("T12", L1Report.AboveL1Name(result));
    }

    [Fact]
    public void With_eleven_rib_pairs_the_vertebra_above_L1_carries_the_last_thoracic_name_found()
    {
        var result = Found(-330, Level("T10", 3, -265), Level("T11", 4, -296), Level("L1", 7, -329));

        Assert.Equal("T11", L1Report.AboveL1Name(result));
    }
}
