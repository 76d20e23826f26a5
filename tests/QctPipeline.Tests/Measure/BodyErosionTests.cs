using QctPipeline.Domain;
using QctPipeline.Measure;

namespace QctPipeline.Tests.Measure;

/// <summary>Erosion depth in millimetres on anisotropic grids, and the distance transform against brute force.</summary>
public sealed class BodyErosionTests
{
    [Theory]
    [InlineData(0.7, 0.7, 2.5, 4.0)]
    [InlineData(0.8, 1.1, 3.0, 4.0)]
    [InlineData(1.0, 0.5, 0.625, 4.0)]
    [InlineData(0.7, 0.7, 2.5, 2.0)]
    public void BoxLosesRoundedRadiusOverSpacingLayersPerAxis(double sx, double sy, double sz, double radius)
    {
        // A box of 40 × 36 × 20 voxels inside a grid with room around it.
        var g = Grid(60, 56, 30, sx, sy, sz);
        var mask = Box(g, 10, 10, 5, 40, 36, 20);

        var eroded = BodyErosion.Erode(mask, radius);

        var (x0, x1, y0, y1, z0, z1) = Extent(eroded);
        var layers = (X: (int)Math.Floor((radius / sx) + 0.5), Y: (int)Math.Floor((radius / sy) + 0.5), Z: (int)Math.Floor((radius / sz) + 0.5));
        Assert.Equal((10 + layers.X, 10 + 40 - 1 - layers.X), (x0, x1));
        Assert.Equal((10 + layers.Y, 10 + 36 - 1 - layers.Y), (y0, y1));
        Assert.Equal((5 + layers.Z, 5 + 20 - 1 - layers.Z), (z0, z1));

        // Depth in mm: within half a voxel of r on every axis.
        Assert.InRange(layers.X * sx, radius - (sx / 2), radius + (sx / 2));
        Assert.InRange(layers.Z * sz, radius - (sz / 2), radius + (sz / 2));
    }

    [Fact]
    public void DistanceTransformEqualsBruteForceOnAnIrregularMask()
    {
        var random = new Random(5);
        var box = new BoxRegion(0, 0, 0, 23, 19, 11);
        var inside = new byte[box.VoxelCount];
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    // An ellipsoid with random holes punched in it.
                    var r = Math.Pow((x - 11) / 10.0, 2) + Math.Pow((y - 9) / 8.0, 2) + Math.Pow((z - 5) / 5.0, 2);
                    inside[box.Index(x, y, z)] = r <= 1 && random.NextDouble() > 0.05 ? (byte)1 : (byte)0;
                }
            }
        }

        var spacing = new Vector3(0.7, 0.9, 2.5);
        var squared = BodyErosion.SquaredDistanceToOutside(inside, box, spacing);

        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    var expected = BruteForceSquaredDistance(inside, box, spacing, x, y, z);
                    Assert.Equal(expected, squared[box.Index(x, y, z)], 1e-4 * Math.Max(1, expected));
                }
            }
        }
    }

    [Fact]
    public void EmptyMaskErodesToEmpty() =>
        Assert.Equal(0, BodyErosion.Erode(new Mask(Grid(8, 8, 8, 1, 1, 1), new byte[512]), 4).Count);

    /// <summary>Nearest cell outside the mask (its nearest face), the box's surroundings counting as outside.</summary>
    private static double BruteForceSquaredDistance(byte[] inside, BoxRegion box, Vector3 spacing, int x, int y, int z)
    {
        if (inside[box.Index(x, y, z)] == 0)
        {
            return 0;
        }

        var best = double.PositiveInfinity;
        for (var oz = -1; oz <= box.SizeZ; oz++)
        {
            for (var oy = -1; oy <= box.SizeY; oy++)
            {
                for (var ox = -1; ox <= box.SizeX; ox++)
                {
                    var outside = ox < 0 || oy < 0 || oz < 0 || ox >= box.SizeX || oy >= box.SizeY || oz >= box.SizeZ || inside[box.Index(ox, oy, oz)] == 0;
                    if (outside)
                    {
                        static double Face(int cells, double size) => cells == 0 ? 0 : (Math.Abs(cells) - 0.5) * size;
                        var d = Math.Pow(Face(ox - x, spacing.X), 2) + Math.Pow(Face(oy - y, spacing.Y), 2) + Math.Pow(Face(oz - z, spacing.Z), 2);
                        best = Math.Min(best, d);
                    }
                }
            }
        }

        return best;
    }

    internal static VolumeGeometry Grid(int nx, int ny, int nz, double sx, double sy, double sz) =>
        new(nx, ny, nz, new Vector3(0, 0, 0), new Vector3(sx, sy, sz), new Vector3(1, 0, 0), new Vector3(0, 1, 0), new Vector3(0, 0, 1));

    private static Mask Box(VolumeGeometry g, int x0, int y0, int z0, int nx, int ny, int nz)
    {
        var inside = new byte[g.VoxelCount];
        for (var z = z0; z < z0 + nz; z++)
        {
            for (var y = y0; y < y0 + ny; y++)
            {
                inside.AsSpan(x0 + (g.SizeX * (y + (g.SizeY * z))), nx).Fill(1);
            }
        }

        return new Mask(g, inside);
    }

    private static (int X0, int X1, int Y0, int Y1, int Z0, int Z1) Extent(Mask mask)
    {
        int x0 = int.MaxValue, x1 = -1, y0 = int.MaxValue, y1 = -1, z0 = int.MaxValue, z1 = -1;
        for (var z = 0; z < mask.Geometry.SizeZ; z++)
        {
            for (var y = 0; y < mask.Geometry.SizeY; y++)
            {
                for (var x = 0; x < mask.Geometry.SizeX; x++)
                {
                    if (mask[x, y, z])
                    {
                        (x0, x1, y0, y1, z0, z1) = (Math.Min(x0, x), Math.Max(x1, x), Math.Min(y0, y), Math.Max(y1, y), Math.Min(z0, z), Math.Max(z1, z));
                    }
                }
            }
        }

        return (x0, x1, y0, y1, z0, z1);
    }
}
