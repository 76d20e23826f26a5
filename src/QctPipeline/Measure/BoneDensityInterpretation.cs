using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>The primer's fixed cut-offs: ACR spine QCT categories from vBMD and opportunistic HU screening at L1.</summary>
public static class BoneDensityInterpretation
{
    /// <summary>ACR: above this, normal.</summary>
    public const double NormalAboveMgPerCm3 = 120;

    /// <summary>ACR: below this, osteoporosis; from here to 120 inclusive, low bone density.</summary>
    public const double OsteoporosisBelowMgPerCm3 = 80;

    /// <summary>≤ 160 HU: ~95 % sensitivity for osteoporosis (Pickhardt 2013).</summary>
    public const double SensitiveCutoffHu = 160;

    /// <summary>≤ 110 HU: ~93 % specificity.</summary>
    public const double SpecificCutoffHu = 110;

    public static BoneDensityCategory Categorize(double vbmdMgPerCm3)
    {
        if (!double.IsFinite(vbmdMgPerCm3))
        {
            throw new ArgumentOutOfRangeException(nameof(vbmdMgPerCm3), vbmdMgPerCm3, "vBMD must be finite to be categorised.");
        }

        return vbmdMgPerCm3 > NormalAboveMgPerCm3 ? BoneDensityCategory.Normal
            : vbmdMgPerCm3 >= OsteoporosisBelowMgPerCm3 ? BoneDensityCategory.LowBoneDensity
            : BoneDensityCategory.Osteoporosis;
    }

    public static HuScreeningFlags Screen(double meanHu) => new(meanHu, meanHu <= SensitiveCutoffHu, meanHu <= SpecificCutoffHu);
}
