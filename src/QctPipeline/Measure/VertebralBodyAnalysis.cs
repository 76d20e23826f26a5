using System.Globalization;
using QctPipeline.Anatomy;
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
    /// <summary>The eroded ROI's mean HU gathered again with the erosion and position varied (<see cref="RoiPlacement"/>).</summary>
    public required double[] PlacementMeansHu { get; init; }

    /// <summary>The slices the body's box spans: where the image noise beside it is measured.</summary>
    public required (int From, int Count) Slices { get; init; }

    /// <summary>
    /// Null when the mask is empty. With an <paramref name="outline"/> the image found, the body's frame, its Genant heights
    /// and its endplates come from it (voxels whose slice reaches an endplate are left out of the ROIs); a bare mask
    /// (a phantom's truth) has its frame and wall heights estimated from its own shape.
    /// </summary>
    public static VertebralBodyAnalysis? Analyze(CtVolume volume, Mask body, BodyOutline? outline, VertebralLevel level, MeasureOptions options)
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

        var whole = outline is null ? !TouchesGridEdge(inside, box, g) : !outline.CutByScanEnd;
        if (!whole)
        {
            reasons.Add("the body is cut by the edge of the scan");
        }

        var frame = outline is null ? BoxFrame.Estimate(inside, box, g, options, warnings) : BoxFrame.FromOutline(outline.Frame, box, g);
        var slab = SlabGeometry.Measure(inside, box, frame, options);
        var heights = outline?.Heights ?? MaskHeights.Measure(inside, box, frame, slab, Math.Min(g.Spacing.X, g.Spacing.Y));
        var grade = GenantGrade(heights.Loss, options);
        var uncertainty = HeightLossUncertainty(heights, frame.SuperiorAxis, g);
        var confidentGrade = GenantGrade(heights.Loss - uncertainty, options);
        var heightText = Invariant($"anterior {heights.AnteriorMm:0.0}, middle {heights.MiddleMm:0.0}, posterior {heights.PosteriorMm:0.0} mm between the endplates {(outline is null ? "of the mask" : "the image shows")}");
        var review = new List<string>();
        if (confidentGrade >= options.UnusableFractureGrade)
        {
            reasons.Add(Invariant($"height loss {heights.Loss:P0} ± {uncertainty:P0} ({heightText}): Genant grade {grade} fracture"));
        }
        else if (grade >= options.UnusableFractureGrade)
        {
            review.Add(Invariant($"{level}: height loss {heights.Loss:P0} ± {uncertainty:P0} ({heightText}) may be a Genant grade {grade} fracture; at this slice spacing it cannot be confirmed, so the level is still measured"));
        }
        else if (grade > 0)
        {
            warnings.Add(Invariant($"{level}: height loss {heights.Loss:P0} ({heightText}): Genant grade {grade} deformity, reported; the level is still measured"));
        }

        var partialVolume = outline is null ? 0 : EndplatePartialVolume(eroded, box, g, frame, outline, options);
        if (partialVolume > 0)
        {
            warnings.Add(Invariant($"{level}: {partialVolume} eroded-body voxels whose {g.Spacing.Z:0.#} mm slice reaches an endplate or disc left out of the ROIs (partial volume)"));
        }

        var huScale = HuScale(options, warnings);
        var islandHu = BoneIslandFinder.IslandThresholdHu(eroded, hu, options, huScale);
        var (excluded, islands, largestBright) = BoneIslandFinder.FindBoneIslands(eroded, hu, box, voxelVolume, islandHu, options);
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

            if (LesionCheck.Measure(eroded, excluded, hu, box, g.Spacing, huScale, options, warnings) is { } texture)
            {
                blockDeviation = texture.MaxDeviationHu;
                if (texture.LargestFocusBlocks >= options.LesionMinBlocks)
                {
                    reasons.Add(Invariant($"heterogeneous trabecular HU: {texture.LargestFocusBlocks} adjoining {options.LesionBlockMm:0.#} mm blocks deviate from the median block of {texture.MedianBlockHu:0} HU by more than {texture.FocusLimitHu:0} HU (largest {texture.MaxDeviationHu:0}; the blocks' own spread {texture.SpreadHu:0} HU): lesion"));
                }
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

        var assessment = new VertebraAssessment(level, reasons.Count == 0, reasons, heights.AnteriorMm, heights.PosteriorMm, heights.Loss,
            blockDeviation, erodedHu.Length, erodedMean, largestBright)
        {
            MiddleHeightMm = heights.MiddleMm,
            FractureGrade = grade,
            PartialVolumeVoxels = partialVolume,
            Whole = whole,
            ErodedVolumeMl = erodedHu.Length * voxelVolume / 1000,
            ReviewNotes = review,
        };
        var roi = new byte[eroded.Length];
        for (var index = 0; index < roi.Length; index++)
        {
            roi[index] = (byte)(eroded[index] & (excluded[index] ^ 1));
        }

        var placement = RoiPlacement.VariantMeansHu(inside, roi, excluded, hu, box, g.Spacing, variant =>
        {
            if (outline is not null)
            {
                EndplatePartialVolume(variant, box, g, frame, outline, options);
            }
        }, options);
        return new VertebralBodyAnalysis(assessment, erodedHu, rois.ErodedIndices, ellipseHu, rois.EllipseWeights, rois.EllipseIndices, islands, voxelVolume, warnings)
        {
            PlacementMeansHu = placement,
            Slices = (box.Z0, box.SizeZ),
        };
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// How far a height loss can be off from the grid alone: an endplate is placed to within about half a voxel's extent
    /// along the body's axis, against the tallest height. At 5 mm slices that is 10 % of a 25 mm body, so a 30 % loss
    /// there is not yet a grade-2 fracture; at 1.25 mm, 2.5 %.
    /// </summary>
    private static double HeightLossUncertainty(VertebralHeights heights, Vector3 axis, VolumeGeometry g)
    {
        var halfVoxel = 0.5 * ((g.Spacing.Z * Math.Abs(g.SliceDirection.Dot(axis))) + (g.Spacing.X * Math.Abs(g.RowDirection.Dot(axis))) + (g.Spacing.Y * Math.Abs(g.ColumnDirection.Dot(axis))));
        var tallest = new[] { heights.AnteriorMm, heights.MiddleMm, heights.PosteriorMm }.Where(h => !double.IsNaN(h)).DefaultIfEmpty(0).Max();
        return tallest > 0 ? halfVoxel / tallest : 0;
    }

    /// <summary>Genant's semiquantitative grade of a height loss: below 20 % normal, 20–25 % grade 1 (mild), 25–40 % grade 2, above 40 % grade 3.</summary>
    internal static int GenantGrade(double loss, MeasureOptions options) =>
        loss < options.GenantGrade1Loss ? 0 : loss < options.GenantGrade2Loss ? 1 : loss <= options.GenantGrade3Loss ? 2 : 3;

    /// <summary>
    /// Leaves out of the eroded body (in place) every voxel whose slice, along the body's axis, reaches within 1 mm of the
    /// endplate the image found above or below its column: at 5 mm slices a voxel 4 mm inside still mixes endplate or disc
    /// when the body is tilted against the slices. Returns how many were left out.
    /// </summary>
    private static int EndplatePartialVolume(byte[] eroded, BoxRegion box, VolumeGeometry g, BoxFrame frame, BodyOutline outline, MeasureOptions options)
    {
        var axis = outline.Frame.Axis;
        var reach = 0.5 * ((g.Spacing.Z * Math.Abs(g.SliceDirection.Dot(axis))) + (g.Spacing.X * Math.Abs(g.RowDirection.Dot(axis))) + (g.Spacing.Y * Math.Abs(g.ColumnDirection.Dot(axis))));
        var excluded = 0;
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

                    var t = frame.Axial.At(x, y, z);
                    if (outline.Endplates.At(frame.Lateral.At(x, y, z), frame.Anterior.At(x, y, z)) is not { } endplates
                        || t - reach < endplates.Lower + options.EndplateClearanceMm || t + reach > endplates.Upper - options.EndplateClearanceMm)
                    {
                        eroded[index] = 0;
                        excluded++;
                    }
                }
            }
        }

        return excluded;
    }

    /// <summary>Bone HU at the series' kVp relative to 120 kVp, by HA's HU per mg/cm³ (the HU limits are stated at 120 kVp).</summary>
    private static double HuScale(MeasureOptions options, List<string> warnings)
    {
        if (options.Kvp is null)
        {
            warnings.Add("kVp not stated: the HU limits for islands, lesions and plausibility are taken at 120 kVp");
        }

        return ReferenceTissueModel.HaSlope(options.Kvp) / ReferenceTissueModel.HaSlope(ReferenceTissueModel.DefaultKvp);
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
    /// The eroded-body values, and the ellipse's values with weights: the ellipse is an elliptic cylinder along the
    /// body's axis (so it follows a tilted body from slice to slice), cut to the slab; a voxel's weight is the fraction of
    /// its extent along the axis that lies inside the slab.
    /// </summary>
    private static (float[] Eroded, int[] ErodedIndices, float[] Ellipse, float[] EllipseWeights, int[] EllipseIndices) GatherRois(
        byte[] eroded, byte[] excluded, float[] hu, BoxRegion box, VolumeGeometry g, BoxFrame frame, SlabGeometry slab, MeasureOptions options)
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
}
