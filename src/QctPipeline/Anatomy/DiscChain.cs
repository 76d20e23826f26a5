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

    public static IReadOnlyList<(double ArcMm, double SignalHu)> Find(double[] arcMm, double[] profile, double[] bodyWidthMm, AnatomyOptions options)
    {
        if (arcMm.Length < 2 || arcMm[^1] - arcMm[0] < 2 * StepMm)
        {
            return [];
        }

        var (grid, values) = Series.Resample(arcMm, Series.FillGaps(profile), StepMm);
        values = Series.Gaussian(values, 1 / StepMm);
        var (signal, hump) = Signal(values);
        var sorted = signal.Order().ToArray();
        var scale = Math.Max(sorted[(int)(0.9 * (sorted.Length - 1))], options.MinDiscSignalHu);
        var gain = signal.Select(s => (s / scale) - options.DiscEvidenceCost).ToArray();
        var expectedPitch = Series.Resample(arcMm, Series.FillGaps(bodyWidthMm), StepMm).Values
            .Select(width => width * options.PitchPerBodyWidth / StepMm).ToArray();
        var discs = new List<(double ArcMm, double SignalHu)>();
        foreach (var i in Chain(grid, gain, hump, expectedPitch, options))
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
    /// (above the brighter of the two sides' means 6–13 mm away), each smoothed over 1.5 mm, and whether the hump is the
    /// larger. Zero where a side runs off the profile. Means, not minima, so that only a hump narrower than a body counts:
    /// the middle of a tall dense body has narrow disc valleys 12–14 mm away on both sides, and their minima made it a
    /// hump as strong as the discs (phantoms at 1.25–5 mm with 200 mg/cm³ put every disc in a body's middle).
    /// </summary>
    internal static (double[] Signal, bool[] Hump) Signal(double[] values)
    {
        var n = values.Length;
        var valleyReach = (int)(7 / StepMm);
        var (humpNear, humpFar) = ((int)(6 / StepMm), (int)(13 / StepMm));
        var valleys = new double[n];
        var humps = new double[n];
        for (var i = 0; i < n; i++)
        {
            if (i >= 1 && i + 1 < n)
            {
                var left = Max(values, Math.Max(0, i - valleyReach), i - 1);
                var right = Max(values, i + 1, Math.Min(n - 1, i + valleyReach));
                valleys[i] = Math.Max(0, Math.Min(left, right) - values[i]);
            }

            if (i - humpNear >= 0 && i + humpNear < n)
            {
                var left = Mean(values, Math.Max(0, i - humpFar), i - humpNear);
                var right = Mean(values, i + humpNear, Math.Min(n - 1, i + humpFar));
                humps[i] = Math.Max(0, values[i] - Math.Max(left, right));
            }
        }

        valleys = Series.Gaussian(valleys, 1.5 / StepMm);
        humps = Series.Gaussian(humps, 1.5 / StepMm);
        var signal = new double[n];
        var hump = new bool[n];
        for (var i = 0; i < n; i++)
        {
            signal[i] = Math.Max(valleys[i], humps[i]);
            hump[i] = humps[i] > valleys[i];
        }

        return (signal, hump);
    }

    /// <summary>
    /// Grid indices of the discs: the chain maximising Σ gain − cost × Σ log²(pitch / previous pitch) − cost × Σ
    /// log²(pitch / the pitch the bodies' width there implies) − a cost for each change between valley and hump from one
    /// disc to the next, with every pitch
    /// in [min, max] and the first and last disc within a maximal pitch of the scan's ends (a longer stretch would hide a
    /// vertebra). Empty when no chain fits (a scan shorter than a vertebra may hold no disc at all). A spine's discs show
    /// the same way along it (its bone density and the scan's slices are the same): a chain alternating valleys with
    /// humps at half the pitch is a body's bright middle taken for a disc between every pair of true ones, as on 5 mm
    /// phantoms whose blurred disc valleys leave the bodies' middles standing as broad humps (eval-model seed 300018).
    /// </summary>
    private static List<int> Chain(double[] grid, double[] gain, bool[] hump, double[] expectedPitch, AnatomyOptions options)
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

                var sizeMismatch = Math.Log(step / expectedPitch[(i + j) / 2]);
                var sizeCost = double.IsNaN(sizeMismatch) ? 0 : options.BodySizePitchCost * sizeMismatch * sizeMismatch;

                for (var v = 0; v < widths; v++)
                {
                    if (double.IsNegativeInfinity(score[j, v]))
                    {
                        continue;
                    }

                    var previous = v == 0 ? 0 : minStep + v - 1;
                    var change = previous == 0 ? 0 : Math.Log((double)step / previous);
                    var kindChange = hump[i] != hump[j] ? options.DiscKindChangeCost : 0;
                    var value = score[j, v] - (options.PitchChangeCost * change * change) - sizeCost - kindChange + gain[i];
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

    private static double Mean(double[] values, int from, int to) =>
        System.Numerics.Tensors.TensorPrimitives.Sum<double>(values.AsSpan(from, to - from + 1)) / (to - from + 1);
}
