namespace QctPipeline.Domain;

/// <summary>What a piece of level-count evidence is: it sets the mark's colour in the level figure.</summary>
public enum CountMarkKind
{
    /// <summary>A rib found meeting its vertebra (the count down from the last rib-bearing vertebra).</summary>
    Rib,

    /// <summary>The sacrum, its promontory or the sacroiliac joints (the count up from S1).</summary>
    Sacrum,

    /// <summary>The scan's upper edge, or T1 where the scan reaches it (the count down from the top).</summary>
    ScanTop,

    Other,
}

/// <summary>
/// One piece of evidence a level count rests on, to be drawn where it is: a point (<see cref="ToLps"/> null) or a
/// segment in patient coordinates (LPS, mm) with a short text ("RIB 12 L", "S1", "SCAN TOP"). The Segment stage fills
/// these; the level figure draws whatever it is given and invents none.
/// </summary>
public sealed record CountMark(CountMarkKind Kind, string Text, Vector3 FromLps, Vector3? ToLps = null);
