using QctPipeline.Domain;
using QctPipeline.Measure;
using QctPipeline.Phantom;

namespace QctPipeline.Tests.Measure;

/// <summary>The ROIs on a phantom with known truth: the L1 body label as the mask, the truth's HU and axis as the answer.</summary>
public sealed class TrabecularRoiTests(IntactSpineFixture fixture) : IClassFixture<IntactSpineFixture>
{
    private static readonly Calibration Identity = new Calibration { Method = CalibrationMethod.Phantom, InterceptHu = 0, SlopeHuPerMgPerCm3 = 1, Reference = "test identity" };

    [Fact]
    public void ErodedBodyAndEllipseMeansMatchTheExpectedTrabecularHu()
    {
        var truth = MeasurePhantoms.Truth(fixture.Study, "L1");
        var measurement = Measure(fixture.Study.Volume);

        Assert.Equal(VertebralLevel.L1, measurement.Choice.Level);
        Assert.True(measurement.Choice.Usable, measurement.Choice.Reason);
        Assert.InRange(measurement.ErodedBody!.Hu.Mean, truth.ExpectedTrabecularHu - 4, truth.ExpectedTrabecularHu + 4);
        Assert.InRange(measurement.ErodedBody.Hu.Median, truth.ExpectedTrabecularHu - 5, truth.ExpectedTrabecularHu + 5);
        Assert.InRange(measurement.Ellipse!.Hu.Mean, truth.ExpectedTrabecularHu - 5, truth.ExpectedTrabecularHu + 5);
    }

    [Fact]
    public void RoiVolumesFitTheBody()
    {
        var truth = MeasurePhantoms.Truth(fixture.Study, "L1");
        var measurement = Measure(fixture.Study.Volume);

        // The eroded body is the core less ~4 mm all round: well under the body, well over nothing.
        Assert.InRange(measurement.ErodedBody!.VolumeMl * 1000, truth.BodyVolumeMm3 * 0.2, truth.BodyVolumeMm3 * 0.6);

        // The ellipse: π · 0.65·W/2 · 0.5·D/2 · 8 mm, less what the posterior notch and erosion cut.
        var ellipseMm3 = Math.PI * 0.65 * truth.BodyWidthMm / 2 * 0.5 * truth.BodyDepthMm / 2 * 8;
        Assert.InRange(measurement.Ellipse!.VolumeMl * 1000, ellipseMm3 * 0.85, ellipseMm3 * 1.1);
    }

    [Fact]
    public void BodyAxisFollowsTheTruthAxis()
    {
        var study = fixture.Study;
        var truth = MeasurePhantoms.Truth(study, "L1");
        var analysisWarnings = new List<string>();
        var mask = MeasurePhantoms.Body(study, "L1");
        var box = BoxRegion.Around(mask, 1)!.Value;
        var frame = BoxFrame.Estimate(box.Crop(mask.Voxels, mask.Geometry), box, mask.Geometry, new MeasureOptions(), analysisWarnings);

        var truthAxis = new Vector3(truth.SuperiorAxisLps[0], truth.SuperiorAxisLps[1], truth.SuperiorAxisLps[2]).Normalized();
        var degrees = Math.Acos(Math.Min(1, frame.SuperiorAxis.Dot(truthAxis))) * 180 / Math.PI;
        Assert.True(degrees < 4, $"axis {frame.SuperiorAxis} vs truth {truthAxis}: {degrees:0.0}°");
        var centroid = new Vector3(truth.BodyCentroidLps[0], truth.BodyCentroidLps[1], truth.BodyCentroidLps[2]);
        Assert.True((frame.Centroid - centroid).Length < 1.5, $"centroid {frame.Centroid} vs truth {centroid}");
    }

    [Fact]
    public void IntactBodyIsNotFractured()
    {
        var l1 = Measure(fixture.Study.Volume).Assessments.Single(a => a.Level == VertebralLevel.L1);

        Assert.True(l1.HeightLoss < 0.1, $"height loss {l1.HeightLoss:P1} ({l1.AnteriorHeightMm:0.0} vs {l1.PosteriorHeightMm:0.0} mm)");
        Assert.True(l1.MaxBlockDeviationHu < 30, $"block deviation {l1.MaxBlockDeviationHu:0} HU");
    }

    [Fact]
    public void BoneIslandIsReportedAndLeftOut()
    {
        var study = fixture.Study;
        var before = Measure(study.Volume);
        var withIsland = WithBrightCube(study.Volume, MeasurePhantoms.Body(study, "L1"), edgeVoxels: 3, hu: 1200);

        var after = Measure(withIsland);

        Assert.Equal(0, before.BoneIslands!.Count);
        Assert.Equal(1, after.BoneIslands!.Count);
        var g = study.Volume.Geometry;
        Assert.Equal(27 * g.Spacing.X * g.Spacing.Y * g.Spacing.Z, after.BoneIslands.VolumeMm3, 6);
        Assert.True(after.Choice.Usable, after.Choice.Reason);

        // Without the exclusion 27 voxels ~1000 HU too bright would lift the mean by several HU.
        Assert.InRange(after.ErodedBody!.Hu.Mean, before.ErodedBody!.Hu.Mean - 0.5, before.ErodedBody.Hu.Mean + 0.5);
        Assert.Contains(after.Warnings, w => w.Contains("bone island", StringComparison.Ordinal));
    }

    [Fact]
    public void DensityStatisticsFollowTheLine()
    {
        var line = new Calibration { Method = CalibrationMethod.Phantom, InterceptHu = -8, SlopeHuPerMgPerCm3 = 1.3, Reference = "test" };
        var measurement = VertebralMeasurement.Measure(fixture.Study.Volume, new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L1")), null, null, line, contrastAffected: true, new MeasureOptions());

        var hu = measurement.ErodedBody!.Hu;
        var density = measurement.ErodedBody.MgPerCm3!;
        Assert.Equal(line.DensityAt(hu.Mean), density.Mean, 3);
        Assert.Equal(line.DensityAt(hu.Median), density.Median, 3);
        Assert.Equal(hu.StandardDeviation / 1.3, density.StandardDeviation, 3);
        Assert.Equal(BoneDensityInterpretation.Categorize(density.Mean), measurement.Category);
        Assert.True(measurement.ContrastAffected);
        Assert.Equal(measurement.ErodedBody.MgPerCm3!.Mean, measurement.VbmdMgPerCm3);
    }

    [Fact]
    public void WithoutCalibrationOnlyHuIsReported()
    {
        var measurement = VertebralMeasurement.Measure(fixture.Study.Volume, new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L1")), null, null, null, false, new MeasureOptions());

        Assert.Null(measurement.ErodedBody!.MgPerCm3);
        Assert.Null(measurement.Category);
        Assert.NotNull(measurement.HuFlags);
        Assert.Contains(measurement.Warnings, w => w.StartsWith("no calibration", StringComparison.Ordinal));
    }

    [Fact]
    public void TheAcrL1L2MeanMatchesTheTruthOfBothLevels()
    {
        var (l1, l2) = (MeasurePhantoms.Truth(fixture.Study, "L1"), MeasurePhantoms.Truth(fixture.Study, "L2"));
        var measurement = Measure(fixture.Study.Volume);

        var mean = measurement.L1L2 ?? throw new Xunit.Sdk.XunitException(measurement.TwoLevelMeanMissing);
        Assert.Equal([VertebralLevel.L1, VertebralLevel.L2], mean.Levels);

        // Identity calibration (mg/cm³ = HU): within the ±4 HU that L1's eroded body keeps to its own truth.
        var expected = (l1.ExpectedTrabecularHu + l2.ExpectedTrabecularHu) / 2;
        Assert.InRange(mean.VbmdMgPerCm3, expected - 4, expected + 4);
        Assert.Equal(BoneDensityInterpretation.Categorize(mean.VbmdMgPerCm3), mean.Category);
        Assert.Null(measurement.TwoLevelMeanMissing);
    }

    [Fact]
    public void WithoutL2OrACalibrationThereIsNoTwoLevelMeanAndItSaysWhy()
    {
        var l1Only = VertebralMeasurement.Measure(fixture.Study.Volume, new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L1")), null, null, Identity, false, new MeasureOptions());
        Assert.Null(l1Only.L1L2);
        Assert.Equal("L2 was not outlined", l1Only.TwoLevelMeanMissing);

        var huOnly = VertebralMeasurement.Measure(fixture.Study.Volume, new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L1")), null,
            new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L2")), null, false, new MeasureOptions());
        Assert.Null(huOnly.L1L2);
        Assert.StartsWith("no calibration", huOnly.TwoLevelMeanMissing, StringComparison.Ordinal);
    }

    private Measurement Measure(CtVolume volume) =>
        VertebralMeasurement.Measure(volume, new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L1")), new VertebraInput(MeasurePhantoms.Body(fixture.Study, "T12")),
            new VertebraInput(MeasurePhantoms.Body(fixture.Study, "L2")), Identity, false, new MeasureOptions());

    /// <summary>A copy of the volume with a bright cube at the centroid of the mask.</summary>
    private static CtVolume WithBrightCube(CtVolume volume, Mask mask, int edgeVoxels, float hu)
    {
        var g = volume.Geometry;
        var voxels = volume.Voxels.ToArray();
        var (ci, cj, ck) = CentroidIndex(mask);
        for (var k = ck; k < ck + edgeVoxels; k++)
        {
            for (var j = cj; j < cj + edgeVoxels; j++)
            {
                for (var i = ci; i < ci + edgeVoxels; i++)
                {
                    voxels[i + (g.SizeX * (j + (g.SizeY * k)))] = hu;
                }
            }
        }

        return new CtVolume(g, voxels);
    }

    private static (int I, int J, int K) CentroidIndex(Mask mask)
    {
        var g = mask.Geometry;
        long si = 0, sj = 0, sk = 0, n = 0;
        for (var index = 0; index < mask.Voxels.Length; index++)
        {
            if (mask.Voxels[index] != 0)
            {
                si += index % g.SizeX;
                sj += index / g.SizeX % g.SizeY;
                sk += index / g.SliceLength;
                n++;
            }
        }

        return ((int)(si / n), (int)(sj / n), (int)(sk / n));
    }
}
