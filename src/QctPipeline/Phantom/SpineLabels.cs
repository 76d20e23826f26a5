namespace QctPipeline.Phantom;

/// <summary>
/// The one labelling convention of the phantom, also used for transitional anatomy: every vertebra that carries a
/// rib pair is thoracic and they are numbered T1… from the top (so 13 rib pairs make a T13); L1 is the first
/// vertebra below the last rib-bearing one, and the lumbar vertebrae run down to the first sacral segment, S1.
/// With 11 rib pairs the 12th vertebra is therefore L1; with 6 lumbar vertebrae there is an L6.
/// <para>
/// Label codes (all label volumes, and truth.json's "labelMap"): 0 background, T1–T13 → 1–13, L1–L6 → 21–26,
/// S1 → 31. The codes of a name never depend on the anatomy, so "L1" is 21 in every case. A rib carries the code of
/// the vertebra it articulates with.
/// </para>
/// </summary>
public sealed class SpineLabels
{
    public const byte Background = 0;

    public SpineLabels(int ribPairs, int lumbarVertebrae)
    {
        RibPairs = ribPairs;
        LumbarVertebrae = lumbarVertebrae;
        Names =
        [
            .. Enumerable.Range(1, ribPairs).Select(n => $"T{n}"),
            .. Enumerable.Range(1, lumbarVertebrae).Select(n => $"L{n}"),
            "S1",
        ];
    }

    public int RibPairs { get; }

    public int LumbarVertebrae { get; }

    /// <summary>Top to bottom.</summary>
    public IReadOnlyList<string> Names { get; }

    public int IndexOf(string name)
    {
        for (var index = 0; index < Names.Count; index++)
        {
            if (string.Equals(Names[index], name, StringComparison.OrdinalIgnoreCase))
            {
                return index;
            }
        }

        return -1;
    }

    public bool IsThoracic(int index) => index < RibPairs;

    public bool IsSacral(int index) => index == Names.Count - 1;

    public static byte Code(string name) => name[0] switch
    {
        'T' => (byte)int.Parse(name.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture),
        'L' => (byte)(20 + int.Parse(name.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture)),
        'S' => 31,
        _ => throw new ArgumentException($"not a vertebra name: {name}", nameof(name)),
    };

    /// <summary>Every code a label volume can hold, top to bottom, for truth.json.</summary>
    public static IReadOnlyList<KeyValuePair<string, int>> LabelMap { get; } =
    [
        .. Enumerable.Range(1, 13).Select(n => KeyValuePair.Create($"T{n}", n)),
        .. Enumerable.Range(1, 6).Select(n => KeyValuePair.Create($"L{n}", 20 + n)),
        KeyValuePair.Create("S1", 31),
    ];
}
