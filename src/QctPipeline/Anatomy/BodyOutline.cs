using QctPipeline.Domain;

namespace QctPipeline.Anatomy;

/// <summary>
/// A vertebral body's own frame (LPS unit vectors): <see cref="Axis"/> towards the head along the spine,
/// <see cref="Anterior"/> towards the patient's front perpendicular to it, <see cref="Lateral"/> towards the
/// patient's left; <see cref="Centre"/> on the body centreline half way between the discs.
/// </summary>
public sealed record BodyFrame(Vector3 Centre, Vector3 Axis, Vector3 Anterior, Vector3 Lateral)
{
    /// <summary>The frame at a centre with the given axis: anterior is patient anterior (LPS −y) made perpendicular to it.</summary>
    public static BodyFrame Around(Vector3 centre, Vector3 axis)
    {
        axis = axis.Normalized();
        if (axis.Z < 0)
        {
            axis *= -1;
        }

        var front = new Vector3(0, -1, 0);
        var anterior = (front - (axis * front.Dot(axis))).Normalized();
        return new BodyFrame(centre, axis, anterior, axis.Cross(anterior).Normalized());
    }

    /// <summary>A point's coordinates in the frame (mm): lateral u, anterior v, axial t.</summary>
    public (double U, double V, double T) Coordinates(Vector3 point)
    {
        var d = point - Centre;
        return (d.Dot(Lateral), d.Dot(Anterior), d.Dot(Axis));
    }
}

/// <summary>
/// Heights of a body along its axis between the endplates the image shows, where Genant's semiquantitative method
/// compares them: near the anterior wall, in the middle, near the posterior wall (mm, medians over a band of columns).
/// </summary>
public sealed record VertebralHeights(double AnteriorMm, double MiddleMm, double PosteriorMm)
{
    /// <summary>
    /// 1 − the smallest height over the largest (heights not measured, NaN, left out): Genant grade 1 from 0.20, grade 2
    /// from 0.25, grade 3 above 0.40.
    /// </summary>
    public double Loss
    {
        get
        {
            var measured = new[] { AnteriorMm, MiddleMm, PosteriorMm }.Where(h => !double.IsNaN(h) && h > 0).ToArray();
            return measured.Length < 2 ? 0 : 1 - (measured.Min() / measured.Max());
        }
    }
}

/// <summary>
/// A vertebral body outlined by the image: its mask on the series grid, its frame, the endplate surfaces found between
/// its discs (per column of the body's frame block, mm along the axis from the frame's centre; NaN outside the
/// footprint), the rim positions of the two endplates, its Genant heights and the mid-body cross-section.
/// </summary>
public sealed record BodyOutline(
    Mask Mask,
    BodyFrame Frame,
    double LowerEndplateMm,
    double UpperEndplateMm,
    VertebralHeights Heights,
    EndplateSurfaces Endplates,
    PolarContour MidBodySection,
    bool CutByScanEnd,
    IReadOnlyList<string> Warnings);

/// <summary>
/// The two endplate surfaces over a grid of columns in the body's frame: column (i, j) lies at lateral
/// <c>U0 + i × StepMm</c> and anterior <c>V0 + j × StepMm</c>; values are mm along the axis, NaN where the column
/// is outside the body.
/// </summary>
public sealed record EndplateSurfaces(double U0, double V0, double StepMm, int Columns, int Rows, float[] Lower, float[] Upper)
{
    /// <summary>The endplates above and below a frame position (nearest column), or null outside the footprint.</summary>
    public (double Lower, double Upper)? At(double u, double v)
    {
        var i = (int)Math.Round((u - U0) / StepMm);
        var j = (int)Math.Round((v - V0) / StepMm);
        if (i < 0 || j < 0 || i >= Columns || j >= Rows || float.IsNaN(Lower[i + (Columns * j)]) || float.IsNaN(Upper[i + (Columns * j)]))
        {
            return null;
        }

        return (Lower[i + (Columns * j)], Upper[i + (Columns * j)]);
    }
}
