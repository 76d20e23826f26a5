using System.Globalization;
using QctPipeline.Calibrate;
using QctPipeline.Domain;
using QctPipeline.Segment;

namespace QctPipeline.Measure;

/// <summary>
/// One vertebral body measured inside its bounding box: its eroded trabecular ROI, the mid-vertebral elliptical ROI
/// (values with slab weights), bone islands, and the checks that decide whether it can be used.
/// </summary>
internal sealed record VertebralBodyAnalysis(
    VertebraAssessment Assessment,
    float[] ErodedHu,
    int[] ErodedVoxelIndices,
    float[] EllipseHu,
    float[] EllipseWeights,
    int[] EllipseVoxelIndices,
    BoneIslands Islands,
    double VoxelVolumeMm3,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Patient anterior in LPS: the body frame's forward direction before it is made perpendicular to the body's axis.</summary>
    private static readonly Vector3 PatientAnterior = new(0, -1, 0);

    private static readonly Vector3 PatientSuperior = new(0, 0, 1);

    /// <summary>Null when the mask is empty.</summary>
    public static VertebralBodyAnalysis? Analyze(CtVolume volume, Mask body, VertebralLevel level, MeasureOptions options)
    {
        if (body.Geometry != volume.Geometry)
        {
            throw new ArgumentException($"The {level} mask lies on another grid than the volume.", nameof(body));
        }

        if (BoxRegion.Around(body, margin: 1) is not { } box)
        {
            return null;
        }

        var g = volume.Geometry;
        var warnings = new List<string>();
        var reasons = new List<string>();
        var inside = box.Crop(body.Voxels, g);
        var hu = box.Crop(volume.Voxels, g);
        var eroded = BodyErosion.ErodeInBox(inside, box, g.Spacing, options.ErosionMm);
        var voxelVolume = g.Spacing.X * g.Spacing.Y * g.Spacing.Z;

        if (TouchesGridEdge(inside, box, g))
        {
            reasons.Add("the body touches the edge of the scan (cut off)");
        }

        var frame = BodyFrame.Estimate(inside, box, g, options, warnings);
        var slab = SlabGeometry.Measure(inside, box, frame, options);
        var heights = MeasureHeights(inside, box, frame, slab, Math.Min(g.Spacing.X, g.Spacing.Y));
        if (heights.Loss > options.FractureHeightLossLimit)
        {
            reasons.Add(Invariant($"height loss {heights.Loss:P0} anterior ({heights.Anterior:0.0} mm) vs posterior ({heights.Posterior:0.0} mm) exceeds {options.FractureHeightLossLimit:P0}: fracture"));
        }

        var huScale = HuScale(options, warnings);
        var islandHu = IslandThresholdHu(eroded, hu, options, huScale);
        var (excluded, islands, largestBright) = FindBoneIslands(eroded, hu, box, voxelVolume, islandHu, options);
        if (largestBright > options.BoneIslandMaxVolumeMm3)
        {
            reasons.Add(Invariant($"a bright cluster of {largestBright:0} mm³ (≥ {islandHu:0} HU) is too large for a bone island: sclerotic lesion"));
        }

        var rois = GatherRois(eroded, excluded, hu, box, g, frame, slab, options);
        var (erodedHu, ellipseHu) = (rois.Eroded, rois.Ellipse);
        double erodedMean = double.NaN;
        var blockDeviation = 0.0;
        if (erodedHu.Length == 0)
        {
            reasons.Add(Invariant($"nothing is left after eroding the body by {options.ErosionMm:0.#} mm"));
        }
        else
        {
            erodedMean = VbmdKernels.MomentsOf(erodedHu).Mean;
            var highestHu = options.ImplausiblyHighHu * huScale;
            if (erodedMean < options.ImplausiblyLowHu || erodedMean > highestHu)
            {
                reasons.Add(Invariant($"mean trabecular HU {erodedMean:0} lies outside the plausible {options.ImplausiblyLowHu:0}–{highestHu:0} HU: lesion or not bone"));
            }

            (blockDeviation, var medianBlockHu) = MaxBlockDeviation(eroded, excluded, hu, box, g.Spacing, options, warnings);
            var deviationLimit = Math.Max(options.LesionBlockDeviationHu * huScale, options.LesionBlockDeviationFraction * Math.Abs(medianBlockHu));
            if (blockDeviation > deviationLimit)
            {
                reasons.Add(Invariant($"heterogeneous trabecular HU: a {options.LesionBlockMm:0.#} mm block deviates {blockDeviation:0} HU from the median block of {medianBlockHu:0} HU (> {deviationLimit:0}): lesion"));
            }
        }

        if (ellipseHu.Length == 0 && erodedHu.Length > 0)
        {
            warnings.Add($"{level}: the mid-vertebral ellipse holds no eroded voxels");
        }

        var removed = g.Spacing.ToArray().Select(spacing => Math.Floor((options.ErosionMm / spacing) + 0.5) * spacing).ToArray();
        warnings.Add(Invariant(
            $"{level}: body eroded by {options.ErosionMm:0.#} mm, on this grid {removed[0]:0.0#} / {removed[1]:0.0#} / {removed[2]:0.0#} mm along rows / columns / slices"));
        warnings.Add(Invariant(
            $"{level}: slab {options.SlabThicknessMm:0.#} mm at mid-height along the body axis; voxels cut by its ends weighted by the fraction inside; anterior taken as the patient's anterior (LPS −y)"));
        if (islands.Count > 0)
        {
            warnings.Add(Invariant($"{level}: {islands.Count} bone island(s), {islands.VolumeMm3:0} mm³, left out of the ROIs with a one-voxel rim"));
        }

        var assessment = new VertebraAssessment(level, reasons.Count == 0, reasons, heights.Anterior, heights.Posterior, heights.Loss,
            blockDeviation, erodedHu.Length, erodedMean, largestBright);
        return new VertebralBodyAnalysis(assessment, erodedHu, rois.ErodedIndices, ellipseHu, rois.EllipseWeights, rois.EllipseIndices, islands, voxelVolume, warnings);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bone HU at the series' kVp relative to 120 kVp, by HA's HU per mg/cm³ (the HU limits are stated at 120 kVp).</summary>
    private static double HuScale(MeasureOptions options, List<string> warnings)
    {
        if (options.Kvp is null)
        {
            warnings.Add("kVp not stated: the HU limits for islands, lesions and plausibility are taken at 120 kVp");
        }

        return ReferenceTissueModel.HaSlope(options.Kvp) / ReferenceTissueModel.HaSlope(ReferenceTissueModel.DefaultKvp);
    }

    /// <summary>Candidate islands: at least the island HU and the margin above the eroded body's median, both scaled to the kVp.</summary>
    private static double IslandThresholdHu(byte[] eroded, float[] hu, MeasureOptions options, double huScale)
    {
        var values = new List<double>();
        for (var index = 0; index < eroded.Length; index++)
        {
            if (eroded[index] != 0)
            {
                values.Add(hu[index]);
            }
        }

        var floor = options.BoneIslandMinHu * huScale;
        return values.Count == 0 ? floor : Math.Max(floor, Statistics.Median(values) + (options.BoneIslandMarginHu * huScale));
    }

    private static bool TouchesGridEdge(byte[] inside, BoxRegion box, VolumeGeometry g)
    {
        var edgeX = box.X0 == 0 || box.X0 + box.SizeX == g.SizeX;
        var edgeY = box.Y0 == 0 || box.Y0 + box.SizeY == g.SizeY;
        var edgeZ = box.Z0 == 0 || box.Z0 + box.SizeZ == g.SizeZ;
        if (!edgeX && !edgeY && !edgeZ)
        {
            return false;
        }

        for (var z = 0; z < box.SizeZ; z++)
        {
            var onZ = (z == 0 && box.Z0 == 0) || (z == box.SizeZ - 1 && box.Z0 + box.SizeZ == g.SizeZ);
            for (var y = 0; y < box.SizeY; y++)
            {
                var onY = (y == 0 && box.Y0 == 0) || (y == box.SizeY - 1 && box.Y0 + box.SizeY == g.SizeY);
                for (var x = 0; x < box.SizeX; x++)
                {
                    var onX = (x == 0 && box.X0 == 0) || (x == box.SizeX - 1 && box.X0 + box.SizeX == g.SizeX);
                    if ((onX || onY || onZ) && inside[box.Index(x, y, z)] != 0)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Heights along the axis at the anterior and posterior walls, where Genant's method measures them. The median
    /// column height (cells of one in-plane pixel in the body's plane) is taken in a band near the anterior wall (5–20 %
    /// of the depth in from it) and one near the posterior wall (10–25 %, clear of the concave posterior wall), both
    /// within the middle half of the width, and the line through the two is extrapolated to the walls: the bands sit
    /// 0.7 depths apart, so their ratio alone showed 70 % of a wedge's loss (a 25 % wedge read 16–20 %). Medians,
    /// because partly filled cells at a 1.4 mm grid's rounded edges pulled band means down by up to 6 mm on intact
    /// bodies; with them intact phantom bodies read 0–14 % and 25 % wedges 22–27 % (decision 0005).
    /// </summary>
    private static (double Anterior, double Posterior, double Loss) MeasureHeights(byte[] inside, BoxRegion box, BodyFrame frame, SlabGeometry slab, double cellMm)
    {
        var halfBandWidth = slab.WidthMm / 4;
        var cellsAcross = (int)Math.Ceiling(2 * halfBandWidth / cellMm) + 1;
        var cellsDeep = (int)Math.Ceiling(0.15 * slab.DepthMm / cellMm) + 1;
        var anteriorStart = slab.AnteriorV - (0.20 * slab.DepthMm);
        var posteriorStart = slab.PosteriorV + (0.10 * slab.DepthMm);
        var low = new double[2 * cellsAcross * cellsDeep];
        var high = new double[low.Length];
        low.AsSpan().Fill(double.PositiveInfinity);
        high.AsSpan().Fill(double.NegativeInfinity);
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    if (inside[box.Index(x, y, z)] == 0)
                    {
                        continue;
                    }

                    var u = frame.Lateral.At(x, y, z) - slab.CentreU + halfBandWidth;
                    if (u < 0 || u >= 2 * halfBandWidth)
                    {
                        continue;
                    }

                    var v = frame.Anterior.At(x, y, z);
                    int band;
                    double depthIntoBand;
                    if (v >= anteriorStart && v < anteriorStart + (0.15 * slab.DepthMm))
                    {
                        band = 0;
                        depthIntoBand = v - anteriorStart;
                    }
                    else if (v >= posteriorStart && v < posteriorStart + (0.15 * slab.DepthMm))
                    {
                        band = 1;
                        depthIntoBand = v - posteriorStart;
                    }
                    else
                    {
                        continue;
                    }

                    var cell = (band * cellsAcross * cellsDeep) + ((int)(depthIntoBand / cellMm) * cellsAcross) + (int)(u / cellMm);
                    var t = frame.Axial.At(x, y, z);
                    low[cell] = Math.Min(low[cell], t);
                    high[cell] = Math.Max(high[cell], t);
                }
            }
        }

        var anteriorBand = MedianColumnHeight(low, high, 0, cellsAcross * cellsDeep, frame.AxialExtentMm);
        var posteriorBand = MedianColumnHeight(low, high, cellsAcross * cellsDeep, cellsAcross * cellsDeep, frame.AxialExtentMm);
        if (anteriorBand <= 0 || posteriorBand <= 0)
        {
            return (anteriorBand, posteriorBand, 0);
        }

        // Band centres lie 0.125 and 0.175 depths in from their walls, 0.7 depths apart.
        var slope = (anteriorBand - posteriorBand) / 0.7;
        var anterior = Math.Max(0, anteriorBand + (0.125 * slope));
        var posterior = Math.Max(0, posteriorBand - (0.175 * slope));
        var taller = Math.Max(anterior, posterior);
        var loss = taller > 0 ? 1 - (Math.Min(anterior, posterior) / taller) : 0;
        return (anterior, posterior, loss);
    }

    /// <summary>Median height of the band's columns: a few partly filled cells at a coarse grid's rounded edges pulled the mean down.</summary>
    private static double MedianColumnHeight(double[] low, double[] high, int start, int count, double voxelExtent)
    {
        var heights = new List<double>();
        for (var cell = start; cell < start + count; cell++)
        {
            if (high[cell] >= low[cell])
            {
                heights.Add(high[cell] - low[cell] + voxelExtent);
            }
        }

        return heights.Count == 0 ? 0 : Statistics.Median(heights);
    }

    /// <summary>
    /// Bright clusters (6-connected, ≥ the island HU) in the eroded body. Those between the minimum and maximum island
    /// volume are islands: they and a 26-neighbour rim (their partial-volume edge) are excluded from the ROIs.
    /// </summary>
    private static (byte[] Excluded, BoneIslands Islands, double LargestBrightMm3) FindBoneIslands(byte[] eroded, float[] hu, BoxRegion box, double voxelVolume, double islandHu, MeasureOptions options)
    {
        var bright = new byte[eroded.Length];
        var threshold = (float)islandHu;
        for (var index = 0; index < bright.Length; index++)
        {
            bright[index] = eroded[index] != 0 && hu[index] >= threshold ? (byte)1 : (byte)0;
        }

        var excluded = new byte[eroded.Length];
        var (labels, components) = ConnectedComponents.Label(bright, box.SizeX, box.SizeY, box.SizeZ);
        if (components.Count == 0)
        {
            return (excluded, new BoneIslands(0, 0, 0), 0);
        }

        var isIsland = new bool[components.Count + 1];
        var islandCount = 0;
        var islandVolume = 0.0;
        foreach (var component in components)
        {
            var volume = component.VoxelCount * voxelVolume;
            if (volume >= options.BoneIslandMinVolumeMm3 && volume <= options.BoneIslandMaxVolumeMm3)
            {
                isIsland[component.Label] = true;
                islandCount++;
                islandVolume += volume;
            }
        }

        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    if (isIsland[labels[box.Index(x, y, z)]])
                    {
                        MarkNeighbourhood(excluded, box, x, y, z);
                    }
                }
            }
        }

        var excludedVolume = 0.0;
        for (var index = 0; index < excluded.Length; index++)
        {
            excluded[index] &= eroded[index];
            excludedVolume += excluded[index] * voxelVolume;
        }

        return (excluded, new BoneIslands(islandCount, islandVolume, excludedVolume), components[0].VoxelCount * voxelVolume);
    }

    private static void MarkNeighbourhood(byte[] marks, BoxRegion box, int x, int y, int z)
    {
        for (var dz = Math.Max(0, z - 1); dz <= Math.Min(box.SizeZ - 1, z + 1); dz++)
        {
            for (var dy = Math.Max(0, y - 1); dy <= Math.Min(box.SizeY - 1, y + 1); dy++)
            {
                for (var dx = Math.Max(0, x - 1); dx <= Math.Min(box.SizeX - 1, x + 1); dx++)
                {
                    marks[box.Index(dx, dy, dz)] = 1;
                }
            }
        }
    }

    /// <summary>
    /// The eroded-body values, and the ellipse's values with weights: the ellipse is an elliptic cylinder along the
    /// body's axis (so it follows a tilted body from slice to slice), cut to the slab; a voxel's weight is the fraction of
    /// its extent along the axis that lies inside the slab.
    /// </summary>
    private static (float[] Eroded, int[] ErodedIndices, float[] Ellipse, float[] EllipseWeights, int[] EllipseIndices) GatherRois(
        byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, VolumeGeometry g, BodyFrame frame, SlabGeometry slab, MeasureOptions options)
    {
        var count = 0;
        for (var index = 0; index < eroded.Length; index++)
        {
            count += eroded[index] & (excluded[index] ^ 1);
        }

        var erodedValues = new float[count];
        var erodedIndices = new int[count];
        var ellipseValues = new float[count];
        var ellipseWeights = new float[count];
        var ellipseIndices = new int[count];
        var semiU = options.EllipseLateralFraction * slab.WidthMm / 2;
        var semiV = options.EllipseDepthFraction * slab.DepthMm / 2;
        var halfSlab = options.SlabThicknessMm / 2;
        var extent = frame.AxialExtentMm;
        int erodedCount = 0, ellipseCount = 0;
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    var index = box.Index(x, y, z);
                    if (eroded[index] == 0 || excluded[index] != 0)
                    {
                        continue;
                    }

                    var volumeIndex = box.X0 + x + (g.SizeX * (box.Y0 + y + (g.SizeY * (box.Z0 + z))));
                    erodedIndices[erodedCount] = volumeIndex;
                    erodedValues[erodedCount++] = hu[index];
                    var t = frame.Axial.At(x, y, z) - slab.MidT;
                    var inSlab = (Math.Min(t + (extent / 2), halfSlab) - Math.Max(t - (extent / 2), -halfSlab)) / extent;
                    if (inSlab <= 0)
                    {
                        continue;
                    }

                    var u = (frame.Lateral.At(x, y, z) - slab.CentreU) / semiU;
                    var v = (frame.Anterior.At(x, y, z) - slab.EllipseCentreV(options)) / semiV;
                    if ((u * u) + (v * v) <= 1)
                    {
                        ellipseValues[ellipseCount] = hu[index];
                        ellipseIndices[ellipseCount] = volumeIndex;
                        ellipseWeights[ellipseCount++] = (float)Math.Min(1, inSlab);
                    }
                }
            }
        }

        return (erodedValues, erodedIndices, ellipseValues[..ellipseCount], ellipseWeights[..ellipseCount], ellipseIndices[..ellipseCount]);
    }

    /// <summary>
    /// Largest distance of a block's mean HU from the median block mean, over cubes of ~<see cref="MeasureOptions.LesionBlockMm"/>
    /// lying wholly inside the eroded body (bone islands left out of the mean). Blocks at the ROI's edge are not judged:
    /// a model's mask a slice taller than the body leaves endplate in them after the 4 mm erosion (a 200 HU block among
    /// 116 HU ones on sample patient C), which is not a lesion. Zero (with a warning) when fewer than three blocks qualify.
    /// The median block mean is returned with it: the limit grows with density.
    /// </summary>
    private static (double MaxDeviationHu, double MedianBlockHu) MaxBlockDeviation(byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, Vector3 spacing, MeasureOptions options, List<string> warnings)
    {
        var bx = Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.X));
        var by = Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.Y));
        var bz = Math.Max(1, (int)Math.Round(options.LesionBlockMm / spacing.Z));
        int nx = ((box.SizeX - 1) / bx) + 1, ny = ((box.SizeY - 1) / by) + 1, nz = ((box.SizeZ - 1) / bz) + 1;
        var sums = new double[nx * ny * nz];
        var counts = new int[sums.Length];
        var inside = new int[sums.Length];
        for (var z = 0; z < box.SizeZ; z++)
        {
            for (var y = 0; y < box.SizeY; y++)
            {
                for (var x = 0; x < box.SizeX; x++)
                {
                    var index = box.Index(x, y, z);
                    if (eroded[index] == 0)
                    {
                        continue;
                    }

                    var block = (x / bx) + (nx * ((y / by) + (ny * (z / bz))));
                    inside[block]++;
                    if (excluded[index] == 0)
                    {
                        sums[block] += hu[index];
                        counts[block]++;
                    }
                }
            }
        }

        var capacity = bx * by * bz;
        var means = new List<double>();
        for (var block = 0; block < sums.Length; block++)
        {
            if (inside[block] == capacity && counts[block] > 0)
            {
                means.Add(sums[block] / counts[block]);
            }
        }

        if (means.Count < 3)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"only {means.Count} block(s) of {options.LesionBlockMm} mm fit the eroded body: heterogeneity not judged"));
            return (0, double.NaN);
        }

        var median = Statistics.Median(means);
        return (means.Max(mean => Math.Abs(mean - median)), median);
    }

    /// <summary>A coordinate along one direction of the body frame as an affine function of box indices (mm).</summary>
    internal readonly record struct Projection(double Origin, double PerX, double PerY, double PerZ)
    {
        public double At(int x, int y, int z) => Origin + (PerX * x) + (PerY * y) + (PerZ * z);

        public static Projection Along(Vector3 direction, Vector3 boxOriginFromCentre, VolumeGeometry g) =>
            new(boxOriginFromCentre.Dot(direction),
                g.RowDirection.Dot(direction) * g.Spacing.X,
                g.ColumnDirection.Dot(direction) * g.Spacing.Y,
                g.SliceDirection.Dot(direction) * g.Spacing.Z);

        /// <summary>Length of one voxel's projection on the direction.</summary>
        public double VoxelExtent => Math.Abs(PerX) + Math.Abs(PerY) + Math.Abs(PerZ);
    }

    /// <summary>
    /// The body's own axes, from its centroid: Axial along the superior axis, Anterior perpendicular to it towards the
    /// patient's front, Lateral completing them.
    /// </summary>
    internal sealed record BodyFrame(Vector3 Centroid, Vector3 SuperiorAxis, Projection Axial, Projection Anterior, Projection Lateral)
    {
        public double AxialExtentMm => Axial.VoxelExtent;

        /// <summary>
        /// The superior axis follows the body from slice to slice through the middle third of its slices (at least
        /// <see cref="MeasureOptions.MinSlicesForAxis"/>), where every slice cuts the whole cross-section, not an endplate:
        /// left–right by the slice centroid, front–back by the posterior wall (the mean of the most posterior voxel over
        /// the middle half of the columns). Why the wall: a wedge fracture takes the front off the slices near the
        /// compressed endplates and drags the centroids backwards there; the centroid line was 5° off on a 25 % wedge
        /// and shortened the posterior height by 4 mm. Slices that are not axial fall back to patient superior, too
        /// few slices to the slice normal, an in-plane-rotated grid to the centroid line.
        /// </summary>
        public static BodyFrame Estimate(byte[] inside, BoxRegion box, VolumeGeometry g, MeasureOptions options, List<string> warnings)
        {
            var counts = new long[box.SizeZ];
            var sumX = new double[box.SizeZ];
            var sumY = new double[box.SizeZ];
            for (var z = 0; z < box.SizeZ; z++)
            {
                for (var y = 0; y < box.SizeY; y++)
                {
                    for (var x = 0; x < box.SizeX; x++)
                    {
                        if (inside[box.Index(x, y, z)] != 0)
                        {
                            counts[z]++;
                            sumX[z] += x;
                            sumY[z] += y;
                        }
                    }
                }
            }

            double total = counts.Sum();
            var meanZ = Enumerable.Range(0, box.SizeZ).Sum(z => (double)counts[z] * z) / total;
            var centroid = g.VoxelToPatient(box.X0 + (sumX.Sum() / total), box.Y0 + (sumY.Sum() / total), box.Z0 + meanZ);

            var occupied = Enumerable.Range(0, box.SizeZ).Where(z => counts[z] > 0).ToArray();
            var trimmed = Math.Min(occupied.Length / 3, Math.Max(0, (occupied.Length - options.MinSlicesForAxis) / 2));
            var middle = occupied[trimmed..(occupied.Length - trimmed)];
            Vector3 axis;
            if (Math.Abs(g.SliceDirection.Dot(PatientSuperior)) < Math.Cos(Math.PI / 4))
            {
                axis = PatientSuperior;
                warnings.Add("slices are not axial: body axis taken as the patient's superior direction");
            }
            else if (middle.Length < options.MinSlicesForAxis)
            {
                axis = g.SliceDirection;
                warnings.Add($"only {middle.Length} slice(s) through the middle of the body: body axis taken as the slice normal");
            }
            else
            {
                var posteriorAlongRows = g.ColumnDirection.Dot(-1 * PatientAnterior);
                var rowsFollowPatient = Math.Abs(posteriorAlongRows) >= 0.9 && Math.Abs(g.RowDirection.X) >= 0.9;
                var track = middle.Select(z => (
                    X: sumX[z] / counts[z],
                    Y: rowsFollowPatient ? PosteriorWall(inside, box, z, posteriorAlongRows > 0) : sumY[z] / counts[z])).ToArray();
                axis = FitLine(middle, track, box, g).Normalized();
                var tilt = Math.Acos(Math.Min(1, Math.Abs(axis.Dot(g.SliceDirection)))) * 180 / Math.PI;
                var source = rowsFollowPatient ? "centroids and posterior wall" : "centroids (grid rotated in plane)";
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"body axis from the {source} of {middle.Length} mid-body slices, {tilt:0.0}° from the slice normal"));
                if (tilt > options.AxisTiltWarningDegrees)
                {
                    warnings.Add(string.Create(CultureInfo.InvariantCulture, $"body axis {tilt:0}° from the slice normal is implausible for a lumbar body: check the mask"));
                }
            }

            if (axis.Dot(PatientSuperior) < 0)
            {
                axis *= -1;
            }

            var anterior = (PatientAnterior - (axis * PatientAnterior.Dot(axis))).Normalized();
            var lateral = axis.Cross(anterior).Normalized();
            var boxOrigin = g.VoxelToPatient(box.X0, box.Y0, box.Z0) - centroid;
            return new BodyFrame(centroid, axis,
                Projection.Along(axis, boxOrigin, g), Projection.Along(anterior, boxOrigin, g), Projection.Along(lateral, boxOrigin, g));
        }

        /// <summary>Mean row index of the most posterior body voxel over the middle half of the slice's occupied columns.</summary>
        private static double PosteriorWall(byte[] inside, BoxRegion box, int z, bool posteriorIsHigherRow)
        {
            int xMin = int.MaxValue, xMax = -1;
            for (var y = 0; y < box.SizeY; y++)
            {
                var row = inside.AsSpan(box.Index(0, y, z), box.SizeX);
                var first = row.IndexOfAnyExcept((byte)0);
                if (first >= 0)
                {
                    xMin = Math.Min(xMin, first);
                    xMax = Math.Max(xMax, row.LastIndexOfAnyExcept((byte)0));
                }
            }

            var quarter = (xMax - xMin) / 4;
            double sum = 0;
            var columns = 0;
            for (var x = xMin + quarter; x <= xMax - quarter; x++)
            {
                for (var step = 0; step < box.SizeY; step++)
                {
                    var y = posteriorIsHigherRow ? box.SizeY - 1 - step : step;
                    if (inside[box.Index(x, y, z)] != 0)
                    {
                        sum += y;
                        columns++;
                        break;
                    }
                }
            }

            return sum / columns;
        }

        /// <summary>Least-squares slope of the tracked in-plane position (patient mm) against the slice index: the axis, per slice.</summary>
        private static Vector3 FitLine(int[] slices, (double X, double Y)[] track, BoxRegion box, VolumeGeometry g)
        {
            var points = slices.Select((z, index) => g.VoxelToPatient(box.X0 + track[index].X, box.Y0 + track[index].Y, box.Z0 + z)).ToArray();
            var meanZ = slices.Average();
            var meanPoint = points.Aggregate((a, b) => a + b) * (1.0 / points.Length);
            var slope = new Vector3(0, 0, 0);
            double denominator = 0;
            for (var index = 0; index < slices.Length; index++)
            {
                slope += (points[index] - meanPoint) * (slices[index] - meanZ);
                denominator += (slices[index] - meanZ) * (slices[index] - meanZ);
            }

            return slope * (1.0 / denominator);
        }
    }

    /// <summary>
    /// Where the slab lies (mid-height along the axis) and the body's extent within it: width along Lateral, depth along
    /// Anterior (posterior edge = smallest Anterior coordinate), each grown by half a voxel's projection on both sides.
    /// </summary>
    internal sealed record SlabGeometry(double MidT, double CentreU, double WidthMm, double PosteriorV, double AnteriorV)
    {
        public double DepthMm => AnteriorV - PosteriorV;

        public double EllipseCentreV(MeasureOptions options) => PosteriorV + (options.EllipseCentreFromPosterior * DepthMm);

        public static SlabGeometry Measure(byte[] inside, BoxRegion box, BodyFrame frame, MeasureOptions options)
        {
            double tMin = double.PositiveInfinity, tMax = double.NegativeInfinity;
            ForEachInside(inside, box, (x, y, z) =>
            {
                var t = frame.Axial.At(x, y, z);
                tMin = Math.Min(tMin, t);
                tMax = Math.Max(tMax, t);
            });

            var mid = (tMin + tMax) / 2;
            double uMin = double.PositiveInfinity, uMax = double.NegativeInfinity, vMin = double.PositiveInfinity, vMax = double.NegativeInfinity;
            ForEachInside(inside, box, (x, y, z) =>
            {
                if (Math.Abs(frame.Axial.At(x, y, z) - mid) > options.SlabThicknessMm / 2)
                {
                    return;
                }

                var u = frame.Lateral.At(x, y, z);
                var v = frame.Anterior.At(x, y, z);
                uMin = Math.Min(uMin, u);
                uMax = Math.Max(uMax, u);
                vMin = Math.Min(vMin, v);
                vMax = Math.Max(vMax, v);
            });

            var halfU = frame.Lateral.VoxelExtent / 2;
            var halfV = frame.Anterior.VoxelExtent / 2;
            return new SlabGeometry(mid, (uMin + uMax) / 2, uMax - uMin + (2 * halfU), vMin - halfV, vMax + halfV);
        }

        private static void ForEachInside(byte[] inside, BoxRegion box, Action<int, int, int> visit)
        {
            for (var z = 0; z < box.SizeZ; z++)
            {
                for (var y = 0; y < box.SizeY; y++)
                {
                    for (var x = 0; x < box.SizeX; x++)
                    {
                        if (inside[box.Index(x, y, z)] != 0)
                        {
                            visit(x, y, z);
                        }
                    }
                }
            }
        }
    }
}
