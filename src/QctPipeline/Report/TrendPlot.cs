using System.Globalization;

namespace QctPipeline.Report;

/// <summary>One exam on the trend plot: its date, vBMD and whether it set a ≥ 5 % decline flag.</summary>
public sealed record TrendPoint(DateOnly Date, double VbmdMgPerCm3, bool Decline);

/// <summary>
/// vBMD over time on the ACR bands (osteoporosis &lt; 80, low bone density 80–120, normal &gt; 120 mg/cm³): points in
/// date order joined by lines, a declining exam in red, its value above it, the first and last dates under the axis.
/// </summary>
public static class TrendPlot
{
    private const int Width = 640;
    private const int Height = 360;
    private const int Left = 56;
    private const int Right = 16;
    private const int Top = 16;
    private const int Bottom = 40;

    private static readonly (byte R, byte G, byte B) Osteoporosis = (250, 215, 215);
    private static readonly (byte R, byte G, byte B) LowDensity = (252, 238, 200);
    private static readonly (byte R, byte G, byte B) Normal = (218, 240, 218);
    private static readonly (byte R, byte G, byte B) Grid = (190, 190, 190);
    private static readonly (byte R, byte G, byte B) Ink = (30, 60, 150);
    private static readonly (byte R, byte G, byte B) DeclineInk = (200, 30, 30);
    private static readonly (byte R, byte G, byte B) Label = (255, 255, 255);

    public static RenderedImage Render(IReadOnlyList<TrendPoint> points)
    {
        var image = new RenderedImage(Width, Height, 3, new byte[Width * Height * 3]);
        PixelFont.Fill(image, 0, 0, Width, Height, (255, 255, 255));
        var top = Math.Max(200, Math.Ceiling((points.Count == 0 ? 0 : points.Max(p => p.VbmdMgPerCm3) + 20) / 40) * 40);
        int Y(double value) => Top + (int)Math.Round((Height - Top - Bottom) * (1 - (Math.Clamp(value, 0, top) / top)));
        PixelFont.Fill(image, Left, Y(80), Width - Left - Right, Y(0) - Y(80), Osteoporosis);
        PixelFont.Fill(image, Left, Y(120), Width - Left - Right, Y(80) - Y(120), LowDensity);
        PixelFont.Fill(image, Left, Y(top), Width - Left - Right, Y(120) - Y(top), Normal);
        for (var value = 0.0; value <= top; value += 40)
        {
            PixelFont.Fill(image, Left, Y(value), Width - Left - Right, 1, Grid);
            PixelFont.Draw(image, value.ToString("0", CultureInfo.InvariantCulture), 4, Y(value) - 8, 2, (80, 80, 80));
        }

        if (points.Count == 0)
        {
            return image;
        }

        var sorted = points.OrderBy(p => p.Date).ToList();
        var first = sorted[0].Date.DayNumber;
        var span = Math.Max(1, sorted[^1].Date.DayNumber - first);
        int X(DateOnly date) => Left + 24 + (int)Math.Round((Width - Left - Right - 48) * (double)(date.DayNumber - first) / span);
        for (var n = 1; n < sorted.Count; n++)
        {
            Line(image, X(sorted[n - 1].Date), Y(sorted[n - 1].VbmdMgPerCm3), X(sorted[n].Date), Y(sorted[n].VbmdMgPerCm3), sorted[n].Decline ? DeclineInk : Ink);
        }

        foreach (var point in sorted)
        {
            var (x, y) = (X(point.Date), Y(point.VbmdMgPerCm3));
            PixelFont.Fill(image, x - 4, y - 4, 9, 9, point.Decline ? DeclineInk : Ink);
            var text = point.VbmdMgPerCm3.ToString("0.0", CultureInfo.InvariantCulture);
            PixelFont.Draw(image, text, x - (PixelFont.Width(text, 1) / 2), y - 16, 1, Label);
        }

        var firstDate = sorted[0].Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        PixelFont.Draw(image, firstDate, X(sorted[0].Date) - 20, Height - Bottom + 10, 2, (60, 60, 60));
        if (sorted.Count > 1)
        {
            var lastDate = sorted[^1].Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            PixelFont.Draw(image, lastDate, Math.Min(Width - PixelFont.Width(lastDate, 2), X(sorted[^1].Date) - 60), Height - Bottom + 10, 2, (60, 60, 60));
        }

        return image;
    }

    /// <summary>A 2-pixel line (Bresenham), clipped to the image.</summary>
    private static void Line(RenderedImage image, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) colour)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, error = dx + dy;
        while (true)
        {
            PixelFont.Fill(image, x0, y0, 2, 2, colour);
            if (x0 == x1 && y0 == y1)
            {
                return;
            }

            var twice = 2 * error;
            if (twice >= dy)
            {
                error += dy;
                x0 += sx;
            }

            if (twice <= dx)
            {
                error += dx;
                y0 += sy;
            }
        }
    }
}
