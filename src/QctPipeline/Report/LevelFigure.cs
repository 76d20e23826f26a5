using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Report;

/// <summary>Slab thicknesses and window of the level figure; distances in mm relative to the spine's centre.</summary>
/// <param name="CoronalSlabAnteriorMm">How far in front of the bodies' centres the coronal slab starts.</param>
/// <param name="CoronalSlabPosteriorMm">How far behind them it ends: far enough to hold the rib heads and transverse processes.</param>
/// <param name="SagittalSlabMm">Full thickness of the sagittal slab about the spine's midline.</param>
public sealed record LevelFigureOptions(
    double CoronalSlabAnteriorMm = 12,
    double CoronalSlabPosteriorMm = 40,
    double SagittalSlabMm = 8,
    int TextScale = 2)
{
    public WindowLevel Window { get; init; } = WindowLevel.Bone;
}

/// <summary>
/// The picture a reader checks the level count on: a coronal maximum-intensity slab through the vertebral bodies and
/// their rib joints beside a thin sagittal slab through the spine, both head up, with every level found named at its
/// centroid and the bodies of L1 (red), the last rib-bearing vertebra (cyan) and L2 (violet) overlaid. Sampled in
/// patient space, so any grid (feet-first, prone) comes out head up, patient right on the image left in the coronal
/// view and anterior on the left in the sagittal one. Levels cut by the scan's edge carry a '*'.
/// </summary>
public static class LevelFigure
{
    private const byte AboveL1Label = 1;
    private const byte L1Label = 2;
    private const byte L2Label = 3;
    private const int PanelGap = 6;
    private const double OverlayAlpha = 0.45;

    private static readonly (byte R, byte G, byte B) L1Colour = (255, 70, 60);
    private static readonly (byte R, byte G, byte B) AboveL1Colour = (60, 220, 255);
    private static readonly (byte R, byte G, byte B) L2Colour = (200, 110, 255);
    private static readonly (byte R, byte G, byte B) NameColour = (255, 235, 90);

    public static RenderedImage Render(CtVolume volume, SegmentationResult result, LevelFigureOptions options)
    {
        var geometry = volume.Geometry;
        var (low, high) = PatientBounds(geometry);
        var pixel = Math.Min(geometry.Spacing.X, geometry.Spacing.Y);
        var centre = SpineCentre(result.Levels, low, high);
        var labels = LabelVolume(geometry, result);
        var sampleStep = Math.Min(pixel, geometry.Spacing.Z);

        // Coronal: columns run along +x (towards patient left), the slab along +y (towards posterior).
        var coronal = Panel(volume, labels, options.Window, low, high, pixel, sampleStep,
            column => new Vector3(low.X + column * pixel, 0, 0),
            depth => new Vector3(0, centre.Y + depth, 0),
            (int)Math.Round((high.X - low.X) / pixel) + 1,
            -options.CoronalSlabAnteriorMm,
            options.CoronalSlabPosteriorMm);

        // Sagittal: columns run along +y (anterior first), the slab along x about the midline.
        var sagittal = Panel(volume, labels, options.Window, low, high, pixel, sampleStep,
            column => new Vector3(0, low.Y + column * pixel, 0),
            depth => new Vector3(centre.X + depth, 0, 0),
            (int)Math.Round((high.Y - low.Y) / pixel) + 1,
            -options.SagittalSlabMm / 2,
            options.SagittalSlabMm / 2);

        var figure = new RenderedImage(coronal.Width + PanelGap + sagittal.Width, Math.Max(coronal.Height, sagittal.Height), 3,
            new byte[(coronal.Width + PanelGap + sagittal.Width) * Math.Max(coronal.Height, sagittal.Height) * 3]);
        Paste(figure, coronal, 0);
        Paste(figure, sagittal, coronal.Width + PanelGap);

        foreach (var level in result.Levels)
        {
            var name = level.CutByEdge ? level.Name + "*" : level.Name;
            var colour = level.Name == "L1" ? L1Colour : NameColour;
            var row = (int)Math.Round((high.Z - level.CentroidLps.Z) / pixel);
            var textHeight = PixelFont.Height(options.TextScale);

            var coronalColumn = (int)Math.Round((level.CentroidLps.X - low.X) / pixel);
            PixelFont.Fill(figure, coronalColumn - 2, row - 2, 5, 5, colour);
            PixelFont.Draw(figure, name, coronalColumn + (int)Math.Round(28 / pixel), row - textHeight / 2, options.TextScale, colour);

            var sagittalColumn = coronal.Width + PanelGap + (int)Math.Round((level.CentroidLps.Y - low.Y) / pixel);
            PixelFont.Fill(figure, sagittalColumn - 2, row - 2, 5, 5, colour);
            var textLeft = sagittalColumn - (int)Math.Round(30 / pixel) - PixelFont.Width(name, options.TextScale);
            PixelFont.Draw(figure, name, Math.Max(coronal.Width + PanelGap, textLeft), row - textHeight / 2, options.TextScale, colour);
        }

        return figure;
    }

    private static RenderedImage Panel(
        CtVolume volume,
        byte[] labels,
        WindowLevel window,
        Vector3 low,
        Vector3 high,
        double pixel,
        double sampleStep,
        Func<int, Vector3> columnOffset,
        Func<double, Vector3> depthOffset,
        int width,
        double slabFrom,
        double slabTo)
    {
        var geometry = volume.Geometry;
        var height = (int)Math.Round((high.Z - low.Z) / pixel) + 1;
        var rgb = new byte[width * height * 3];
        var depthSamples = Math.Max(1, (int)Math.Floor((slabTo - slabFrom) / sampleStep) + 1);
        var voxels = volume.Voxels;
        for (var row = 0; row < height; row++)
        {
            var z = high.Z - row * pixel;
            for (var column = 0; column < width; column++)
            {
                var inPlane = columnOffset(column) + new Vector3(0, 0, z);
                var brightest = float.NegativeInfinity;
                byte label = 0;
                for (var sample = 0; sample < depthSamples; sample++)
                {
                    var point = inPlane + depthOffset(slabFrom + sample * sampleStep);
                    if (NearestVoxel(geometry, point) is not { } index)
                    {
                        continue;
                    }

                    brightest = Math.Max(brightest, voxels[(int)index]);
                    if (label == 0 || labels[index] == L1Label)
                    {
                        label = labels[index];
                    }
                }

                var grey = float.IsNegativeInfinity(brightest) ? (byte)0 : window.Grey(brightest);
                var (r, g, b) = label switch
                {
                    L1Label => L1Colour,
                    AboveL1Label => AboveL1Colour,
                    L2Label => L2Colour,
                    _ => (grey, grey, grey),
                };
                var alpha = label == 0 ? 0 : OverlayAlpha;
                var at = 3 * (row * width + column);
                rgb[at] = (byte)Math.Round(grey * (1 - alpha) + r * alpha);
                rgb[at + 1] = (byte)Math.Round(grey * (1 - alpha) + g * alpha);
                rgb[at + 2] = (byte)Math.Round(grey * (1 - alpha) + b * alpha);
            }
        }

        return new RenderedImage(width, height, 3, rgb);
    }

    private static long? NearestVoxel(VolumeGeometry geometry, Vector3 point)
    {
        var voxel = geometry.PatientToVoxel(point);
        var (x, y, z) = ((int)Math.Round(voxel.X), (int)Math.Round(voxel.Y), (int)Math.Round(voxel.Z));
        if (x < 0 || y < 0 || z < 0 || x >= geometry.SizeX || y >= geometry.SizeY || z >= geometry.SizeZ)
        {
            return null;
        }

        return x + (long)geometry.SizeX * (y + (long)geometry.SizeY * z);
    }

    private static byte[] LabelVolume(VolumeGeometry geometry, SegmentationResult result)
    {
        var labels = new byte[geometry.VoxelCount];
        foreach (var (mask, label) in new[] { (result.AboveL1Mask, AboveL1Label), (result.L2Mask, L2Label), (result.L1Mask, L1Label) })
        {
            if (mask is null)
            {
                continue;
            }

            var voxels = mask.Voxels;
            for (var index = 0; index < voxels.Length; index++)
            {
                if (voxels[index] != 0)
                {
                    labels[index] = label;
                }
            }
        }

        return labels;
    }

    private static Vector3 SpineCentre(IReadOnlyList<LevelFound> levels, Vector3 low, Vector3 high)
    {
        if (levels.Count == 0)
        {
            return (low + high) * 0.5;
        }

        return new Vector3(
            Statistics.Median(levels.Select(level => level.CentroidLps.X).ToArray()),
            Statistics.Median(levels.Select(level => level.CentroidLps.Y).ToArray()),
            Statistics.Median(levels.Select(level => level.CentroidLps.Z).ToArray()));
    }

    private static (Vector3 Low, Vector3 High) PatientBounds(VolumeGeometry geometry)
    {
        var corners = new[] { 0, 1 }.SelectMany(a => new[] { 0, 1 }.SelectMany(b => new[] { 0, 1 }.Select(c =>
            geometry.VoxelToPatient(a * (geometry.SizeX - 1), b * (geometry.SizeY - 1), c * (geometry.SizeZ - 1))))).ToArray();
        return (new Vector3(corners.Min(p => p.X), corners.Min(p => p.Y), corners.Min(p => p.Z)),
            new Vector3(corners.Max(p => p.X), corners.Max(p => p.Y), corners.Max(p => p.Z)));
    }

    private static void Paste(RenderedImage target, RenderedImage panel, int left)
    {
        for (var row = 0; row < panel.Height; row++)
        {
            panel.Pixels.AsSpan(row * panel.Width * 3, panel.Width * 3).CopyTo(target.Pixels.AsSpan(3 * (row * target.Width + left)));
        }
    }
}
