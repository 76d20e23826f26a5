using QctPipeline.Domain;
using QctPipeline.Segment;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Tests.Segment;

/// <summary>Canonical reorientation, resampling and the mapping of probabilities back onto a series grid.</summary>
public sealed class SegmentGeometryTests
{
    private static readonly Vector3 Left = new(1, 0, 0);
    private static readonly Vector3 Posterior = new(0, 1, 0);
    private static readonly Vector3 Superior = new(0, 0, 1);

    /// <summary>A canonical grid (x → L, y → P, z → S) with a value that differs in every voxel.</summary>
    private static CtVolume CanonicalPattern()
    {
        var geometry = new VolumeGeometry(4, 3, 5, new Vector3(-10, 20, -300), new Vector3(0.8, 0.9, 2.5), Left, Posterior, Superior);
        var voxels = new float[geometry.VoxelCount];
        for (var index = 0; index < voxels.Length; index++)
        {
            voxels[index] = index * 1.5f;
        }

        return new CtVolume(geometry, voxels);
    }

    /// <summary>The same patient-space samples stored along other voxel axes, as another patient position would.</summary>
    private static CtVolume Restored(CtVolume canonical, Vector3 row, Vector3 column, Vector3 slice)
    {
        var c = canonical.Geometry;
        double[] canonicalSpacing = [c.Spacing.X, c.Spacing.Y, c.Spacing.Z];
        int[] canonicalSize = [c.SizeX, c.SizeY, c.SizeZ];
        static int AxisOf(Vector3 d) => Math.Abs(d.X) > 0.5 ? 0 : Math.Abs(d.Y) > 0.5 ? 1 : 2;
        static double SignOf(Vector3 d) => d.X + d.Y + d.Z;
        Vector3[] directions = [row, column, slice];
        var corner = new double[3];
        foreach (var d in directions)
        {
            corner[AxisOf(d)] = SignOf(d) < 0 ? canonicalSize[AxisOf(d)] - 1 : 0;
        }

        var geometry = new VolumeGeometry(
            canonicalSize[AxisOf(row)], canonicalSize[AxisOf(column)], canonicalSize[AxisOf(slice)],
            c.VoxelToPatient(corner[0], corner[1], corner[2]),
            new Vector3(canonicalSpacing[AxisOf(row)], canonicalSpacing[AxisOf(column)], canonicalSpacing[AxisOf(slice)]),
            row, column, slice);
        var voxels = new float[geometry.VoxelCount];
        var index = 0;
        for (var k = 0; k < geometry.SizeZ; k++)
        {
            for (var j = 0; j < geometry.SizeY; j++)
            {
                for (var i = 0; i < geometry.SizeX; i++)
                {
                    var v = c.PatientToVoxel(geometry.VoxelToPatient(i, j, k));
                    voxels[index++] = canonical[(int)Math.Round(v.X), (int)Math.Round(v.Y), (int)Math.Round(v.Z)];
                }
            }
        }

        return new CtVolume(geometry, voxels);
    }

    public static TheoryData<string, Vector3, Vector3, Vector3> Positions => new()
    {
        { "HFS", Left, Posterior, Superior },
        { "FFS", Left * -1, Posterior, Superior * -1 },
        { "HFP", Left * -1, Posterior * -1, Superior },
        { "sagittal", Posterior, Superior * -1, Left },
    };

    [Theory]
    [MemberData(nameof(Positions))]
    public void Every_patient_position_gives_the_same_canonical_array(string position, Vector3 row, Vector3 column, Vector3 slice)
    {
        var canonical = CanonicalPattern();
        var stored = Restored(canonical, row, column, slice);

        var reoriented = CanonicalOrientation.Reorient(stored);

        Assert.True(canonical.Voxels.SequenceEqual(reoriented.Voxels), position);
        Assert.Equal(canonical.Geometry.SizeX, reoriented.Geometry.SizeX);
        Assert.Equal(canonical.Geometry.SizeZ, reoriented.Geometry.SizeZ);
        Assert.True((canonical.Geometry.Origin - reoriented.Geometry.Origin).Length < 1e-9, position);
        Assert.Equal(canonical.Geometry.Spacing, reoriented.Geometry.Spacing);
        Assert.Equal(Superior, reoriented.Geometry.SliceDirection);
    }

    [Fact]
    public void Small_obliquity_is_left_alone_like_common_py()
    {
        // common.py assigns each voxel axis to its largest direction component and never interpolates.
        var tilt = 5 * Math.PI / 180;
        var column = new Vector3(0, Math.Cos(tilt), Math.Sin(tilt));
        var slice = Left.Cross(column);
        var volume = new CtVolume(CanonicalPattern().Geometry with { ColumnDirection = column, SliceDirection = slice }, CanonicalPattern().Voxels.ToArray());

        var reoriented = CanonicalOrientation.Reorient(volume);

        Assert.True(volume.Voxels.SequenceEqual(reoriented.Voxels));
        Assert.Equal(column, reoriented.Geometry.ColumnDirection);
    }

    private static VolumeGeometry Grid(int sx, int sy, int sz, double spacing, Vector3 origin) =>
        new(sx, sy, sz, origin, new Vector3(spacing, spacing, spacing), Left, Posterior, Superior);

    [Fact]
    public void Shrinking_by_whole_blocks_averages_each_block_exactly()
    {
        var from = Grid(8, 4, 4, 1, new Vector3(0, 0, 0));
        var to = Grid(4, 2, 2, 2, new Vector3(0.5, 0.5, 0.5));
        var source = new float[from.VoxelCount];
        for (var index = 0; index < source.Length; index++)
        {
            source[index] = (index * 7) % 13;
        }

        var result = AxisAlignedResampler.Resample(source, from, to, -1000);

        for (var k = 0; k < 2; k++)
        {
            for (var j = 0; j < 2; j++)
            {
                for (var i = 0; i < 4; i++)
                {
                    double sum = 0;
                    for (var n = 0; n < 8; n++)
                    {
                        sum += source[(2 * i) + (n & 1) + (8 * ((2 * j) + ((n >> 1) & 1) + (4 * ((2 * k) + (n >> 2)))))];
                    }

                    Assert.Equal(sum / 8, result[i + (4 * (j + (2 * k)))], 4);
                }
            }
        }
    }

    [Fact]
    public void Enlarging_interpolates_linearly_and_outside_takes_the_outside_value()
    {
        var from = Grid(4, 1, 1, 2, new Vector3(0, 0, 0));
        var to = Grid(12, 1, 1, 1, new Vector3(0, 0, 0));
        float[] source = [10, 20, 40, 80];

        var result = AxisAlignedResampler.Resample(source, from, to, -1000);

        Assert.Equal(10, result[0], 4);
        Assert.Equal(15, result[1], 4);
        Assert.Equal(20, result[2], 4);
        Assert.Equal(30, result[3], 4);
        Assert.Equal(60, result[5], 4);
        Assert.Equal(80, result[6], 4);
        Assert.Equal(-1000, result[11], 4);
    }

    [Fact]
    public void Resampling_to_the_localizer_grid_starts_where_the_series_starts()
    {
        var series = new CtVolume(Grid(10, 10, 10, 1, new Vector3(3, 4, 5)), Enumerable.Repeat(100f, 1000).ToArray());

        var coarse = L1Segmenter.ResampleCovering(series, 4, -1000);

        Assert.Equal(3, coarse.Geometry.SizeX);
        Assert.True((coarse.Geometry.Origin - new Vector3(4.5, 5.5, 6.5)).Length < 1e-9);
        Assert.Equal(100, coarse[0, 0, 0], 3);
        Assert.Equal((100 * 0.5) + (-1000 * 0.5), coarse[2, 0, 0], 3);
    }

    [Fact]
    public void A_linear_probability_maps_exactly_onto_an_oblique_grid()
    {
        var model = Grid(20, 20, 20, 1.5, new Vector3(-15, -15, -15));
        var values = new float[model.VoxelCount];
        static double Field(Vector3 p) => 0.5 + (0.01 * p.X) - (0.02 * p.Y) + (0.015 * p.Z);
        for (var k = 0; k < 20; k++)
        {
            for (var j = 0; j < 20; j++)
            {
                for (var i = 0; i < 20; i++)
                {
                    values[i + (20 * (j + (20 * k)))] = (float)Field(model.VoxelToPatient(i, j, k));
                }
            }
        }

        var series = ObliqueSeries();
        var box = GridMapping.Overlap(model, series);
        var sampled = GridMapping.Sample(values, model, series, box, -1);

        var checkedInside = 0;
        for (var index = 0; index < sampled.Length; index++)
        {
            var i = index % box.SizeX;
            var j = index / box.SizeX % box.SizeY;
            var k = index / (box.SizeX * box.SizeY);
            var p = series.VoxelToPatient(box.X0 + i, box.Y0 + j, box.Z0 + k);
            var v = model.PatientToVoxel(p);
            if (v.X is > 0 and < 19 && v.Y is > 0 and < 19 && v.Z is > 0 and < 19)
            {
                Assert.Equal(Field(p), sampled[index], 1e-5);
                checkedInside++;
            }
            else if (v.X < -0.5 || v.Y < -0.5 || v.Z < -0.5 || v.X > 19.5 || v.Y > 19.5 || v.Z > 19.5)
            {
                Assert.Equal(-1, sampled[index]);
            }
        }

        Assert.True(checkedInside > 1000);
    }

    [Fact]
    public void A_sphere_mapped_to_an_oblique_series_keeps_its_centre_and_volume()
    {
        var model = Grid(32, 32, 32, 1.5, new Vector3(-24, -24, -24));
        var centre = new Vector3(1.3, -2.1, 0.7);
        var probability = new float[model.VoxelCount];
        for (var k = 0; k < 32; k++)
        {
            for (var j = 0; j < 32; j++)
            {
                for (var i = 0; i < 32; i++)
                {
                    var distance = (model.VoxelToPatient(i, j, k) - centre).Length;
                    probability[i + (32 * (j + (32 * k)))] = (float)Math.Clamp(12.5 - distance, 0, 1);
                }
            }
        }

        var series = ObliqueSeries();
        var mask = L1Segmenter.ToSeriesMask(probability, model, series, 0.5f)!;

        Assert.Equal(series, mask.Geometry);
        Assert.True((mask.Centroid()!.Value - centre).Length < 0.3, $"centroid {mask.Centroid()}");
        var expected = 4.0 / 3 * Math.PI * Math.Pow(12, 3);
        Assert.InRange(mask.VolumeMm3, expected * 0.95, expected * 1.05);
    }

    [Fact]
    public void A_refiner_body_that_wins_the_argmax_below_half_probability_is_still_outlined()
    {
        // Five classes: inside a 10 mm ball L1 leads all four others by 0.4 logits, which is only p = 0.27;
        // elsewhere background wins clearly. Training scores the refiner by argmax, so the ball is L1.
        const int classes = 5, l1 = 2, size = 32;
        var grid = Grid(size, size, size, 1.5, new Vector3(-24, -24, -24));
        var voxels = size * size * size;
        var logits = new float[classes * voxels];
        for (var index = 0; index < voxels; index++)
        {
            var (k, rest) = Math.DivRem(index, size * size);
            var (j, i) = Math.DivRem(rest, size);
            var insideBall = grid.VoxelToPatient(i, j, k).Length < 10;
            for (var c = 0; c < classes; c++)
            {
                logits[(c * voxels) + index] = insideBall ? (c == l1 ? 1.0f : 0.6f) : (c == 0 ? 5f : 0f);
            }
        }

        var maps = L1Segmenter.ClassMaps(new FloatTensor([1, classes, size, size, size], logits), grid, (size, size, size), classes, [l1, 1]);

        var centre = (size / 2) + (size * ((size / 2) + (size * (size / 2))));
        Assert.InRange(maps[0]!.Probability[centre], 0.26f, 0.28f);
        Assert.True(maps[0]!.Lead[centre] > 0);
        Assert.True(maps[1]!.Lead[centre] < 0);
        var mask = L1Segmenter.ToSeriesMask(maps[0]!.Lead, grid, grid, 0)!;
        var expected = 4.0 / 3 * Math.PI * Math.Pow(10, 3);
        Assert.InRange(mask.VolumeMm3, expected * 0.9, expected * 1.1);
        Assert.Null(L1Segmenter.ToSeriesMask(maps[1]!.Lead, grid, grid, 0));
    }

    [Theory]
    [InlineData(35, +1, true)]
    [InlineData(60, +1, false)]
    [InlineData(-35, +1, false)]
    [InlineData(-35, -1, true)]
    public void A_neighbour_body_is_kept_only_when_it_is_the_next_vertebra(double offsetMm, int side, bool kept)
    {
        var grid = Grid(8, 8, 100, 2, new Vector3(-8, -8, -100));
        var voxels = new byte[grid.VoxelCount];
        var slice = (int)Math.Round((offsetMm + 100) / 2);
        voxels.AsSpan(slice * 64, 64).Fill(1);
        var warnings = new List<string>();

        var result = L1Segmenter.AdjacentOrNone(new Mask(grid, voxels), new Vector3(-1, -1, 0), "neighbour", side, new SegmentOptions(), warnings);

        Assert.Equal(kept, result is not null);
        Assert.Equal(kept ? 0 : 1, warnings.Count);
    }

    [Theory]
    [InlineData(1.25, 1, true)]
    [InlineData(1.25, 2, true)]
    [InlineData(1.25, 3, false)]
    [InlineData(5, 1, false)]
    [InlineData(5, 0, true)]
    public void A_body_ending_within_the_margin_of_the_last_slice_is_cut_by_the_scan(double sliceMm, int slicesShort, bool cut)
    {
        var grid = new VolumeGeometry(4, 4, 40, new Vector3(0, 0, 0), new Vector3(1, 1, sliceMm), Left, Posterior, Superior);
        var voxels = new byte[grid.VoxelCount];
        voxels.AsSpan(10 * 16, (40 - 10 - slicesShort) * 16).Fill(1);

        Assert.Equal(cut, L1Segmenter.ReachesScanEnd(new Mask(grid, voxels), new SegmentOptions().ScanEndMarginMm));
    }

    /// <summary>A series grid rotated 20° about the patient's long axis and 10° about left–right, with its own spacing.</summary>
    private static VolumeGeometry ObliqueSeries()
    {
        double a = 20 * Math.PI / 180, b = 10 * Math.PI / 180;
        var row = new Vector3(Math.Cos(a), Math.Sin(a), 0);
        var column = new Vector3(-Math.Sin(a) * Math.Cos(b), Math.Cos(a) * Math.Cos(b), Math.Sin(b));
        var slice = row.Cross(column);
        var origin = new Vector3(0, 0, 0) - (row * 40 * 0.7) - (column * 40 * 0.7) - (slice * 30 * 1.1);
        return new VolumeGeometry(80, 80, 60, origin, new Vector3(0.7, 0.7, 1.1), row, column, slice);
    }
}
