using QctPipeline.Domain;

namespace QctPipeline.Evaluation;

/// <summary>A level the pipeline named and where.</summary>
public sealed record NamedLevel(string Name, Vector3 CentroidLps);

/// <summary>
/// What the analyze chain said about a series, as far as a reference can check it. Built by the caller that ran the
/// chain, so scoring never depends on how the chain is put together.
/// </summary>
/// <param name="Status">As `qct analyze` prints it: ok, review, no-l1 or error.</param>
/// <param name="Levels">Every level named, with its centroid (the localizer's level list).</param>
/// <param name="L1CentroidLps">The L1 body's centroid (refined) when L1 is claimed.</param>
/// <param name="BodyMasks">The body masks the result holds, by level name (L1; the level above L1 and L2 under their names).</param>
/// <param name="MeasuredLevel">The level whose eroded ROI was measured; null when none was.</param>
/// <param name="MeasuredMeanHu">That ROI's mean HU.</param>
public sealed record PipelineAnswer(
    string Status,
    string? Reason,
    IReadOnlyList<NamedLevel> Levels,
    Vector3? L1CentroidLps,
    IReadOnlyDictionary<string, Mask> BodyMasks,
    string? MeasuredLevel,
    double? MeasuredMeanHu)
{
    public const string ErrorStatus = "error";
    public const string NoL1Status = "no-l1";
    public const string OkStatus = "ok";

    /// <summary>The chain failed on this series: no answer, the reason given.</summary>
    public static PipelineAnswer Failed(string reason) => new(ErrorStatus, reason, [], null, new Dictionary<string, Mask>(), null, null);

    /// <summary>Whether the answer names an L1 (ok, or a status such as review that still reports it).</summary>
    public bool ClaimsL1 => Status is not (ErrorStatus or NoL1Status) && L1CentroidLps is not null;
}
