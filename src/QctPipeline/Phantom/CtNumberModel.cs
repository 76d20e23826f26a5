namespace QctPipeline.Phantom;

/// <summary>A linear relation HU = Intercept + Slope × density, the form every calibration in the pipeline fits.</summary>
public sealed record HuLine(string Material, string DensityUnit, double Intercept, double Slope)
{
    public double HuAt(double density) => Intercept + Slope * density;

    public double DensityAt(double hu) => (hu - Intercept) / Slope;
}

/// <summary>
/// CT numbers at one tube voltage. The detected spectrum is Kramers' bremsstrahlung (photon number ∝ (kVp − E)/E,
/// Kramers 1923) hardened by the scanner's filtration and by an average patient path, then weighted by energy as an
/// energy-integrating detector does. A material's effective attenuation is the weighted mean of μ(E) — exact to first
/// order in the material's contribution to the path, which keeps HU linear in density per material, as in real
/// calibration. HU = 1000 (μ − μ_water) / (μ_water − μ_air).
/// <para>
/// The filtration (7 mm Al equivalent: inherent plus flat and bow-tie filter centre) and the 200 mm water path are
/// typical of body CT and were chosen so that the model reproduces the published kVp dependence of L1 trabecular HU
/// (140.9 HU at 120 kVp, 148.1 at 100, 131.3 at 140; AAPM 2026, 16,747 scans) — see docs/decisions/0003-phantom-physics.md.
/// Tungsten characteristic lines and scatter are not modelled.
/// </para>
/// </summary>
public sealed class CtNumberModel
{
    private const double DefaultFiltrationAluminiumMm = 7.0;
    private const double DefaultPatientWaterPathMm = 250.0;
    private const double LowestEnergyKeV = 10.0;
    private const double EnergyStepKeV = 0.5;

    private readonly double[] energies;
    private readonly double[] weights;
    private readonly double waterMu;
    private readonly double airMu;

    public CtNumberModel(double kvp)
        : this(kvp, DefaultFiltrationAluminiumMm, DefaultPatientWaterPathMm)
    {
    }

    /// <summary>With a different beam: the scanner's filtration and the patient's size.</summary>
    internal CtNumberModel(double kvp, double filtrationAluminiumMm, double patientWaterPathMm)
    {
        if (kvp is < 60 or > 150)
        {
            throw new ArgumentOutOfRangeException(nameof(kvp), kvp, "tube voltage must be 60–150 kVp");
        }

        Kvp = kvp;
        FiltrationAluminiumMm = filtrationAluminiumMm;
        WaterPathMm = patientWaterPathMm;
        var count = (int)((kvp - LowestEnergyKeV) / EnergyStepKeV);
        energies = new double[count];
        weights = new double[count];
        var total = 0.0;
        for (var index = 0; index < count; index++)
        {
            var energy = LowestEnergyKeV + (index + 0.5) * EnergyStepKeV;
            var photons = (kvp - energy) / energy;
            var filtration = MaterialLibrary.AluminiumFilter.LinearAttenuation(energy) * filtrationAluminiumMm / 10
                + MaterialLibrary.Water.LinearAttenuation(energy) * patientWaterPathMm / 10;
            var weight = photons * Math.Exp(-filtration) * energy;
            energies[index] = energy;
            weights[index] = weight;
            total += weight;
        }

        for (var index = 0; index < count; index++)
        {
            weights[index] /= total;
        }

        waterMu = EffectiveLinearAttenuation(MaterialLibrary.Water);
        airMu = EffectiveLinearAttenuation(MaterialLibrary.Air);
        var meanEnergy = 0.0;
        for (var index = 0; index < count; index++)
        {
            meanEnergy += weights[index] * energies[index];
        }

        MeanDetectedEnergyKeV = meanEnergy;
    }

    public double Kvp { get; }

    /// <summary>The beam's filtration (mm Al) and the water path (mm) hardening it.</summary>
    public double FiltrationAluminiumMm { get; }

    /// <inheritdoc cref="FiltrationAluminiumMm"/>
    public double WaterPathMm { get; }

    /// <summary>Energy-weighted mean energy of the detected spectrum (keV), reported in truth.json.</summary>
    public double MeanDetectedEnergyKeV { get; }

    /// <summary>Spectrum-weighted μ (1/cm) of a material at its own density.</summary>
    public double EffectiveLinearAttenuation(MaterialComposition material) => material.Density * EffectiveMassAttenuation(material);

    /// <summary>Spectrum-weighted μ/ρ (cm²/g).</summary>
    public double EffectiveMassAttenuation(MaterialComposition material)
    {
        var mu = 0.0;
        for (var index = 0; index < energies.Length; index++)
        {
            mu += weights[index] * material.MassAttenuation(energies[index]);
        }

        return mu;
    }

    public double HuOfLinearAttenuation(double mu) => 1000.0 * (mu - waterMu) / (waterMu - airMu);

    /// <summary>
    /// HU of a material at its own density; this patient's fat, muscle and blood read <see cref="Shifts"/> away from
    /// their reference compositions (fat quality, fatty muscle, haematocrit).
    /// </summary>
    public double Hu(MaterialComposition material) => HuOfLinearAttenuation(EffectiveLinearAttenuation(material)) + Shifts.Of(material);

    /// <summary>How this patient's fat, muscle and blood differ from their reference compositions (HU).</summary>
    public TissueShifts Shifts { get; init; } = TissueShifts.None;

    /// <summary>HU of a material at a density other than its reference one (e.g. inflated lung).</summary>
    public double Hu(MaterialComposition material, double density) => HuOfLinearAttenuation(density * EffectiveMassAttenuation(material));

    /// <summary>
    /// HU of a two-material equivalence: water at <paramref name="waterMgPerCm3"/> plus a mineral at
    /// <paramref name="mineralMgPerCm3"/>, each attenuating as itself. This is how Mindways certifies its rods (basis
    /// materials; what the mineral displaces is already in the water density, e.g. 923 mg/cm³ in rod E), so no
    /// displacement is applied here.
    /// </summary>
    public double HuOfEquivalence(MaterialComposition mineral, double mineralMgPerCm3, double waterMgPerCm3) =>
        HuOfLinearAttenuation((waterMgPerCm3 / 1000.0 * waterMu) + (mineralMgPerCm3 / 1000.0 * EffectiveMassAttenuation(mineral)));

    /// <summary>HU added by 1 mg/cm³ of iodine.</summary>
    public double HuPerMilligramIodine => 1000.0 * EffectiveMassAttenuation(MaterialLibrary.Iodine) / 1000.0 / (waterMu - airMu);

    /// <summary>
    /// A mineral dispersed in a base (rod inserts, HA-in-resin): each mg/cm³ of mineral displaces its own volume of
    /// base, which is why the slope is lower than the mineral's attenuation alone.
    /// </summary>
    public HuLine MineralInBase(MaterialComposition mineral, MaterialComposition baseMaterial)
    {
        var baseMu = EffectiveLinearAttenuation(baseMaterial);
        var perGram = EffectiveMassAttenuation(mineral) - baseMu / mineral.Density;
        return new HuLine($"{mineral.Name} in {baseMaterial.Name}", "mg/cm3", HuOfLinearAttenuation(baseMu), perGram / 1000.0 * 1000.0 / (waterMu - airMu));
    }

    /// <summary>
    /// Trabecular bone: mineralised tissue at volume fraction vBMD / <see cref="MaterialLibrary.BoneTissueMineralDensity"/>,
    /// the rest marrow with the given volume fat fraction, plus iodine from contrast in the marrow space.
    /// The result maps HA vBMD (mg/cm³) to HU for that marrow.
    /// </summary>
    public HuLine Trabecular(string name, double marrowFatFraction, double marrowIodineMgPerCm3)
    {
        var marrowMu = marrowFatFraction * EffectiveLinearAttenuation(MaterialLibrary.YellowMarrow)
            + (1 - marrowFatFraction) * EffectiveLinearAttenuation(MaterialLibrary.RedMarrow);
        var tissueMu = EffectiveLinearAttenuation(MaterialLibrary.CorticalBone);
        var iodineMu = marrowIodineMgPerCm3 / 1000.0 * EffectiveMassAttenuation(MaterialLibrary.Iodine);
        var slopePerGram = (tissueMu - marrowMu - iodineMu) / MaterialLibrary.BoneTissueMineralDensity;
        var scale = 1000.0 / (waterMu - airMu);
        return new HuLine(name, "mg/cm3 HA", HuOfLinearAttenuation(marrowMu + iodineMu), slopePerGram / 1000.0 * scale);
    }
}

/// <summary>
/// HU by which a patient's fat, muscle and blood differ from the reference compositions: real patients spread around
/// them (fat quality, fatty muscle with age and obesity, haematocrit), which the internal calibration must tolerate.
/// </summary>
public sealed record TissueShifts(double FatHu, double MuscleHu, double BloodHu)
{
    public static readonly TissueShifts None = new(0, 0, 0);

    public double Of(MaterialComposition material) =>
        ReferenceEquals(material, MaterialLibrary.Adipose) ? FatHu
        : ReferenceEquals(material, MaterialLibrary.Muscle) ? MuscleHu
        : ReferenceEquals(material, MaterialLibrary.Blood) ? BloodHu
        : 0;
}
