using System.Globalization;
using QctPipeline.Domain;

namespace QctPipeline.Measure;

/// <summary>
/// Which vertebra to measure. L1 when usable; otherwise L2, then the vertebra above L1 (usually T12): L2 first because
/// the ACR categories are defined on lumbar vertebrae and classic QCT averages L1–L2. A level measured in place of L1
/// must be whole in the scan and hold at least <see cref="MeasureOptions.MinFallbackRoiMl"/> of eroded bone: a cut
/// vertebra at the scan's edge measured a few hundred voxels and gave a confident wrong category. With no usable level
/// the one with trabecular voxels is measured anyway (L1 first), marked unusable, with every reason.
/// </summary>
public static class LevelSelection
{
    /// <summary>A null assessment means the level was not segmented.</summary>
    public static LevelChoice Choose(VertebraAssessment? l1, VertebraAssessment? aboveL1, VertebraAssessment? l2, MeasureOptions options)
    {
        if (l1 is { Usable: true })
        {
            return new LevelChoice(VertebralLevel.L1, true, "L1 measured");
        }

        var l1Problem = l1 is null ? "L1 not segmented" : $"L1 unusable ({string.Join("; ", l1.UnusableReasons)})";
        var fallbacks = new[] { (Assessment: l2, Name: "L2"), (Assessment: aboveL1, Name: "the vertebra above L1") };
        foreach (var (assessment, name) in fallbacks)
        {
            if (assessment is { Usable: true, Whole: true } && assessment.ErodedVolumeMl >= options.MinFallbackRoiMl)
            {
                return new LevelChoice(assessment.Level, true, $"{l1Problem}: {name} measured instead");
            }
        }

        var problems = string.Join("; ", new[] { l1Problem }.Concat(fallbacks.Select(f => Problem(f.Assessment, f.Name, options))));
        var measurable = new[] { l1, l2, aboveL1 }.FirstOrDefault(a => a is { ErodedVoxels: > 0 });
        return measurable is null
            ? new LevelChoice(null, false, $"no level can be measured: {problems}")
            : new LevelChoice(measurable.Level, false, $"no usable level: {problems}; {measurable.Level} measured for reference only");
    }

    private static string Problem(VertebraAssessment? assessment, string name, MeasureOptions options) => assessment switch
    {
        null => $"{name} not segmented",
        { Usable: false } => $"{name} unusable ({string.Join("; ", assessment.UnusableReasons)})",
        { Whole: false } => $"{name} is cut by the scan's edge",
        _ => string.Create(CultureInfo.InvariantCulture, $"{name} holds only {assessment.ErodedVolumeMl:0.0} ml of eroded bone (less than {options.MinFallbackRoiMl:0.#} ml)"),
    };
}
