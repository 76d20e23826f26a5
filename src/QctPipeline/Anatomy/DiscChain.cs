using QctPipeline.Imaging;

namespace QctPipeline.Anatomy;

/// <summary>
/// Finds the intervertebral discs in the mean-HU profile of the bodies' central cylinder along the spine. A disc shows
/// in one of two ways. In dense bone and thin slices it is a narrow valley (disc ~80 HU) between two bright endplates;
/// in osteoporotic bone, or where a thick slice mixes the endplates with the disc, the endplate–disc complex is a narrow
/// hump above the dark marrow (LIDC-IDRI 0001 at 2.5 mm: marrow ~90 HU, complexes 180–270 HU). A body's interior is
/// neither: a plateau or a broad valley. The discs then are the chain of such signals whose spacing is an adult
/// vertebral pitch and changes little from one vertebra to the next (dynamic programming), so a disc the image barely
/// shows is carried by its neighbours and a signal inside a body is passed over.
/// </summary>
public static class DiscChain
{
    private const double StepMm = 1;

    public static IReadOnlyList<(double ArcMm, double SignalHu)> Find(double[] arcMm, double[] profile, AnatomyOptions options)
    {
        if (arcMm.Length < 2 || arcMm[^1] - arcMm[0] < 2 * StepMm)
        {
            return [];
        }

        var (grid, values) = Series.Resample(arcMm, Series.FillGaps(profile), StepMm);
        values = Series.Gaussian(values, 1 / StepMm);
        var signal = Signal(values);
        var sorted = signal.Order().ToArray();
        var scale = Math.Max(sorted[(int)(0.9 * (sorted.Length - 1))], options.MinDiscSignalHu);
        var gain = signal.Select(s => (s / scale) - options.DiscEvidenceCost).ToArray();
        var discs = new List<(double ArcMm, double SignalHu)>();
        foreach (var i in Chain(grid, gain, options))
        {
            // Refining may move two chain positions onto one disc (an endplate peak on each side): keep the stronger.
            var refined = (grid[Refine(values, i)], signal[i]);
            if (discs.Count > 0 && refined.Item1 - discs[^1].ArcMm < options.MinPitchMm / 2)
            {
                discs[^1] = refined.Item2 > discs[^1].SignalHu ? refined : discs[^1];
                continue;
            }

            discs.Add(refined);
        }

        return discs;
    }

    /// <summary>
    /// The disc's centre near a chain position: where two endplate peaks within 6 mm on either side enclose a trough
    /// at least 15 HU below the lower peak, the deepest such trough (the chain may have settled on an endplate's peak
    /// of a thin-slice osteoporotic spine, 5–7 mm from the disc); otherwise the position itself (a hump or a valley).
    /// Peaks further apart than 12 mm enclose a body's marrow, not a disc.
    /// </summary>
    private static int Refine(double[] values, int position)
    {
        var reach = (int)(6 / StepMm);
        var best = (Depth: 15.0, Index: position);
        for (var i = Math.Max(1, position - reach); i <= Math.Min(values.Length - 2, position + reach); i++)
        {
            var left = Max(values, Math.Max(0, i - reach), i - 1);
            var right = Max(values, i + 1, Math.Min(values.Length - 1, i + reach));
            var depth = Math.Min(left, right) - values[i];
            if (depth > best.Depth)
            {
                best = (depth, i);
            }
        }

        return best.Index;
    }

    /// <summary>
    /// The larger of the valley depth (below the brighter shoulders within 7 mm on both sides) and the hump height
    /// (above the darker of the two sides 6–13 mm away), smoothed over 1.5 mm. Zero where a side runs off the profile.
    /// </summary>
    internal static double[] Signal(double[] values)
    {
        var n = values.Length;
        var valleyReach = (int)(7 / StepMm);
        var (humpNear, humpFar) = ((int)(6 / StepMm), (int)(13 / StepMm));
        var signal = new double[n];
        for (var i = 0; i < n; i++)
        {
            double valley = 0, hump = 0;
            if (i >= 1 && i + 1 < n)
            {
                var left = Max(values, Math.Max(0, i - valleyReach), i - 1);
                var right = Max(values, i + 1, Math.Min(n - 1, i + valleyReach));
                valley = Math.Max(0, Math.Min(left, right) - values[i]);
            }

            if (i - humpNear >= 0 && i + humpNear < n)
            {
                var left = Min(values, Math.Max(0, i - humpFar), i - humpNear);
                var right = Min(values, i + humpNear, Math.Min(n - 1, i + humpFar));
                hump = Math.Max(0, values[i] - Math.Max(left, right));
            }

            signal[i] = Math.Max(valley, hump);
        }

        return Series.Gaussian(signal, 1.5 / StepMm);
    }

    /// <summary>
    /// Grid indices of the discs: the chain maximising Σ gain − cost × Σ log²(pitch / previous pitch) with every pitch
    /// in [min, max] and the first and last disc within a maximal pitch of the scan's ends (a longer stretch would hide a
    /// vertebra). Empty when no chain fits (a scan shorter than a vertebra may hold no disc at all).
    /// </summary>
    private static List<int> Chain(double[] grid, double[] gain, AnatomyOptions options)
    {
        var n = grid.Length;
        var minStep = (int)Math.Ceiling(options.MinPitchMm / StepMm);
        var maxStep = (int)Math.Floor(options.MaxPitchMm / StepMm);
        var widths = maxStep - minStep + 2; // slot 0: first disc of the chain; slot w ≥ 1: previous disc minStep + w − 1 back
        var score = new double[n, widths];
        var back = new int[n, widths];
        for (var i = 0; i < n; i++)
        {
            for (var w = 0; w < widths; w++)
            {
                score[i, w] = double.NegativeInfinity;
                back[i, w] = -1;
            }
        }

        var best = (Score: double.NegativeInfinity, Index: -1, Slot: -1);
        for (var i = 0; i < n; i++)
        {
            if (grid[i] - grid[0] <= options.MaxPitchMm)
            {
                score[i, 0] = gain[i];
            }

            for (var w = 1; w < widths; w++)
            {
                var step = minStep + w - 1;
                var j = i - step;
                if (j < 0)
                {
                    break;
                }

                for (var v = 0; v < widths; v++)
                {
                    if (double.IsNegativeInfinity(score[j, v]))
                    {
                        continue;
                    }

                    var previous = v == 0 ? 0 : minStep + v - 1;
                    var change = previous == 0 ? 0 : Math.Log((double)step / previous);
                    var value = score[j, v] - (options.PitchChangeCost * change * change) + gain[i];
                    if (value > score[i, w])
                    {
                        score[i, w] = value;
                        back[i, w] = v;
                    }
                }
            }

            if (grid[^1] - grid[i] <= options.MaxPitchMm)
            {
                for (var w = 0; w < widths; w++)
                {
                    if (score[i, w] > best.Score)
                    {
                        best = (score[i, w], i, w);
                    }
                }
            }
        }

        var chain = new List<int>();
        for (var (i, w) = (best.Index, best.Slot); i >= 0;)
        {
            chain.Add(i);
            if (w == 0)
            {
                break;
            }

            var previousSlot = back[i, w];
            i -= minStep + w - 1;
            w = previousSlot;
        }

        chain.Reverse();
        return chain;
    }

    private static double Max(double[] values, int from, int to)
    {
        var max = double.NegativeInfinity;
        for (var k = from; k <= to; k++)
        {
            max = Math.Max(max, values[k]);
        }

        return max;
    }

    private static double Min(double[] values, int from, int to)
    {
        var min = double.PositiveInfinity;
        for (var k = from; k <= to; k++)
        {
            min = Math.Min(min, values[k]);
        }

        return min;
    }
}
