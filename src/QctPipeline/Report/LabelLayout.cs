namespace QctPipeline.Report;

/// <summary>Which side of the things they name a column of labels stands on.</summary>
internal enum LabelSide
{
    Right,
    Left,
}

/// <summary>A label to place, and the point (figure pixels) its leader line runs to.</summary>
internal sealed record LabelRequest(string Text, (byte R, byte G, byte B) Colour, int AnchorColumn, int AnchorRow);

/// <summary>A label as placed in a figure: its box in pixels (outline included), how it was drawn and what it points at.</summary>
public sealed record LabelBox(string Text, int Left, int Top, int Width, int Height, int TextScale, (byte R, byte G, byte B) Colour, int AnchorColumn, int AnchorRow)
{
    public int Right => Left + Width;

    public int Bottom => Top + Height;

    public bool Intersects(LabelBox other) => Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;
}

/// <summary>
/// Places labels in one column beside what they name, each as near its anchor's row as the others allow: sorted by
/// row and stacked so no two boxes meet, pulled up from the bottom edge when the stack runs off it. Levels a few
/// millimetres apart ("L5" and "S1" on one chest vertebra) then stay legible; a leader line shows what each names.
/// </summary>
internal static class LabelLayout
{
    private const int Gap = 2;

    /// <param name="edge">The column's inner edge: its left for <see cref="LabelSide.Right"/>, its right otherwise.</param>
    /// <param name="low">The leftmost pixel the column may use.</param>
    /// <param name="high">One past the rightmost.</param>
    public static List<LabelBox> Stack(IReadOnlyList<LabelRequest> requests, int edge, LabelSide side, int low, int high, int imageHeight, int preferredScale)
    {
        if (requests.Count == 0)
        {
            return [];
        }

        // Smaller text before labels that cannot all fit the height, or a name wider than the room for the column.
        var scale = preferredScale;
        while (scale > 1 && ((requests.Count * (PixelFont.Height(scale) + Gap)) - Gap > imageHeight || requests.Max(r => PixelFont.Width(r.Text, scale)) > high - low))
        {
            scale--;
        }

        var height = PixelFont.Height(scale);
        var ordered = requests.OrderBy(r => r.AnchorRow).ThenBy(r => r.Text, StringComparer.Ordinal).ToList();
        var widest = ordered.Max(r => PixelFont.Width(r.Text, scale));
        var columnEdge = side == LabelSide.Right
            ? Math.Max(low, Math.Min(edge, high - widest))
            : Math.Min(high, Math.Max(edge, low + widest));

        var tops = ordered.Select(r => r.AnchorRow - (height / 2)).ToArray();
        Push(tops, height, from: Math.Max(0, tops[0]));
        if (tops[^1] + height > imageHeight)
        {
            tops[^1] = imageHeight - height;
            for (var index = tops.Length - 2; index >= 0; index--)
            {
                tops[index] = Math.Min(tops[index], tops[index + 1] - height - Gap);
            }

            // More labels than the height holds even so: from the top down, the last ones running off the bottom.
            if (tops[0] < 0)
            {
                Push(tops, height, from: 0);
            }
        }

        return [.. ordered.Select((request, index) =>
        {
            var width = PixelFont.Width(request.Text, scale);
            var left = side == LabelSide.Right ? columnEdge : columnEdge - width;
            return new LabelBox(request.Text, left, tops[index], width, height, scale, request.Colour, request.AnchorColumn, request.AnchorRow);
        })];
    }

    /// <summary>Each top at least one label height and a gap below the one before it, the first at or below <paramref name="from"/>.</summary>
    private static void Push(int[] tops, int height, int from)
    {
        tops[0] = Math.Max(tops[0], from);
        for (var index = 1; index < tops.Length; index++)
        {
            tops[index] = Math.Max(tops[index], tops[index - 1] + height + Gap);
        }
    }
}
