namespace QctPipeline.Domain;

/// <summary>
/// One exam against the patient's baseline (earliest exam) and previous exam (latest earlier date): change in mg/cm³
/// and %, days between, annualised %, the ≥ 5 % decline and least-significant-change flags, category transitions and
/// every protocol difference. Changes are null when this exam is the baseline or a vBMD is missing; the reason says why.
/// </summary>
public sealed record Comparison(
    DateOnly? BaselineDate,
    DateOnly? PreviousDate,
    double? ChangeFromBaselineMgPerCm3,
    double? PercentChangeFromBaseline,
    double? ChangeFromPreviousMgPerCm3,
    double? PercentChangeFromPrevious,
    int? DaysFromBaseline,
    int? DaysFromPrevious,
    double? AnnualizedPercent,
    bool Decline5,
    bool Decline5FromPrevious,
    bool ExceedsLsc,
    bool ExceedsLscFromPrevious,
    double LscPercent,
    IReadOnlyList<string> CategoryTransitions,
    IReadOnlyList<string> ProtocolMismatch,
    IReadOnlyList<string> SameDayDuplicates,
    string Reason);
