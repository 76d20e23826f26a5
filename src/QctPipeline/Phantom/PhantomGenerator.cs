using QctPipeline.Domain;

namespace QctPipeline.Phantom;

/// <summary>A generated study: the volume, its labels on the same grid and everything truth.json states.</summary>
public sealed class PhantomStudy
{
    internal PhantomStudy(PhantomOptions options, CtNumberModel physics, PhantomAnatomy anatomy, ScanSetup setup, ReconstructionModel reconstruction, PhantomRenderer renderer, CtVolume volume, byte[] bodyLabels, byte[] vertebraLabels, byte[] ribLabels)
    {
        Options = options;
        Physics = physics;
        Anatomy = anatomy;
        Setup = setup;
        Reconstruction = reconstruction;
        SliceProfile = renderer.Profile;
        PlaneStepMm = renderer.PlaneStepMm;
        PlaneSamples = renderer.PlaneSamples;
        BeamHardening = renderer.BeamHardeningError;
        Volume = volume;
        BodyLabels = bodyLabels;
        VertebraLabels = vertebraLabels;
        RibLabels = ribLabels;
    }

    public PhantomOptions Options { get; }

    public CtNumberModel Physics { get; }

    public PhantomAnatomy Anatomy { get; }

    public ScanSetup Setup { get; }

    public ReconstructionModel Reconstruction { get; }

    /// <summary>The slice sensitivity profile along the table each slice was rendered with.</summary>
    public SliceSensitivityProfile SliceProfile { get; }

    /// <summary>Distance between the painted planes along the table, mm.</summary>
    public double PlaneStepMm { get; }

    /// <summary>The beam-hardening error (HU) the noise-free image carries at any point, 0 when beam hardening is off.</summary>
    public BeamHardeningField BeamHardening { get; }

    /// <summary>Plane offsets from a slice's centre (in slices, along the table) and their weights in that slice.</summary>
    public IReadOnlyList<(double SliceOffset, double Weight)> PlaneSamples { get; }

    public CtVolume Volume { get; }

    /// <summary>Vertebral bodies by level code (<see cref="SpineLabels"/>), same voxel order as <see cref="Volume"/>.</summary>
    public byte[] BodyLabels { get; }

    /// <summary>Whole vertebrae (body and posterior elements) by level code.</summary>
    public byte[] VertebraLabels { get; }

    /// <summary>Bony ribs by the code of the vertebra each articulates with (T1 → 1 … T13 → 13); costal cartilage is not labelled.</summary>
    public byte[] RibLabels { get; }

    /// <summary>
    /// The mean HA density (mg/cm³) rendered into a vertebra's trabecular core over some voxels of a grid in patient
    /// space, texture included, each voxel sampled where the renderer painted it: at the planes around its centre along
    /// the table, weighted by the slice sensitivity profile: the truth of an ROI, which samples the texture differently from the whole core (truth.json's
    /// TrueVbmd), endplate sclerosis included where the samples fall in it. Voxels outside the core are counted as core. <paramref name="weights"/> is empty or one per voxel.
    /// </summary>
    public double TrueTrabecularDensity(string level, VolumeGeometry grid, ReadOnlySpan<int> voxelIndices, ReadOnlySpan<float> weights)
    {
        var vertebra = Anatomy.Vertebrae.SingleOrDefault(v => v.Name == level) ?? throw new ArgumentException($"no vertebra {level} in this phantom", nameof(level));
        var texture = Anatomy.TrabecularTexture;
        var table = Setup.Geometry.SliceDirection * Setup.Geometry.Spacing.Z;
        double sum = 0, total = 0;
        for (var n = 0; n < voxelIndices.Length; n++)
        {
            var index = voxelIndices[n];
            var (i, j, k) = (index % grid.SizeX, index / grid.SizeX % grid.SizeY, index / grid.SliceLength);
            var weight = weights.IsEmpty ? 1.0 : weights[n];
            foreach (var (offset, planeWeight) in PlaneSamples)
            {
                var patient = grid.VoxelToPatient(i, j, k) + (table * offset);
                var anatomyPoint = Setup.ToAnatomy(new System.Numerics.Vector3((float)patient.X, (float)patient.Y, (float)patient.Z));
                sum += weight * planeWeight * (1 + (PhantomAnatomy.TrabecularTextureAmplitude * texture.Sample(anatomyPoint))) * vertebra.DensityFactor(anatomyPoint);
                total += weight * planeWeight;
            }
        }

        return total == 0 ? double.NaN : vertebra.TrabecularBmd * sum / total;
    }

    /// <summary>
    /// The mean beam-hardening error (HU) over some voxels of a grid in patient space, weighted like
    /// <see cref="TrueTrabecularDensity"/>: what the noise-free image adds there to the CT numbers of the HU lines (0 when
    /// <see cref="PhantomOptions.BeamHardening"/> is 0).
    /// </summary>
    public double BeamHardeningHu(VolumeGeometry grid, ReadOnlySpan<int> voxelIndices, ReadOnlySpan<float> weights)
    {
        double sum = 0, total = 0;
        for (var n = 0; n < voxelIndices.Length; n++)
        {
            var index = voxelIndices[n];
            var weight = weights.IsEmpty ? 1.0 : weights[n];
            sum += weight * BeamHardening.At(grid.VoxelToPatient(index % grid.SizeX, index / grid.SizeX % grid.SizeY, index / grid.SliceLength));
            total += weight;
        }

        return total == 0 ? 0 : sum / total;
    }
}

public static class PhantomGenerator
{
    /// <summary>The path the patient's own size is first estimated under (the estimate barely depends on it).</summary>
    private const double AveragePatientWaterPathMm = 250;

    /// <summary>Builds the anatomy and renders the series; throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public static PhantomStudy Generate(PhantomOptions options) => Generate(options, []);

    /// <summary>As <see cref="Generate(PhantomOptions)"/>, with extra operations painted after the anatomy (test objects).</summary>
    internal static PhantomStudy Generate(PhantomOptions options, IReadOnlyList<PaintOperation> extraOperations)
    {
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem);
        }

        var shifts = new TissueShifts(options.FatHuShift, options.MuscleHuShift, options.BloodHuShift);
        var waterPath = options.BeamWaterPathMm
            ?? new PhantomAnatomy(options, new CtNumberModel(options.Kvp, options.BeamFiltrationMm, AveragePatientWaterPathMm) { Shifts = shifts }).WaterEquivalentDiameterAtL1Mm;
        var physics = new CtNumberModel(options.Kvp, options.BeamFiltrationMm, waterPath) { Shifts = shifts };
        var anatomy = new PhantomAnatomy(options, physics);
        var setup = new ScanSetup(options, anatomy, physics);
        var reconstruction = new ReconstructionModel(options.Kernel, options.ResolvedPixelSpacingMm, options.NoiseSigmaHu);
        var renderer = new PhantomRenderer(options, physics, anatomy, setup, reconstruction, extraOperations);
        var (hu, bodies, vertebrae, ribs) = renderer.Render();
        return new PhantomStudy(options, physics, anatomy, setup, reconstruction, renderer, new CtVolume(setup.Geometry, hu), bodies, vertebrae, ribs);
    }
}
