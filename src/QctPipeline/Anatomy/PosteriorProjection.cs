using QctPipeline.Segment;

namespace QctPipeline.Anatomy;

/// <summary>
/// For each side, a maximum-intensity image of a slab behind the vertebral bodies (from 15 mm in front of the canal's
/// centre to 45 mm behind it), as a function of the centreline sample (height along the spine) and the distance beside
/// the canal (1 mm steps, 0–70 mm). Ribs, transverse processes, the sacral alae and the iliac wings all cross this
/// slab; <see cref="RibFinder"/> and <see cref="SacrumFinder"/> read it.
/// </summary>
public sealed class PosteriorProjection
{
    public const int MaxLateralMm = 70;
    private const double SlabFrontMm = -15;
    private const double SlabBackMm = 45;
    private readonly float[][] left;
    private readonly float[][] right;

    private PosteriorProjection(float[][] left, float[][] right) => (this.left, this.right) = (left, right);

    /// <summary>[sample][mm beside the canal] on the patient's left (+1) or right (−1).</summary>
    public float[][] Side(int side) => side > 0 ? left : right;

    public static PosteriorProjection Of(CanonicalView view, VertebralColumn column) =>
        new(Build(view, column.Centreline, +1), Build(view, column.Centreline, -1));

    /// <summary>
    /// [sample][mm beside the canal]: the brightest 3 × 3-voxel mean across the slab behind the body, on the given side.
    /// </summary>
    private static float[][] Build(CanonicalView view, IReadOnlyList<CentrelineSample> samples, int side)
    {
        var g = view.Geometry;
        var image = new float[samples.Count][];
        Parallel.For(0, samples.Count, s =>
        {
            var row = new float[MaxLateralMm + 1];
            var canal = g.PatientToVoxel(samples[s].Canal);
            var z = samples[s].Slice;
            for (var d = 0; d <= MaxLateralMm; d++)
            {
                var x = (int)Math.Round(canal.X + (side * d / g.Spacing.X));
                var brightest = float.NegativeInfinity;
                for (var dy = SlabFrontMm; dy <= SlabBackMm; dy += 1)
                {
                    var y = (int)Math.Round(canal.Y + (dy / g.Spacing.Y));
                    if (x < 1 || y < 1 || x >= g.SizeX - 1 || y >= g.SizeY - 1)
                    {
                        continue;
                    }

                    float sum = 0;
                    for (var j = -1; j <= 1; j++)
                    {
                        for (var i = -1; i <= 1; i++)
                        {
                            sum += view[x + i, y + j, z];
                        }
                    }

                    brightest = Math.Max(brightest, sum / 9);
                }

                row[d] = brightest;
            }

            image[s] = row;
        });
        return image;
    }
}
