using QctPipeline.Domain;
using QctPipeline.Evaluation;
using QctPipeline.Nifti;

namespace QctPipeline.Tests.Evaluation;

/// <summary>
/// The reference side of eval-real on real bytes: TPTBox's L3 body (vertebra 22 and sub-regions 49 ∪ 50) on its noised
/// lumbar crop, and TotalSegmentator's labels on the ts-spine-j2k DICOM grid. Each figure is checked against the same
/// figure computed here another way.
/// </summary>
public sealed class EvalRealReferenceTests
{
    private static readonly string Crop = RealData.Path("tptbox-vertebra-crop");
    private static readonly string CtPath = Path.Combine(Crop, "sub-ct_label-22_ct.nii.gz");
    private static readonly string VertPath = Path.Combine(Crop, "sub-ct_seg-vert_label-22_msk.nii.gz");
    private static readonly string SubregPath = Path.Combine(Crop, "sub-ct_seg-subreg_label-22_msk.nii.gz");

    private static MaskExpression L3Body => MaskExpression.Parse("sub-ct_seg-vert_label-22_msk.nii.gz:22 & sub-ct_seg-subreg_label-22_msk.nii.gz:49,50", Crop).Expression!;

    [Fact]
    public void The_PIR_crop_is_placed_in_LPS_with_posterior_inferior_and_right_as_its_voxel_axes()
    {
        var ct = NiftiVolumes.ReadCt(CtPath);

        Assert.Equal((73, 47, 73), (ct.Geometry.SizeX, ct.Geometry.SizeY, ct.Geometry.SizeZ));
        Assert.Equal(new Vector3(1.5, 1.5, 1.5), ct.Geometry.Spacing);
        Assert.Equal(new Vector3(0, 1, 0), Rounded(ct.Geometry.RowDirection));
        Assert.Equal(new Vector3(0, 0, -1), Rounded(ct.Geometry.ColumnDirection));
        Assert.Equal(new Vector3(-1, 0, 0), Rounded(ct.Geometry.SliceDirection));
    }

    [Fact]
    public void The_L3_body_expression_selects_exactly_the_voxels_both_label_files_agree_on()
    {
        var (vert, subreg) = (NiftiReader.Read(VertPath).Voxels.ToArray(), NiftiReader.Read(SubregPath).Voxels.ToArray());
        var expected = vert.Zip(subreg).Count(pair => pair.First == 22 && pair.Second is 49 or 50);
        var wholeVertebra = vert.Count(value => value == 22);
        var ct = NiftiVolumes.ReadCt(CtPath);

        var body = ReferenceStandard.MaskOnGrid(L3Body, ct.Geometry);
        var vertebra = ReferenceStandard.MaskOnGrid(MaskExpression.Parse("sub-ct_seg-vert_label-22_msk.nii.gz:22", Crop).Expression!, ct.Geometry);

        Assert.Equal(expected, body.Count);
        Assert.InRange(expected, 5000, wholeVertebra - 1000);
        Assert.Equal(2.0 * expected / (expected + wholeVertebra), CaseScoring.Dice(body, vertebra), 12);
    }

    [Fact]
    public void The_reference_HU_of_L3_eroded_by_4_mm_equals_a_brute_force_ball_erosion()
    {
        var ct = NiftiVolumes.ReadCt(CtPath);
        var evaluationCase = new EvaluationCase("t", "t", CtPath, "L3", L3Body, null, null, false, null);

        var reference = ReferenceStandard.For(evaluationCase, ct);
        var (bruteMean, bruteCount) = BruteForceErodedMean(ct, reference.Body!, 4.0);

        Assert.InRange(bruteCount, 500, reference.Body!.Count / 2);
        Assert.Equal(bruteMean, reference.TrabecularHu!.Value, 6);
        Assert.Contains($"({bruteCount} voxels)", reference.HuSource, StringComparison.Ordinal);
        Assert.Equal(reference.Body.Centroid(), reference.CentroidLps);
    }

    [Fact]
    public void A_reference_mask_on_another_grid_is_compared_in_patient_coordinates()
    {
        var ct = NiftiVolumes.ReadCt(CtPath);
        var native = ReferenceStandard.MaskOnGrid(L3Body, ct.Geometry);

        // An axial LPS grid of 0.8 × 0.8 × 2.5 mm over the crop: other axes, other spacing, other origin.
        var g = ct.Geometry;
        var corners = new[] { g.VoxelToPatient(0, 0, 0), g.VoxelToPatient(g.SizeX - 1, g.SizeY - 1, g.SizeZ - 1) };
        var low = new Vector3(corners.Min(c => c.X), corners.Min(c => c.Y), corners.Min(c => c.Z));
        var high = new Vector3(corners.Max(c => c.X), corners.Max(c => c.Y), corners.Max(c => c.Z));
        var axial = new VolumeGeometry((int)((high.X - low.X) / 0.8) + 1, (int)((high.Y - low.Y) / 0.8) + 1, (int)((high.Z - low.Z) / 2.5) + 1,
            low + new Vector3(0.3, 0.1, 0.7), new Vector3(0.8, 0.8, 2.5), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1));

        var mapped = ReferenceStandard.MaskOnGrid(L3Body, axial);

        Assert.InRange(mapped.VolumeMm3 / native.VolumeMm3, 0.95, 1.05);
        Assert.True((mapped.Centroid()!.Value - native.Centroid()!.Value).Length < 1.0, $"{mapped.Centroid()} vs {native.Centroid()}");
    }

    [Fact]
    public void TotalSegmentator_labels_land_voxel_for_voxel_on_the_DICOM_series_grid()
    {
        var series = EvaluationSeries.Load(RealData.Path("ts-spine-j2k", "dicom"));
        var labels = NiftiReader.Read(RealData.Path("ts-spine-j2k", "labels.nii.gz")).Voxels.ToArray();

        var t12 = ReferenceStandard.MaskOnGrid(MaskExpression.Parse("labels.nii.gz:32", RealData.Path("ts-spine-j2k")).Expression!, series.Volume.Geometry);

        Assert.Equal(labels.Count(value => value == 32), t12.Count);
        Assert.True(labels.Count(value => value == 32) > 10000);
    }

    [Theory]
    [InlineData("sub-ct_seg-vert_label-22_msk.nii.gz:99", "sub-ct_seg-vert_label-22_msk.nii.gz: no voxel has label 99 (values present: ")]
    [InlineData("missing.nii.gz:1", "missing.nii.gz: no such reference mask file")]
    [InlineData("sub-ct_seg-vert_label-22_msk.nii.gz:21 & sub-ct_seg-vert_label-22_msk.nii.gz:23", "the reference mask has no voxel on the series' grid")]
    public void A_label_the_file_lacks_a_missing_file_or_an_empty_selection_is_one_line_naming_it(string expression, string message)
    {
        var ct = NiftiVolumes.ReadCt(CtPath);

        var exception = Assert.Throws<EvaluationInputException>(() => ReferenceStandard.MaskOnGrid(MaskExpression.Parse(expression, Crop).Expression!, ct.Geometry));

        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', exception.Message);
    }

    [Fact]
    public void A_missing_series_is_named()
    {
        var exception = Assert.Throws<EvaluationInputException>(() => EvaluationSeries.Load(Path.Combine(Crop, "absent_ct.nii.gz")));

        Assert.Contains("absent_ct.nii.gz: no such NIfTI file", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A voxel stays when every cell that comes within <paramref name="radiusMm"/> of its centre (the nearest point of
    /// the cell, per axis max(0, |offset| − ½) voxels) is inside the mask and on the grid: the definition, by enumeration.
    /// </summary>
    private static (double Mean, int Count) BruteForceErodedMean(CtVolume ct, Mask body, double radiusMm)
    {
        var g = ct.Geometry;
        var spacing = new[] { g.Spacing.X, g.Spacing.Y, g.Spacing.Z };
        var reach = spacing.Select(s => (int)Math.Ceiling((radiusMm / s) + 0.5)).ToArray();
        var ball = new List<(int, int, int)>();
        for (var dk = -reach[2]; dk <= reach[2]; dk++)
        {
            for (var dj = -reach[1]; dj <= reach[1]; dj++)
            {
                for (var di = -reach[0]; di <= reach[0]; di++)
                {
                    double Gap(int offset, double s) => Math.Max(0, Math.Abs(offset) - 0.5) * s;
                    var (x, y, z) = (Gap(di, spacing[0]), Gap(dj, spacing[1]), Gap(dk, spacing[2]));
                    if (Math.Sqrt((x * x) + (y * y) + (z * z)) <= radiusMm)
                    {
                        ball.Add((di, dj, dk));
                    }
                }
            }
        }

        double sum = 0;
        var count = 0;
        for (var k = 0; k < g.SizeZ; k++)
        {
            for (var j = 0; j < g.SizeY; j++)
            {
                for (var i = 0; i < g.SizeX; i++)
                {
                    if (body[i, j, k] && ball.All(o => Inside(body, i + o.Item1, j + o.Item2, k + o.Item3)))
                    {
                        sum += ct[i, j, k];
                        count++;
                    }
                }
            }
        }

        return (sum / count, count);
    }

    private static bool Inside(Mask mask, int i, int j, int k) =>
        i >= 0 && j >= 0 && k >= 0 && i < mask.Geometry.SizeX && j < mask.Geometry.SizeY && k < mask.Geometry.SizeZ && mask[i, j, k];

    private static Vector3 Rounded(Vector3 v) => new(Math.Round(v.X, 6) + 0, Math.Round(v.Y, 6) + 0, Math.Round(v.Z, 6) + 0);
}
