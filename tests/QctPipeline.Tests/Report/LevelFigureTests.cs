using QctPipeline.Domain;
using QctPipeline.Report;
using QctPipeline.Segment;

namespace QctPipeline.Tests.Report;

public sealed class LevelFigureTests
{
    private const int Size = 40;

    /// <summary>
    /// A 40³ grid of 2 mm voxels centred on the patient origin, bone-bright in a block at the superior, patient-left,
    /// posterior corner; the grid's slices run head to feet when <paramref name="headFirstSlices"/> is true.
    /// </summary>
    private static (CtVolume Volume, Mask L1) Scene(bool headFirstSlices)
    {
        var sliceDirection = headFirstSlices ? new Vector3(0, 0, -1) : new Vector3(0, 0, 1);
        var origin = new Vector3(-39, -39, headFirstSlices ? 39 : -39);
        var geometry = new VolumeGeometry(Size, Size, Size, origin, new Vector3(2, 2, 2), new(1, 0, 0), new(0, 1, 0), sliceDirection);
        var hu = new float[geometry.VoxelCount];
        var l1 = new byte[geometry.VoxelCount];
        Array.Fill(hu, -1000f);
        for (var k = 0; k < Size; k++)
        {
            for (var j = 0; j < Size; j++)
            {
                for (var i = 0; i < Size; i++)
                {
                    var p = geometry.VoxelToPatient(i, j, k);
                    var index = i + Size * (j + Size * k);
                    if (p.Z > 20 && p.X > 20 && p.Y > 0)
                    {
                        hu[index] = 1200;
                    }

                    if (Math.Abs(p.X) < 6 && Math.Abs(p.Y) < 6 && Math.Abs(p.Z + 20) < 6)
                    {
                        l1[index] = 1;
                    }
                }
            }
        }

        return (new CtVolume(geometry, hu), new Mask(geometry, l1));
    }

    private static SegmentationResult Result(Mask l1) => new(
        SegmentationStatus.Ok, null, l1, l1.Centroid(), l1.VolumeMm3 / 1000, 0.9,
        [new LevelFound("L1", 7, l1.Centroid()!.Value, 100, 50, 0.9, CutByEdge: false)],
        [], null, null, [], []);

    [Fact]
    public void Head_first_and_feet_first_grids_of_the_same_patient_draw_the_same_figure()
    {
        var (headFirst, headFirstL1) = Scene(headFirstSlices: true);
        var (feetFirst, feetFirstL1) = Scene(headFirstSlices: false);

        var a = LevelFigure.Render(headFirst, Result(headFirstL1), new LevelFigureOptions());
        var b = LevelFigure.Render(feetFirst, Result(feetFirstL1), new LevelFigureOptions());

        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        Assert.Equal(a.Pixels, b.Pixels);
    }

    [Fact]
    public void Bone_is_drawn_head_up_patient_left_on_the_right_and_L1_is_overlaid_in_red()
    {
        var (volume, l1) = Scene(headFirstSlices: true);

        var figure = LevelFigure.Render(volume, Result(l1), new LevelFigureOptions(CoronalSlabAnteriorMm: 40, CoronalSlabPosteriorMm: 40));

        // Coronal panel: 2 mm pixels from x = -39 (column 0) and z = +39 (row 0); the panel is 40 wide.
        (byte R, byte G, byte B) At(int column, int row)
        {
            var index = 3 * (row * figure.Width + column);
            return (figure.Pixels[index], figure.Pixels[index + 1], figure.Pixels[index + 2]);
        }

        Assert.Equal(2 * 40 + 6, figure.Width);
        Assert.Equal(40, figure.Height);
        Assert.True(At(35, 2).G > 200, "bone at the superior patient-left corner is bright");
        Assert.True(At(3, 2).G < 30, "the superior patient-right corner is air");
        Assert.True(At(3, 37).G < 30, "the inferior patient-left corner is air");
        var l1Pixel = At(17, 27); // inside the mask, outside the centroid marker
        Assert.True(l1Pixel.R > 2 * l1Pixel.G, $"L1 overlay is red, got {l1Pixel}");
    }
}
