using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>One reference-tissue ROI: median HU over its pixels, a robust SD (1.4826 × MAD), its size and slices.</summary>
public sealed record TissueRoi(ReferenceTissue Tissue, double MedianHu, double RobustSdHu, double AreaMm2PerSlice, long Voxels, int Slices);

/// <summary>The reference tissues found around L1; a tissue that could not be found is absent and named in the warnings.</summary>
public sealed record ReferenceTissues(IReadOnlyList<TissueRoi> Rois, IReadOnlyList<string> Warnings)
{
    public TissueRoi? Of(ReferenceTissue tissue) => Rois.FirstOrDefault(roi => roi.Tissue == tissue);
}

/// <summary>
/// Internal (phantomless) calibration: reference tissues on the slices within
/// <see cref="CalibrationOptions.ReferenceSlabHalfMm"/> of L1, each ROI chosen automatically and summarised by its
/// median (robust to the odd vessel or partial-volume pixel), then a least-squares line through the tissues' measured
/// HU against their HA-equivalent densities (<see cref="ReferenceTissueModel"/>).
/// <list type="bullet">
/// <item>Air: outside the body (flood-filled from the image edge), ≥ 10 mm from it, where the 3×3 mean is below
/// −950 HU (foam table pads, about −900 HU, are not air).</item>
/// <item>Subcutaneous fat: −200…−30 HU within 30 mm of the skin, eroded by two pixels so edges between other tissues
/// do not pass for fat.</item>
/// <item>Paraspinal muscle: 0…100 HU, eroded likewise, 15–65 mm either side and 25–90 mm behind the L1 centroid
/// (erector spinae lie behind the transverse processes).</item>
/// <item>Aortic blood: per slice, a 5 mm disc at the centre of the uniform 7 mm disc nearest the L1 centroid, 20–75 mm
/// in front of it, from 15 mm right to 50 mm left (the abdominal aorta lies against the spine, left-anterior); median
/// over slices. Used for calibration only without contrast.</item>
/// </list>
/// </summary>
public static class InternalCalibrator
{
    /// <summary>ROIs smaller than this per slice are not used (primer: each ROI ≥ 10 mm²).</summary>
    private const double MinimumRoiMm2 = 10;

    private const float BodyThresholdHu = -500;
    private const double AirMarginMm = 10;
    private const float AirSmoothedCeilingHu = -950;
    private const double SubcutaneousDepthMm = 30;
    private const double AortaDiscRadiusMm = 5;

    /// <summary>The aorta (10–13 mm radius) holds a uniform disc this large; the 5 mm disc measured at its centre stays 2 mm clear of the wall.</summary>
    private const double AortaSearchRadiusMm = 7;

    public static ReferenceTissues Measure(CtVolume volume, Vector3 l1CentroidLps, CalibrationOptions options)
    {
        var geometry = volume.Geometry;
        var ck = geometry.PatientToVoxel(l1CentroidLps).Z;
        var centreK = (int)Math.Round(ck);
        var warnings = new List<string>();
        if (centreK < 0 || centreK >= geometry.SizeZ)
        {
            return new ReferenceTissues([], ["the L1 centroid lies outside the series: no reference tissues measured"]);
        }

        var slices = VolumeSampling.SlabAround(geometry, centreK, options.ReferenceSlabHalfMm).ToArray();
        var aortaDisc = VolumeSampling.Disc(AortaDiscRadiusMm, geometry.Spacing.X, geometry.Spacing.Y);
        var aortaSearchDisc = VolumeSampling.Disc(AortaSearchRadiusMm, geometry.Spacing.X, geometry.Spacing.Y);
        var perSlice = new (Dictionary<ReferenceTissue, List<float>> Values, double? Aorta)[slices.Length];
        Parallel.For(0, slices.Length, n =>
        {
            var k = slices[n];
            var slice = volume.Slice(k);
            var regions = SliceRegions.Of(slice, geometry, k, l1CentroidLps);
            var found = new Dictionary<ReferenceTissue, List<float>>();
            foreach (var (tissue, mask) in regions.Masks)
            {
                var list = found[tissue] = [];
                for (var index = 0; index < mask.Length; index++)
                {
                    if (mask[index])
                    {
                        list.Add(slice[index]);
                    }
                }
            }

            perSlice[n] = (found, AortaDisc(slice, geometry, l1CentroidLps, k, aortaSearchDisc, aortaDisc, regions.NoiseSd));
        });

        var values = Enum.GetValues<ReferenceTissue>().ToDictionary(tissue => tissue, tissue => perSlice.SelectMany(p => p.Values.GetValueOrDefault(tissue) ?? []).ToList());
        var aortaMeans = perSlice.Where(p => p.Aorta is not null).Select(p => p.Aorta!.Value).ToList();

        var pixelArea = geometry.Spacing.X * geometry.Spacing.Y;
        var rois = new List<TissueRoi>();
        foreach (var tissue in new[] { ReferenceTissue.Air, ReferenceTissue.Fat, ReferenceTissue.Muscle })
        {
            var found = values[tissue];
            var area = found.Count * pixelArea / slices.Length;
            if (area < MinimumRoiMm2)
            {
                warnings.Add(Invariant($"{tissue} ROI not found near L1 ({area:0.#} mm² per slice, at least {MinimumRoiMm2} needed)"));
                continue;
            }

            rois.Add(Summarise(tissue, found.Select(v => (double)v).ToList(), area, slices.Length));
        }

        if (aortaMeans.Count * 2 >= slices.Length)
        {
            var median = Statistics.Median(aortaMeans);
            var spread = Statistics.RobustStandardDeviation(aortaMeans, median);
            rois.Add(new TissueRoi(ReferenceTissue.Blood, median, spread, aortaDisc.Length * pixelArea, (long)aortaDisc.Length * aortaMeans.Count, aortaMeans.Count));
        }
        else
        {
            warnings.Add(Invariant($"aorta not found in front of L1 (a uniform disc on {aortaMeans.Count} of {slices.Length} slices)"));
        }

        return new ReferenceTissues(rois, warnings);
    }

    /// <summary>The fit through the measured tissues; blood only when no contrast is present. Method None with the reason when fewer than two tissues remain.</summary>
    public static Calibration Calibrate(ReferenceTissues tissues, double? kvp, bool contrastPresent, CalibrationOptions options)
    {
        var warnings = new List<string>(tissues.Warnings);
        var used = tissues.Rois.Where(roi => roi.Tissue != ReferenceTissue.Blood || !contrastPresent).ToList();
        if (contrastPresent && tissues.Of(ReferenceTissue.Blood) is not null)
        {
            warnings.Add("aortic blood not used as a reference: contrast present");
        }

        if (used.Count < 2)
        {
            return Calibration.None(Invariant($"internal calibration needs two reference tissues, found {used.Count}"), warnings);
        }

        var densities = new List<double>();
        foreach (var roi in used)
        {
            var (density, modelWarnings) = ReferenceTissueModel.EquivalentDensity(roi.Tissue, kvp);
            densities.Add(density);
            warnings.AddRange(modelWarnings.Where(w => !warnings.Contains(w)));
        }

        var fit = LinearFit.Of(densities, [.. used.Select(roi => roi.MedianHu)]);
        warnings.Add($"internal calibration assumes {ReferenceTissueModel.Description}; a scanner with a different beam shifts the slope");
        var calibration = new Calibration
        {
            Method = CalibrationMethod.Internal,
            InterceptHu = fit.Intercept,
            SlopeHuPerMgPerCm3 = fit.Slope,
            R = fit.R,
            Reference = "reference tissues: " + string.Join(", ", used.Select(roi => roi.Tissue.ToString().ToLowerInvariant())),
            Points = [.. used.Select((roi, index) => new CalibrationPoint(
                roi.Tissue.ToString().ToLowerInvariant(),
                densities[index],
                "HA-equivalent",
                densities[index],
                roi.MedianHu,
                fit.At(densities[index]),
                roi.AreaMm2PerSlice,
                roi.Voxels,
                roi.Slices))],
            Warnings = warnings,
        };
        return OgoRule.Apply(calibration, options);
    }

    private static TissueRoi Summarise(ReferenceTissue tissue, List<double> values, double areaPerSlice, int slices)
    {
        var median = Statistics.Median(values);
        return new TissueRoi(tissue, median, Statistics.RobustStandardDeviation(values, median), areaPerSlice, values.Count, slices);
    }

    /// <summary>
    /// Mean HU of a 5 mm disc at the centre of the uniform 7 mm disc nearest the L1 centroid in the aorta's search window
    /// on one slice; null when none is uniform. Nearest, because the aorta lies against the spine while the organs that
    /// are as uniform (liver 54, pancreas, bowel) lie further forward; not brightest, because the brightest of many noisy
    /// discs reads high and is often one of those organs (52 HU for 46 HU blood).
    /// </summary>
    private static double? AortaDisc(ReadOnlySpan<float> slice, VolumeGeometry geometry, Vector3 centroid, int k, (int Di, int Dj)[] searchDisc, (int Di, int Dj)[] disc, double noiseSd)
    {
        var sdLimit = (1.2 * noiseSd) + 3;
        var stepI = geometry.RowDirection * geometry.Spacing.X;
        var nearest = double.MaxValue;
        (int I, int J)? centre = null;
        for (var j = 0; j < geometry.SizeY; j++)
        {
            var offset = geometry.VoxelToPatient(0, j, k) - centroid;
            for (var i = 0; i < geometry.SizeX; i++, offset += stepI)
            {
                if (offset.X < -15 || offset.X > 50 || offset.Y < -75 || offset.Y > -20)
                {
                    continue;
                }

                var distance = (offset.X * offset.X) + (offset.Y * offset.Y);
                if (distance < nearest && VolumeSampling.Stats(slice, geometry.SizeX, geometry.SizeY, i, j, searchDisc) is { } stats && stats.Sd < sdLimit && stats.Mean > 0)
                {
                    nearest = distance;
                    centre = (i, j);
                }
            }
        }

        return centre is { } c ? VolumeSampling.Stats(slice, geometry.SizeX, geometry.SizeY, c.I, c.J, disc)?.Mean : null;
    }
    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Per-slice pixel sets of air, fat and muscle, and the noise SD seen in the fat.</summary>
    private sealed record SliceRegions(IReadOnlyList<(ReferenceTissue Tissue, bool[] Mask)> Masks, double NoiseSd)
    {
        public static SliceRegions Of(ReadOnlySpan<float> slice, VolumeGeometry geometry, int k, Vector3 centroid)
        {
            var (sizeX, sizeY) = (geometry.SizeX, geometry.SizeY);
            var pixel = geometry.Spacing.X;
            var smoothed = BoxMean(slice, sizeX, sizeY);
            var outside = OutsideBody(slice, sizeX, sizeY);
            var distanceFromBody = ChamferDistance(outside, sizeX, sizeY, fromInside: false);
            var depth = ChamferDistance(outside, sizeX, sizeY, fromInside: true);
            var air = new bool[slice.Length];
            var fat = new bool[slice.Length];
            var muscle = new bool[slice.Length];
            for (var j = 0; j < sizeY; j++)
            {
                for (var i = 0; i < sizeX; i++)
                {
                    var index = i + sizeX * j;
                    if (outside[index])
                    {
                        air[index] = distanceFromBody[index] * pixel >= AirMarginMm && smoothed[index] < AirSmoothedCeilingHu;
                        continue;
                    }

                    fat[index] = depth[index] * pixel <= SubcutaneousDepthMm && smoothed[index] is > -200 and < -30;
                    var offset = geometry.VoxelToPatient(i, j, k) - centroid;
                    muscle[index] = Math.Abs(offset.X) is >= 15 and <= 65 && offset.Y is >= 25 and <= 90 && smoothed[index] is > 0 and < 100;
                }
            }

            fat = Erode(fat, sizeX, sizeY, 2);
            muscle = Erode(muscle, sizeX, sizeY, 2);
            var fatValues = new List<double>();
            for (var index = 0; index < fat.Length; index++)
            {
                if (fat[index])
                {
                    fatValues.Add(slice[index]);
                }
            }

            var noise = fatValues.Count > 10 ? Statistics.RobustStandardDeviation(fatValues, Statistics.Median(fatValues)) : 20;
            return new SliceRegions([(ReferenceTissue.Air, air), (ReferenceTissue.Fat, fat), (ReferenceTissue.Muscle, muscle)], noise);
        }

        private static float[] BoxMean(ReadOnlySpan<float> slice, int sizeX, int sizeY)
        {
            var result = new float[slice.Length];
            for (var j = 0; j < sizeY; j++)
            {
                for (var i = 0; i < sizeX; i++)
                {
                    float sum = 0;
                    var count = 0;
                    for (var dj = -1; dj <= 1; dj++)
                    {
                        for (var di = -1; di <= 1; di++)
                        {
                            var (x, y) = (i + di, j + dj);
                            if (x >= 0 && y >= 0 && x < sizeX && y < sizeY)
                            {
                                sum += slice[x + sizeX * y];
                                count++;
                            }
                        }
                    }

                    result[i + sizeX * j] = sum / count;
                }
            }

            return result;
        }

        /// <summary>Pixels at or below the body threshold reachable from the image edge (air around the patient, and the table's foam).</summary>
        private static bool[] OutsideBody(ReadOnlySpan<float> slice, int sizeX, int sizeY)
        {
            var outside = new bool[slice.Length];
            var queue = new Queue<int>();
            void Visit(int index, ReadOnlySpan<float> pixels)
            {
                if (!outside[index] && pixels[index] <= BodyThresholdHu)
                {
                    outside[index] = true;
                    queue.Enqueue(index);
                }
            }

            for (var i = 0; i < sizeX; i++)
            {
                Visit(i, slice);
                Visit(i + sizeX * (sizeY - 1), slice);
            }

            for (var j = 0; j < sizeY; j++)
            {
                Visit(sizeX * j, slice);
                Visit(sizeX - 1 + sizeX * j, slice);
            }

            while (queue.Count > 0)
            {
                var index = queue.Dequeue();
                var (i, j) = (index % sizeX, index / sizeX);
                if (i > 0)
                {
                    Visit(index - 1, slice);
                }

                if (i < sizeX - 1)
                {
                    Visit(index + 1, slice);
                }

                if (j > 0)
                {
                    Visit(index - sizeX, slice);
                }

                if (j < sizeY - 1)
                {
                    Visit(index + sizeX, slice);
                }
            }

            return outside;
        }

        /// <summary>Chamfer (3-4) distance in pixels to the nearest pixel of the other set: into the body (depth) or away from it.</summary>
        private static double[] ChamferDistance(bool[] outside, int sizeX, int sizeY, bool fromInside)
        {
            const double far = 1e9;
            var distance = new double[outside.Length];
            for (var index = 0; index < outside.Length; index++)
            {
                distance[index] = outside[index] == fromInside ? 0 : far;
            }

            (int Di, int Dj, double Cost)[] forward = [(-1, 0, 3), (-1, -1, 4), (0, -1, 3), (1, -1, 4)];
            for (var pass = 0; pass < 2; pass++)
            {
                var sign = pass == 0 ? 1 : -1;
                for (var step = 0; step < outside.Length; step++)
                {
                    var index = pass == 0 ? step : outside.Length - 1 - step;
                    var (i, j) = (index % sizeX, index / sizeX);
                    foreach (var (di, dj, cost) in forward)
                    {
                        var (x, y) = (i + sign * di, j + sign * dj);
                        if (x >= 0 && y >= 0 && x < sizeX && y < sizeY)
                        {
                            distance[index] = Math.Min(distance[index], distance[x + sizeX * y] + cost);
                        }
                    }
                }
            }

            for (var index = 0; index < distance.Length; index++)
            {
                distance[index] /= 3;
            }

            return distance;
        }

        private static bool[] Erode(bool[] mask, int sizeX, int sizeY, int radius)
        {
            var result = new bool[mask.Length];
            for (var j = radius; j < sizeY - radius; j++)
            {
                for (var i = radius; i < sizeX - radius; i++)
                {
                    var keep = mask[i + sizeX * j];
                    for (var dj = -radius; keep && dj <= radius; dj++)
                    {
                        for (var di = -radius; keep && di <= radius; di++)
                        {
                            keep = mask[i + di + sizeX * (j + dj)];
                        }
                    }

                    result[i + sizeX * j] = keep;
                }
            }

            return result;
        }
    }
}
