using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// A sub-box of a volume grid: where it starts and its size. The measurement works inside the bounding box of one
/// vertebral body (a few hundred thousand voxels) instead of the whole scan.
/// </summary>
internal readonly record struct BoxRegion(int X0, int Y0, int Z0, int SizeX, int SizeY, int SizeZ)
{
    public int VoxelCount => SizeX * SizeY * SizeZ;

    public int Index(int x, int y, int z) => x + (SizeX * (y + (SizeY * z)));

    /// <summary>The bounding box of the mask's voxels, grown by <paramref name="margin"/> and clipped to the grid; null when empty.</summary>
    public static BoxRegion? Around(Mask mask, int margin)
    {
        var g = mask.Geometry;
        int minX = int.MaxValue, minY = int.MaxValue, minZ = int.MaxValue, maxX = -1, maxY = -1, maxZ = -1;
        for (var z = 0; z < g.SizeZ; z++)
        {
            var slice = mask.Voxels.Slice(z * g.SliceLength, g.SliceLength);
            if (slice.IndexOfAnyExcept((byte)0) < 0)
            {
                continue;
            }

            minZ = Math.Min(minZ, z);
            maxZ = z;
            for (var y = 0; y < g.SizeY; y++)
            {
                var row = slice.Slice(y * g.SizeX, g.SizeX);
                var first = row.IndexOfAnyExcept((byte)0);
                if (first < 0)
                {
                    continue;
                }

                minY = Math.Min(minY, y);
                maxY = Math.Max(maxY, y);
                minX = Math.Min(minX, first);
                maxX = Math.Max(maxX, row.LastIndexOfAnyExcept((byte)0));
            }
        }

        if (maxZ < 0)
        {
            return null;
        }

        int x0 = Math.Max(0, minX - margin), y0 = Math.Max(0, minY - margin), z0 = Math.Max(0, minZ - margin);
        return new BoxRegion(x0, y0, z0,
            Math.Min(g.SizeX - 1, maxX + margin) - x0 + 1,
            Math.Min(g.SizeY - 1, maxY + margin) - y0 + 1,
            Math.Min(g.SizeZ - 1, maxZ + margin) - z0 + 1);
    }

    public byte[] Crop(ReadOnlySpan<byte> voxels, VolumeGeometry g)
    {
        var cropped = new byte[VoxelCount];
        for (var z = 0; z < SizeZ; z++)
        {
            for (var y = 0; y < SizeY; y++)
            {
                voxels.Slice(X0 + (g.SizeX * (Y0 + y + (g.SizeY * (Z0 + z)))), SizeX).CopyTo(cropped.AsSpan(Index(0, y, z), SizeX));
            }
        }

        return cropped;
    }

    public float[] Crop(ReadOnlySpan<float> voxels, VolumeGeometry g)
    {
        var cropped = new float[VoxelCount];
        for (var z = 0; z < SizeZ; z++)
        {
            for (var y = 0; y < SizeY; y++)
            {
                voxels.Slice(X0 + (g.SizeX * (Y0 + y + (g.SizeY * (Z0 + z)))), SizeX).CopyTo(cropped.AsSpan(Index(0, y, z), SizeX));
            }
        }

        return cropped;
    }

    /// <summary>The boxed voxels placed back on the full grid (zero outside the box).</summary>
    public Mask Uncrop(ReadOnlySpan<byte> boxed, VolumeGeometry g)
    {
        var full = new byte[g.VoxelCount];
        for (var z = 0; z < SizeZ; z++)
        {
            for (var y = 0; y < SizeY; y++)
            {
                boxed.Slice(Index(0, y, z), SizeX).CopyTo(full.AsSpan(X0 + (g.SizeX * (Y0 + y + (g.SizeY * (Z0 + z)))), SizeX));
            }
        }

        return new Mask(g, full);
    }
}
