using System.Numerics;

namespace QctPipeline.Phantom;

/// <summary>One plane as painted: CT numbers, what each pixel mostly is, and the labels of the structures covering it.</summary>
public sealed class RenderedPlane(int length)
{
    public float[] Plane { get; } = new float[length];
    public byte[] Tissue { get; } = new byte[length];
    public byte[] Body { get; } = new byte[length];
    public byte[] Vertebra { get; } = new byte[length];
    public byte[] Rib { get; } = new byte[length];

    /// <summary>Whether any pixel is mostly metal (the slice then gets metal streaks).</summary>
    public bool AnyMetal => Tissue.AsSpan().IndexOf((byte)TissueClass.Metal) >= 0;

    public void Clear(float background)
    {
        Plane.AsSpan().Fill(background);
        Tissue.AsSpan().Clear();
        Body.AsSpan().Clear();
        Vertebra.AsSpan().Clear();
        Rib.AsSpan().Clear();
    }
}

/// <summary>
/// Paints the operations into one plane of pixels: each shape covers a pixel by the fraction its signed distance gives
/// (clamp(0.5 − d/pixel, 0, 1)), later operations over earlier ones (painter's algorithm with partial volume). 8×8 tiles
/// are skipped or filled whole from one distance at their centre.
/// </summary>
public sealed class PlanePainter
{
    private const float AirHu = -1000;
    private const int TileSize = 8;

    /// <summary>How much a shape's distance estimate may overstate the true distance (first-order estimates of superellipses, sloped surfaces).</summary>
    private const float DistanceSafety = 1.25f;
    private readonly PhantomAnatomy anatomy;
    private readonly ScanSetup setup;
    private readonly PaintOperation[] operations;
    private readonly int size;
    private readonly float pixel;

    public PlanePainter(PhantomAnatomy anatomy, ScanSetup setup, IEnumerable<PaintOperation> operations, int size, float pixel)
    {
        this.anatomy = anatomy;
        this.setup = setup;
        this.operations = [.. operations];
        this.size = size;
        this.pixel = pixel;
    }

    /// <summary>Paints every operation into the plane through <paramref name="origin"/> (pixel 0, 0) spanned by the pixel steps.</summary>
    public void Paint(RenderedPlane target, Vector3 origin, Vector3 row, Vector3 column, Vector3 normal)
    {
        target.Clear(AirHu);
        foreach (var operation in operations)
        {
            PaintPlane(operation, origin, row, column, normal, target);
        }
    }

    private void PaintPlane(PaintOperation operation, Vector3 origin, Vector3 row, Vector3 column, Vector3 normal, RenderedPlane w)
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
    private void PaintLayeredTile(Fill fill, Vector3 planeOrigin, Vector3 stepI, Vector3 stepJ, int i0, int i1, int j0, int j1, float tileReach, float inverseEdge, RenderedPlane w)
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
    private void FillTileWithLayer(FillLayer layer, Vector3 planeOrigin, Vector3 stepI, Vector3 stepJ, int i0, int i1, int j0, int j1, RenderedPlane w)
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

    private static void Paint(PaintOperation operation, Fill fill, TextureTile texture, Vector3 p, float distance, float coverage, float inverseEdge, int index, RenderedPlane w)
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
                    if (fill.DensityModifier is { } modifier)
                    {
                        density *= modifier.Factor(p);
                    }

                    coreHu = fill.CoreIntercept + fill.CoreSlope * density;
                    if (core >= 0.5f)
                    {
                        tissueClass = fill.CoreTissue;
                    }
                }

                // Shell and core share the covered part of the pixel.
                var shellHu = fill.ShellHu;
                if (fill.ShellModifier is { } shellModifier && coverage > core)
                {
                    shellHu *= shellModifier.Factor(p);
                }

                value = (shellHu * (coverage - core) + coreHu * core) / coverage;
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
            if (operation.ClearsLabels)
            {
                w.Body[index] = 0;
                w.Vertebra[index] = 0;
            }

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
}
