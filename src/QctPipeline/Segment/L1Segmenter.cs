using System.Diagnostics;
using System.Globalization;
using QctPipeline.Anatomy;
using QctPipeline.Domain;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Segment;

/// <summary>
/// Finds L1 and outlines its vertebral body. The image decides what it can: the spinal canal is followed down the scan,
/// the vertebral bodies in front of it are cut apart at their discs (<see cref="VertebralColumnFinder"/>), ribs meeting
/// the spine are found (<see cref="RibFinder"/>) and each body is outlined between its endplates
/// (<see cref="BodyOutliner"/>). The network says roughly what each vertebra is: the localizer's labels on the column
/// are one count of the levels, its rib channel (once trained) another, the ribs in the image a third; the decision
/// (<see cref="LevelDecision"/>) needs two that agree, says <c>review</c> with one, and abstains when they disagree.
/// </summary>
public static class L1Segmenter
{
    /// <param name="cancellation">Terminates the network run and is checked between steps (a batch's per-study time limit).</param>
    public static SegmentationResult Segment(CtVolume volume, SeriesMetadata? metadata, SegmentationModel model, SegmentOptions options, CancellationToken cancellation = default)
    {
        var clock = new StepClock(cancellation);
        var warnings = new List<string>();
        if (metadata?.Modality is { } modality && modality != "CT")
        {
            warnings.Add($"modality {modality}: the model was trained on CT only");
        }

        if (model.Manifest.HeldOutLevelAccuracy is { } accuracy && accuracy < options.MinModelLevelAccuracy)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"model {model.Manifest.Name} {model.Manifest.Version} is still in training: held-out L1 level accuracy {accuracy:P0} (target {options.MinModelLevelAccuracy:P0}); its labels are one count among several"));
        }

        var localizer = model.Manifest.Localizer;
        var coarse = CanonicalOrientation.Reorient(ResampleCovering(volume, localizer.SpacingMm, (float)localizer.Normalisation.PadHu));
        var (input, padded) = ToTensor(coarse, localizer.Normalisation, localizer.SizeMultiple);
        clock.Lap("localizer input");
        var logits = model.Localizer.Run(new Dictionary<string, FloatTensor> { [localizer.InputName] = input }, cancellation)[localizer.OutputName];
        clock.Lap("localizer");
        var maps = LocalizerReading.Read(logits, coarse.Geometry, padded, localizer);

        var view = CanonicalOrientation.View(volume);
        var column = VertebralColumnFinder.Find(view, SpinalCanalTracker.Track(view, options.Anatomy), options.Anatomy);
        clock.Lap("spine");
        if (column.Vertebrae.Count == 0)
        {
            return new SegmentationResult(SegmentationStatus.NoL1, "the spine could not be followed in the image: no spinal canal was found",
                null, null, null, 0, [], [], null, null, warnings, clock.Timings)
            { Column = column };
        }

        var projection = PosteriorProjection.Of(view, column);
        var ribs = RibFinder.Find(view, column, projection, options.Anatomy);
        var sacrum = SacrumFinder.Find(column, projection, view.Geometry.Spacing.Z, options.Anatomy);
        clock.Lap("ribs and sacrum");
        var labels = column.Vertebrae.Select(v => LocalizerReading.LabelOf(maps, localizer, v)).ToList();
        warnings.AddRange(OffSpine(LocalizerReading.Components(maps, localizer, options), column, options));
        var claims = Claims(column, maps, localizer, labels, ribs, sacrum, options);
        var verdict = LevelDecision.Decide(column, claims, options.Anatomy.FaintDiscSignalHu);
        var levels = Names(column, NamingAnchor(verdict, claims, labels, column.Vertebrae.Count), labels, localizer, options.Anatomy.MinNamedCutVertebraMm);
        clock.Lap("levels");

        SegmentationResult Abstain(string reason) => new(
            SegmentationStatus.NoL1, reason, null, null, null, verdict.Confidence, levels, verdict.Counts, null, null, warnings, clock.Timings)
        { Column = column };
        if (verdict.Status == SegmentationStatus.NoL1)
        {
            return Abstain(verdict.Reason!);
        }

        var outlines = new BodyOutline?[3];
        var indices = new[] { verdict.L1Vertebra, verdict.L1Vertebra + 1, verdict.L1Vertebra - 1 };
        Parallel.For(0, 3, i => outlines[i] = indices[i] >= 0 && indices[i] < column.Vertebrae.Count && column.Vertebrae[indices[i]].Whole
            ? Outline(volume, column.Vertebrae[indices[i]], options)
            : null);
        clock.Lap("outline");
        if (outlines[0] is not { } l1)
        {
            return Abstain("the L1 body could not be outlined in the image");
        }

        warnings.AddRange(l1.Warnings.Select(w => "L1: " + w));
        var centroid = l1.Mask.Centroid()!.Value;
        return new SegmentationResult(verdict.Status, verdict.Reason, l1.Mask, centroid, l1.Mask.VolumeMm3 / 1000, verdict.Confidence,
            levels, verdict.Counts, outlines[1]?.Mask, outlines[2]?.Mask, warnings, clock.Timings)
        {
            L1Outline = l1,
            AboveL1Outline = outlines[1],
            L2Outline = outlines[2],
            Column = column,
        };
    }

    /// <summary>A vertebra of the column outlined between its discs, in front of its canal.</summary>
    public static BodyOutline? Outline(CtVolume volume, ColumnVertebra vertebra, SegmentOptions options)
    {
        var frame = BodyFrame.Around(vertebra.Centre, vertebra.Axis);
        double? Along(Disc? disc) => disc is null ? null : (disc.Centre - frame.Centre).Dot(frame.Axis);
        var posterior = (vertebra.Canal - frame.Centre).Dot(frame.Anterior) + options.Anatomy.CanalFrontMm;
        return BodyOutliner.Outline(volume, frame, Along(vertebra.Below), Along(vertebra.Above), posterior, options.Anatomy);
    }

    private static List<LevelClaim> Claims(VertebralColumn column, LocalizerMaps maps, LocalizerSpec localizer, IReadOnlyList<LocalizerLabel?> labels,
        IReadOnlyList<RibAttachment> ribs, int? sacrum, SegmentOptions options)
    {
        var claims = new List<LevelClaim> { LevelCounting.Localizer(column, labels) };
        if (localizer.RibChannelTrained && maps.Ribs is not null)
        {
            var contacts = column.Vertebrae.Select(v => LocalizerReading.RibContact(maps, v)).ToList();
            var evidence = column.Vertebrae.Zip(contacts).Where(p => p.Second.Left || p.Second.Right)
                .Select(p => new CountMark(CountMarkKind.Rib, "RIB (MODEL)", p.First.Centre)).ToList();
            claims.Add(LevelCounting.DownFromRibs(LevelCounting.FromRibChannel, column, [.. contacts.Select(c => (bool?)(c.Left || c.Right))], evidence));
        }
        else
        {
            claims.Add(new LevelClaim(LevelCounting.FromRibChannel, ClaimKind.Unavailable, -1, "the model's rib channel is not trained (manifest ribChannelTrained: false)", []));
        }

        var (bearing, ribEvidence) = LevelCounting.ImageRibs(column, ribs, options.RibHeadMarginMm);
        claims.Add(LevelCounting.DownFromRibs(LevelCounting.FromImageRibs, column, bearing, ribEvidence));
        claims.Add(LevelCounting.UpFromSacrum(column, sacrum, [.. claims.Skip(1)]));
        return claims;
    }

    /// <summary>
    /// The column index of L1 the vertebrae are named from: the decision's L1; else where the localizer's claim puts it;
    /// else, when the counts say L1 lies beyond the scan and none names it inside, where the labels alone put it if they
    /// agree on that side (a 40 mm scan at T11–T12 names both); else nothing is named.
    /// </summary>
    private static int? NamingAnchor(LevelVerdict verdict, IReadOnlyList<LevelClaim> claims, IReadOnlyList<LocalizerLabel?> labels, int vertebrae)
    {
        if (verdict.L1Vertebra >= 0)
        {
            return verdict.L1Vertebra;
        }

        if (claims[0].Kind != ClaimKind.Unavailable)
        {
            return claims[0].Vertebra;
        }

        var below = claims.Any(c => c.Kind == ClaimKind.L1BelowScan);
        var above = claims.Any(c => c.Kind == ClaimKind.L1AboveScan);
        if (below == above || claims.Any(c => c.Kind == ClaimKind.L1At) || LevelCounting.L1ByLabelSequence(labels) is not { } l1)
        {
            return null;
        }

        return (below && l1 < 0) || (above && l1 >= vertebrae) ? l1 : null;
    }

    /// <summary>
    /// The column's vertebrae named from L1's position on it (<paramref name="l1"/>: the decided L1, else where the
    /// localizer's consistent labels put it, possibly beyond the scan); none without either. Names come from positions
    /// on one column, so they are always in anatomical order. A vertebra the scan cuts to a sliver keeps its place in
    /// the count but gets no name: its centre would lie in the disc.
    /// </summary>
    private static List<LevelFound> Names(VertebralColumn column, int? l1, IReadOnlyList<LocalizerLabel?> labels, LocalizerSpec localizer, double minNamedCutMm)
    {
        var levels = new List<LevelFound>();
        for (var i = column.Vertebrae.Count - 1; i >= 0 && l1 is { } position; i--)
        {
            if (LevelCounting.NameAt(i - position) is not { } name)
            {
                continue;
            }

            var vertebra = column.Vertebrae[i];
            if (!vertebra.Whole && vertebra.PitchMm < minNamedCutMm)
            {
                continue;
            }

            var label = labels[i];
            levels.Add(new LevelFound(name, localizer.ClassNamed(name) ?? -1, vertebra.Centre, 0, 0,
                label?.Name == name ? label.MeanProbability : 0, !vertebra.Whole));
        }

        return levels;
    }

    /// <summary>The localizer's own levels that lie off the column the image found (on real CT: a shoulder, the heart), one warning each.</summary>
    private static IEnumerable<string> OffSpine(IEnumerable<LevelFound> components, VertebralColumn column, SegmentOptions options) => components
        .Where(level => column.Centreline.Min(sample => (sample.Body - level.CentroidLps).Length) > options.OffSpineMm)
        .Select(level => string.Create(CultureInfo.InvariantCulture,
            $"the localizer's {level.Name} at {level.CentroidLps} lies off the spine the image shows: not used"));

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























    /// <summary>Each step's wall time; the end of a step is also where an abandoned segmentation stops.</summary>
    private sealed class StepClock(CancellationToken cancellation)
    {
        private readonly Stopwatch watch = Stopwatch.StartNew();
        private readonly List<StepTiming> timings = [];

        public IReadOnlyList<StepTiming> Timings => timings;

        public void Lap(string step)
        {
            timings.Add(new StepTiming(step, watch.Elapsed.TotalMilliseconds));
            cancellation.ThrowIfCancellationRequested();
            watch.Restart();
        }
    }
}
