using System.Globalization;
using System.Text.Json.Serialization;
using QctPipeline.Domain;

namespace QctPipeline.Evaluation;

public enum LevelVerdict
{
    /// <summary>The pipeline names the reference's vertebra where the reference has it (or abstains where L1 is not in view).</summary>
    Right,

    /// <summary>Named elsewhere, an L1 claimed where none is whole in view, or a lumbar/sacral name above a thoracic one.</summary>
    Wrong,

    /// <summary>No answer for this vertebra: no-l1, an error, or no level of that name.</summary>
    Abstained,
}

/// <summary>One case scored against its reference; distances in mm, HU differences pipeline minus reference.</summary>
/// <param name="Detail">Why the verdict is what it is, in words.</param>
/// <param name="CentroidErrorMm">Distance from the centroid the pipeline gives the level to the reference centroid.</param>
/// <param name="Dice">Of the pipeline's body mask for the level against the reference mask, when both exist.</param>
/// <param name="HuDifference">Pipeline's eroded-ROI mean HU minus the reference's, when the pipeline measured a vertebra of that name.</param>
public sealed record CaseScore(
    string Case,
    string Level,
    string Status,
    LevelVerdict Verdict,
    string Detail,
    double? CentroidErrorMm,
    double? Dice,
    double? ReferenceHu,
    double? PipelineHu,
    double? HuDifference)
{
    public bool WrongWithStatusOk => Verdict == LevelVerdict.Wrong && Status == PipelineAnswer.OkStatus;

    [JsonIgnore]
    public string VerdictName => Verdict.ToString().ToLowerInvariant();
}

/// <summary>
/// The rules `qct eval-real` scores a case by. A level is right when the pipeline names it (L1: the L1 it claims; any
/// other level: the level of that name in its list) with the centroid inside the reference body or within
/// <see cref="CentroidToleranceMm"/> of the reference centroid. Wrong overrides everything when a lumbar or sacral name
/// sits above a thoracic one, or L1 is claimed with status ok although the reference says no whole L1 is in view.
/// </summary>
public static class CaseScoring
{
    public const double CentroidToleranceMm = 10;

    public static CaseScore Score(string caseName, ReferenceStandard reference, PipelineAnswer answer)
    {
        var (verdict, detail, claimed) = LevelAnswer(reference, answer);
        if (answer.Status == PipelineAnswer.OkStatus && answer.ClaimsL1 && reference.L1InView == false)
        {
            (verdict, detail) = (LevelVerdict.Wrong, $"L1 claimed with status ok though no whole L1 is in view; {detail}");
        }

        if (LumbarAboveThoracic(answer.Levels) is { } disorder)
        {
            (verdict, detail) = (LevelVerdict.Wrong, $"{disorder}; {detail}");
        }

        double? error = claimed is { } at && reference.CentroidLps is { } truth ? (at - truth).Length : null;
        double? dice = reference.Body is { } body && answer.BodyMasks.GetValueOrDefault(reference.Level) is { } mask ? Dice(mask, body) : null;
        var pipelineHu = answer.MeasuredLevel == reference.Level ? answer.MeasuredMeanHu : null;
        return new CaseScore(caseName, reference.Level, answer.Status, verdict, detail, error, dice, reference.TrabecularHu, pipelineHu,
            pipelineHu - reference.TrabecularHu);
    }

    /// <summary>The verdict on the level alone, and the centroid the pipeline gives it (null when it names none).</summary>
    private static (LevelVerdict Verdict, string Detail, Vector3? Claimed) LevelAnswer(ReferenceStandard reference, PipelineAnswer answer)
    {
        var level = reference.Level;
        if (answer.Status == PipelineAnswer.ErrorStatus)
        {
            return (LevelVerdict.Abstained, $"error: {answer.Reason}", null);
        }

        if (level == "L1" && reference.L1InView == false)
        {
            return answer.ClaimsL1
                ? (LevelVerdict.Wrong, $"L1 claimed (status {answer.Status}) though no whole L1 is in view", answer.L1CentroidLps)
                : (LevelVerdict.Right, $"no L1 claimed, as none is whole in view ({answer.Reason})", null);
        }

        Vector3? claimed = level == "L1"
            ? (answer.ClaimsL1 ? answer.L1CentroidLps : null)
            : Nearest(answer.Levels.Where(named => named.Name == level).Select(named => named.CentroidLps), reference.CentroidLps);
        if (claimed is not { } at)
        {
            return level == "L1"
                ? (LevelVerdict.Abstained, $"{answer.Status}: {answer.Reason}", null)
                : (LevelVerdict.Abstained, $"no level named {level}", null);
        }

        var inside = reference.Body is { } body && Inside(body, at);
        var distance = reference.CentroidLps is { } truth ? (at - truth).Length : (double?)null;
        var where = string.Create(CultureInfo.InvariantCulture,
            $"{level} named {(distance is { } d ? $"{d:0.0} mm from the reference centroid" : "with no reference centroid")}{(reference.Body is null ? string.Empty : inside ? ", inside the reference body" : ", outside the reference body")}");
        return inside || distance <= CentroidToleranceMm
            ? (LevelVerdict.Right, where, at)
            : (LevelVerdict.Wrong, where, at);
    }

    /// <summary>"L5 (z -86.0) above T9 (z -130.4)" for the highest lumbar or sacral name above the lowest thoracic one; null when the order is sound.</summary>
    public static string? LumbarAboveThoracic(IReadOnlyList<NamedLevel> levels)
    {
        var thoracic = levels.Where(named => VertebraNames.IsThoracic(named.Name)).ToList();
        var lower = levels.Where(named => VertebraNames.IsLumbarOrSacral(named.Name)).ToList();
        if (thoracic.Count == 0 || lower.Count == 0)
        {
            return null;
        }

        var lowestThoracic = thoracic.MinBy(named => named.CentroidLps.Z)!;
        var highestLower = lower.MaxBy(named => named.CentroidLps.Z)!;
        return highestLower.CentroidLps.Z > lowestThoracic.CentroidLps.Z
            ? string.Create(CultureInfo.InvariantCulture,
                $"{highestLower.Name} (z {highestLower.CentroidLps.Z:0.0}) named above {lowestThoracic.Name} (z {lowestThoracic.CentroidLps.Z:0.0})")
            : null;
    }

    /// <summary>2|A ∩ B| / (|A| + |B|) of two masks on one grid.</summary>
    public static double Dice(Mask a, Mask b)
    {
        if (a.Geometry != b.Geometry)
        {
            throw new ArgumentException("Dice needs two masks on one grid", nameof(b));
        }

        var left = a.Voxels;
        var right = b.Voxels;
        long both = 0, inA = 0, inB = 0;
        for (var index = 0; index < left.Length; index++)
        {
            var (x, y) = (left[index] != 0, right[index] != 0);
            inA += x ? 1 : 0;
            inB += y ? 1 : 0;
            both += x && y ? 1 : 0;
        }

        return inA + inB == 0 ? 1 : 2.0 * both / (inA + inB);
    }

    /// <summary>Whether the voxel nearest a point is inside the mask.</summary>
    public static bool Inside(Mask mask, Vector3 point)
    {
        var voxel = mask.Geometry.PatientToVoxel(point);
        var (i, j, k) = ((int)Math.Round(voxel.X), (int)Math.Round(voxel.Y), (int)Math.Round(voxel.Z));
        var g = mask.Geometry;
        return i >= 0 && j >= 0 && k >= 0 && i < g.SizeX && j < g.SizeY && k < g.SizeZ && mask[i, j, k];
    }

    private static Vector3? Nearest(IEnumerable<Vector3> points, Vector3? target) =>
        points.Select(p => (Vector3?)p).MinBy(p => target is { } t ? (p!.Value - t).Length : 0);
}
