namespace QctPipeline.Ingest;

public enum KernelSharpness
{
    SoftOrStandard,
    Unknown,
    Sharp,
}

/// <summary>
/// Sorts reconstruction kernel names into soft/standard and sharp (bone, lung, edge). Sharp kernels add
/// noise and edge overshoot to trabecular HU, so density is measured on soft/standard ones when a choice exists.
/// </summary>
public static class KernelClass
{
    private static readonly string[] SharpWords = ["BONE", "LUNG", "SHARP", "DETAIL", "EDGE", "HIGH", "BONEPLUS", "FC5", "FC8"];
    private static readonly string[] SoftWords = ["SOFT", "STANDARD", "STND", "BODY", "ABDOMEN", "SMOOTH", "BRAIN", "UB", "FC0", "FC1", "FC2", "FC3"];

    public static KernelSharpness Classify(string? kernel)
    {
        if (string.IsNullOrWhiteSpace(kernel))
        {
            return KernelSharpness.Unknown;
        }

        var name = kernel.ToUpperInvariant().Trim();
        if (SiemensSharpness(name) is { } siemens)
        {
            return siemens;
        }

        if (PhilipsSharpness(name) is { } philips)
        {
            return philips;
        }

        if (SharpWords.Any(name.Contains))
        {
            return KernelSharpness.Sharp;
        }

        return SoftWords.Any(name.Contains) ? KernelSharpness.SoftOrStandard : KernelSharpness.Unknown;
    }

    /// <summary>Siemens kernels: a letter (B body, Br/Bv/Qr regular, I/J iterative) and a sharpness number; ≤ 45 is soft to medium.</summary>
    private static KernelSharpness? SiemensSharpness(string name)
    {
        var letters = new string(name.TakeWhile(char.IsLetter).ToArray());
        var digits = new string(name.Skip(letters.Length).TakeWhile(char.IsDigit).ToArray());
        if (letters is not ("B" or "BR" or "BV" or "BL" or "QR" or "I" or "IR" or "J" or "D" or "H" or "HR" or "T" or "TR") || digits.Length < 2)
        {
            return null;
        }

        var number = int.Parse(digits[..2], System.Globalization.CultureInfo.InvariantCulture);
        return letters is "BL" || number > 45 ? KernelSharpness.Sharp : KernelSharpness.SoftOrStandard;
    }

    /// <summary>Philips single-letter kernels: A/B/UA/UB soft to standard, C/D/E/L/Y sharper.</summary>
    private static KernelSharpness? PhilipsSharpness(string name) => name switch
    {
        "A" or "B" or "UA" or "UB" => KernelSharpness.SoftOrStandard,
        "C" or "D" or "E" or "L" or "YA" or "YB" or "YC" or "YD" => KernelSharpness.Sharp,
        _ => null,
    };
}
