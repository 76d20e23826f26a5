using QctPipeline.Cli.Commands;
using QctPipeline.Segment;
using QctPipeline.Tests.Segment;

namespace QctPipeline.Tests.Cli;

/// <summary>
/// Issue 5's must-holds through the whole chain as `qct analyze` runs it — DICOM written and read back, the shipped
/// model, automatic calibration — on a few of `qct eval-vbmd`'s cases (the command runs all 89).
/// </summary>
public sealed class EvalVbmdTests
{
    [Fact]
    public void Shipped_model_chain_meets_the_phantom_internal_and_fracture_must_holds()
    {
        var manifest = ShippedModelTests.ShippedManifest() ?? throw new InvalidOperationException("models/qct-l1-model.json is not in the repository");
        using var model = SegmentationModel.Load(manifest);
        using var scratch = new TempFolder();
        var cases = EvalVbmdCommand.Cases(EvalVbmdCommand.Suite.All, 500000)
            .Where(c => c.Options.Seed is 500000 or 500019 or 500102 or 500401)
            .DistinctBy(c => c.Options.Seed)
            .ToList();
        Assert.Equal(4, cases.Count);

        foreach (var evalCase in cases)
        {
            var result = EvalVbmdCommand.Evaluate(evalCase, model, scratch.Path);
            var onModel = result.OnModel ?? throw new Xunit.Sdk.XunitException($"seed {evalCase.Options.Seed}: nothing measured ({result.Status})");
            var onTruth = result.OnTruth!;
            switch (evalCase.Suite)
            {
                case EvalVbmdCommand.Suite.Sync:
                    Assert.Equal("phantom", result.Method);
                    Assert.True(onModel.WithinPhantomTolerance, $"seed {evalCase.Options.Seed}, model: {onModel}");
                    Assert.True(onTruth.WithinPhantomTolerance, $"seed {evalCase.Options.Seed}, truth mask: {onTruth}");
                    break;
                case EvalVbmdCommand.Suite.Internal:
                    // Within 5 %, or 2 mg/cm³ at low density: the generator's fat (Woodard-White adipose 3) reads ~4.5 HU
                    // above the ICRP adipose of the tissue model, inside fat's 6 HU population spread, and the weighted fit
                    // moves the intercept by ~2 HU for it: 1.5 mg/cm³, 5 % of a 30 mg/cm³ body (decision 0006).
                    Assert.Equal("internal", result.Method);
                    Assert.True(Math.Abs(onModel.ErrorMg) <= Math.Max(2, 0.05 * onModel.Equivalent), $"seed {evalCase.Options.Seed}, model: {onModel}");
                    Assert.True(Math.Abs(onTruth.ErrorMg) <= Math.Max(2, 0.05 * onTruth.Equivalent), $"seed {evalCase.Options.Seed}, truth mask: {onTruth}");
                    break;
                default:
                    Assert.NotNull(result.L1Unusable);
                    Assert.Contains("fracture", result.L1Unusable, StringComparison.Ordinal);
                    Assert.True(onModel is { Usable: true, Level: not "L1" }, onModel.ToString());
                    break;
            }
        }
    }
}
