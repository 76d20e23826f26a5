using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>
/// Rasterises the paint operations into slices. Each slice is the mean of sub-planes spread over the slice thickness
/// along the slice normal (partial volume along z); in plane, edges get the fraction of a pixel a shape covers,
/// estimated from its signed distance. Then the kernel's resolution, metal streaks, the scan-field edge and shaped
/// noise are applied. A slice depends only on its index and the seed, so slices are rendered in parallel and the
/// result is the same whatever the thread count.
/// </summary>
public sealed class PhantomRenderer
{
    private const float AirHu = -1000;
    private const short MinimumHu = -1024;
    private const short MaximumHu = 3071;
    private const int TileSize = 8;

    /// <summary>Sub-planes are at most this far apart along z: 1 mm slices take one plane, 3 mm slices three.</summary>
    private const double SubPlaneSpacingMm = 1.0;

    /// <summary>How much a shape's distance estimate may overstate the true distance (first-order estimates of superellipses, sloped surfaces).</summary>
    private const float DistanceSafety = 1.25f;
    private readonly PhantomOptions options;
    private readonly PhantomAnatomy anatomy;
    private readonly ScanSetup setup;
    private readonly ReconstructionModel reconstruction;
    private readonly int size;
    private readonly int subPlanes;
    private readonly float pixel;
    private readonly PaintOperation[] operations;
    private readonly float noiseNeighbourWeight;

    public PhantomRenderer(PhantomOptions options, PhantomAnatomy anatomy, ScanSetup setup, ReconstructionModel reconstruction)
    {
        this.options = options;
        this.anatomy = anatomy;
        this.setup = setup;
        this.reconstruction = reconstruction;
        size = options.Matrix;
        pixel = (float)options.ResolvedPixelSpacingMm;
        subPlanes = options.SubSlices ?? Math.Clamp((int)Math.Ceiling(options.SliceThicknessMm / SubPlaneSpacingMm - 0.01), 1, 16);
        operations = [.. setup.ScannerOperations, .. anatomy.Operations];

        // Overlapping slices (spacing < thickness) share photons, so their noise correlates; an MA(1) mix of this
        // slice's and the previous slice's white noise gives correlation min(overlap, 0.5) without serial dependence.
        var overlap = Math.Clamp(1 - options.SliceSpacingMm / options.SliceThicknessMm, 0, 0.5);
        noiseNeighbourWeight = overlap <= 0 ? 0 : (float)((1 - Math.Sqrt(1 - 4 * overlap * overlap)) / (2 * overlap));
    }

    public int SubPlanes => subPlanes;

    /// <summary>Renders all slices: HU (rounded, clipped to −1024…3071), body, whole-vertebra and rib labels.</summary>
    public (float[] Hu, byte[] BodyLabels, byte[] VertebraLabels, byte[] RibLabels) Render()
    {
        var sliceLength = size * size;
        var hu = new float[(long)sliceLength * setup.SliceCount];
        var bodies = new byte[hu.Length];
        var vertebrae = new byte[hu.Length];
        var ribs = new byte[hu.Length];
        var parallelism = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, setup.SliceCount, parallelism, () => new Workspace(sliceLength), (k, _, workspace) =>
        {
            RenderSlice(k, workspace);
            workspace.Accumulated.AsSpan().CopyTo(hu.AsSpan(k * sliceLength, sliceLength));
            workspace.CentreBody.AsSpan().CopyTo(bodies.AsSpan(k * sliceLength, sliceLength));
            workspace.CentreVertebra.AsSpan().CopyTo(vertebrae.AsSpan(k * sliceLength, sliceLength));
            workspace.CentreRib.AsSpan().CopyTo(ribs.AsSpan(k * sliceLength, sliceLength));
            return workspace;
        }, _ => { });
        return (hu, bodies, vertebrae, ribs);
    }

    private void RenderSlice(int k, Workspace w)
    {
        var geometry = setup.Geometry;
        var row = ToFloat(geometry.RowDirection) * pixel;
        var column = ToFloat(geometry.ColumnDirection) * pixel;
        var normal = Vector3.Normalize(Vector3.Cross(row, column));
        var corner = ToFloat(geometry.VoxelToPatient(0, 0, k));
        w.Accumulated.AsSpan().Clear();
        var anyMetal = false;
        var centrePlane = subPlanes / 2;
        for (var plane = 0; plane < subPlanes; plane++)
        {
            var offset = (float)(((plane + 0.5) / subPlanes - 0.5) * options.SliceThicknessMm);
            var origin = corner + normal * offset;
            w.Plane.AsSpan().Fill(AirHu);
            w.Tissue.AsSpan().Clear();
            w.Body.AsSpan().Clear();
            w.Vertebra.AsSpan().Clear();
            w.Rib.AsSpan().Clear();
            foreach (var operation in operations)
            {
                PaintPlane(operation, origin, row, column, normal, w);
            }

            for (var index = 0; index < w.Plane.Length; index++)
            {
                w.Accumulated[index] += w.Plane[index];
            }

            if (plane == centrePlane)
            {
                w.Body.AsSpan().CopyTo(w.CentreBody);
                w.Vertebra.AsSpan().CopyTo(w.CentreVertebra);
                w.Rib.AsSpan().CopyTo(w.CentreRib);
                w.Tissue.AsSpan().CopyTo(w.CentreTissue);
            }

            anyMetal |= w.Tissue.AsSpan().IndexOf((byte)TissueClass.Metal) >= 0;
        }

        var slice = w.Accumulated.AsSpan();
        var inverse = 1f / subPlanes;
        for (var index = 0; index < slice.Length; index++)
        {
            slice[index] *= inverse;
        }

        reconstruction.ApplyResolution(slice, size, w.Scratch, w.Scratch2);
        if (anyMetal)
        {
            AddMetalStreaks(slice, w.CentreTissue);
        }

        ApplyScanFieldEdge(slice, corner, row, column, w.CentreTissue);
        AddNoise(k, slice, w);
        for (var index = 0; index < slice.Length; index++)
        {
            slice[index] = Math.Clamp(MathF.Round(slice[index], MidpointRounding.AwayFromZero), MinimumHu, MaximumHu);
        }
    }

    private void PaintPlane(PaintOperation operation, Vector3 origin, Vector3 row, Vector3 column, Vector3 normal, Workspace w)
    {
        Vector3 planeOrigin, stepI, stepJ, planeNormal;
        if (operation.Space == ShapeSpace.Anatomy)
        {
            planeOrigin = setup.ToAnatomy(origin);
            stepI = setup.DirectionToAnatomy(row);
            stepJ = setup.DirectionToAnatomy(column);
            planeNormal = setup.DirectionToAnatomy(normal);
        }
        else
        {
            (planeOrigin, stepI, stepJ, planeNormal) = (origin, row, column, normal);
        }

        var bounds = operation.Shape.Bounds.Grow(pixel);
        if (!PixelRange(bounds, planeOrigin, stepI, stepJ, planeNormal, out var i0, out var i1, out var j0, out var j1))
        {
            return;
        }

        var fill = operation.Fill;
        var shape = operation.Shape;
        var inverseEdge = 1f / pixel;
        var condition = operation.Condition;
        var texture = fill.Kind == FillKind.ShellCore ? anatomy.TrabecularTexture : anatomy.SoftTexture;

        // Tiles: one distance at a tile's centre decides whether the whole tile is outside (skip) or deep inside
        // (no per-pixel distance). The margin allows distances that are estimates rather than exact.
        var tileReach = TileSize * pixel * 0.7072f * DistanceSafety + pixel * 0.5f;
        var deepInside = tileReach + fill.ShellThicknessMm + pixel;
        for (var tileJ = j0; tileJ <= j1; tileJ += TileSize)
        {
            var tileJEnd = Math.Min(j1, tileJ + TileSize - 1);
            for (var tileI = i0; tileI <= i1; tileI += TileSize)
            {
                var tileIEnd = Math.Min(i1, tileI + TileSize - 1);
                var centre = planeOrigin + stepI * ((tileI + tileIEnd) * 0.5f) + stepJ * ((tileJ + tileJEnd) * 0.5f);
                var centreDistance = shape.Distance(centre);
                if (centreDistance > tileReach)
                {
                    continue;
                }

                var inside = centreDistance < -deepInside;
                if (fill.Kind == FillKind.Layered)
                {
                    PaintLayeredTile(fill, planeOrigin, stepI, stepJ, tileI, tileIEnd, tileJ, tileJEnd, tileReach, inverseEdge, w);
                    continue;
                }

                for (var j = tileJ; j <= tileJEnd; j++)
                {
                    var p = planeOrigin + stepJ * j + stepI * tileI;
                    var index = j * size + tileI;
                    for (var i = tileI; i <= tileIEnd; i++, index++, p += stepI)
                    {
                        if (condition.OnlyOver is { } tissue && w.Tissue[index] != (byte)tissue)
                        {
                            continue;
                        }

                        if (condition.OnlyInsideBodyLabel != 0 && w.Body[index] != condition.OnlyInsideBodyLabel)
                        {
                            continue;
                        }

                        var distance = inside ? -deepInside : shape.Distance(p);
                        var coverage = Math.Clamp(0.5f - distance * inverseEdge, 0f, 1f);
                        if (coverage <= 0)
                        {
                            continue;
                        }

                        Paint(operation, fill, texture, p, distance, coverage, inverseEdge, index, w);
                    }
                }
            }
        }
    }

    /// <summary>
    /// A tile of a layered fill: each pixel is shared between the layers by their nested coverages, and only layers
    /// whose boundary crosses the tile are evaluated per pixel.
    /// </summary>
    private void PaintLayeredTile(Fill fill, Vector3 planeOrigin, Vector3 stepI, Vector3 stepJ, int i0, int i1, int j0, int j1, float tileReach, float inverseEdge, Workspace w)
    {
        var layers = fill.Layers;
        var count = layers.Count;
        var centre = planeOrigin + stepI * ((i0 + i1) * 0.5f) + stepJ * ((j0 + j1) * 0.5f);

        // Per layer, from its distance at the tile centre: covers the whole tile (1), misses it (0), or has its
        // boundary inside the tile (−1) and must be evaluated per pixel. Usually at most one layer is of the last kind.
        Span<float> tileCoverage = stackalloc float[count];
        for (var layer = 0; layer < count; layer++)
        {
            var distance = layers[layer].Shape.Distance(centre);
            tileCoverage[layer] = distance < -tileReach ? 1 : distance > tileReach ? 0 : -1;
        }

        if (tileCoverage[0] == 0)
        {
            return;
        }

        var innermostCovering = -1;
        var boundary = false;
        for (var layer = 0; layer < count; layer++)
        {
            boundary |= tileCoverage[layer] < 0;
            innermostCovering = tileCoverage[layer] == 1 ? layer : innermostCovering;
        }

        if (!boundary)
        {
            FillTileWithLayer(layers[innermostCovering], planeOrigin, stepI, stepJ, i0, i1, j0, j1, w);
            return;
        }

        Span<float> coverage = stackalloc float[count + 1];
        coverage[count] = 0;
        for (var j = j0; j <= j1; j++)
        {
            var p = planeOrigin + stepJ * j + stepI * i0;
            var index = j * size + i0;
            for (var i = i0; i <= i1; i++, index++, p += stepI)
            {
                // Nested layers: once one covers the pixel fully, every layer around it does too.
                var full = false;
                for (var layer = count - 1; layer >= 0; layer--)
                {
                    if (full)
                    {
                        coverage[layer] = 1;
                        continue;
                    }

                    var known = tileCoverage[layer];
                    coverage[layer] = known >= 0 ? known : Math.Clamp(0.5f - layers[layer].Shape.Distance(p) * inverseEdge, 0f, 1f);
                    full = coverage[layer] >= 1;
                }

                var total = coverage[0];
                if (total <= 0)
                {
                    continue;
                }

                var value = 0f;
                var tissue = layers[0].Tissue;
                for (var layer = 0; layer < count; layer++)
                {
                    var share = coverage[layer] - coverage[layer + 1];
                    if (share > 0)
                    {
                        var l = layers[layer];
                        value += share * (l.TextureHu == 0 ? l.Hu : l.Hu + l.TextureHu * anatomy.SoftTexture.Sample(p));
                    }

                    if (coverage[layer] >= 0.5f)
                    {
                        tissue = layers[layer].Tissue;
                    }
                }

                value /= total;
                w.Plane[index] += total * (value - w.Plane[index]);
                if (total >= 0.5f)
                {
                    w.Tissue[index] = (byte)tissue;
                }
            }
        }
    }

    /// <summary>A tile wholly inside one layer: that layer's value (and texture) in every pixel.</summary>
    private void FillTileWithLayer(FillLayer layer, Vector3 planeOrigin, Vector3 stepI, Vector3 stepJ, int i0, int i1, int j0, int j1, Workspace w)
    {
        var tissue = (byte)layer.Tissue;
        for (var j = j0; j <= j1; j++)
        {
            var index = j * size + i0;
            if (layer.TextureHu == 0)
            {
                w.Plane.AsSpan(index, i1 - i0 + 1).Fill(layer.Hu);
            }
            else
            {
                var p = planeOrigin + stepJ * j + stepI * i0;
                for (var i = i0; i <= i1; i++, p += stepI)
                {
                    w.Plane[index + i - i0] = layer.Hu + layer.TextureHu * anatomy.SoftTexture.Sample(p);
                }
            }

            w.Tissue.AsSpan(index, i1 - i0 + 1).Fill(tissue);
        }
    }

    private static void Paint(PaintOperation operation, Fill fill, TextureTile texture, Vector3 p, float distance, float coverage, float inverseEdge, int index, Workspace w)
    {
        float value;
        var tissueClass = fill.Tissue;
        switch (fill.Kind)
        {
            case FillKind.ShellCore:
                var core = Math.Clamp(0.5f - (distance + fill.ShellThicknessMm) * inverseEdge, 0f, 1f);
                var coreHu = 0f;
                if (core > 0)
                {
                    var density = fill.CoreDensity * (1 + (fill.TextureAmplitude == 0 ? 0 : fill.TextureAmplitude * texture.Sample(p)));
                    coreHu = fill.CoreIntercept + fill.CoreSlope * density;
                    if (core >= 0.5f)
                    {
                        tissueClass = fill.CoreTissue;
                    }
                }

                // Shell and core share the covered part of the pixel.
                value = (fill.ShellHu * (coverage - core) + coreHu * core) / coverage;
                break;
            case FillKind.GasFluid:
                var height = Vector3.Dot(p, fill.Up) - fill.LevelAlongUp;
                var gas = Math.Clamp(0.5f + height * inverseEdge, 0f, 1f);
                var content = fill.Hu + (fill.TextureAmplitude == 0 ? 0 : fill.TextureAmplitude * texture.Sample(p));
                value = gas * fill.GasHu + (1 - gas) * content;
                if (gas >= 0.5f)
                {
                    tissueClass = TissueClass.Air;
                }

                break;
            default:
                value = fill.TextureAmplitude == 0 ? fill.Hu : fill.Hu + fill.TextureAmplitude * texture.Sample(p);
                break;
        }

        w.Plane[index] += coverage * (value - w.Plane[index]);
        if (coverage >= 0.5f)
        {
            w.Tissue[index] = (byte)tissueClass;
            if (operation.BodyLabel != 0)
            {
                w.Body[index] = operation.BodyLabel;
            }

            if (operation.VertebraLabel != 0)
            {
                w.Vertebra[index] = operation.VertebraLabel;
            }

            if (operation.RibLabel != 0)
            {
                w.Rib[index] = operation.RibLabel;
            }
        }
    }

    /// <summary>Pixel rectangle of a plane that a box can touch; false when the plane misses the box.</summary>
    private bool PixelRange(Bounds bounds, Vector3 origin, Vector3 stepI, Vector3 stepJ, Vector3 normal, out int i0, out int i1, out int j0, out int j1)
    {
        var below = false;
        var above = false;
        var minI = float.MaxValue;
        var maxI = float.MinValue;
        var minJ = float.MaxValue;
        var maxJ = float.MinValue;
        var inverseSquare = 1f / (pixel * pixel);
        for (var c = 0; c < 8; c++)
        {
            var cornerPoint = new Vector3((c & 1) == 0 ? bounds.Min.X : bounds.Max.X, (c & 2) == 0 ? bounds.Min.Y : bounds.Max.Y, (c & 4) == 0 ? bounds.Min.Z : bounds.Max.Z);
            var relative = cornerPoint - origin;
            var side = Vector3.Dot(relative, normal);
            below |= side <= 0;
            above |= side >= 0;
            var i = Vector3.Dot(relative, stepI) * inverseSquare;
            var j = Vector3.Dot(relative, stepJ) * inverseSquare;
            minI = Math.Min(minI, i);
            maxI = Math.Max(maxI, i);
            minJ = Math.Min(minJ, j);
            maxJ = Math.Max(maxJ, j);
        }

        i0 = (int)Math.Max(0, MathF.Floor(Math.Max(minI, -1)));
        i1 = (int)Math.Min(size - 1, MathF.Ceiling(Math.Min(maxI, size)));
        j0 = (int)Math.Max(0, MathF.Floor(Math.Max(minJ, -1)));
        j1 = (int)Math.Min(size - 1, MathF.Ceiling(Math.Min(maxJ, size)));
        return below && above && i0 <= i1 && j0 <= j1;
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
        public float[] Plane { get; } = new float[length];
        public byte[] Tissue { get; } = new byte[length];
        public byte[] Body { get; } = new byte[length];
        public byte[] Vertebra { get; } = new byte[length];
        public byte[] Rib { get; } = new byte[length];
        public float[] Accumulated { get; } = new float[length];
        public byte[] CentreBody { get; } = new byte[length];
        public byte[] CentreVertebra { get; } = new byte[length];
        public byte[] CentreRib { get; } = new byte[length];
        public byte[] CentreTissue { get; } = new byte[length];
        public float[] Scratch { get; } = new float[length];
        public float[] Scratch2 { get; } = new float[length];
        public float[] Noise { get; } = new float[length];
    }
}
