using QctPipeline.Segment;

namespace QctPipeline.Tests.Segment;

public sealed class ConnectedComponentsTests
{
    private const int Size = 10;

    private static byte[] Volume(params (int X0, int Y0, int Z0, int X1, int Y1, int Z1, byte Value)[] boxes)
    {
        var volume = new byte[Size * Size * Size];
        foreach (var (x0, y0, z0, x1, y1, z1, value) in boxes)
        {
            for (var z = z0; z <= z1; z++)
            {
                for (var y = y0; y <= y1; y++)
                {
                    for (var x = x0; x <= x1; x++)
                    {
                        volume[x + (Size * (y + (Size * z)))] = value;
                    }
                }
            }
        }

        return volume;
    }

    [Fact]
    public void Components_are_six_connected_split_by_value_and_listed_largest_first()
    {
        // Two boxes touching only at an edge (not 6-connected), and a box of another value touching the first face-on.
        var volume = Volume((0, 0, 0, 2, 2, 2, 1), (3, 3, 0, 4, 4, 0, 1), (0, 0, 3, 1, 1, 3, 2));

        var (labels, components) = ConnectedComponents.Label(volume, Size, Size, Size);

        Assert.Equal([27L, 4L, 4L], components.Select(c => c.VoxelCount));
        Assert.Equal(1, components[0].Value);
        Assert.Equal(1, components[0].MeanX, 9);
        Assert.Equal((0, 2), (components[0].MinZ, components[0].MaxZ));
        Assert.Equal(new byte[] { 1, 2 }, components.Skip(1).Select(c => c.Value).Order());
        Assert.NotEqual(labels[0], labels[3 + (Size * (3 + (Size * 0)))]);
        Assert.Equal(0, labels[9]);
    }

    [Fact]
    public void Largest_keeps_only_the_biggest_component()
    {
        var volume = Volume((0, 0, 0, 2, 2, 2, 1), (6, 6, 6, 7, 7, 7, 1));

        var largest = ConnectedComponents.Largest(volume, Size, Size, Size);

        Assert.Equal(27, largest.Count((byte)1));
        Assert.Equal(0, largest[6 + (Size * (6 + (Size * 6)))]);
    }

    [Fact]
    public void Fill_holes_fills_enclosed_cavities_but_not_open_channels()
    {
        var shell = Volume((1, 1, 1, 7, 7, 7, 1));
        var hollow = (byte[])shell.Clone();
        hollow[4 + (Size * (4 + (Size * 4)))] = 0;
        for (var x = 0; x <= 7; x++)
        {
            hollow[x + (Size * (2 + (Size * 2)))] = 0; // a tunnel from the edge into the block stays open
        }

        var filled = ConnectedComponents.FillHoles(hollow, Size, Size, Size);

        Assert.Equal(1, filled[4 + (Size * (4 + (Size * 4)))]);
        Assert.Equal(0, filled[5 + (Size * (2 + (Size * 2)))]);
        Assert.Equal(shell.Count((byte)1) - 7, filled.Count((byte)1));
    }
}
