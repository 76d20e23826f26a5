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
                    Assert.Equal("internal", result.Method);
                    Assert.InRange(onModel.ErrorPercent, -5, 5);
                    Assert.InRange(onTruth.ErrorPercent, -5, 5);
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
