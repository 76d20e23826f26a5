using QctPipeline.Domain;
using QctPipeline.Measure;

namespace QctPipeline.Tests.Measure;

public sealed class DensityMapTests
{
    private static readonly Calibration Line = new() { Method = CalibrationMethod.Phantom, Reference = "test", InterceptHu = -8, SlopeHuPerMgPerCm3 = 1.25 };

    private static (CtVolume Volume, Mask Body) Grid()
    {
        // 8 × 6 × 20 voxels of 2 mm slices; HU = 10 × slice index + column, the body occupies slices 8–11.
        var geometry = new VolumeGeometry(8, 6, 20, new Vector3(-5, 3, 100), new Vector3(0.5, 0.5, 2), new Vector3(1, 0, 0), new Vector3(0, 1, 0), new Vector3(0, 0, -1));
        var hu = new float[geometry.VoxelCount];
        var inside = new byte[geometry.VoxelCount];
        for (var k = 0; k < 20; k++)
        {
            for (var index = 0; index < geometry.SliceLength; index++)
            {
                hu[(k * geometry.SliceLength) + index] = (10 * k) + (index % 8);
                inside[(k * geometry.SliceLength) + index] = k is >= 8 and <= 11 && index % 8 == 3 ? (byte)1 : (byte)0;
            }
        }

        return (new CtVolume(geometry, hu), new Mask(geometry, inside));
    }

    [Fact]
    public void HoldsTheBodysSlicesWidenedByTheMarginConvertedByTheLine()
    {
        var (volume, body) = Grid();

        var map = DensityMaps.Slab(volume, body, Line, marginMm: 5)!;

        // 5 mm of 2 mm slices is 3 slices each side: slices 5–14.
        Assert.Equal(10, map.Geometry.SizeZ);
        Assert.Equal(volume.Geometry.VoxelToPatient(0, 0, 5), map.Geometry.Origin);
        for (var k = 0; k < map.Geometry.SizeZ; k++)
        {
            for (var index = 0; index < map.Geometry.SliceLength; index++)
            {
                var hu = volume.Voxels[((k + 5) * volume.Geometry.SliceLength) + index];
                Assert.Equal((hu + 8) / 1.25, map.MgPerCm3[(k * map.Geometry.SliceLength) + index], 4);
            }
        }
    }

    [Fact]
    public void StopsAtTheEdgesOfTheScan()
    {
        var (volume, body) = Grid();

        var map = DensityMaps.Slab(volume, body, Line, marginMm: 100)!;

        Assert.Equal(volume.Geometry, map.Geometry);
    }

    [Fact]
    public void NeedsACalibrationLineAndABody()
    {
        var (volume, body) = Grid();
        var empty = new Mask(volume.Geometry, new byte[volume.Geometry.VoxelCount]);

        Assert.Null(DensityMaps.Slab(volume, body, Calibration.None("no phantom", []), 5));
        Assert.Null(DensityMaps.Slab(volume, empty, Line, 5));
    }
}
