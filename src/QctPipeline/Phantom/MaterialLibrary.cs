using static QctPipeline.Phantom.XrayPhysics;

namespace QctPipeline.Phantom;

/// <summary>
/// The compositions the phantom is made of. Tissues: ICRU Report 44 (1989), mass fractions as tabulated by NIST
/// (Hubbell and Seltzer, NISTIR 5632, table 2). Calibration materials from their chemical formulas.
/// </summary>
public static class MaterialLibrary
{
    public static readonly MaterialComposition Air = new("air (dry, sea level)", 0.001205,
        [(C, 0.000124), (N, 0.755268), (O, 0.231781), (Ar, 0.012827)]);

    public static readonly MaterialComposition Water = new("water", 1.0, [(H, 0.111894), (O, 0.888106)]);

    /// <summary>Adipose tissue 3 of Woodard and White (the leanest-water, fattiest of their three), 0.93 g/cm³.</summary>
    public static readonly MaterialComposition Adipose = new("adipose tissue (Woodard-White 3)", 0.93,
        [(H, 0.116), (C, 0.681), (N, 0.002), (O, 0.198), (Na, 0.001), (S, 0.001), (Cl, 0.001)]);

    public static readonly MaterialComposition Muscle = new("skeletal muscle (ICRU-44)", 1.05,
        [(H, 0.102), (C, 0.143), (N, 0.034), (O, 0.710), (Na, 0.001), (P, 0.002), (S, 0.003), (Cl, 0.001), (K, 0.004)]);

    /// <summary>ICRU-44 blood composition at 1.05 g/cm³ rather than 1.06: unenhanced aortic blood measures 40–50 HU at a normal haematocrit.</summary>
    public static readonly MaterialComposition Blood = new("blood (ICRU-44)", 1.05,
        [(H, 0.102), (C, 0.110), (N, 0.033), (O, 0.745), (Na, 0.001), (P, 0.001), (S, 0.002), (Cl, 0.003), (K, 0.002), (Fe, 0.001)]);

    public static readonly MaterialComposition Liver = new("liver (ICRU-44)", 1.06,
        [(H, 0.102), (C, 0.139), (N, 0.030), (O, 0.716), (Na, 0.002), (P, 0.003), (S, 0.003), (Cl, 0.002), (K, 0.003)]);

    public static readonly MaterialComposition Spleen = new("spleen (ICRU-44)", 1.06,
        [(H, 0.103), (C, 0.113), (N, 0.032), (O, 0.741), (Na, 0.001), (P, 0.003), (S, 0.002), (Cl, 0.002), (K, 0.003)]);

    public static readonly MaterialComposition Kidney = new("kidney (ICRU-44)", 1.05,
        [(H, 0.103), (C, 0.132), (N, 0.030), (O, 0.724), (Na, 0.002), (P, 0.002), (S, 0.002), (Cl, 0.002), (K, 0.002), (Ca, 0.001)]);

    /// <summary>Lung tissue composition; the inflated density is a per-patient parameter (aerated lung is mostly air).</summary>
    public static readonly MaterialComposition LungTissue = new("lung tissue (ICRU-44)", 1.05,
        [(H, 0.103), (C, 0.105), (N, 0.031), (O, 0.749), (Na, 0.002), (P, 0.002), (S, 0.003), (Cl, 0.003), (K, 0.002)]);

    public static readonly MaterialComposition Skin = new("skin (ICRU-44)", 1.09,
        [(H, 0.100), (C, 0.204), (N, 0.042), (O, 0.645), (Na, 0.002), (P, 0.001), (S, 0.002), (Cl, 0.003), (K, 0.001)]);

    public static readonly MaterialComposition Cartilage = new("cartilage (ICRU-44)", 1.10,
        [(H, 0.096), (C, 0.099), (N, 0.022), (O, 0.744), (Na, 0.005), (P, 0.022), (S, 0.009), (Cl, 0.003)]);

    /// <summary>
    /// Mineralised bone tissue. Its calcium (22.5 %) at 1.92 g/cm³ is 1.083 g/cm³ of hydroxyapatite, a typical tissue
    /// mineral density, so trabecular bone is modelled as this tissue at volume fraction vBMD / 1083 in marrow.
    /// </summary>
    public static readonly MaterialComposition CorticalBone = new("cortical bone (ICRU-44)", 1.92,
        [(H, 0.034), (C, 0.155), (N, 0.042), (O, 0.435), (Na, 0.001), (Mg, 0.002), (P, 0.103), (S, 0.003), (Ca, 0.225)]);

    public static readonly MaterialComposition RedMarrow = new("red marrow (ICRU-44)", 1.03,
        [(H, 0.105), (C, 0.414), (N, 0.034), (O, 0.439), (P, 0.001), (S, 0.002), (Cl, 0.002), (K, 0.002), (Fe, 0.001)]);

    public static readonly MaterialComposition YellowMarrow = new("yellow marrow (ICRU-44)", 0.98,
        [(H, 0.115), (C, 0.644), (N, 0.007), (O, 0.231), (Na, 0.001), (S, 0.001), (Cl, 0.001)]);

    /// <summary>Calcium hydroxyapatite Ca₁₀(PO₄)₆(OH)₂, crystal density 3.16 g/cm³ — the QCT reference mineral.</summary>
    public static readonly MaterialComposition Hydroxyapatite = new("hydroxyapatite", 3.16,
        [(Ca, 0.39894), (P, 0.18500), (O, 0.41405), (H, 0.00201)]);

    /// <summary>Dipotassium hydrogen phosphate K₂HPO₄ (Mindways and Cann–Genant phantoms), 2.44 g/cm³.</summary>
    public static readonly MaterialComposition PotassiumPhosphate = new("K2HPO4", 2.44,
        [(K, 0.44897), (H, 0.00579), (P, 0.17784), (O, 0.36740)]);

    /// <summary>Pure iodine; contrast enters tissues as mg I per cm³ on top of the tissue's own attenuation.</summary>
    public static readonly MaterialComposition Iodine = new("iodine", 4.93, [(I, 1.0)]);

    /// <summary>Ti-6Al-4V pedicle screw alloy (mass fractions 0.90/0.06/0.04; V counted as Ti, Z 23 vs 22), 4.43 g/cm³.</summary>
    public static readonly MaterialComposition TitaniumAlloy = new("titanium alloy Ti-6Al-4V", 4.43, [(Ti, 0.94), (Al, 0.06)]);

    /// <summary>Aluminium of the beam filtration.</summary>
    public static readonly MaterialComposition AluminiumFilter = new("aluminium", 2.699, [(Al, 1.0)]);

    /// <summary>Carbon-fibre epoxy table top, roughly C 0.80, O 0.12, H 0.05, N 0.03 at 1.55 g/cm³.</summary>
    public static readonly MaterialComposition CarbonFibre = new("carbon-fibre composite", 1.55, [(C, 0.80), (O, 0.12), (H, 0.05), (N, 0.03)]);

    /// <summary>Polyurethane foam of the table core and pads.</summary>
    public static readonly MaterialComposition Foam = new("polyurethane foam", 0.06, [(C, 0.60), (O, 0.24), (N, 0.10), (H, 0.06)]);

    /// <summary>Water-equivalent epoxy resin of phantom bodies (Solid Water-like, 1.015 g/cm³, slightly more carbon than water).</summary>
    public static readonly MaterialComposition SolidWater = new("water-equivalent resin", 1.015,
        [(H, 0.081), (C, 0.672), (N, 0.024), (O, 0.199), (Cl, 0.001), (Ca, 0.023)]);

    /// <summary>Mass density of hydroxyapatite inside ICRU-44 cortical bone tissue (g/cm³): 0.225 / 0.39894 × 1.92.</summary>
    public const double BoneTissueMineralDensity = 0.225 / 0.39894 * 1.92;
}
