using QctPipeline.Domain;
using QctPipeline.Evaluation;
using QctPipeline.Ingest;
using QctPipeline.Segment;

namespace QctPipeline.Tests.Segment;

/// <summary>
/// The whole L1 stage with the shipped model on the real scans, against what a person reads in them: the right L1 or an
/// abstention with a reason, and never a lumbar or sacral name above a thoracic one.
/// </summary>
public sealed class RealChainTests
{
    private static readonly string[] Order = ["T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1"];

    private static SegmentationResult Segment(string folder)
    {
        var manifest = ShippedModelTests.ShippedManifest() ?? throw new InvalidOperationException("models/qct-l1-model.json is not in the repository");
        using var model = SegmentationModel.Load(manifest);
        var options = new IngestOptions();
        var selected = DicomIngest.Survey(folder, options).Selection.Selected!;
        return L1Segmenter.Segment(DicomIngest.Load(selected, options).Volume, selected.Metadata, model, new SegmentOptions());
    }

    [Fact]
    public void LidcL1IsTheVertebraBelowTheLastRibs()
    {
        var result = Segment(RealData.Path("lidc-0001-chest-ct", "dicom"));

        // Read on axial slices and a straightened reformat: the 12th ribs meet the body between z −265 and −242 (T12);
        // the body below, z −295 to −265, has short transverse processes and no rib: L1, centred near (24, 40, −280).
        Assert.NotEqual(SegmentationStatus.NoL1, result.Status);
        Assert.True((result.L1CentroidLps!.Value - new Vector3(24, 40, -280)).Length < 8, $"L1 at {result.L1CentroidLps}");
        Assert.InRange(result.L1VolumeMl!.Value, 20, 40);
        Assert.Contains(result.Counts, c => c.Method == LevelCounting.FromImageRibs && c.Outcome == CountOutcome.Agrees);
        AssertInOrder(result);
    }

    [Fact]
    public void CptacChestCtClaimsNoWholeL1()
    {
        var result = Segment(RealData.Path("cptac-chest-ct-sharp", "dicom"));

        Assert.Equal(SegmentationStatus.NoL1, result.Status);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        AssertInOrder(result);
    }

    [Fact]
    public void AShortSpineSeriesAndAHeadCtClaimNoL1WithAReason()
    {
        var spine = Segment(RealData.Path("ts-spine-j2k", "dicom"));
        var head = Segment(RealData.Path("dcm-qa-ct-exam", "S2010"));

        Assert.Equal(SegmentationStatus.NoL1, spine.Status);
        Assert.Equal(SegmentationStatus.NoL1, head.Status);
        Assert.Contains("no spinal canal", head.Reason, StringComparison.Ordinal);
        AssertInOrder(spine);
    }

    [Fact]
    public void TheShortSpineSeriesNamesT12WhereItsLabelsPutIt()
    {
        var folder = RealData.Path("ts-spine-j2k", "dicom");
        var options = new IngestOptions();
        var volume = DicomIngest.Load(DicomIngest.Survey(folder, options).Selection.Selected!, options).Volume;
        var result = Segment(folder);

        // TotalSegmentator's label 32 (T12) on the series grid: the vertebra named T12 must be centred inside it.
        var t12 = ReferenceStandard.MaskOnGrid(MaskExpression.Parse("labels.nii.gz:32", RealData.Path("ts-spine-j2k")).Expression!, volume.Geometry);
        var named = result.Levels.Single(level => level.Name == "T12").CentroidLps;
        var voxel = volume.Geometry.PatientToVoxel(named);
        var index = (int)Math.Round(voxel.X) + (volume.Geometry.SizeX * ((int)Math.Round(voxel.Y) + (volume.Geometry.SizeY * (int)Math.Round(voxel.Z))));

        Assert.Equal(SegmentationStatus.NoL1, result.Status);
        Assert.Equal(1, t12.Voxels[index]);

        // The series ends 6 mm above the T11/T12 disc: that sliver of T11 (its centre in the disc) names T12 through its
        // localizer label but is not named itself.
        Assert.Equal(["T12"], result.Levels.Select(level => level.Name));
    }

    /// <summary>Head to feet, the names the result gives come in anatomical order.</summary>
    private static void AssertInOrder(SegmentationResult result)
    {
        var ranks = result.Levels.OrderByDescending(level => level.CentroidLps.Z).Select(level => Array.IndexOf(Order, level.Name)).ToList();
        Assert.DoesNotContain(-1, ranks);
        Assert.Equal(ranks.Order(), ranks);
    }
}
