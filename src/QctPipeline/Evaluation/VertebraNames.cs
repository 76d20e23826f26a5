using System.Text.RegularExpressions;

namespace QctPipeline.Evaluation;

/// <summary>Vertebra names as the pipeline and references write them: C1–C7, T1–T13, L1–L6, S1–S5.</summary>
public static partial class VertebraNames
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    public static bool IsThoracic(string name) => IsValid(name) && name[0] == 'T';

    /// <summary>Lumbar or sacral: the names that must never sit above a thoracic one.</summary>
    public static bool IsLumbarOrSacral(string name) => IsValid(name) && name[0] is 'L' or 'S';

    [GeneratedRegex("^(C[1-7]|T([1-9]|1[0-3])|L[1-6]|S[1-5])$")]
    private static partial Regex Pattern();
}
