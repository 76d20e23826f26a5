using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Report;

/// <summary>Slab thicknesses, window and scale of the level figure; distances in mm relative to the spine's centre.</summary>
/// <param name="CoronalSlabAnteriorMm">How far in front of the bodies' centres the coronal slab starts.</param>
/// <param name="CoronalSlabPosteriorMm">How far behind them it ends: far enough to hold the rib heads and transverse processes.</param>
/// <param name="SagittalSlabMm">Full thickness of the sagittal slab about the spine's midline.</param>
/// <param name="MaxMillimetresPerPixel">The coarsest pixel drawn, on both axes: finer grids keep their in-plane pixel, coarser ones and thick slices are resampled to this.</param>
public sealed record LevelFigureOptions(
    double CoronalSlabAnteriorMm = 12,
    double CoronalSlabPosteriorMm = 40,
    double SagittalSlabMm = 8,
    int TextScale = 2,
    double MaxMillimetresPerPixel = 1)
{
    public WindowLevel Window { get; init; } = WindowLevel.Bone;
}

/// <summary>The level figure and where its labels went (for checking that none overlap and each names what it should).</summary>
public sealed record LevelFigureDrawing(RenderedImage Image, IReadOnlyList<LabelBox> Labels);

/// <summary>
/// The picture a reader checks the level count on: a coronal maximum-intensity slab through the vertebral bodies and
/// their rib joints beside a thin sagittal slab through the spine, both head up, with every level found named beside
/// its centroid and the bodies of L1 (red), the last rib-bearing vertebra (cyan) and L2 (violet) overlaid. Sampled in
/// patient space at one pixel size on both axes of at most 1 mm, so any grid (feet-first, prone, 5 mm slices, coarse
/// pixels) comes out head up and unsquashed, patient right on the image left in the coronal view and anterior on the
/// left in the sagittal one. Level names stand in a column beside the spine, stacked so that none overlap, each with a
/// leader line to its centroid; levels cut by the scan's edge carry a '*'. Count evidence passed in as
/// <see cref="CountMark"/>s (ribs, sacrum, the scan's top) is drawn where it lies and named in a margin beside the panels.
/// </summary>
public static class LevelFigure
{
    private const byte AboveL1Label = 1;
    private const byte L1Label = 2;
    private const byte L2Label = 3;
    private const int PanelGap = 6;
    private const double OverlayAlpha = 0.45;

    /// <summary>How far beside the spine's centroids a label column starts.</summary>
    private const double LabelOffsetMm = 20;

    private static readonly (byte R, byte G, byte B) L1Colour = (255, 70, 60);
    private static readonly (byte R, byte G, byte B) AboveL1Colour = (60, 220, 255);
    private static readonly (byte R, byte G, byte B) L2Colour = (200, 110, 255);
    private static readonly (byte R, byte G, byte B) NameColour = (255, 235, 90);
    private static readonly (byte R, byte G, byte B) Black = (0, 0, 0);
    private static readonly Vector3 TieBreak = new(1e-4, 1e-4, 1e-4);

    public static (byte R, byte G, byte B) MarkColour(CountMarkKind kind) => kind switch
    {
        CountMarkKind.Rib => (255, 150, 40),
        CountMarkKind.Sacrum => (90, 230, 120),
        CountMarkKind.ScanTop => (120, 170, 255),
        _ => (255, 120, 220),
    };

    public static RenderedImage Render(CtVolume volume, SegmentationResult result, LevelFigureOptions options, IReadOnlyList<CountMark>? marks = null) =>
        Draw(volume, result, options, marks).Image;

    /// <summary>
    /// The figure; without <paramref name="marks"/> it draws the evidence the result's counts rest on (ribs found meeting
    /// the spine, the sacrum, the scan's top), the localizer's labels being the level names already shown.
    /// </summary>
    public static LevelFigureDrawing Draw(CtVolume volume, SegmentationResult result, LevelFigureOptions options, IReadOnlyList<CountMark>? marks = null)
    {
        marks ??= [.. result.Counts.SelectMany(count => count.Evidence).Where(mark => mark.Kind != CountMarkKind.Other)];
        var geometry = volume.Geometry;
        var (low, high) = PatientBounds(geometry);

        // One pixel size on both axes, never coarser than the limit: a 5 mm slice spans 5 rows, a 2 mm pixel 2 columns.
        var pixel = Math.Min(options.MaxMillimetresPerPixel, Math.Min(geometry.Spacing.X, geometry.Spacing.Y));
        var centre = SpineCentre(result, low, high);
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

        // Evidence is named in margins outside the panels (left of the coronal, right of the sagittal), so its names
        // never cover the anatomy they point at, whatever the marks span (the scan's top runs the whole width).
        var margin = marks.Count == 0 ? 0 : marks.Max(mark => PixelFont.Width(mark.Text.ToUpperInvariant(), options.TextScale)) + PanelGap;
        var sagittalLeft = margin + coronal.Width + PanelGap;
        var width = sagittalLeft + sagittal.Width + margin;
        var height = Math.Max(coronal.Height, sagittal.Height);
        var figure = new RenderedImage(width, height, 3, new byte[width * height * 3]);
        Paste(figure, coronal, margin);
        Paste(figure, sagittal, sagittalLeft);

        int Row(Vector3 p) => (int)Math.Round((high.Z - p.Z) / pixel);
        var views = new[]
        {
            new PanelView(margin, coronal.Width, p => margin + (int)Math.Round((p.X - low.X) / pixel), LabelSide.Right, (0, margin - (PanelGap / 2))),
            new PanelView(sagittalLeft, sagittal.Width, p => sagittalLeft + (int)Math.Round((p.Y - low.Y) / pixel), LabelSide.Left, (width - margin + (PanelGap / 2), width)),
        };

        var placed = new List<LabelBox>();
        var offset = (int)Math.Round(LabelOffsetMm / pixel);
        foreach (var view in views)
        {
            var levelRequests = result.Levels.Select(level => new LabelRequest(
                level.CutByEdge ? level.Name + "*" : level.Name,
                level.Name == "L1" ? L1Colour : NameColour,
                view.Column(level.CentroidLps),
                Row(level.CentroidLps))).ToList();
            var levelBoxes = LabelLayout.Stack(levelRequests, ColumnEdge(levelRequests, view.LevelSide, offset), view.LevelSide, view.Left, view.Right, height, options.TextScale);
            var markSide = view.LevelSide == LabelSide.Right ? LabelSide.Left : LabelSide.Right;
            var markRequests = marks.Select(mark => new LabelRequest(mark.Text.ToUpperInvariant(), MarkColour(mark.Kind), view.Column(mark.FromLps), Row(mark.FromLps))).ToList();
            var markBoxes = LabelLayout.Stack(markRequests, markSide == LabelSide.Left ? view.Margin.High : view.Margin.Low, markSide, view.Margin.Low, view.Margin.High, height, options.TextScale);

            foreach (var box in levelBoxes.Concat(markBoxes))
            {
                DrawLeader(figure, box);
            }

            foreach (var request in levelRequests)
            {
                PixelFont.Fill(figure, request.AnchorColumn - 2, request.AnchorRow - 2, 5, 5, request.Colour);
            }

            foreach (var mark in marks)
            {
                DrawMark(figure, mark, view.Column, Row);
            }

            placed.AddRange(levelBoxes);
            placed.AddRange(markBoxes);
        }

        // Text last, so no line or marker crosses a name.
        foreach (var box in placed)
        {
            PixelFont.Draw(figure, box.Text, box.Left, box.Top, box.TextScale, box.Colour);
        }

        return new LevelFigureDrawing(figure, placed);
    }

    /// <summary>
    /// Where a panel is in the figure, how a patient point maps to its columns, which side of the spine its level names
    /// stand on, and the margin [Low, High) its evidence names stand in.
    /// </summary>
    private sealed record PanelView(int Left, int Width, Func<Vector3, int> Column, LabelSide LevelSide, (int Low, int High) Margin)
    {
        public int Right => Left + Width;
    }

    /// <summary>The inner edge of a label column <paramref name="offset"/> pixels beyond the outermost anchor on that side.</summary>
    private static int ColumnEdge(IReadOnlyList<LabelRequest> requests, LabelSide side, int offset) => requests.Count == 0
        ? 0
        : side == LabelSide.Right ? requests.Max(r => r.AnchorColumn) + offset : requests.Min(r => r.AnchorColumn) - offset;

    /// <summary>A point as a dark-rimmed square, a segment as a line with such squares at its ends, in the kind's colour.</summary>
    private static void DrawMark(RenderedImage figure, CountMark mark, Func<Vector3, int> column, Func<Vector3, int> row)
    {
        var colour = MarkColour(mark.Kind);
        var (fromColumn, fromRow) = (column(mark.FromLps), row(mark.FromLps));
        if (mark.ToLps is { } to)
        {
            Line(figure, fromColumn, fromRow, column(to), row(to), colour);
            Dot(figure, column(to), row(to), colour);
        }

        Dot(figure, fromColumn, fromRow, colour);
    }

    private static void Dot(RenderedImage figure, int column, int row, (byte R, byte G, byte B) colour)
    {
        PixelFont.Fill(figure, column - 3, row - 3, 7, 7, Black);
        PixelFont.Fill(figure, column - 2, row - 2, 5, 5, colour);
    }

    /// <summary>From just outside the label's inner side, at mid-height, to what it names.</summary>
    private static void DrawLeader(RenderedImage figure, LabelBox box)
    {
        var startColumn = box.AnchorColumn <= box.Left ? box.Left - 1 : box.Right;
        Line(figure, startColumn, box.Top + (box.Height / 2), box.AnchorColumn, box.AnchorRow, box.Colour);
    }

    /// <summary>Bresenham's line, one pixel wide, clipped to the image.</summary>
    private static void Line(RenderedImage image, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) colour)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0);
        int stepX = x0 < x1 ? 1 : -1, stepY = y0 < y1 ? 1 : -1;
        var error = dx + dy;
        while (true)
        {
            PixelFont.Fill(image, x0, y0, 1, 1, colour);
            if (x0 == x1 && y0 == y1)
            {
                return;
            }

            var doubled = 2 * error;
            if (doubled >= dy)
            {
                error += dy;
                x0 += stepX;
            }

            if (doubled <= dx)
            {
                error += dx;
                y0 += stepY;
            }
        }
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
        // A nudge in patient space settles a point exactly between two voxels the same way whatever the grid's
        // orientation, so head-first and feet-first series of one patient draw the same figure.
        var voxel = geometry.PatientToVoxel(point + TieBreak);
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

    /// <summary>Where the slabs are cut: the median of the spine's body centreline the image found, else of the levels named, else the volume's middle.</summary>
    private static Vector3 SpineCentre(SegmentationResult result, Vector3 low, Vector3 high)
    {
        IReadOnlyList<Vector3> points = result.Column is { Centreline.Count: > 0 } column
            ? [.. column.Centreline.Select(sample => sample.Body)]
            : [.. result.Levels.Select(level => level.CentroidLps)];
        if (points.Count == 0)
        {
            return (low + high) * 0.5;
        }

        return new Vector3(
            Statistics.Median(points.Select(p => p.X).ToArray()),
            Statistics.Median(points.Select(p => p.Y).ToArray()),
            Statistics.Median(points.Select(p => p.Z).ToArray()));
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
