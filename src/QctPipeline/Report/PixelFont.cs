namespace QctPipeline.Report;

/// <summary>
/// A 5×7 pixel font for what figure labels need (vertebra names, count evidence in capitals, digits, dates, percentages), drawn with a dark outline so
/// the text stays readable over bone and soft tissue alike.
/// </summary>
public static class PixelFont
{
    private const int GlyphWidth = 5;
    private const int GlyphHeight = 7;

    private static readonly Dictionary<char, string[]> Glyphs = new()
    {
        ['0'] = [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
        ['1'] = ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['2'] = [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
        ['3'] = ["####.", "....#", "....#", ".###.", "....#", "....#", "####."],
        ['4'] = ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
        ['5'] = ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
        ['-'] = [".....", ".....", ".....", "#####", ".....", ".....", "....."],
        ['.'] = [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
        ['%'] = ["##..#", "##..#", "...#.", "..#..", ".#...", "#..##", "#..##"],
        ['6'] = [".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."],
        ['7'] = ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
        ['8'] = [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
        ['9'] = [".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."],
        ['C'] = [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."],
        ['T'] = ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."],
        ['L'] = ["#....", "#....", "#....", "#....", "#....", "#....", "#####"],
        ['S'] = [".####", "#....", "#....", ".###.", "....#", "....#", "####."],
        ['?'] = [".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."],
        ['*'] = [".....", "#.#.#", ".###.", "#####", ".###.", "#.#.#", "....."],
        ['A'] = [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['B'] = ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."],
        ['D'] = ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."],
        ['E'] = ["#####", "#....", "#....", "####.", "#....", "#....", "#####"],
        ['F'] = ["#####", "#....", "#....", "####.", "#....", "#....", "#...."],
        ['G'] = [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"],
        ['H'] = ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"],
        ['I'] = [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."],
        ['J'] = ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."],
        ['K'] = ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"],
        ['M'] = ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"],
        ['N'] = ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"],
        ['O'] = [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
        ['P'] = ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."],
        ['Q'] = [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"],
        ['R'] = ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"],
        ['U'] = ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."],
        ['V'] = ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."],
        ['W'] = ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."],
        ['X'] = ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"],
        ['Y'] = ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."],
        ['Z'] = ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"],
        ['/'] = ["....#", "....#", "...#.", "..#..", ".#...", "#....", "#...."],
        [':'] = [".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."],
        ['+'] = [".....", "..#..", "..#..", "#####", "..#..", "..#..", "....."],
        [' '] = [".....", ".....", ".....", ".....", ".....", ".....", "....."],
    };

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>, outline included.</summary>
    public static int Width(string text, int scale) => text.Length * (GlyphWidth + 1) * scale + 2;

    public static int Height(int scale) => GlyphHeight * scale + 2;

    /// <summary>
    /// Draws <paramref name="text"/> into an RGB image with its top-left corner at (x, y); characters without a glyph
    /// are drawn as '?', pixels outside the image are skipped.
    /// </summary>
    public static void Draw(RenderedImage image, string text, int x, int y, int scale, (byte R, byte G, byte B) colour)
    {
        if (image.Channels != 3)
        {
            throw new ArgumentException("text is drawn on RGB images only", nameof(image));
        }

        // Outline first (every ink pixel's neighbourhood in black), then the ink, so neighbouring glyphs never erase ink.
        foreach (var outline in new[] { true, false })
        {
            for (var c = 0; c < text.Length; c++)
            {
                var glyph = Glyphs.GetValueOrDefault(text[c]) ?? Glyphs['?'];
                for (var row = 0; row < GlyphHeight; row++)
                {
                    for (var column = 0; column < GlyphWidth; column++)
                    {
                        if (glyph[row][column] != '#')
                        {
                            continue;
                        }

                        var left = x + 1 + (c * (GlyphWidth + 1) + column) * scale;
                        var top = y + 1 + row * scale;
                        var grow = outline ? 1 : 0;
                        Fill(image, left - grow, top - grow, scale + 2 * grow, scale + 2 * grow, outline ? ((byte)0, (byte)0, (byte)0) : colour);
                    }
                }
            }
        }
    }

    /// <summary>Fills a rectangle, clipped to the image.</summary>
    public static void Fill(RenderedImage image, int x, int y, int width, int height, (byte R, byte G, byte B) colour)
    {
        for (var row = Math.Max(0, y); row < Math.Min(image.Height, y + height); row++)
        {
            for (var column = Math.Max(0, x); column < Math.Min(image.Width, x + width); column++)
            {
                var index = 3 * (row * image.Width + column);
                image.Pixels[index] = colour.R;
                image.Pixels[index + 1] = colour.G;
                image.Pixels[index + 2] = colour.B;
            }
        }
    }
}
