using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Calibrate;

public enum ContrastPhaseEstimate
{
    None,
    Arterial,
    Venous,
    Unknown,
}

/// <summary>Whether IV contrast is present, the phase when the aorta tells it, and the evidence for both.</summary>
public sealed record ContrastAssessment(bool Detected, ContrastPhaseEstimate Phase, IReadOnlyList<string> Evidence);

/// <summary>
/// Contrast from the DICOM ContrastBolusAgent (0018,0010) and from aortic HU. At 120 kVp unenhanced aortic blood is
/// 40–50 HU, portal venous ≈ 170 HU and arterial ≈ 300 HU (Bae, Radiology 2010;256:32); the primer flags aorta
/// HU > ~150. Thresholds: contrast above 40 + 110 HU and arterial above 40 + 210 HU at 120 kVp, the enhancement
/// part scaled with kVp by HA's slope (iodine's grows faster toward low kVp, so the scaling is conservative).
/// </summary>
public static class ContrastDetector
{
    private const double UnenhancedBloodHu = 40;
    private const double ContrastEnhancementHu = 110;
    private const double ArterialEnhancementHu = 210;

    /// <summary>Agent texts that mean "no contrast given" on real scanners.</summary>
    private static readonly string[] NoAgent = ["NONE", "NO", "N/A", "NA", "-", "0"];

    public static ContrastAssessment Assess(SeriesMetadata metadata, double? aortaHu)
    {
        var evidence = new List<string>();
        var agent = metadata.ContrastBolusAgent?.Trim();
        var tagged = !string.IsNullOrEmpty(agent) && !NoAgent.Contains(agent.ToUpperInvariant());
        evidence.Add(tagged ? $"ContrastBolusAgent (0018,0010) is '{agent}'" : "no contrast agent in ContrastBolusAgent (0018,0010)");

        var scale = ReferenceTissueModel.HaSlope(metadata.Kvp) / ReferenceTissueModel.HaSlope(120);
        var contrastThreshold = UnenhancedBloodHu + ContrastEnhancementHu * scale;
        var arterialThreshold = UnenhancedBloodHu + ArterialEnhancementHu * scale;
        var phase = ContrastPhaseEstimate.None;
        if (aortaHu is { } hu)
        {
            phase = hu > arterialThreshold ? ContrastPhaseEstimate.Arterial : hu > contrastThreshold ? ContrastPhaseEstimate.Venous : ContrastPhaseEstimate.None;
            evidence.Add(string.Create(CultureInfo.InvariantCulture,
                $"aorta {hu:0} HU (contrast above {contrastThreshold:0} HU, arterial above {arterialThreshold:0} HU at {metadata.Kvp ?? 120:0} kVp)"));
        }
        else
        {
            evidence.Add("aorta not measured");
        }

        if (tagged && phase == ContrastPhaseEstimate.None)
        {
            phase = ContrastPhaseEstimate.Unknown;
            if (aortaHu is not null)
            {
                evidence.Add("tag and image disagree: contrast assumed present (a delayed phase can leave the aorta near baseline)");
            }
        }

        return new ContrastAssessment(phase != ContrastPhaseEstimate.None, phase, evidence);
    }
}
