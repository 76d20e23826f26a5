using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

/// <summary>One reference-tissue ROI: median HU over its pixels, a robust SD (1.4826 × MAD), its size and slices.</summary>
public sealed record TissueRoi(ReferenceTissue Tissue, double MedianHu, double RobustSdHu, double AreaMm2PerSlice, long Voxels, int Slices);

/// <summary>
/// The reference tissues found around L1 (a tissue that could not be found is absent and named in the warnings) and
/// the patient's water-equivalent diameter there (median over the slab's slices; null when nothing was measured).
/// </summary>
public sealed record ReferenceTissues(IReadOnlyList<TissueRoi> Rois, IReadOnlyList<string> Warnings, double? WaterEquivalentDiameterMm = null)
{
    public TissueRoi? Of(ReferenceTissue tissue) => Rois.FirstOrDefault(roi => roi.Tissue == tissue);
}

/// <summary>
/// Internal (phantomless) calibration: reference tissues on the slices within
/// <see cref="CalibrationOptions.ReferenceSlabHalfMm"/> of L1, each ROI chosen automatically and summarised by its
/// median (robust to the odd vessel or partial-volume pixel), and the patient's water-equivalent diameter; then a
/// weighted least-squares line through the tissues' measured HU against their HA-equivalent densities at that
/// patient's size (<see cref="ReferenceTissueModel"/>, <see cref="TissueFit"/>).
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
        var perSlice = new (Dictionary<ReferenceTissue, List<float>> Values, double? Aorta, double WaterEquivalentDiameterMm, bool BodyCut)[slices.Length];
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

            perSlice[n] = (found, AortaDisc(slice, geometry, l1CentroidLps, k, aortaSearchDisc, aortaDisc, regions.NoiseSd), regions.WaterEquivalentDiameterMm, regions.BodyCutByEdge);
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

        var diameter = Statistics.Median(perSlice.Select(p => p.WaterEquivalentDiameterMm));
        if (perSlice.Any(p => p.BodyCut))
        {
            warnings.Add(Invariant($"the body touches the image's edge near L1: its water-equivalent diameter ({diameter:0} mm) is too small and the tissue model's beam too soft"));
        }

        return new ReferenceTissues(rois, warnings, diameter);
    }

    /// <summary>
    /// The line through the measured tissues (blood only without contrast): weighted least squares with each tissue
    /// weighted by its population spread (<see cref="ReferenceTissueModel.PopulationSdHu"/>), the tissue model taken at
    /// the patient's water-equivalent diameter. A tissue whose residual against the line through the others exceeds
    /// <see cref="CalibrationOptions.TissueOutlierSd"/> SDs is left out with a warning; a fit whose χ² the spreads cannot
    /// explain (p &lt; 0.001) is rejected with the residuals as the reason. The slope's uncertainty adds the filtration
    /// the image cannot show and the water path's. Method None with the reason when fewer than two tissues remain.
    /// </summary>
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

        var (beam, modelWarnings) = ReferenceTissueModel.At(kvp, tissues.WaterEquivalentDiameterMm);
        warnings.AddRange(modelWarnings);
        if (TissueFit.Outlier(used, beam, options.TissueOutlierSd) is { } outlier)
        {
            warnings.Add(outlier.Warning);
            used.Remove(outlier.Roi);
        }

        var fit = TissueFit.Of(used, beam);
        if (TissueFit.Rejection(used, beam, fit) is { } rejection)
        {
            return Calibration.None(rejection, warnings);
        }

        var (beamSlopeSpread, basis) = TissueFit.BeamSlopeSpread(kvp, beam, tissues.WaterEquivalentDiameterMm, options.WaterPathRelativeSd);
        warnings.Add(Invariant($"internal calibration assumes {ReferenceTissueModel.Description}: {beam.WaterPathMm:0} mm here; {basis}"));
        var slopeVariance = fit.SlopeVariance + Math.Pow(beamSlopeSpread * fit.Slope, 2);
        var densities = used.Select(roi => beam.Density(roi.Tissue)).ToList();
        var calibration = new Calibration
        {
            Method = CalibrationMethod.Internal,
            InterceptHu = fit.Intercept,
            SlopeHuPerMgPerCm3 = fit.Slope,
            R = LinearFit.Of(densities, [.. used.Select(roi => roi.MedianHu)]).R,
            Uncertainty = new LineUncertainty(fit.InterceptVariance, slopeVariance, fit.Covariance, Invariant(
                $"weighted least squares over {used.Count} tissues with their population spreads (χ² {fit.ChiSquare:0.0} on {fit.DegreesOfFreedom} degrees of freedom); slope also ±{100 * beamSlopeSpread:0.0} % (1 SD) for the beam")),
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
}
