namespace QctPipeline.Phantom;

/// <summary>One vertebra as built: where it is, its size and the density and HU line of its trabecular bone.</summary>
public sealed record VertebraModel(
    string Name,
    int Index,
    Frame Frame,
    float Width,
    float Depth,
    float Height,
    float DiscBelowMm,
    double TrabecularBmd,
    double MarrowFatFraction,
    double MarrowIodineMgPerCm3,
    HuLine TrabecularLine,
    VertebralBodyShape Body,
    float CorticalShellMm,
    bool RibBearing)
{
    public byte Code => SpineLabels.Code(Name);
}

/// <summary>A calibration rod: nominal value, where it lies (LPS, along z) and its noise-free CT number.</summary>
public sealed record CalibrationRod(string Name, string Equivalent, double NominalMgPerCm3, double? WaterEquivalentMgPerCm3, double CentreX, double CentreY, double RadiusMm, double ExpectedHu)
{
    /// <summary>Mean beam-hardening error (HU) over the rod's core through the series: 0 unless beam hardening is on.</summary>
    public double BeamHardeningHu { get; init; }
}
