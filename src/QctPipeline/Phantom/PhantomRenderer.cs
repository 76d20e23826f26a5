using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// Rasterises the anatomy into slices. Planes are painted on a grid along the table, a whole number of planes per slice
/// spacing, at most 1 mm apart (<see cref="PlanePainter"/>: in plane, edges get the fraction of a pixel a shape covers);
/// each slice is the sum of the planes around its centre weighted by the slice sensitivity profile
/// (<see cref="SliceSensitivityProfile"/>), so neighbouring slices share planes and a 5 mm slice feels structures
/// ±4.5 mm away. Labels come from the plane at each slice's centre. Then the kernel's resolution, metal streaks, the
/// scan-field edge and shaped noise are applied. A plane depends only on its index and a slice only on its planes and
/// its noise stream, so planes and slices are rendered in parallel and the result is the same whatever the thread count.
/// </summary>
public sealed class PhantomRenderer
{
    private const short MinimumHu = -1024;
    private const short MaximumHu = 3071;

    /// <summary>Planes are at most this far apart along the table: 1 mm slices take one plane per slice, 5 mm slices five.</summary>
    private const double PlaneSpacingMm = 1.0;

    /// <summary>How many planes are kept at once: bounds memory (a 512² plane with its labels is 2 MB).</summary>
    private const int PlaneBudget = 48;
    private readonly PhantomOptions options;
    private readonly ScanSetup setup;
    private readonly ReconstructionModel reconstruction;
    private readonly PlanePainter painter;
    private readonly BeamHardeningField beamHardening;
    private readonly int size;
    private readonly float pixel;
    private readonly int planesPerSlice;
    private readonly double[] planeWeights;
    private readonly int reach;
    private readonly float noiseNeighbourWeight;

    public PhantomRenderer(PhantomOptions options, CtNumberModel physics, PhantomAnatomy anatomy, ScanSetup setup, ReconstructionModel reconstruction, IReadOnlyList<PaintOperation> extraOperations)
    {
        this.options = options;
        this.setup = setup;
        this.reconstruction = reconstruction;
        size = options.Matrix;
        pixel = (float)options.ResolvedPixelSpacingMm;
        PaintOperation[] allOperations = [.. setup.ScannerOperations, .. anatomy.Operations, .. extraOperations];
        painter = new PlanePainter(anatomy, setup, allOperations, size, pixel);
        var hardening = new BeamHardening(physics, options.BeamHardening, options.DataCollectionDiameterMm);
        beamHardening = new BeamHardeningField(hardening, new PlanePainter(anatomy, setup, allOperations.Where(BeamHardeningField.Hardens), hardening.GridSize, BeamHardening.GridPixelMm), setup.Geometry);
        planesPerSlice = options.SubSlices ?? Math.Clamp((int)Math.Ceiling(options.SliceSpacingMm / PlaneSpacingMm - 0.01), 1, 16);
        PlaneStepMm = options.SliceSpacingMm / planesPerSlice;
        var cosineTilt = Math.Cos(options.GantryTiltDegrees * Math.PI / 180);
        Profile = new SliceSensitivityProfile(options.SliceThicknessMm / cosineTilt);
        planeWeights = Profile.PlaneWeights(PlaneStepMm);
        reach = planeWeights.Length / 2;

        // Overlapping slices (spacing < thickness) share photons, so their noise correlates; an MA(1) mix of this
        // slice's and the previous slice's white noise gives correlation min(overlap, 0.5) without serial dependence.
        var overlap = Math.Clamp(1 - options.SliceSpacingMm / options.SliceThicknessMm, 0, 0.5);
        noiseNeighbourWeight = overlap <= 0 ? 0 : (float)((1 - Math.Sqrt(1 - 4 * overlap * overlap)) / (2 * overlap));
    }

    /// <summary>The slice sensitivity profile along the table.</summary>
    public SliceSensitivityProfile Profile { get; }

    /// <summary>Distance between painted planes along the table, mm.</summary>
    public double PlaneStepMm { get; }

    /// <summary>Planes that contribute to each slice (with a weight from the profile).</summary>
    public int PlanesPerSliceProfile => planeWeights.Length;

    /// <summary>
    /// The plane offsets (in slices, along the table) and weights that make up a slice, the centre one at offset 0:
    /// what a truth of the rendered image must average over.
    /// </summary>
    public IReadOnlyList<(double SliceOffset, double Weight)> PlaneSamples =>
        planeWeights.Select((weight, m) => ((double)(m - reach) / planesPerSlice, weight)).ToArray();

    /// <summary>The beam-hardening error of the series, filled by <see cref="Render"/>: part of the noise-free image a truth may need.</summary>
    public BeamHardeningField BeamHardeningError => beamHardening;

    /// <summary>Renders all slices: HU (rounded, clipped to −1024…3071), body, whole-vertebra and rib labels.</summary>
    public (float[] Hu, byte[] BodyLabels, byte[] VertebraLabels, byte[] RibLabels) Render()
    {
        var sliceLength = size * size;
        var sliceCount = setup.SliceCount;
        var hu = new float[(long)sliceLength * sliceCount];
        var bodies = new byte[hu.Length];
        var vertebrae = new byte[hu.Length];
        var ribs = new byte[hu.Length];
        var parallelism = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        var planes = new Dictionary<int, RenderedPlane>();
        var spare = new Stack<RenderedPlane>();
        var slicesPerChunk = Math.Max(1, (PlaneBudget - (2 * reach)) / planesPerSlice);
        for (var first = 0; first < sliceCount; first += slicesPerChunk)
        {
            var last = Math.Min(sliceCount, first + slicesPerChunk) - 1;
            foreach (var stale in planes.Keys.Where(p => p < (first * planesPerSlice) - reach).ToList())
            {
                spare.Push(planes[stale]);
                planes.Remove(stale);
            }

            var needed = NeededPlanes(first, last).Where(p => !planes.ContainsKey(p)).ToArray();
            var buffers = needed.Select(_ => spare.Count > 0 ? spare.Pop() : new RenderedPlane(sliceLength)).ToArray();
            Parallel.For(0, needed.Length, parallelism, n => PaintPlaneAt(needed[n], buffers[n]));
            for (var n = 0; n < needed.Length; n++)
            {
                planes[needed[n]] = buffers[n];
            }

            beamHardening.Prepare(first, last, parallelism);
            Parallel.For(first, last + 1, parallelism, () => new Workspace(sliceLength), (k, _, workspace) =>
            {
                var centre = planes[k * planesPerSlice];
                ComposeSlice(k, planes, centre, workspace);
                workspace.Accumulated.AsSpan().CopyTo(hu.AsSpan(k * sliceLength, sliceLength));
                centre.Body.AsSpan().CopyTo(bodies.AsSpan(k * sliceLength, sliceLength));
                centre.Vertebra.AsSpan().CopyTo(vertebrae.AsSpan(k * sliceLength, sliceLength));
                centre.Rib.AsSpan().CopyTo(ribs.AsSpan(k * sliceLength, sliceLength));
                return workspace;
            }, _ => { });
        }

        return (hu, bodies, vertebrae, ribs);
    }

    /// <summary>Plane indices (plane p lies p × step along the table from slice 0's centre) that slices first…last need.</summary>
    private IEnumerable<int> NeededPlanes(int first, int last)
    {
        var needed = new SortedSet<int>();
        for (var k = first; k <= last; k++)
        {
            for (var m = -reach; m <= reach; m++)
            {
                if (planeWeights[m + reach] > 0)
                {
                    needed.Add((k * planesPerSlice) + m);
                }
            }
        }

        return needed;
    }

    private void PaintPlaneAt(int p, RenderedPlane target)
    {
        var geometry = setup.Geometry;
        var row = ToFloat(geometry.RowDirection) * pixel;
        var column = ToFloat(geometry.ColumnDirection) * pixel;
        var normal = Vector3.Normalize(Vector3.Cross(row, column));
        var origin = ToFloat(geometry.VoxelToPatient(0, 0, (double)p / planesPerSlice));
        painter.Paint(target, origin, row, column, normal);
    }

    private void ComposeSlice(int k, Dictionary<int, RenderedPlane> planes, RenderedPlane centre, Workspace w)
    {
        var geometry = setup.Geometry;
        var row = ToFloat(geometry.RowDirection) * pixel;
        var column = ToFloat(geometry.ColumnDirection) * pixel;
        var corner = ToFloat(geometry.VoxelToPatient(0, 0, k));
        var slice = w.Accumulated.AsSpan();
        slice.Clear();
        var anyMetal = false;
        for (var m = -reach; m <= reach; m++)
        {
            var weight = (float)planeWeights[m + reach];
            if (weight <= 0)
            {
                continue;
            }

            var plane = planes[(k * planesPerSlice) + m];
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(plane.Plane, weight, slice, slice);
            anyMetal |= plane.AnyMetal;
        }

        reconstruction.ApplyResolution(slice, size, w.Scratch, w.Scratch2);
        beamHardening.AddTo(k, slice);
        if (anyMetal)
        {
            AddMetalStreaks(slice, centre.Tissue);
        }

        ApplyScanFieldEdge(slice, corner, row, column, centre.Tissue);
        AddNoise(k, slice, w);
        for (var index = 0; index < slice.Length; index++)
        {
            slice[index] = Math.Clamp(MathF.Round(slice[index], MidpointRounding.AwayFromZero), MinimumHu, MaximumHu);
        }
    }

    /// <summary>
    /// Beam hardening around metal: dark bands along the lines joining metal objects and alternating radial streaks
    /// fading with distance — the pattern next to pedicle screws. Amplitudes follow the metal's cross-section.
    /// </summary>
    private void AddMetalStreaks(Span<float> slice, byte[] tissue)
    {
        var blobs = MetalBlobs(tissue);
        foreach (var (x, y, area) in blobs)
        {
            var strength = 160f * MathF.Min(1f, area / 60f);
            for (var j = 0; j < size; j++)
            {
                for (var i = 0; i < size; i++)
                {
                    var dx = i - x;
                    var dy = j - y;
                    var radius = MathF.Sqrt(dx * dx + dy * dy) * pixel;
                    if (radius < 4)
                    {
                        continue;
                    }

                    var angle = MathF.Atan2(dy, dx);
                    slice[j * size + i] += strength * MathF.Cos(14 * angle + x) * MathF.Exp(-radius / 35f) * MathF.Min(1, radius / 10f);
                }
            }
        }

        for (var a = 0; a < blobs.Count; a++)
        {
            for (var b = a + 1; b < blobs.Count; b++)
            {
                var (ax, ay, areaA) = blobs[a];
                var (bx, by, areaB) = blobs[b];
                var depth = 120f * MathF.Min(1f, MathF.Min(areaA, areaB) / 40f);
                var lengthSquared = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
                if (lengthSquared < 1)
                {
                    continue;
                }

                for (var j = 0; j < size; j++)
                {
                    for (var i = 0; i < size; i++)
                    {
                        var t = ((i - ax) * (bx - ax) + (j - ay) * (by - ay)) / lengthSquared;
                        if (t is <= 0.05f or >= 0.95f)
                        {
                            continue;
                        }

                        var px = ax + t * (bx - ax) - i;
                        var py = ay + t * (by - ay) - j;
                        var distance = MathF.Sqrt(px * px + py * py) * pixel;
                        slice[j * size + i] -= depth * MathF.Exp(-distance * distance / 18f);
                    }
                }
            }
        }
    }

    /// <summary>Centroids (pixels) and areas (pixels) of metal regions, found on a coarse 8-pixel grid of cells.</summary>
    private List<(float X, float Y, float Area)> MetalBlobs(byte[] tissue)
    {
        const int cell = 8;
        var cells = (size + cell - 1) / cell;
        var sumX = new float[cells * cells];
        var sumY = new float[cells * cells];
        var count = new float[cells * cells];
        for (var j = 0; j < size; j++)
        {
            for (var i = 0; i < size; i++)
            {
                if (tissue[j * size + i] == (byte)TissueClass.Metal)
                {
                    var c = j / cell * cells + i / cell;
                    sumX[c] += i;
                    sumY[c] += j;
                    count[c]++;
                }
            }
        }

        var blobs = new List<(float, float, float)>();
        for (var c = 0; c < count.Length; c++)
        {
            if (count[c] >= 3)
            {
                blobs.Add((sumX[c] / count[c], sumY[c] / count[c], count[c]));
            }
        }

        return blobs;
    }

    /// <summary>Outside the scan field nothing is measured (air); body just inside it brightens, the truncation artefact.</summary>
    private void ApplyScanFieldEdge(Span<float> slice, Vector3 corner, Vector3 row, Vector3 column, byte[] tissue)
    {
        var radius = (float)options.DataCollectionDiameterMm / 2;
        var band = radius - 25;
        for (var j = 0; j < size; j++)
        {
            var start = corner + column * j;
            // |start + i·row|² in the transverse plane is a quadratic in i; only pixels beyond the band need work.
            var a = row.X * row.X + row.Y * row.Y;
            var b = 2 * (start.X * row.X + start.Y * row.Y);
            var c = start.X * start.X + start.Y * start.Y - band * band;
            var discriminant = b * b - 4 * a * c;
            var (inner0, inner1) = discriminant <= 0 ? (0f, -1f) : ((-b - MathF.Sqrt(discriminant)) / (2 * a), (-b + MathF.Sqrt(discriminant)) / (2 * a));
            for (var i = 0; i < size; i++)
            {
                if (i > inner0 && i < inner1)
                {
                    i = (int)Math.Min(size - 1, MathF.Floor(inner1));
                    continue;
                }

                var p = start + row * i;
                var fromAxis = MathF.Sqrt(p.X * p.X + p.Y * p.Y);
                var index = j * size + i;
                if (fromAxis > radius)
                {
                    slice[index] = MinimumHu;
                }
                else if (fromAxis > band && tissue[index] != (byte)TissueClass.Air)
                {
                    slice[index] += 220 * MathF.Exp(-(radius - fromAxis) / 7);
                }
            }
        }
    }

    private void AddNoise(int k, Span<float> slice, Workspace w)
    {
        if (options.NoiseSigmaHu <= 0)
        {
            return;
        }

        var noise = w.Noise.AsSpan();
        WhiteNoise(k, noise);
        if (noiseNeighbourWeight > 0)
        {
            WhiteNoise(k - 1, w.Scratch2);
            var norm = 1 / MathF.Sqrt(1 + noiseNeighbourWeight * noiseNeighbourWeight);
            for (var index = 0; index < noise.Length; index++)
            {
                noise[index] = (noise[index] + noiseNeighbourWeight * w.Scratch2[index]) * norm;
            }
        }

        reconstruction.ShapeNoise(noise, size, w.Scratch, w.Scratch2);
        for (var index = 0; index < slice.Length; index++)
        {
            // No photons reach a detector outside the scan field: those pixels stay at the padding value.
            if (slice[index] > MinimumHu)
            {
                slice[index] += noise[index];
            }
        }
    }

    private void WhiteNoise(int k, Span<float> destination) =>
        PhantomRandom.Stream(options.Seed, $"scan/{options.StudyDate:yyyyMMdd}/noise/{k}").FillWhiteNoise(destination[..(size * size)]);

    private static Vector3 ToFloat(Domain.Vector3 v) => new((float)v.X, (float)v.Y, (float)v.Z);

    private sealed class Workspace(int length)
    {
        public float[] Accumulated { get; } = new float[length];
        public float[] Scratch { get; } = new float[length];
        public float[] Scratch2 { get; } = new float[length];
        public float[] Noise { get; } = new float[length];
    }
}
