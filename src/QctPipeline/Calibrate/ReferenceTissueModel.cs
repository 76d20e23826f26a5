using System.Globalization;

namespace QctPipeline.Calibrate;

/// <summary>
/// The material model of the internal (phantomless) calibration: the HA-equivalent density of each reference tissue
/// at a tube voltage and a patient size, i.e. the HA-in-water density that attenuates like the tissue, the HA-in-water
/// slope, and how much of that slope the unknown scanner filtration leaves uncertain.
/// <para>
/// Derivation (scripts/internal-calibration-table.py, docs/decisions/0006-calibration.md): NIST XCOM mass attenuation
/// (via xraylib) of dry air, water, ICRP adipose tissue, ICRU-44 skeletal muscle, ICRU-44 blood (at 1.05 g/cm³) and
/// hydroxyapatite (3.16 g/cm³, displacing water), weighted over a Kramers spectrum hardened by 7 mm Al and the
/// patient's water path with an energy-integrating detector (the effective-energy idea of Michalski 2020, with a
/// spectrum instead of one energy). The patient's water path matters most (150 → 350 mm moves the 120 kVp slope by
/// −19 %); the calibrator takes it from the water-equivalent diameter it measures on the image. The filtration cannot be
/// seen in the image: 4–10 mm Al moves the slope by about ±3 %, carried as <see cref="Beam.FiltrationSlopeSpread"/>.
/// The table is what the script printed.
/// </para>
/// </summary>
public static class ReferenceTissueModel
{
    private static readonly Beam[] Rows =
    [
        new(70, 150, 2.4477, -408.5, -59.96, 19.41, 22.61, 0.0273), // HU fat/muscle/blood -146.8/47.5/55.3
        new(70, 200, 2.3205, -430.9, -61.13, 20.27, 23.42, 0.0217), // HU fat/muscle/blood -141.8/47.0/54.3
        new(70, 250, 2.2208, -450.3, -62.14, 21.01, 24.11, 0.0178), // HU fat/muscle/blood -138.0/46.7/53.5
        new(70, 300, 2.1404, -467.2, -63.04, 21.66, 24.72, 0.0149), // HU fat/muscle/blood -134.9/46.4/52.9
        new(70, 350, 2.0738, -482.2, -63.84, 22.23, 25.26, 0.0127), // HU fat/muscle/blood -132.4/46.1/52.4
        new(70, 400, 2.0176, -495.6, -64.55, 22.74, 25.74, 0.0110), // HU fat/muscle/blood -130.2/45.9/51.9
        new(80, 150, 2.1481, -465.5, -63.01, 21.58, 24.65, 0.0287), // HU fat/muscle/blood -135.3/46.4/52.9
        new(80, 200, 2.0274, -493.2, -64.47, 22.64, 25.64, 0.0227), // HU fat/muscle/blood -130.7/45.9/52.0
        new(80, 250, 1.9332, -517.3, -65.74, 23.55, 26.50, 0.0185), // HU fat/muscle/blood -127.1/45.5/51.2
        new(80, 300, 1.8573, -538.4, -66.87, 24.36, 27.26, 0.0155), // HU fat/muscle/blood -124.2/45.2/50.6
        new(80, 350, 1.7946, -557.2, -67.88, 25.07, 27.94, 0.0132), // HU fat/muscle/blood -121.8/45.0/50.1
        new(80, 400, 1.7418, -574.1, -68.79, 25.71, 28.54, 0.0113), // HU fat/muscle/blood -119.8/44.8/49.7
        new(90, 150, 1.9254, -519.4, -65.89, 23.62, 26.57, 0.0294), // HU fat/muscle/blood -126.9/45.5/51.2
        new(90, 200, 1.8114, -552.1, -67.63, 24.87, 27.74, 0.0231), // HU fat/muscle/blood -122.5/45.0/50.2
        new(90, 250, 1.7226, -580.5, -69.15, 25.95, 28.76, 0.0188), // HU fat/muscle/blood -119.1/44.7/49.5
        new(90, 300, 1.6511, -605.6, -70.50, 26.90, 29.66, 0.0157), // HU fat/muscle/blood -116.4/44.4/49.0
        new(90, 350, 1.5923, -628.0, -71.70, 27.75, 30.46, 0.0132), // HU fat/muscle/blood -114.2/44.2/48.5
        new(90, 400, 1.5428, -648.2, -72.78, 28.52, 31.18, 0.0114), // HU fat/muscle/blood -112.3/44.0/48.1
        new(100, 150, 1.7543, -570.0, -68.62, 25.55, 28.38, 0.0296), // HU fat/muscle/blood -120.4/44.8/49.8
        new(100, 200, 1.6464, -607.4, -70.61, 26.97, 29.71, 0.0232), // HU fat/muscle/blood -116.3/44.4/48.9
        new(100, 250, 1.5626, -639.9, -72.35, 28.20, 30.88, 0.0188), // HU fat/muscle/blood -113.1/44.1/48.2
        new(100, 300, 1.4955, -668.7, -73.90, 29.29, 31.90, 0.0156), // HU fat/muscle/blood -110.5/43.8/47.7
        new(100, 350, 1.4402, -694.3, -75.28, 30.27, 32.82, 0.0131), // HU fat/muscle/blood -108.4/43.6/47.3
        new(100, 400, 1.3939, -717.4, -76.52, 31.14, 33.64, 0.0112), // HU fat/muscle/blood -106.7/43.4/46.9
        new(110, 150, 1.6190, -617.7, -71.18, 27.35, 30.07, 0.0296), // HU fat/muscle/blood -115.2/44.3/48.7
        new(110, 200, 1.5168, -659.3, -73.41, 28.93, 31.56, 0.0231), // HU fat/muscle/blood -111.3/43.9/47.9
        new(110, 250, 1.4377, -695.6, -75.35, 30.31, 32.85, 0.0186), // HU fat/muscle/blood -108.3/43.6/47.2
        new(110, 300, 1.3743, -727.6, -77.08, 31.53, 34.00, 0.0153), // HU fat/muscle/blood -105.9/43.3/46.7
        new(110, 350, 1.3223, -756.2, -78.62, 32.61, 35.02, 0.0128), // HU fat/muscle/blood -104.0/43.1/46.3
        new(110, 400, 1.2789, -781.9, -80.00, 33.59, 35.93, 0.0109), // HU fat/muscle/blood -102.3/43.0/46.0
        new(120, 150, 1.5097, -662.4, -73.59, 29.05, 31.66, 0.0293), // HU fat/muscle/blood -111.1/43.9/47.8
        new(120, 200, 1.4126, -707.9, -76.03, 30.78, 33.29, 0.0227), // HU fat/muscle/blood -107.4/43.5/47.0
        new(120, 250, 1.3376, -747.6, -78.16, 32.28, 34.70, 0.0182), // HU fat/muscle/blood -104.5/43.2/46.4
        new(120, 300, 1.2778, -782.6, -80.04, 33.61, 35.95, 0.0149), // HU fat/muscle/blood -102.3/42.9/45.9
        new(120, 350, 1.2288, -813.8, -81.72, 34.79, 37.06, 0.0124), // HU fat/muscle/blood -100.4/42.8/45.5
        new(120, 400, 1.1879, -841.8, -83.23, 35.85, 38.06, 0.0105), // HU fat/muscle/blood -98.9/42.6/45.2
        new(130, 150, 1.4196, -704.4, -75.85, 30.64, 33.16, 0.0289), // HU fat/muscle/blood -107.7/43.5/47.1
        new(130, 200, 1.3272, -753.5, -78.48, 32.50, 34.91, 0.0223), // HU fat/muscle/blood -104.2/43.1/46.3
        new(130, 250, 1.2560, -796.2, -80.77, 34.12, 36.43, 0.0178), // HU fat/muscle/blood -101.5/42.9/45.8
        new(130, 300, 1.1993, -833.8, -82.80, 35.55, 37.77, 0.0145), // HU fat/muscle/blood -99.3/42.6/45.3
        new(130, 350, 1.1530, -867.3, -84.60, 36.82, 38.96, 0.0120), // HU fat/muscle/blood -97.5/42.5/44.9
        new(130, 400, 1.1144, -897.3, -86.22, 37.96, 40.03, 0.0101), // HU fat/muscle/blood -96.1/42.3/44.6
        new(140, 150, 1.3443, -743.9, -77.97, 32.14, 34.56, 0.0285), // HU fat/muscle/blood -104.8/43.2/46.5
        new(140, 200, 1.2561, -796.1, -80.77, 34.12, 36.42, 0.0218), // HU fat/muscle/blood -101.5/42.9/45.7
        new(140, 250, 1.1883, -841.6, -83.21, 35.84, 38.04, 0.0173), // HU fat/muscle/blood -98.9/42.6/45.2
        new(140, 300, 1.1344, -881.5, -85.36, 37.36, 39.46, 0.0140), // HU fat/muscle/blood -96.8/42.4/44.8
        new(140, 350, 1.0905, -917.0, -87.27, 38.70, 40.72, 0.0115), // HU fat/muscle/blood -95.2/42.2/44.4
        new(140, 400, 1.0541, -948.7, -88.98, 39.90, 41.85, 0.0097), // HU fat/muscle/blood -93.8/42.1/44.1
        new(150, 150, 1.2804, -781.0, -79.96, 33.54, 35.88, 0.0279), // HU fat/muscle/blood -102.4/43.0/45.9
        new(150, 200, 1.1960, -836.1, -82.92, 35.64, 37.84, 0.0213), // HU fat/muscle/blood -99.2/42.6/45.3
        new(150, 250, 1.1313, -883.9, -85.49, 37.45, 39.55, 0.0168), // HU fat/muscle/blood -96.7/42.4/44.7
        new(150, 300, 1.0800, -925.9, -87.74, 39.04, 41.04, 0.0135), // HU fat/muscle/blood -94.8/42.2/44.3
        new(150, 350, 1.0383, -963.1, -89.74, 40.45, 42.36, 0.0111), // HU fat/muscle/blood -93.2/42.0/44.0
        new(150, 400, 1.0038, -996.2, -91.53, 41.71, 43.54, 0.0092), // HU fat/muscle/blood -91.9/41.9/43.7
    ];

    /// <summary>The table's axes: its tube voltages and water paths, ascending.</summary>
    private static readonly double[] Kvps = [.. Rows.Select(row => row.Kvp).Distinct()];

    /// <inheritdoc cref="Kvps"/>
    private static readonly double[] WaterPathsMm = [.. Rows.Select(row => row.WaterPathMm).Distinct()];

    /// <summary>The tube voltage assumed when the series does not state one.</summary>
    public const double DefaultKvp = 120;

    /// <summary>The water path assumed when the patient's could not be measured: an average adult abdomen.</summary>
    public const double DefaultWaterPathMm = 250;

    public const string Description =
        "HA-equivalent densities of air, ICRP adipose, ICRU-44 muscle and ICRU-44 blood from NIST XCOM over a Kramers spectrum (7 mm Al, the patient's water-equivalent diameter)";

    /// <summary>
    /// Population spread (1 SD, HU) of each tissue's CT number around its model value on real scanners, which sets the
    /// tissue's weight in the fit and the residual it may show before it is called an outlier:
    /// <list type="bullet">
    /// <item>air: 10 HU, a scanner's air calibration (the ACR CT phantom accepts −1005…−970 HU);</item>
    /// <item>fat: 6 HU (Framingham, 3,198 adults: visceral fat −93.9 HU on average, −105.7…−79.0 between participants;
    /// Framingham CT sub-study, abstract MP035 "Relative attenuation of visceral adipose tissue and metabolic risk");</item>
    /// <item>muscle: 9 HU (Framingham L3 muscle 42.6 ± 5.5 HU in women under 45 to 25.2 ± 6.8 at 75 or more, Invest
    /// Radiol 2024;59:259–270; lean 49.2 ± 2.8, obese 39.3 ± 7.5 HU, Goodpaster, J Appl Physiol 2000;89:104);</item>
    /// <item>blood: 10 HU (unenhanced descending aorta, interquartile range 29–45 HU in 325 patients, 39–50 HU in the
    /// non-anaemic, Research Square rs-1420003; haematocrit moves it, Di Giandomenico, Radiol Med 1993).</item>
    /// </list>
    /// </summary>
    public static double PopulationSdHu(ReferenceTissue tissue) => tissue switch
    {
        ReferenceTissue.Air => 10,
        ReferenceTissue.Fat => 6,
        ReferenceTissue.Muscle => 9,
        _ => 10,
    };

    /// <summary>The model at a kVp and water path, linear between tabulated ones; warnings name every assumption.</summary>
    public static (Beam Beam, IReadOnlyList<string> Warnings) At(double? kvp, double? waterPathMm)
    {
        var warnings = new List<string>();
        var wantedKvp = kvp ?? DefaultKvp;
        if (kvp is null)
        {
            warnings.Add(FormattableString.Invariant($"kVp not stated in the series: reference tissue model at {DefaultKvp} kVp assumed"));
        }

        var wantedPath = waterPathMm ?? DefaultWaterPathMm;
        if (waterPathMm is null)
        {
            warnings.Add(FormattableString.Invariant($"patient size not measured: reference tissue model at a {DefaultWaterPathMm} mm water path assumed"));
        }

        if (wantedKvp < Kvps[0] || wantedKvp > Kvps[^1])
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{wantedKvp} kVp is outside the reference tissue model's {Kvps[0]}–{Kvps[^1]} kVp: nearest row used"));
            wantedKvp = Math.Clamp(wantedKvp, Kvps[0], Kvps[^1]);
        }

        if (wantedPath < WaterPathsMm[0] || wantedPath > WaterPathsMm[^1])
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"a {wantedPath:0} mm water path is outside the reference tissue model's {WaterPathsMm[0]}–{WaterPathsMm[^1]} mm: nearest row used"));
            wantedPath = Math.Clamp(wantedPath, WaterPathsMm[0], WaterPathsMm[^1]);
        }

        var (k0, k1, tk) = Bracket(Kvps, wantedKvp);
        var (p0, p1, tp) = Bracket(WaterPathsMm, wantedPath);
        Beam Row(double k, double p) => Rows.Single(row => row.Kvp == k && row.WaterPathMm == p);
        var atLow = Beam.Lerp(Row(k0, p0), Row(k0, p1), tp);
        var atHigh = Beam.Lerp(Row(k1, p0), Row(k1, p1), tp);
        return (Beam.Lerp(atLow, atHigh, tk), warnings);
    }

    /// <summary>HU per mg/cm³ of HA in water at a kVp for an average patient (scales contrast and bone thresholds with tube voltage).</summary>
    public static double HaSlope(double? kvp) => At(kvp, DefaultWaterPathMm).Beam.HaSlope;

    private static (double Low, double High, double T) Bracket(double[] values, double wanted)
    {
        var upper = Array.FindIndex(values, value => value >= wanted);
        if (values[upper] == wanted || upper == 0)
        {
            return (values[upper], values[upper], 0);
        }

        var (low, high) = (values[upper - 1], values[upper]);
        return (low, high, (wanted - low) / (high - low));
    }
}

/// <summary>
/// The tissue model under one beam: HA slope (HU per mg/cm³), the HA-equivalent densities (mg/cm³) of air, fat, muscle
/// and blood, and the slope's relative spread (1 SD) over filtrations of 4–10 mm Al.
/// </summary>
public sealed record Beam(double Kvp, double WaterPathMm, double HaSlope, double Air, double Fat, double Muscle, double Blood, double FiltrationSlopeSpread)
{
    public double Density(ReferenceTissue tissue) => tissue switch
    {
        ReferenceTissue.Air => Air,
        ReferenceTissue.Fat => Fat,
        ReferenceTissue.Muscle => Muscle,
        _ => Blood,
    };

    internal static Beam Lerp(Beam a, Beam b, double t)
    {
        double L(double x, double y) => x + (t * (y - x));
        return new Beam(L(a.Kvp, b.Kvp), L(a.WaterPathMm, b.WaterPathMm), L(a.HaSlope, b.HaSlope), L(a.Air, b.Air), L(a.Fat, b.Fat), L(a.Muscle, b.Muscle), L(a.Blood, b.Blood), L(a.FiltrationSlopeSpread, b.FiltrationSlopeSpread));
    }
}

public enum ReferenceTissue
{
    Air,
    Fat,
    Muscle,
    Blood,
}
