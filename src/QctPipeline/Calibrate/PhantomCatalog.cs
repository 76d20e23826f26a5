namespace QctPipeline.Calibrate;

public enum PhantomKind
{
    MindwaysModel3,
    QrmBdc3,
    QrmBdc6,
    Bmas200,
}

/// <summary>A rod: its own nominal density and unit and, for Mindways, its water-equivalent density (mg/cm³).</summary>
public sealed record PhantomRod(string Name, double NominalDensity, double? WaterEquivalentMgPerCm3)
{
    /// <summary>What the phantom's regression takes for this rod's HU: Mindways' recipe regresses HU minus the rod's water-equivalent density; HA rods their HU.</summary>
    public double RegressionHu(double hu) => hu - (WaterEquivalentMgPerCm3 ?? 0);

    /// <summary>The rod's HU from a value of the regression (the inverse of <see cref="RegressionHu"/>).</summary>
    public double HuFromRegression(double value) => value + (WaterEquivalentMgPerCm3 ?? 0);
}

/// <summary>
/// A calibration phantom as the detector and the fit know it. Rod densities are the manufacturers' published values
/// (docs/qct-primer.md): Mindways Model 3 K₂HPO₄ rods A–E with their water-equivalent densities; QRM-BDC 3- and 6-rod
/// and B-MAS 200 in HA. Rod pitch and radius are nominal geometry: the manufacturers' drawings were not among the
/// references this project could reach, so these are assumptions, named as such in decision 0006. The finder
/// (<see cref="PhantomFinder"/>) looks for a straight row of rods at this pitch (±3 mm), at any angle and cut by the
/// field of view, so a phantom built differently needs its geometry here.
/// </summary>
public sealed record PhantomDescription(PhantomKind Kind, string DisplayName, string Material, IReadOnlyList<PhantomRod> Rods, double RodPitchMm, double RodRadiusMm)
{
    public bool IsMindways => Kind == PhantomKind.MindwaysModel3;
}

public static class PhantomCatalog
{
    /// <summary>Mindways' fit: σ = slope − 0.2174 and β = intercept + 999.6 after regressing (HU − water-equivalent) on K₂HPO₄ (Mindways).</summary>
    public const double MindwaysSlopeCorrection = 0.2174;

    public const double MindwaysInterceptCorrection = 999.6;

    /// <summary>HA ≈ 1.15 × K₂HPO₄ − 7.32 (Faulkner 1993, cited in docs/qct-primer.md).</summary>
    public const double HaPerK2Hpo4 = 1.15;

    public const double HaOffsetFromK2Hpo4 = -7.32;

    public static double HaFromK2Hpo4(double k2Hpo4) => HaPerK2Hpo4 * k2Hpo4 + HaOffsetFromK2Hpo4;

    public static IReadOnlyList<PhantomDescription> All { get; } =
    [
        new(PhantomKind.MindwaysModel3, "Mindways Model 3", "K2HPO4",
            [new("A", -51.83, 1012.25), new("B", -53.40, 1056.95), new("C", 58.88, 1103.57), new("D", 157.05, 1119.52), new("E", 375.83, 923.20)],
            52, 7),
        new(PhantomKind.QrmBdc3, "QRM-BDC 3-rod", "HA", [new("HA0", 0, null), new("HA100", 100, null), new("HA200", 200, null)], 45, 9),
        new(PhantomKind.QrmBdc6, "QRM-BDC 6-rod", "HA",
            [new("HA0", 0, null), new("HA100", 100, null), new("HA200", 200, null), new("HA400", 400, null), new("HA600", 600, null), new("HA800", 800, null)],
            38, 8),
        new(PhantomKind.Bmas200, "B-MAS 200", "HA",
            [new("HA0", 0, null), new("HA50", 50, null), new("HA100", 100, null), new("HA150", 150, null), new("HA200", 200, null)],
            45, 7.5),
    ];
}
