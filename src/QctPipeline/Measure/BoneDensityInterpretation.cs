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

    /// <summary>The tube voltages the HU cut-offs were derived at (Pickhardt 2013: 120 kVp; HU rises as kVp falls).</summary>
    public const double ScreeningMinKvp = 110;

    /// <inheritdoc cref="ScreeningMinKvp"/>
    public const double ScreeningMaxKvp = 130;

    /// <summary>The L1 HU screening flags, or the mean HU alone with why the cut-offs do not apply (another level or kVp).</summary>
    public static HuScreeningFlags Screen(double meanHu, VertebralLevel level, double? kvp)
    {
        var notApplicable = level != VertebralLevel.L1
            ? $"the {SensitiveCutoffHu:0}/{SpecificCutoffHu:0} HU cut-offs are defined at L1; {(level == VertebralLevel.L2 ? "L2" : "the vertebra above L1")} was measured"
            : kvp is not { } voltage ? $"kVp not stated: the {SensitiveCutoffHu:0}/{SpecificCutoffHu:0} HU cut-offs are defined for {ScreeningMinKvp:0}–{ScreeningMaxKvp:0} kVp"
            : voltage is < ScreeningMinKvp or > ScreeningMaxKvp ? $"{voltage:0.#} kVp: the {SensitiveCutoffHu:0}/{SpecificCutoffHu:0} HU cut-offs are defined for {ScreeningMinKvp:0}–{ScreeningMaxKvp:0} kVp"
            : null;
        return notApplicable is null
            ? new HuScreeningFlags(meanHu, level, meanHu <= SensitiveCutoffHu, meanHu <= SpecificCutoffHu, null)
            : new HuScreeningFlags(meanHu, level, null, null, notApplicable);
    }
}
