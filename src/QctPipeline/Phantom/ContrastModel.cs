namespace QctPipeline.Phantom;

/// <summary>Tissues whose CT number depends on the contrast phase.</summary>
public enum TissueKind
{
    Muscle,
    Liver,
    Spleen,
    Pancreas,
    KidneyCortex,
    KidneyMedulla,
    BowelWall,
    ArterialBlood,
    VenousBlood,
    PortalBlood,
    PulmonaryBlood,
    Myocardium,
    Tumour,
}

/// <summary>
/// Intravenous iodine as a concentration (mg I per cm³) per tissue and phase, added to the tissue's own attenuation
/// through the physics model, so enhancement changes with kVp as iodine's does. Concentrations are chosen to give the
/// typical enhancement at 120 kVp (≈ 26 HU per mg/cm³): aorta ≈ 300 HU arterial and ≈ 170 HU portal venous, liver
/// +20/+60 HU, renal cortex corticomedullary in the arterial phase (Bae, Radiology 2010;256:32). Vertebral marrow
/// gets what raises L1 by the published +13.5 HU (arterial) and +18.2 HU (portal venous) at 120 kVp over 128.8 HU
/// unenhanced (Eur Radiol 2015;25:283).
/// </summary>
public sealed class ContrastModel(ContrastPhase phase, CtNumberModel physics)
{
    private const double ArterialBoneIncreaseHu = 142.3 - 128.8;
    private const double VenousBoneIncreaseHu = 147.0 - 128.8;

    /// <summary>Marrow volume fraction of the average L1 behind the published bone enhancement (BV/TV ≈ 10 %).</summary>
    private const double ReferenceMarrowFraction = 0.9;

    public ContrastPhase Phase => phase;

    public double IodineMgPerCm3(TissueKind tissue) => phase switch
    {
        ContrastPhase.None => 0,
        ContrastPhase.Arterial => tissue switch
        {
            TissueKind.Muscle => 0.3,
            TissueKind.Liver => 0.8,
            TissueKind.Spleen => 2.8,
            TissueKind.Pancreas => 2.5,
            TissueKind.KidneyCortex => 6.5,
            TissueKind.KidneyMedulla => 1.5,
            TissueKind.BowelWall => 1.8,
            TissueKind.ArterialBlood => 9.5,
            TissueKind.VenousBlood => 1.5,
            TissueKind.PortalBlood => 2.5,
            TissueKind.PulmonaryBlood => 9.0,
            TissueKind.Myocardium => 3.5,
            TissueKind.Tumour => 1.5,
            _ => 0,
        },
        _ => tissue switch
        {
            TissueKind.Muscle => 0.5,
            TissueKind.Liver => 2.3,
            TissueKind.Spleen => 2.5,
            TissueKind.Pancreas => 1.8,
            TissueKind.KidneyCortex => 5.0,
            TissueKind.KidneyMedulla => 4.5,
            TissueKind.BowelWall => 2.0,
            TissueKind.ArterialBlood => 4.4,
            TissueKind.VenousBlood => 4.2,
            TissueKind.PortalBlood => 5.0,
            TissueKind.PulmonaryBlood => 4.4,
            TissueKind.Myocardium => 2.5,
            TissueKind.Tumour => 2.0,
            _ => 0,
        },
    };

    /// <summary>Iodine in the vertebral marrow space (mg/cm³ of marrow).</summary>
    public double MarrowIodine()
    {
        var increase = phase switch
        {
            ContrastPhase.Arterial => ArterialBoneIncreaseHu,
            ContrastPhase.Venous => VenousBoneIncreaseHu,
            _ => 0,
        };
        return increase / (new CtNumberModel(120).HuPerMilligramIodine * ReferenceMarrowFraction);
    }

    public double Hu(TissueKind tissue)
    {
        var composition = tissue switch
        {
            TissueKind.Liver => MaterialLibrary.Liver,
            TissueKind.Spleen => MaterialLibrary.Spleen,
            TissueKind.KidneyCortex or TissueKind.KidneyMedulla or TissueKind.Tumour => MaterialLibrary.Kidney,
            TissueKind.ArterialBlood or TissueKind.VenousBlood or TissueKind.PortalBlood or TissueKind.PulmonaryBlood => MaterialLibrary.Blood,
            _ => MaterialLibrary.Muscle,
        };
        return physics.Hu(composition) + IodineMgPerCm3(tissue) * physics.HuPerMilligramIodine;
    }
}
