namespace QctPipeline.Domain;

/// <summary>A binary region on a volume's grid (1 inside, 0 outside), with the geometry that places it in patient space.</summary>
public sealed class Mask
{
    private readonly byte[] inside;

    public Mask(VolumeGeometry geometry, byte[] inside)
    {
        if (inside.LongLength != geometry.VoxelCount)
        {
            throw new ArgumentException($"Mask has {inside.LongLength} voxels, the geometry {geometry.VoxelCount}.", nameof(inside));
        }

        Geometry = geometry;
        this.inside = inside;
    }

    public VolumeGeometry Geometry { get; }

    public ReadOnlySpan<byte> Voxels => inside;

    public bool this[int i, int j, int k] => inside[i + Geometry.SizeX * (j + Geometry.SizeY * k)] != 0;

    public long Count => inside.LongLength - inside.AsSpan().Count((byte)0);

    public double VolumeMm3 => Count * Geometry.Spacing.X * Geometry.Spacing.Y * Geometry.Spacing.Z;

    /// <summary>Centre of mass in patient coordinates (LPS mm); null for an empty mask.</summary>
    public Vector3? Centroid()
    {
        double si = 0, sj = 0, sk = 0;
        long count = 0;
        for (var k = 0; k < Geometry.SizeZ; k++)
        {
            for (var j = 0; j < Geometry.SizeY; j++)
            {
                var row = inside.AsSpan((k * Geometry.SizeY + j) * Geometry.SizeX, Geometry.SizeX);
                if (!row.ContainsAnyExcept((byte)0))
                {
                    // Bodies fill a small box of a series-sized grid: the vectorised test skips the empty rows.
                    continue;
                }

                for (var i = 0; i < row.Length; i++)
                {
                    if (row[i] != 0)
                    {
                        si += i;
                        sj += j;
                        sk += k;
                        count++;
                    }
                }
            }
        }

        return count == 0 ? null : Geometry.VoxelToPatient(si / count, sj / count, sk / count);
    }
}
