using QctPipeline.Domain;

namespace QctPipeline.Anatomy;

/// <summary>
/// One slice's point of the spine: the canal's centre, the vertebral body's centre in front of it, how far along the
/// spine (arc length from the lowest slice tracked, mm), and the body's width from left to right there (mm, smoothed
/// over a few vertebrae; NaN where no body was outlined).
/// </summary>
public sealed record CentrelineSample(int Slice, Vector3 Canal, Vector3 Body, double ArcMm, double BodyWidthMm);

/// <summary>An intervertebral disc found along the spine: where its centre lies and how strongly the image showed it (HU of its valley or hump).</summary>
public sealed record Disc(double ArcMm, Vector3 Centre, double SignalHu);

/// <summary>
/// A vertebra of the column as the image shows it: the body between two discs. <see cref="Below"/> or <see cref="Above"/>
/// is null when the scan ends before that disc (the vertebra is cut by the scan's edge).
/// </summary>
/// <param name="Centre">The body's centre on the centreline, half way between its discs (or the scan's edge).</param>
/// <param name="Axis">The spine's direction there, towards the head.</param>
/// <param name="PitchMm">Distance between its discs along the spine; the part inside the scan for a cut vertebra.</param>
public sealed record ColumnVertebra(Vector3 Centre, Vector3 Axis, Vector3 Canal, Disc? Below, Disc? Above, double PitchMm)
{
    public bool Whole => Below is not null && Above is not null;
}

/// <summary>
/// The spine as the image shows it, lowest vertebra first: the canal and body centreline, the discs found along it, and
/// the vertebrae between them. Empty when no canal was found.
/// </summary>
public sealed record VertebralColumn(
    CanalTrack Canal,
    IReadOnlyList<CentrelineSample> Centreline,
    IReadOnlyList<Disc> Discs,
    IReadOnlyList<ColumnVertebra> Vertebrae)
{
    /// <summary>The centreline point at an arc length (linear between slices, clamped at the ends).</summary>
    public (Vector3 Body, Vector3 Canal) At(double arcMm)
    {
        var samples = Centreline;
        if (arcMm <= samples[0].ArcMm)
        {
            return (samples[0].Body, samples[0].Canal);
        }

        for (var i = 1; i < samples.Count; i++)
        {
            if (arcMm <= samples[i].ArcMm)
            {
                var t = (arcMm - samples[i - 1].ArcMm) / Math.Max(1e-9, samples[i].ArcMm - samples[i - 1].ArcMm);
                return (Lerp(samples[i - 1].Body, samples[i].Body, t), Lerp(samples[i - 1].Canal, samples[i].Canal, t));
            }
        }

        return (samples[^1].Body, samples[^1].Canal);
    }

    /// <summary>Unit direction of the body centreline at an arc length, towards increasing arc (the head), over ±5 mm.</summary>
    public Vector3 Direction(double arcMm)
    {
        var span = Centreline[^1].ArcMm - Centreline[0].ArcMm;
        var half = Math.Min(5, span / 2);
        var low = Math.Max(Centreline[0].ArcMm, arcMm - half);
        var high = Math.Min(Centreline[^1].ArcMm, arcMm + half);
        var direction = At(high).Body - At(low).Body;
        return direction.Length < 1e-6 ? new Vector3(0, 0, 1) : direction.Normalized();
    }

    private static Vector3 Lerp(Vector3 a, Vector3 b, double t) => a + ((b - a) * t);
}
