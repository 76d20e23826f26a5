using System.Globalization;

namespace QctPipeline.Calibrate;

/// <summary>
/// The material model of the internal (phantomless) calibration: the HA-equivalent density of each reference tissue
/// at a tube voltage, i.e. the HA-in-water density that attenuates like the tissue, and the HA-in-water slope.
/// <para>
/// Derivation (scripts/internal-calibration-table.py, docs/decisions/0006-calibration.md): NIST XCOM mass attenuation
/// (via xraylib) of dry air, water, ICRP adipose tissue, ICRU-44 skeletal muscle, ICRU-44 blood (at 1.05 g/cm³) and hydroxyapatite
/// (3.16 g/cm³, displacing water), weighted over a Kramers spectrum hardened by 7 mm Al and 250 mm water with an
/// energy-integrating detector (the effective-energy idea of Michalski 2020, with a spectrum instead of one energy).
/// The table is what the script printed; a scanner whose beam differs from that spectrum gets a slope error the
/// reference tissues cannot reveal, which is why the result carries it as a warning.
/// </para>
/// </summary>
public static class ReferenceTissueModel
{
    /// <summary>One kVp: HA slope (HU per mg/cm³) and HA-equivalent densities (mg/cm³) of air, fat, muscle, blood.</summary>
    private sealed record Row(double Kvp, double HaSlope, double Air, double Fat, double Muscle, double Blood);

    private static readonly Row[] Rows =
    [
        new(70, 2.2208, -450.3, -62.14, 21.01, 24.11), // HU air/fat/muscle/blood -1000/-138.0/46.7/53.5
        new(80, 1.9332, -517.3, -65.74, 23.55, 26.50), // HU air/fat/muscle/blood -1000/-127.1/45.5/51.2
        new(90, 1.7226, -580.5, -69.15, 25.95, 28.76), // HU air/fat/muscle/blood -1000/-119.1/44.7/49.5
        new(100, 1.5626, -639.9, -72.35, 28.20, 30.88), // HU air/fat/muscle/blood -1000/-113.1/44.1/48.2
        new(110, 1.4377, -695.6, -75.35, 30.31, 32.85), // HU air/fat/muscle/blood -1000/-108.3/43.6/47.2
        new(120, 1.3376, -747.6, -78.16, 32.28, 34.70), // HU air/fat/muscle/blood -1000/-104.5/43.2/46.4
        new(130, 1.2560, -796.2, -80.77, 34.12, 36.43), // HU air/fat/muscle/blood -1000/-101.5/42.9/45.8
        new(140, 1.1883, -841.6, -83.21, 35.84, 38.04), // HU air/fat/muscle/blood -1000/-98.9/42.6/45.2
        new(150, 1.1313, -883.9, -85.49, 37.45, 39.55), // HU air/fat/muscle/blood -1000/-96.7/42.4/44.7
    ];

    /// <summary>The tube voltage assumed when the series does not state one.</summary>
    public const double DefaultKvp = 120;

    public const string Description =
        "HA-equivalent densities of air, ICRP adipose, ICRU-44 muscle and ICRU-44 blood from NIST XCOM over a Kramers spectrum (7 mm Al, 250 mm water)";

    /// <summary>HA-equivalent density (mg/cm³) of a reference tissue at a kVp, linear between tabulated voltages; warnings name any assumption.</summary>
    public static (double Density, IReadOnlyList<string> Warnings) EquivalentDensity(ReferenceTissue tissue, double? kvp)
    {
        var (row, warnings) = At(kvp);
        var density = tissue switch
        {
            ReferenceTissue.Air => row.Air,
            ReferenceTissue.Fat => row.Fat,
            ReferenceTissue.Muscle => row.Muscle,
            _ => row.Blood,
        };
        return (density, warnings);
    }

    /// <summary>HU per mg/cm³ of HA in water at a kVp (used to scale contrast thresholds with tube voltage).</summary>
    public static double HaSlope(double? kvp) => At(kvp).Row.HaSlope;

    private static (Row Row, IReadOnlyList<string> Warnings) At(double? kvp)
    {
        var warnings = new List<string>();
        var wanted = kvp ?? DefaultKvp;
        if (kvp is null)
        {
            warnings.Add(FormattableString.Invariant($"kVp not stated in the series: reference tissue model at {DefaultKvp} kVp assumed"));
        }

        if (wanted < Rows[0].Kvp || wanted > Rows[^1].Kvp)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{wanted} kVp is outside the reference tissue model's {Rows[0].Kvp}–{Rows[^1].Kvp} kVp: nearest row used"));
            wanted = Math.Clamp(wanted, Rows[0].Kvp, Rows[^1].Kvp);
        }

        var upper = Array.FindIndex(Rows, row => row.Kvp >= wanted);
        if (Rows[upper].Kvp == wanted)
        {
            return (Rows[upper], warnings);
        }

        var (low, high) = (Rows[upper - 1], Rows[upper]);
        var t = (wanted - low.Kvp) / (high.Kvp - low.Kvp);
        double Lerp(double a, double b) => a + t * (b - a);
        return (new Row(wanted, Lerp(low.HaSlope, high.HaSlope), Lerp(low.Air, high.Air), Lerp(low.Fat, high.Fat), Lerp(low.Muscle, high.Muscle), Lerp(low.Blood, high.Blood)), warnings);
    }
}

public enum ReferenceTissue
{
    Air,
    Fat,
    Muscle,
    Blood,
}
