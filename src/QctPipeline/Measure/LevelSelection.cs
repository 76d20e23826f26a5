using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// Which vertebra to measure. L1 when usable; otherwise L2, then the vertebra above L1 (usually T12): L2 first because
/// the ACR categories are defined on lumbar vertebrae and classic QCT averages L1–L2. With no usable level the one
/// with trabecular voxels is measured anyway (L1 first), marked unusable, with every reason.
/// </summary>
public static class LevelSelection
{
    /// <summary>A null assessment means the level was not segmented.</summary>
    public static LevelChoice Choose(VertebraAssessment? l1, VertebraAssessment? aboveL1, VertebraAssessment? l2)
    {
        if (l1 is { Usable: true })
        {
            return new LevelChoice(VertebralLevel.L1, true, "L1 measured");
        }

        var l1Problem = l1 is null ? "L1 not segmented" : $"L1 unusable ({string.Join("; ", l1.UnusableReasons)})";
        var fallbacks = new[] { (Assessment: l2, Name: "L2"), (Assessment: aboveL1, Name: "the vertebra above L1") };
        foreach (var (assessment, name) in fallbacks)
        {
            if (assessment is { Usable: true })
            {
                return new LevelChoice(assessment.Level, true, $"{l1Problem}: {name} measured instead");
            }
        }

        var problems = string.Join("; ", new[] { l1Problem }.Concat(fallbacks.Select(f => f.Assessment is null
            ? $"{f.Name} not segmented"
            : $"{f.Name} unusable ({string.Join("; ", f.Assessment.UnusableReasons)})")));
        var measurable = new[] { l1, l2, aboveL1 }.FirstOrDefault(a => a is { ErodedVoxels: > 0 });
        return measurable is null
            ? new LevelChoice(null, false, $"no level can be measured: {problems}")
            : new LevelChoice(measurable.Level, false, $"no usable level: {problems}; {measurable.Level} measured for reference only");
    }
}
