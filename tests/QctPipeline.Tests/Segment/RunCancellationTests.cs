using QctPipeline.Segment;
using QctPipeline.Segment.Onnx;

namespace QctPipeline.Tests.Segment;

/// <summary>A cancelled token stops ONNX Runtime inside its run (RunOptions terminate), not after it.</summary>
public sealed class RunCancellationTests
{
    [Fact]
    public void Cancelling_mid_run_terminates_the_shipped_localizer_and_its_session_runs_again()
    {
        var manifest = ShippedModelTests.ShippedManifest() ?? throw new InvalidOperationException("models/qct-l1-model.json is not in the repository");
        using var model = SegmentationModel.Load(manifest);
        var stage = model.Manifest.Localizer;

        // A 192³ canvas takes the localizer over a second on this machine's 2 cores; the token fires 50 ms into it.
        const int Side = 192;
        var large = new FloatTensor([1, 1, Side, Side, Side], new float[Side * Side * Side]);
        using var cancel = new CancellationTokenSource();
        cancel.CancelAfter(TimeSpan.FromMilliseconds(50));
        var stopped = Assert.Throws<OperationCanceledException>(() => model.Localizer.Run(new Dictionary<string, FloatTensor> { [stage.InputName] = large }, cancel.Token));

        // ONNX Runtime's own error says the run was terminated: the token reached the running network.
        var terminated = Assert.IsType<OnnxRuntimeException>(stopped.InnerException);
        Assert.Equal("Run", terminated.Operation);

        // Run options belong to one run: the same session, uncancelled, runs to the end.
        var small = new FloatTensor([1, 1, 32, 32, 32], new float[32 * 32 * 32]);
        var output = model.Localizer.Run(new Dictionary<string, FloatTensor> { [stage.InputName] = small }, CancellationToken.None)[stage.OutputName];
        Assert.Equal(32, output.Shape[^1]);
    }
}
