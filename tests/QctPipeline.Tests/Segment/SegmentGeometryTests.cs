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
