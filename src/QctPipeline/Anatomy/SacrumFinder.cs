using QctPipeline.Domain;

namespace QctPipeline.Anatomy;

/// <summary>
/// Finds the first sacral vertebra without a model. At S1 the sacral alae run out from the body to the sacroiliac
/// joints and the ilium behind them, so beside the canal, in the <see cref="PosteriorProjection"/>, bone runs unbroken
/// from the body's side out past the joints on both sides of most of the vertebra's height; a lumbar vertebra shows its
/// transverse processes and, at L4–L5, the iliac crests further out, with soft tissue between. S1 is the highest
/// vertebra that is so on both sides while the one above is not; null when no vertebra is (no sacrum in view) or the
/// highest such is the top of the scan.
/// </summary>
public static class SacrumFinder
{
    public static int? Find(VertebralColumn column, PosteriorProjection projection, double sliceMm, AnatomyOptions options)
    {
        var pelvic = column.Vertebrae.Select(v => IsPelvic(column, v, projection, sliceMm, options)).ToList();
        for (var i = pelvic.Count - 2; i >= 0; i--)
        {
            if (pelvic[i] && !pelvic[i + 1])
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether, over the middle 60 % of the vertebra's height, most samples show bone from the body's side out past the
    /// sacroiliac joints on both sides, within a run of such samples at least <see cref="AnatomyOptions.SacrumMinRunMm"/>
    /// tall: the alae and iliac wings are plates, where a rib crossing the slab (beside a phantom's spine even level with
    /// it) is a bar of 10–15 mm with an intercostal space above and below.
    /// </summary>
    private static bool IsPelvic(VertebralColumn column, ColumnVertebra vertebra, PosteriorProjection projection, double sliceMm, AnatomyOptions options)
    {
        var from = vertebra.Below?.ArcMm ?? column.Centreline[0].ArcMm;
        var to = vertebra.Above?.ArcMm ?? column.Centreline[^1].ArcMm;
        var (low, high) = (from + (0.2 * (to - from)), to - (0.2 * (to - from)));
        var boneHu = sliceMm > 3 ? options.RibBoneThickSliceHu : options.RibBoneHu;
        bool Unbroken(float[] row)
        {
            var gap = 0;
            for (var d = options.SacrumInnerMm; d <= options.SacrumOuterMm; d++)
            {
                gap = row[d] > boneHu ? 0 : gap + 1;
                if (gap > options.SacrumMaxGapMm)
                {
                    return false;
                }
            }

            return true;
        }

        var (left, right) = (projection.Side(+1), projection.Side(-1));
        var samples = column.Centreline;
        var both = Enumerable.Range(0, samples.Count).Select(s => Unbroken(left[s]) && Unbroken(right[s])).ToArray();
        var rows = Enumerable.Range(0, samples.Count).Where(s => samples[s].ArcMm >= low && samples[s].ArcMm <= high).ToList();
        if (rows.Count == 0 || rows.Count(s => both[s]) < options.SacrumMinShare * rows.Count)
        {
            return false;
        }

        // The run of such samples through the vertebra's middle.
        var middle = rows.Where(s => both[s]).OrderBy(s => Math.Abs(s - rows[rows.Count / 2])).First();
        var (first, last) = (middle, middle);
        while (first > 0 && both[first - 1])
        {
            first--;
        }

        while (last < samples.Count - 1 && both[last + 1])
        {
            last++;
        }

        return samples[last].ArcMm - samples[first].ArcMm >= options.SacrumMinRunMm;
    }
}
