using System.Diagnostics;
using System.Globalization;
using QctPipeline.Domain;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Segment;

/// <summary>
/// Finds L1 and outlines its vertebral body: the localizer labels levels over the whole scan on a coarse canonical
/// grid, the level is counted independently where the anatomy allows, and the refiner segments a fine crop around
/// L1 whose probability is carried back onto the series' own grid. Abstains rather than guess.
/// </summary>
public static class L1Segmenter
{
    public static SegmentationResult Segment(CtVolume volume, SeriesMetadata? metadata, SegmentationModel model, SegmentOptions options)
    {
        var clock = new StepClock();
        var warnings = new List<string>();
        if (metadata?.Modality is { } modality && modality != "CT")
        {
            warnings.Add($"modality {modality}: the model was trained on CT only");
        }

        if (model.Manifest.HeldOutLevelAccuracy is { } accuracy && accuracy < options.MinModelLevelAccuracy)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"model {model.Manifest.Name} {model.Manifest.Version} is still in training: held-out L1 level accuracy {accuracy:P0} (target {options.MinModelLevelAccuracy:P0}); levels and reasons are unverified"));
        }

        var localizer = model.Manifest.Localizer;
        var coarse = CanonicalOrientation.Reorient(ResampleCovering(volume, localizer.SpacingMm, (float)localizer.Normalisation.PadHu));
        var (input, padded) = ToTensor(coarse, localizer.Normalisation, localizer.SizeMultiple);
        clock.Lap("localizer input");
        var logits = model.Localizer.Run(new Dictionary<string, FloatTensor> { [localizer.InputName] = input })[localizer.OutputName];
        clock.Lap("localizer");
        var maps = ReadLocalizer(logits, coarse.Geometry, padded, localizer);
        var evidence = LevelCounting.Analyse(maps, localizer, options);
        clock.Lap("levels");

        SegmentationResult Abstain(string reason, double confidence) => new(
            SegmentationStatus.NoL1, reason, null, null, null, confidence, evidence.Levels, evidence.Counts, null, null, warnings, clock.Timings);

        var verdict = LevelCounting.Judge(evidence, options);
        if (verdict.Warning is { } levelWarning)
        {
            warnings.Add(levelWarning);
        }

        if (verdict.AbstainReason is not null || verdict.L1 is not { } l1)
        {
            return Abstain(verdict.AbstainReason ?? "no L1", verdict.Confidence);
        }

        var confidence = verdict.Confidence;
        var bodies = model.Refiner is { } refiner && model.Manifest.Refiner is { } refinerSpec
            ? Refine(volume, l1.CentroidLps, refiner, refinerSpec, clock)
            : FromLocalizer(volume, maps, options, warnings, clock);
        if (bodies.L1 is not { } mask)
        {
            return Abstain("the refiner found no L1 body around the localizer's L1", confidence * bodies.L1Confidence);
        }

        if (ReachesScanEnd(mask, options.ScanEndMarginMm))
        {
            return Abstain(string.Create(CultureInfo.InvariantCulture,
                $"L1 is cut by the edge of the scan (its body reaches within {options.ScanEndMarginMm:0.#} mm of the first or last slice of the series)"), confidence);
        }

        var centroid = mask.Centroid()!.Value;
        confidence = Math.Min(confidence, bodies.L1Confidence);
        var shift = (centroid - l1.CentroidLps).Length;
        if (shift > options.RefinerShiftMm)
        {
            confidence *= 0.8;
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"the refined L1 body lies {shift:0} mm from the localizer's L1"));
        }

        if (confidence < options.MinConfidence)
        {
            return Abstain(LevelCounting.LowConfidence(confidence, options), confidence);
        }

        var aboveL1 = AdjacentOrNone(bodies.AboveL1, centroid, "above-L1", +1, options, warnings);
        var l2 = AdjacentOrNone(bodies.L2, centroid, "L2", -1, options, warnings);
        clock.Lap("result");
        return new SegmentationResult(
            SegmentationStatus.Ok, null, mask, centroid, mask.VolumeMm3 / 1000, confidence, evidence.Levels, evidence.Counts,
            aboveL1, l2, warnings, clock.Timings);
    }

    /// <summary>
    /// A neighbour body is measured when L1 is unusable, so it must be the next vertebra: on its side of L1 (patient z
    /// rises to the head) and within one vertebral pitch. On real CT the refiner has put "above L1" two vertebrae up.
    /// </summary>
    internal static Mask? AdjacentOrNone(Mask? neighbour, Vector3 l1Centroid, string name, int side, SegmentOptions options, List<string> warnings)
    {
        if (neighbour?.Centroid() is not { } centroid)
        {
            return null;
        }

        var distance = (centroid - l1Centroid).Length;
        if (Math.Sign(centroid.Z - l1Centroid.Z) == side && distance <= options.MaxNeighbourDistanceMm)
        {
            return neighbour;
        }

        warnings.Add(string.Create(CultureInfo.InvariantCulture,
            $"the refiner's {name} body lies {distance:0} mm {(centroid.Z > l1Centroid.Z ? "above" : "below")} L1, not the next vertebra: not used"));
        return null;
    }

    /// <summary>
    /// The volume on a grid of <paramref name="spacingMm"/> along the same axes, starting where the series' first
    /// voxel starts and covering it whole (the last voxel partly padding), averaging over each coarse voxel.
    /// </summary>
    public static CtVolume ResampleCovering(CtVolume volume, double spacingMm, float outsideHu)
    {
        var g = volume.Geometry;
        static int Count(int size, double spacing, double target) => Math.Max(1, (int)Math.Ceiling((size * spacing / target) - 1e-6));
        var origin = g.Origin
            + (g.RowDirection * ((spacingMm - g.Spacing.X) / 2))
            + (g.ColumnDirection * ((spacingMm - g.Spacing.Y) / 2))
            + (g.SliceDirection * ((spacingMm - g.Spacing.Z) / 2));
        var target = g with
        {
            SizeX = Count(g.SizeX, g.Spacing.X, spacingMm),
            SizeY = Count(g.SizeY, g.Spacing.Y, spacingMm),
            SizeZ = Count(g.SizeZ, g.Spacing.Z, spacingMm),
            Origin = origin,
            Spacing = new Vector3(spacingMm, spacingMm, spacingMm),
        };
        return new CtVolume(target, AxisAlignedResampler.Resample(volume.Voxels, g, target, outsideHu));
    }

    /// <summary>Normalised network input [1, 1, z, y, x], each spatial size padded at its high end to a multiple.</summary>
    public static (FloatTensor Tensor, (int X, int Y, int Z) Padded) ToTensor(CtVolume canonical, IntensityNormalisation normalisation, int multiple)
    {
        var g = canonical.Geometry;
        static int Up(int size, int multiple) => (size + multiple - 1) / multiple * multiple;
        var (px, py, pz) = (Up(g.SizeX, multiple), Up(g.SizeY, multiple), Up(g.SizeZ, multiple));
        var data = new float[(long)px * py * pz];
        data.AsSpan().Fill(normalisation.PadValue);
        var voxels = canonical.Voxels;
        for (var z = 0; z < g.SizeZ; z++)
        {
            for (var y = 0; y < g.SizeY; y++)
            {
                var source = voxels.Slice((z * g.SliceLength) + (y * g.SizeX), g.SizeX);
                var destination = data.AsSpan((((z * py) + y) * px), g.SizeX);
                for (var x = 0; x < source.Length; x++)
                {
                    destination[x] = normalisation.Apply(source[x]);
                }
            }
        }

        return (new FloatTensor([1, 1, pz, py, px], data), (px, py, pz));
    }

    private static LocalizerMaps ReadLocalizer(FloatTensor logits, VolumeGeometry geometry, (int X, int Y, int Z) padded, LocalizerSpec spec)
    {
        if (logits.Shape.Count != 5 || logits.Shape[1] < spec.ChannelCount || logits.Shape[2] != padded.Z || logits.Shape[3] != padded.Y || logits.Shape[4] != padded.X)
        {
            throw new InvalidOperationException($"the localizer's output is {logits}, expected [1, {spec.ChannelCount}, {padded.Z}, {padded.Y}, {padded.X}]");
        }

        var count = (int)geometry.VoxelCount;
        var classes = new byte[count];
        var probability = new float[count];
        var body = new byte[count];
        var readRibs = spec.RibChannelTrained && spec.RibChannel is not null;
        var ribs = readRibs ? new byte[count] : null;
        var l1Body = new float[count];
        var data = logits.Data;
        var channelStride = padded.X * padded.Y * padded.Z;
        Parallel.For(0, geometry.SizeZ, z =>
        {
            var all = data.Span;
            for (var y = 0; y < geometry.SizeY; y++)
            {
                for (var x = 0; x < geometry.SizeX; x++)
                {
                    var at = (((z * padded.Y) + y) * padded.X) + x;
                    var best = 0;
                    var max = all[at];
                    for (var c = 1; c < spec.ClassCount; c++)
                    {
                        if (all[at + (c * channelStride)] > max)
                        {
                            (best, max) = (c, all[at + (c * channelStride)]);
                        }
                    }

                    double sum = 0;
                    for (var c = 0; c < spec.ClassCount; c++)
                    {
                        sum += Math.Exp(all[at + (c * channelStride)] - max);
                    }

                    var index = x + (geometry.SizeX * (y + (geometry.SizeY * z)));
                    var bodyLogit = all[at + (spec.BodyChannel * channelStride)];
                    classes[index] = (byte)best;
                    probability[index] = (float)(1 / sum);
                    body[index] = bodyLogit > 0 ? (byte)1 : (byte)0;
                    l1Body[index] = (float)(Math.Exp(all[at + (spec.L1Class * channelStride)] - max) / sum / (1 + Math.Exp(-bodyLogit)));
                    if (ribs is not null)
                    {
                        ribs[index] = all[at + (spec.RibChannel!.Value * channelStride)] > 0 ? (byte)1 : (byte)0;
                    }
                }
            }
        });
        return new LocalizerMaps(geometry, classes, probability, body, ribs, l1Body);
    }

    private sealed record BodyMasks(Mask? L1, double L1Confidence, Mask? AboveL1, Mask? L2);

    private static BodyMasks Refine(CtVolume volume, Vector3 centre, OnnxSession refiner, RefinerSpec spec, StepClock clock)
    {
        var spacing = spec.SpacingMm;
        var halfExtentMm = (Math.Max(spec.CropX, Math.Max(spec.CropY, spec.CropZ)) * spacing / 2) + (2 * spacing);
        var block = CanonicalOrientation.Reorient(SubVolume(volume, centre, halfExtentMm));
        var b = block.Geometry;
        var cropOrigin = centre
            - (b.RowDirection * (spec.CropX / 2 * spacing))
            - (b.ColumnDirection * (spec.CropY / 2 * spacing))
            - (b.SliceDirection * (spec.CropZ / 2 * spacing));
        var crop = b with { SizeX = spec.CropX, SizeY = spec.CropY, SizeZ = spec.CropZ, Origin = cropOrigin, Spacing = new Vector3(spacing, spacing, spacing) };
        var hu = new CtVolume(crop, AxisAlignedResampler.Resample(block.Voxels, b, crop, (float)spec.Normalisation.PadHu));
        var (input, padded) = ToTensor(hu, spec.Normalisation, spec.SizeMultiple);
        clock.Lap("refiner input");
        var logits = refiner.Run(new Dictionary<string, FloatTensor> { [spec.InputName] = input })[spec.OutputName];
        clock.Lap("refiner");

        var classes = ClassMaps(logits, crop, padded, spec.ClassCount, [spec.L1Class, spec.AboveL1Class ?? -1, spec.L2Class ?? -1]);
        var masks = new Mask?[classes.Length];
        Parallel.For(0, classes.Length, c => masks[c] = classes[c] is { } map ? ToSeriesMask(map.Lead, crop, volume.Geometry, 0) : null);
        var (l1, above, l2) = (masks[0], masks[1], masks[2]);
        clock.Lap("map to series");
        return new BodyMasks(l1, MeanWhereLeading(classes[0]!), above, l2);
    }

    /// <summary>A model without a refiner: the localizer's "L1 and body" probability, coarse but on the right level.</summary>
    private static BodyMasks FromLocalizer(CtVolume volume, LocalizerMaps maps, SegmentOptions options, List<string> warnings, StepClock clock)
    {
        warnings.Add(string.Create(CultureInfo.InvariantCulture,
            $"the model has no refiner stage: the L1 mask comes from the {maps.Geometry.Spacing.X:0.#} mm localizer and is coarse"));
        var mask = ToSeriesMask(maps.L1BodyProbability, maps.Geometry, volume.Geometry, options.ProbabilityThreshold);
        clock.Lap("map to series");
        return new BodyMasks(mask, MeanAbove(maps.L1BodyProbability, options.ProbabilityThreshold), null, null);
    }

    /// <summary>
    /// A probability on a model grid made a mask on the series grid: trilinear in patient coordinates, thresholded,
    /// the largest component kept and its holes filled. Null when nothing passes the threshold.
    /// </summary>
    public static Mask? ToSeriesMask(ReadOnlySpan<float> probability, VolumeGeometry modelGrid, VolumeGeometry seriesGrid, float threshold)
    {
        var box = GridMapping.Overlap(modelGrid, seriesGrid);
        if (box.IsEmpty)
        {
            return null;
        }

        var sampled = GridMapping.Sample(probability, modelGrid, seriesGrid, box, 0);
        var inside = new byte[sampled.Length];
        var any = false;
        for (var index = 0; index < sampled.Length; index++)
        {
            inside[index] = sampled[index] > threshold ? (byte)1 : (byte)0;
            any |= inside[index] != 0;
        }

        if (!any)
        {
            return null;
        }

        var body = ConnectedComponents.FillHoles(ConnectedComponents.Largest(inside, box.SizeX, box.SizeY, box.SizeZ), box.SizeX, box.SizeY, box.SizeZ);
        var full = new byte[seriesGrid.VoxelCount];
        for (var k = 0; k < box.SizeZ; k++)
        {
            for (var j = 0; j < box.SizeY; j++)
            {
                body.AsSpan(((k * box.SizeY) + j) * box.SizeX, box.SizeX)
                    .CopyTo(full.AsSpan((int)(box.X0 + (seriesGrid.SizeX * (box.Y0 + j + ((long)seriesGrid.SizeY * (box.Z0 + k)))))));
            }
        }

        return new Mask(seriesGrid, full);
    }

    /// <summary>The series voxels within <paramref name="halfExtentMm"/> of <paramref name="centre"/> along each axis.</summary>
    private static CtVolume SubVolume(CtVolume volume, Vector3 centre, double halfExtentMm)
    {
        var g = volume.Geometry;
        var c = g.PatientToVoxel(centre);
        static (int Start, int Size) Range(double centre, double half, int size)
        {
            var start = Math.Clamp((int)Math.Floor(centre - half), 0, size - 1);
            var end = Math.Clamp((int)Math.Ceiling(centre + half), start, size - 1);
            return (start, end - start + 1);
        }

        var (x0, sx) = Range(c.X, halfExtentMm / g.Spacing.X, g.SizeX);
        var (y0, sy) = Range(c.Y, halfExtentMm / g.Spacing.Y, g.SizeY);
        var (z0, sz) = Range(c.Z, halfExtentMm / g.Spacing.Z, g.SizeZ);
        var voxels = new float[(long)sx * sy * sz];
        var source = volume.Voxels;
        for (var k = 0; k < sz; k++)
        {
            for (var j = 0; j < sy; j++)
            {
                source.Slice((int)(x0 + (g.SizeX * (y0 + j + ((long)g.SizeY * (z0 + k))))), sx).CopyTo(voxels.AsSpan(((k * sy) + j) * sx, sx));
            }
        }

        return new CtVolume(g with { SizeX = sx, SizeY = sy, SizeZ = sz, Origin = g.VoxelToPatient(x0, y0, z0) }, voxels);
    }

    /// <summary>
    /// A refiner class on the crop: its softmax probability, and its lead over the most probable other class, which is
    /// positive exactly where the class wins the argmax. Masks are the lead above 0, as training scores the refiner: an
    /// undertrained or uncertain model can put a body's argmax at probabilities well below 0.5 with five classes.
    /// </summary>
    internal sealed record ClassMap(float[] Probability, float[] Lead);

    /// <summary>The requested classes (null for −1) on the unpadded grid.</summary>
    internal static ClassMap?[] ClassMaps(FloatTensor logits, VolumeGeometry grid, (int X, int Y, int Z) padded, int classCount, int[] wanted)
    {
        if (logits.Shape.Count != 5 || logits.Shape[1] < classCount || logits.Shape[2] != padded.Z || logits.Shape[3] != padded.Y || logits.Shape[4] != padded.X)
        {
            throw new InvalidOperationException($"the refiner's output is {logits}, expected [1, {classCount}, {padded.Z}, {padded.Y}, {padded.X}]");
        }

        var result = wanted.Select(c => c >= 0 ? new ClassMap(new float[grid.VoxelCount], new float[grid.VoxelCount]) : null).ToArray();
        var all = logits.Data.Span;
        var channelStride = padded.X * padded.Y * padded.Z;
        Span<double> exponentials = stackalloc double[classCount];
        var index = 0;
        for (var z = 0; z < grid.SizeZ; z++)
        {
            for (var y = 0; y < grid.SizeY; y++)
            {
                for (var x = 0; x < grid.SizeX; x++, index++)
                {
                    var at = (((z * padded.Y) + y) * padded.X) + x;
                    var max = float.MinValue;
                    for (var c = 0; c < classCount; c++)
                    {
                        max = Math.Max(max, all[at + (c * channelStride)]);
                    }

                    double sum = 0;
                    for (var c = 0; c < classCount; c++)
                    {
                        exponentials[c] = Math.Exp(all[at + (c * channelStride)] - max);
                        sum += exponentials[c];
                    }

                    for (var w = 0; w < wanted.Length; w++)
                    {
                        if (result[w] is not { } map)
                        {
                            continue;
                        }

                        double strongestOther = 0;
                        for (var c = 0; c < classCount; c++)
                        {
                            strongestOther = c == wanted[w] ? strongestOther : Math.Max(strongestOther, exponentials[c]);
                        }

                        map.Probability[index] = (float)(exponentials[wanted[w]] / sum);
                        map.Lead[index] = (float)((exponentials[wanted[w]] - strongestOther) / sum);
                    }
                }
            }
        }

        return result;
    }

    /// <summary>The class's mean probability where it wins the argmax: how sure the model is of the body it outlined.</summary>
    private static double MeanWhereLeading(ClassMap map)
    {
        double sum = 0;
        long count = 0;
        for (var index = 0; index < map.Lead.Length; index++)
        {
            if (map.Lead[index] > 0)
            {
                sum += map.Probability[index];
                count++;
            }
        }

        return count == 0 ? 0 : sum / count;
    }

    private static double MeanAbove(ReadOnlySpan<float> probability, float threshold)
    {
        double sum = 0;
        long count = 0;
        foreach (var p in probability)
        {
            if (p > threshold)
            {
                sum += p;
                count++;
            }
        }

        return count == 0 ? 0 : sum / count;
    }

    /// <summary>Whether the mask has voxels in the first or last slices of its grid, as far in as <paramref name="marginMm"/> (at least one slice).</summary>
    internal static bool ReachesScanEnd(Mask mask, double marginMm)
    {
        var g = mask.Geometry;
        var voxels = mask.Voxels;
        var slices = Math.Min(g.SizeZ, 1 + (int)Math.Floor(marginMm / g.Spacing.Z));
        var endLength = (int)((long)slices * g.SliceLength);
        return voxels[..endLength].ContainsAnyExcept((byte)0) || voxels[^endLength..].ContainsAnyExcept((byte)0);
    }

    private sealed class StepClock
    {
        private readonly Stopwatch watch = Stopwatch.StartNew();
        private readonly List<StepTiming> timings = [];

        public IReadOnlyList<StepTiming> Timings => timings;

        public void Lap(string step)
        {
            timings.Add(new StepTiming(step, watch.Elapsed.TotalMilliseconds));
            watch.Restart();
        }
    }
}
