using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Measure;

/// <summary>
/// Bone islands: small compact bright clusters inside the eroded body, left out of the trabecular ROIs; a cluster too
/// large for an island marks a sclerotic lesion.
/// </summary>
internal static class BoneIslandFinder
{
    /// <summary>Candidate islands: at least the island HU and the margin above the eroded body's median, both scaled to the kVp.</summary>
    public static double IslandThresholdHu(byte[] eroded, float[] hu, MeasureOptions options, double huScale)
    {
        var values = new List<double>();
        for (var index = 0; index < eroded.Length; index++)
        {
            if (eroded[index] != 0)
            {
                values.Add(hu[index]);
            }
        }

        var floor = options.BoneIslandMinHu * huScale;
        return values.Count == 0 ? floor : Math.Max(floor, Statistics.Median(values) + (options.BoneIslandMarginHu * huScale));
    }

    /// <summary>
    /// Bright clusters (6-connected, ≥ the island HU) in the eroded body. Those between the minimum and maximum island
    /// volume are islands: they and a 26-neighbour rim (their partial-volume edge) are excluded from the ROIs.
    /// </summary>
    public static (byte[] Excluded, BoneIslands Islands, double LargestBrightMm3) FindBoneIslands(byte[] eroded, float[] hu, BoxRegion box, double voxelVolume, double islandHu, MeasureOptions options)
    {
        var bright = new byte[eroded.Length];
        var threshold = (float)islandHu;
        for (var index = 0; index < bright.Length; index++)
        {
            bright[index] = eroded[index] != 0 && hu[index] >= threshold ? (byte)1 : (byte)0;
        }

        var excluded = new byte[eroded.Length];
        var (labels, components) = ConnectedComponents.Label(bright, box.SizeX, box.SizeY, box.SizeZ);
        if (components.Count == 0)
        {
            return (excluded, new BoneIslands(0, 0, 0), 0);
        }

        var isIsland = new bool[components.Count + 1];
        var islandCount = 0;
        var islandVolume = 0.0;
        foreach (var component in components)
        {
            var volume = component.VoxelCount * voxelVolume;
            if (volume >= options.BoneIslandMinVolumeMm3 && volume <= options.BoneIslandMaxVolumeMm3)
            {
                isIsland[component.Label] = true;
                islandCount++;
                islandVolume += volume;
            }
        }

        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    if (isIsland[labels[box.Index(x, y, z)]])
                    {
                        MarkNeighbourhood(excluded, box, x, y, z);
                    }
                }
            }
        }

        var excludedVolume = 0.0;
        for (var index = 0; index < excluded.Length; index++)
        {
            excluded[index] &= eroded[index];
            excludedVolume += excluded[index] * voxelVolume;
        }

        return (excluded, new BoneIslands(islandCount, islandVolume, excludedVolume), components[0].VoxelCount * voxelVolume);
    }

    private static void MarkNeighbourhood(byte[] marks, BoxRegion box, int x, int y, int z)
    {
        for (var dz = Math.Max(0, z - 1); dz <= Math.Min(box.SizeZ - 1, z + 1); dz++)
        {
            for (var dy = Math.Max(0, y - 1); dy <= Math.Min(box.SizeY - 1, y + 1); dy++)
            {
                for (var dx = Math.Max(0, x - 1); dx <= Math.Min(box.SizeX - 1, x + 1); dx++)
                {
                    marks[box.Index(dx, dy, dz)] = 1;
                }
            }
        }
    }

}
