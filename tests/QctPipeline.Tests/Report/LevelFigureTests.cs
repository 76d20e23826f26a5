using System.Buffers.Binary;
using QctPipeline.Domain;
using QctPipeline.Report;
using QctPipeline.Segment;
using QctPipeline.Tests.Cli;

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

        // Coronal panel: 2 mm voxels drawn at 1 mm pixels from x = -39 (column 0) and z = +39 (row 0); the panel is 79 wide.
        Assert.Equal(2 * 79 + 6, figure.Width);
        Assert.Equal(79, figure.Height);
        Assert.True(At(figure, 70, 4).G > 200, "bone at the superior patient-left corner is bright");
        Assert.True(At(figure, 6, 4).G < 30, "the superior patient-right corner is air");
        Assert.True(At(figure, 6, 74).G < 30, "the inferior patient-left corner is air");
        var l1Pixel = At(figure, 34, 54); // inside the mask (x -5, z -15), outside the centroid marker
        Assert.True(l1Pixel.R > 2 * l1Pixel.G, $"L1 overlay is red, got {l1Pixel}");
    }

    [Theory]
    [InlineData(0.8, 5.0)]
    [InlineData(2.0, 5.0)]
    [InlineData(0.6, 3.0)]
    public void Thick_slices_and_coarse_pixels_are_drawn_at_one_pixel_per_millimetre_or_finer_and_unsquashed(double pixelMm, double sliceMm)
    {
        // A 40 mm bone cube in a grid 100 mm wide and 200 mm tall.
        var (sizeXy, sizeZ) = ((int)Math.Round(100 / pixelMm), (int)Math.Round(200 / sliceMm));
        var geometry = new VolumeGeometry(sizeXy, sizeXy, sizeZ, new Vector3(-50, -50, -100), new Vector3(pixelMm, pixelMm, sliceMm), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1));
        var hu = new float[geometry.VoxelCount];
        for (var k = 0; k < sizeZ; k++)
        {
            for (var j = 0; j < sizeXy; j++)
            {
                for (var i = 0; i < sizeXy; i++)
                {
                    var p = geometry.VoxelToPatient(i, j, k);
                    hu[i + (sizeXy * (j + (sizeXy * k)))] = Math.Abs(p.X) <= 20 && Math.Abs(p.Y) <= 20 && Math.Abs(p.Z) <= 20 ? 1200 : -1000;
                }
            }
        }

        var volume = new CtVolume(geometry, hu);
        var figure = LevelFigure.Render(volume, Empty, new LevelFigureOptions());

        var extentZ = (sizeZ - 1) * sliceMm;
        var extentX = (sizeXy - 1) * pixelMm;
        Assert.True(figure.Height >= extentZ, $"{figure.Height} px for {extentZ} mm");
        var coronalWidth = (figure.Width - 6) / 2;
        Assert.True(coronalWidth >= extentX, $"{coronalWidth} px for {extentX} mm");

        // The cube is as tall as it is wide in the coronal panel: within one slice and one pixel.
        var millimetresPerPixel = extentX / (coronalWidth - 1);
        var bright = Enumerable.Range(0, figure.Height).SelectMany(row => Enumerable.Range(0, coronalWidth).Select(column => (row, column)))
            .Where(p => At(figure, p.column, p.row).G > 200).ToList();
        var tall = (bright.Max(p => p.row) - bright.Min(p => p.row) + 1) * millimetresPerPixel;
        var wide = (bright.Max(p => p.column) - bright.Min(p => p.column) + 1) * millimetresPerPixel;
        Assert.InRange(wide, 40 - pixelMm - 1, 40 + pixelMm + 1);
        Assert.InRange(tall, 40 - sliceMm - 1, 40 + sliceMm + 1);
    }

    [Fact]
    public void Crowded_level_names_never_overlap_and_each_is_drawn_whole_with_its_leader()
    {
        // Fifteen levels 7 mm apart on 0.8 mm pixels (names 18 px tall, levels 9 px apart), L5 and S1 on one row, one cut.
        var geometry = new VolumeGeometry(200, 200, 100, new Vector3(-80, -80, -150), new Vector3(0.8, 0.8, 3), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1));
        var volume = new CtVolume(geometry, new float[geometry.VoxelCount]);
        string[] names = ["T8", "T9", "T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5", "S1", "T6", "T7", "L6", "T13"];
        var levels = names.Select((name, index) => new LevelFound(name, index, new Vector3(index % 3, 10, name == "S1" ? 100 - (9 * 7) : 100 - (index * 7)), 100, 50, 0.9, CutByEdge: name == "T8")).ToList();
        var result = Empty with { Levels = levels };

        var drawing = LevelFigure.Draw(volume, result, new LevelFigureOptions());

        Assert.Equal(2 * names.Length, drawing.Labels.Count);
        Assert.Contains(drawing.Labels, box => box.Text == "T8*");
        foreach (var (a, index) in drawing.Labels.Select((box, index) => (box, index)))
        {
            Assert.InRange(a.Left, 0, drawing.Image.Width - a.Width);
            Assert.InRange(a.Top, 0, drawing.Image.Height - a.Height);
            Assert.All(drawing.Labels.Skip(index + 1), b => Assert.False(a.Intersects(b), $"{a} overlaps {b}"));
            AssertInkIntact(drawing.Image, a);

            // The leader line leaves the label's inner side at mid-height in the label's colour.
            var start = a.AnchorColumn <= a.Left ? a.Left - 1 : a.Right;
            Assert.True(At(drawing.Image, start, a.Top + (a.Height / 2)) == a.Colour, $"no leader beside {a}");
        }
    }

    [Fact]
    public void Count_marks_are_drawn_where_their_coordinates_say_in_both_panels_and_named()
    {
        // 100³ voxels of 2 mm about the origin, drawn at 1 mm pixels: column x + 99 (coronal) or 205 + y + 99 (sagittal) after
        // the left margin, row 99 - z.
        var geometry = new VolumeGeometry(100, 100, 100, new Vector3(-99, -99, -99), new Vector3(2, 2, 2), new(1, 0, 0), new(0, 1, 0), new(0, 0, 1));
        var volume = new CtVolume(geometry, new float[geometry.VoxelCount]);
        var result = Empty with { Levels = [new LevelFound("T12", 6, new Vector3(0, 10, 20), 100, 50, 0.9, false), new LevelFound("L1", 7, new Vector3(0, 12, -10), 100, 50, 0.9, false)] };
        var rib = new CountMark(CountMarkKind.Rib, "rib 12 R", new Vector3(-45, 30, 25));
        var top = new CountMark(CountMarkKind.ScanTop, "scan top", new Vector3(-60, -60, 95), new Vector3(60, 60, 95));
        var sacrum = new CountMark(CountMarkKind.Sacrum, "S1", new Vector3(2, 25, -80));

        var drawing = LevelFigure.Draw(volume, result, new LevelFigureOptions(), [rib, top, sacrum]);

        // The evidence names stand in equal margins left and right of the two panels.
        var image = drawing.Image;
        var margin = (image.Width - (2 * 199 + 6)) / 2;
        Assert.Equal((2 * 199 + 6 + (2 * margin), 199), (image.Width, image.Height));
        Assert.InRange(margin, PixelFont.Width("SCAN TOP", 2), PixelFont.Width("SCAN TOP", 2) + 10);
        foreach (var (kind, x, y, z) in new[] { (CountMarkKind.Rib, -45, 30, 25), (CountMarkKind.Sacrum, 2, 25, -80), (CountMarkKind.ScanTop, -60, -60, 95), (CountMarkKind.ScanTop, 0, 0, 95), (CountMarkKind.ScanTop, 60, 60, 95) })
        {
            Assert.Equal(LevelFigure.MarkColour(kind), At(image, margin + x + 99, 99 - z));
            Assert.Equal(LevelFigure.MarkColour(kind), At(image, margin + 205 + y + 99, 99 - z));
        }

        var ribNames = drawing.Labels.Where(box => box.Text == "RIB 12 R").OrderBy(box => box.Left).ToList();
        Assert.True(ribNames[0].Right <= margin && ribNames[1].Left >= image.Width - margin, "evidence is named in the margins, off the anatomy");

        Assert.Equal(["L1", "L1", "RIB 12 R", "RIB 12 R", "S1", "S1", "SCAN TOP", "SCAN TOP", "T12", "T12"], drawing.Labels.Select(box => box.Text).Order(StringComparer.Ordinal));
        Assert.All(drawing.Labels.Where(box => box.Text == "RIB 12 R"), box => Assert.Equal(LevelFigure.MarkColour(CountMarkKind.Rib), box.Colour));
        foreach (var (a, index) in drawing.Labels.Select((box, index) => (box, index)))
        {
            Assert.InRange(a.Left, 0, image.Width - a.Width);
            Assert.All(drawing.Labels.Skip(index + 1), b => Assert.False(a.Intersects(b), $"{a} overlaps {b}"));
            AssertInkIntact(image, a);
        }
    }

    [Fact]
    public void Segment_save_levels_writes_the_figure_of_a_real_series_at_one_pixel_per_millimetre_or_finer()
    {
        using var folder = new TempFolder();
        var path = folder.File("levels.png");

        var result = QctProcess.Run("segment", RealData.Path("ts-spine-j2k", "dicom"), "--save-levels", path, "--model", RepositoryFiles.Path("models", "qct-l1-model.json"));

        // 20 slices 2 mm apart (38 mm) of 512² at 0.977 mm (499 mm): the PNG's IHDR holds width and height, big-endian.
        Assert.True(result.ExitCode == 0, result.Error);
        var png = File.ReadAllBytes(path);
        var (width, height) = (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.InRange(height, 38, 40);

        // Two 512-pixel panels 6 apart, and equal margins either side naming the evidence (the localizer's labels that
        // name T12 and T11 here, at most a few characters wide).
        var margin = (width - ((2 * 512) + 6)) / 2;
        Assert.Equal((2 * 512) + 6 + (2 * margin), width);
        Assert.InRange(margin, PixelFont.Width("T12", 2), PixelFont.Width("RIB (MODEL)", 2) + 10);
        Assert.Contains("level figure written", result.Error, StringComparison.Ordinal);
    }

    private static readonly SegmentationResult Empty = new(SegmentationStatus.NoL1, "none", null, null, null, 0, [], [], null, null, [], []);

    private static (byte R, byte G, byte B) At(RenderedImage figure, int column, int row)
    {
        var index = 3 * (row * figure.Width + column);
        return (figure.Pixels[index], figure.Pixels[index + 1], figure.Pixels[index + 2]);
    }

    /// <summary>Every ink pixel of the label, drawn alone, has the label's colour in the figure: nothing was drawn over it.</summary>
    private static void AssertInkIntact(RenderedImage figure, LabelBox box)
    {
        var alone = new RenderedImage(box.Width, box.Height, 3, new byte[box.Width * box.Height * 3]);
        PixelFont.Draw(alone, box.Text, 0, 0, box.TextScale, box.Colour);
        var ink = 0;
        for (var row = 0; row < box.Height; row++)
        {
            for (var column = 0; column < box.Width; column++)
            {
                if (At(alone, column, row) == box.Colour)
                {
                    ink++;
                    Assert.True(At(figure, box.Left + column, box.Top + row) == box.Colour, $"'{box.Text}' damaged at ({box.Left + column}, {box.Top + row})");
                }
            }
        }

        Assert.True(ink > 10 * box.Text.Length, $"'{box.Text}' has only {ink} ink pixels");
    }
}
