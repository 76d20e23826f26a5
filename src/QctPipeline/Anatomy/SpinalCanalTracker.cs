using QctPipeline.Domain;
using QctPipeline.Imaging;
using QctPipeline.Segment;

namespace QctPipeline.Anatomy;

/// <summary>The spinal canal's centre on each slice of a canonical grid (voxel x, y; NaN where it was not tracked), and how well each slice's ring of bone around it scored.</summary>
public sealed record CanalTrack(VolumeGeometry Grid, double[] X, double[] Y, double[] Score)
{
    public bool Has(int z) => !double.IsNaN(X[z]);

    public Vector3 Patient(int z) => Grid.VoxelToPatient(X[z], Y[z], z);

    /// <summary>First and last slice with a canal centre; (-1, -1) when none.</summary>
    public (int First, int Last) Extent
    {
        get
        {
            var first = Array.FindIndex(X, x => !double.IsNaN(x));
            return first < 0 ? (-1, -1) : (first, Array.FindLastIndex(X, x => !double.IsNaN(x)));
        }
    }
}

/// <summary>
/// Follows the spinal canal down a scan, slab by slab: the canal is the one place in a slice where a dark core of
/// canal content (cord and fluid) is ringed by dense bone (pedicles, laminae, the body's posterior wall), behind the
/// middle of the trunk. Each slab proposes candidates; a path through them that keeps the canal's sideways drift small
/// (dynamic programming) is the spine. The approach of Yao et al., "Automated spinal column extraction and
/// partitioning", ISBI 2006, with a ring-and-core score in place of their watershed. No model is involved.
/// </summary>
public static class SpinalCanalTracker
{
    /// <summary>How far (mm) the track is carried on, unchanged, past the last slab where a canal was found.</summary>
    private const double HeldEndMm = 30;

    private sealed record Candidate(double X, double Y, double Score);

    private static readonly (int Dx, int Dy)[] Sides = [(0, -1), (0, 1), (-1, 0), (1, 0)];

    public static CanalTrack Track(CanonicalView view, AnatomyOptions options)
    {
        var g = view.Geometry;
        var fx = Math.Max(1, (int)Math.Round(options.TrackingPixelMm / g.Spacing.X));
        var fy = Math.Max(1, (int)Math.Round(options.TrackingPixelMm / g.Spacing.Y));
        var fz = Math.Max(1, (int)Math.Round(options.TrackingSlabMm / g.Spacing.Z));
        var slabs = (g.SizeZ + fz - 1) / fz;
        var candidates = new Candidate[slabs][];
        Parallel.For(0, slabs, slab => candidates[slab] = Candidates(view, slab * fz, Math.Min(g.SizeZ, (slab + 1) * fz), fx, fy, options));

        var path = BestPath(candidates, fz * g.Spacing.Z, g.Spacing.X, g.Spacing.Y, options);
        return Interpolate(g, path, fz);
    }

    /// <summary>Local maxima of the canal score on one slab, averaged to pixels of fx × fy voxels, in full-resolution voxel units.</summary>
    private static Candidate[] Candidates(CanonicalView view, int z0, int z1, int fx, int fy, AnatomyOptions options)
    {
        var g = view.Geometry;
        var width = g.SizeX / fx;
        var height = g.SizeY / fy;
        var pixelMm = fx * g.Spacing.X;
        var hu = new float[width * height];
        var voxels = view.Source.Voxels;
        for (var z = z0; z < z1; z++)
        {
            for (var y = 0; y < height * fy; y++)
            {
                var target = hu.AsSpan((y / fy) * width, width);
                var start = view.Index(0, y, z);
                if (view.StrideX == 1)
                {
                    // The usual layout (rows run left to right): whole rows, pixel by pixel.
                    var row = voxels.Slice((int)start, width * fx);
                    for (var x = 0; x < width; x++)
                    {
                        var sum = 0f;
                        foreach (var value in row.Slice(x * fx, fx))
                        {
                            sum += value;
                        }

                        target[x] += sum;
                    }

                    continue;
                }

                for (var x = 0; x < width * fx; x++, start += view.StrideX)
                {
                    target[x / fx] += voxels[(int)start];
                }
            }
        }

        var count = (float)(fx * fy * (z1 - z0));
        var trunk = new byte[hu.Length];
        for (var index = 0; index < hu.Length; index++)
        {
            hu[index] /= count;
            trunk[index] = hu[index] > options.TrunkHu ? (byte)1 : (byte)0;
        }

        // Arms beside the trunk touch it through skin or a blanket: an opening by ~6 mm cuts such bridges before the
        // largest region is taken as the trunk.
        var bridge = Math.Max(1, (int)Math.Round(6 / pixelMm));
        var (labels, sizes) = BinaryPlane.Label(BinaryPlane.Dilate(BinaryPlane.Erode(trunk, width, height, bridge), width, height, bridge), width, height);
        if (sizes.Length < 2)
        {
            return [];
        }

        var largest = Array.IndexOf(sizes, sizes.Max());
        int top = height, bottom = -1, left = width, right = -1;
        var wall = new float[hu.Length];
        var content = new float[hu.Length];
        for (var index = 0; index < hu.Length; index++)
        {
            var inTrunk = labels[index] == largest && trunk[index] != 0;
            if (inTrunk)
            {
                top = Math.Min(top, index / width);
                bottom = Math.Max(bottom, index / width);
                left = Math.Min(left, index % width);
                right = Math.Max(right, index % width);
            }

            wall[index] = inTrunk && hu[index] > options.CanalWallHu ? 1 : 0;
            content[index] = hu[index] > options.CanalContentMinHu && hu[index] < options.CanalContentMaxHu ? 1 : 0;
        }

        int Pixels(double mm) => Math.Max(1, (int)Math.Round(mm / pixelMm));
        var (inner, outer, core) = (Pixels(options.CanalRingInnerMm), Pixels(options.CanalRingOuterMm), Pixels(options.CanalCoreMm));
        var outerSum = BinaryPlane.BoxSum(wall, width, height, outer);
        var innerSum = BinaryPlane.BoxSum(wall, width, height, inner);
        var coreSum = BinaryPlane.BoxSum(content, width, height, core);
        var ringArea = Square(outer) - Square(inner);
        var quadrant = Pixels(options.CanalQuadrantMm);
        var depth = Math.Max(1, bottom - top);
        var cropped = top == 0 && bottom == height - 1;
        var scores = new List<(float Score, int Index)>();
        for (var index = 0; index < hu.Length; index++)
        {
            if (labels[index] != largest || trunk[index] == 0)
            {
                continue;
            }

            // Anterior is low y on the canonical grid: the canal lies in the back part of the trunk, and near its middle
            // from side to side (a scoliotic spine stays within the middle 60 %).
            // A crop around the spine fills the plane from front to back: there is no trunk outline to place the canal in.
            var prior = cropped ? 1 : Math.Clamp(((((double)(index / width) - top) / depth) - options.CanalMinDepthFraction) / options.CanalPriorRampFraction, 0, 1);
            if (Math.Abs((index % width) - ((left + right) / 2.0)) > options.CanalMaxLateralFraction * (right - left))
            {
                continue;
            }
            var ringAndCore = (float)(prior * (outerSum[index] - innerSum[index]) / ringArea * coreSum[index] / Square(core));
            if (ringAndCore <= 0.01f)
            {
                continue;
            }

            var score = (float)(ringAndCore * Enclosure(wall, width, height, index % width, index / width, inner, quadrant));
            if (score > 0.01f)
            {
                scores.Add((score, index));
            }
        }

        scores.Sort((a, b) => b.Score.CompareTo(a.Score));
        var kept = new List<Candidate>();
        var separation = Pixels(10);
        foreach (var (score, index) in scores)
        {
            var (x, y) = (index % width, index / width);
            if (kept.Any(c => Math.Abs(c.X - x) < separation && Math.Abs(c.Y - y) < separation))
            {
                continue;
            }

            kept.Add(new Candidate(x, y, score));
            if (kept.Count == options.CanalCandidates)
            {
                break;
            }
        }

        // Back to full-resolution voxel units (pixel centres).
        return [.. kept.Select(c => new Candidate((c.X * fx) + ((fx - 1) / 2.0), (c.Y * fy) + ((fy - 1) / 2.0), c.Score))];
    }

    /// <summary>
    /// How closed the bony ring is: the share of the four sides (front, back, left, right; each a box
    /// <paramref name="inner"/> to <paramref name="inner"/> + <paramref name="depth"/> pixels out) with bone in at least
    /// 15 % of the box, squared. At a pedicle level the canal is walled on all four sides (body, laminae, pedicles);
    /// a pocket of muscle among the laminae, ribs and transverse processes, which reads like canal content, is open on
    /// at least one.
    /// </summary>
    private static double Enclosure(float[] wall, int width, int height, int x, int y, int inner, int depth)
    {
        var closed = 0;
        foreach (var (dx, dy) in Sides)
        {
            int bone = 0, count = 0;
            for (var step = inner; step <= inner + depth; step++)
            {
                for (var across = -depth / 2; across <= depth / 2; across++)
                {
                    var (px, py) = (x + (dx * step) + (dy * across), y + (dy * step) + (dx * across));
                    if (px >= 0 && py >= 0 && px < width && py < height)
                    {
                        bone += wall[px + (width * py)] > 0 ? 1 : 0;
                        count++;
                    }
                }
            }

            closed += count > 0 && bone >= 0.15 * count ? 1 : 0;
        }

        return closed * closed / 16.0;
    }

    private static int Square(int halfWidth) => ((2 * halfWidth) + 1) * ((2 * halfWidth) + 1);

    /// <summary>
    /// The path through the slabs' candidates (or "no canal" at either end) that maximises the summed score minus the
    /// cost of sideways drift: the spine is one continuous tube, a contrast-filled vessel or a pocket of muscle among the
    /// laminae is not. A slab may also hold the position the path had on the slab before, at no score: at a disc the
    /// canal loses its bony ring and proposes no candidate, and the path must cross it without jumping elsewhere.
    /// Returns, per slab, the chosen position or null.
    /// </summary>
    private static Candidate?[] BestPath(Candidate[][] candidates, double slabMm, double mmX, double mmY, AnatomyOptions options)
    {
        var slabs = candidates.Length;
        var states = new List<State>[slabs];
        for (var s = 0; s < slabs; s++)
        {
            var own = candidates[s].Select(c => new State(c, c.Score)).ToList();
            if (s > 0)
            {
                var separation = 5 / mmX;
                own.AddRange(states[s - 1]
                    .Where(state => state.Position is not null)
                    .OrderByDescending(state => state.Total)
                    .Take(options.CanalCandidates)
                    .Where(state => !candidates[s].Any(c => Math.Abs(c.X - state.Position!.X) < separation && Math.Abs(c.Y - state.Position.Y) < separation))
                    .Select(state => new State(state.Position! with { Score = 0 }, 0)));
            }

            own.Add(new State(null, 0));
            foreach (var state in own)
            {
                if (s == 0)
                {
                    state.Total = state.Gain;
                    continue;
                }

                foreach (var previous in states[s - 1])
                {
                    var value = previous.Total - TransitionCost(previous.Position, state.Position, slabMm, mmX, mmY, options);
                    if (state.Back is null || value > state.Total)
                    {
                        (state.Total, state.Back) = (value, previous);
                    }
                }

                state.Total += state.Gain;
            }

            states[s] = own;
        }

        var path = new Candidate?[slabs];
        var best = states[^1].MaxBy(state => state.Total);
        for (var s = slabs - 1; s >= 0 && best is not null; s--)
        {
            path[s] = best.Position;
            best = best.Back;
        }

        return path;
    }

    private sealed class State(Candidate? position, double gain)
    {
        public Candidate? Position { get; } = position;

        public double Gain { get; } = gain;

        public double Total { get; set; }

        public State? Back { get; set; }
    }

    private static double TransitionCost(Candidate? from, Candidate? to, double slabMm, double mmX, double mmY, AnatomyOptions options)
    {
        if (from is null || to is null)
        {
            return from is null && to is null ? 0 : options.CanalGapCost;
        }

        var shift = Math.Sqrt(Math.Pow((to.X - from.X) * mmX, 2) + Math.Pow((to.Y - from.Y) * mmY, 2));
        var excess = Math.Max(0, (shift / slabMm) - options.CanalFreeSlope);
        return options.CanalShiftCost * excess * excess;
    }

    /// <summary>The chosen centres placed at each slab's middle slice and interpolated linearly to every slice between tracked slabs.</summary>
    private static CanalTrack Interpolate(VolumeGeometry g, Candidate?[] path, int fz)
    {
        var x = new double[g.SizeZ];
        var y = new double[g.SizeZ];
        var score = new double[g.SizeZ];
        Array.Fill(x, double.NaN);
        Array.Fill(y, double.NaN);
        var anchors = new List<(double Z, Candidate Centre)>();
        for (var s = 0; s < path.Length; s++)
        {
            if (path[s] is { } centre)
            {
                anchors.Add((Math.Min(g.SizeZ - 1, (s * fz) + ((fz - 1) / 2.0)), centre));
            }
        }

        for (var a = 0; a < anchors.Count; a++)
        {
            var (z, centre) = anchors[a];
            var next = a + 1 < anchors.Count ? anchors[a + 1] : (Z: z, Centre: centre);
            var from = a == 0 ? (int)Math.Floor(z - ((fz - 1) / 2.0)) : (int)Math.Ceiling(z);
            var to = a + 1 < anchors.Count ? (int)Math.Ceiling(next.Z) - 1 : Math.Min(g.SizeZ - 1, (int)Math.Floor(z + (fz / 2.0)));
            for (var k = Math.Max(0, from); k <= to; k++)
            {
                var t = next.Z > z ? Math.Clamp((k - z) / (next.Z - z), 0, 1) : 0;
                x[k] = centre.X + (t * (next.Centre.X - centre.X));
                y[k] = centre.Y + (t * (next.Centre.Y - centre.Y));
                score[k] = centre.Score + (t * (next.Centre.Score - centre.Score));
            }
        }

        // Where the canal's ring fades (the sacral canal, the top of a scan through the neck) the spine goes on: hold
        // the last position found for up to a vertebra's height, scored 0, so the vertebrae there can still be seen.
        var (first, last) = (Array.FindIndex(x, v => !double.IsNaN(v)), Array.FindLastIndex(x, v => !double.IsNaN(v)));
        var hold = (int)Math.Round(HeldEndMm / g.Spacing.Z);
        for (var k = Math.Max(0, first - hold); first > 0 && k < first; k++)
        {
            (x[k], y[k], score[k]) = (x[first], y[first], 0);
        }

        for (var k = last + 1; last >= 0 && k < Math.Min(g.SizeZ, last + 1 + hold); k++)
        {
            (x[k], y[k], score[k]) = (x[last], y[last], 0);
        }

        return new CanalTrack(g, x, y, score);
    }
}
