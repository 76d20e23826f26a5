using QctPipeline.Segment.Onnx;

namespace QctPipeline.Tests.Segment;

public sealed class OnnxSessionTests : IDisposable
{
    private static readonly float[] Offset = [0.5f, -0.25f];

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public void Names_element_types_and_shapes_come_from_the_model()
    {
        using var session = new OnnxSession(TinyModels.Conv3d);

        Assert.Equal(["volume", "offset"], session.InputNames);
        Assert.Equal(["scores"], session.OutputNames);
        Assert.All(session.Inputs.Concat(session.Outputs), info => Assert.Equal(OnnxElementType.Float, info.ElementType));
        Assert.Equal([1L, 1, -1, -1, -1], session.Inputs[0].Shape);
        Assert.Equal([1L, 2, 1, 1, 1], session.Inputs[1].Shape);
        Assert.Equal([1L, 2, -1, -1, -1], session.Outputs[0].Shape);
    }

    [Fact]
    public void Outputs_equal_the_convolution_computed_by_hand()
    {
        using var session = new OnnxSession(TinyModels.Conv3d);
        const int depth = 4, height = 5, width = 6;
        var volume = TinyModels.Volume(depth, height, width);

        var scores = session.Run(Conv3dInputs(volume, depth, height, width))["scores"];

        Assert.Equal([1L, 2, depth, height, width], scores.Shape);
        AssertClose(TinyModels.Conv3dByHand(volume, depth, height, width, Offset), scores.Data.ToArray());
    }

    [Theory]
    [InlineData(1, OnnxGraphOptimizationLevel.Disabled, true)]
    [InlineData(2, OnnxGraphOptimizationLevel.Basic, false)]
    [InlineData(2, OnnxGraphOptimizationLevel.All, true)]
    public void Every_session_option_gives_the_same_outputs(int threads, OnnxGraphOptimizationLevel optimization, bool sequential)
    {
        var options = new OnnxSessionOptions { IntraOpThreads = threads, GraphOptimization = optimization, SequentialExecution = sequential };
        using var session = new OnnxSession(TinyModels.Conv3d, options);
        const int depth = 7, height = 3, width = 9;
        var volume = TinyModels.Volume(depth, height, width, seed: 4);

        var scores = session.Run(Conv3dInputs(volume, depth, height, width))["scores"];

        AssertClose(TinyModels.Conv3dByHand(volume, depth, height, width, Offset), scores.Data.ToArray());
    }

    [Fact]
    public void Default_options_use_one_thread_per_core_all_optimisations_and_sequential_execution()
    {
        var options = new OnnxSessionOptions();

        Assert.Equal(Environment.ProcessorCount, options.IntraOpThreads);
        Assert.Equal(OnnxGraphOptimizationLevel.All, options.GraphOptimization);
        Assert.True(options.SequentialExecution);
        Assert.Throws<ArgumentOutOfRangeException>(() => options with { IntraOpThreads = 0 });
    }

    [Theory]
    [InlineData(1, 2, 2)]
    [InlineData(2, 2, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(3, 8, 2)]
    [InlineData(4, 16, 4)]
    public void Batch_workers_share_the_cores_out_with_at_least_one_thread_each(int workers, int cores, int threads) =>
        Assert.Equal(threads, OnnxSessionOptions.ForWorkers(workers, cores).IntraOpThreads);

    [Fact]
    public void A_wrong_input_name_fails_with_onnx_runtimes_message()
    {
        using var session = new OnnxSession(TinyModels.Conv3d);
        var inputs = new Dictionary<string, FloatTensor>(Conv3dInputs(TinyModels.Volume(2, 2, 2), 2, 2, 2));
        inputs["image"] = inputs["volume"];
        inputs.Remove("volume");

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run(inputs));

        Assert.Equal("Run", error.Operation);
        Assert.Equal(OnnxErrorCode.InvalidArgument, error.ErrorCode);
        Assert.Equal("Invalid input name: image", error.RuntimeMessage);
    }

    [Fact]
    public void A_wrong_input_shape_fails_with_onnx_runtimes_message()
    {
        using var session = new OnnxSession(TinyModels.Conv3d);
        var inputs = new Dictionary<string, FloatTensor>
        {
            ["volume"] = new([1, 2, 2, 2, 2], new float[16]),
            ["offset"] = new([1, 2, 1, 1, 1], Offset),
        };

        var error = Assert.Throws<OnnxRuntimeException>(() => session.Run(inputs));

        Assert.Equal(OnnxErrorCode.InvalidArgument, error.ErrorCode);
        Assert.Contains("Got invalid dimensions for input: volume", error.RuntimeMessage);
        Assert.Contains("index: 1 Got: 2 Expected: 1", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_declared_input_left_out_is_named_before_running()
    {
        using var session = new OnnxSession(TinyModels.Conv3d);
        var inputs = new Dictionary<string, FloatTensor> { ["volume"] = new([1, 1, 2, 2, 2], new float[8]) };

        var error = Assert.Throws<ArgumentException>(() => session.Run(inputs));

        Assert.Contains("missing: offset", error.Message);
    }

    [Fact]
    public void A_missing_model_file_is_a_file_not_found_naming_the_path()
    {
        var missing = folder.File("absent.onnx");

        var error = Assert.Throws<FileNotFoundException>(() => new OnnxSession(missing));

        Assert.Equal(missing, error.FileName);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_model_fails_in_create_session_with_onnx_runtimes_message()
    {
        var notAModel = folder.File("not-a-model.onnx");
        File.WriteAllText(notAModel, "this is not a protobuf");

        var error = Assert.Throws<OnnxRuntimeException>(() => new OnnxSession(notAModel));

        Assert.Equal("CreateSession", error.Operation);
        Assert.Equal(OnnxErrorCode.InvalidProtobuf, error.ErrorCode);
        Assert.Contains("Protobuf parsing failed", error.RuntimeMessage);
    }

    [Fact]
    public void Dispose_twice_is_safe_and_running_afterwards_is_refused()
    {
        var session = new OnnxSession(TinyModels.Conv3d);

        session.Dispose();
        session.Dispose();

        Assert.Throws<ObjectDisposedException>(() => session.Run(Conv3dInputs(TinyModels.Volume(2, 2, 2), 2, 2, 2)));
    }

    [Fact]
    public async Task Concurrent_runs_on_one_session_give_the_same_results_as_consecutive_ones()
    {
        using var session = new OnnxSession(TinyModels.Conv3d, new OnnxSessionOptions { IntraOpThreads = 2 });
        var cases = new[] { (Depth: 9, Height: 8, Width: 7, Seed: 1), (Depth: 5, Height: 11, Width: 6, Seed: 2) };
        var expected = cases
            .Select(c => session.Run(Conv3dInputs(TinyModels.Volume(c.Depth, c.Height, c.Width, c.Seed), c.Depth, c.Height, c.Width))["scores"].Data.ToArray())
            .ToArray();
        using var start = new Barrier(cases.Length);

        var mismatches = cases
            .Select((c, index) => Task.Factory.StartNew(
                () =>
                {
                    var inputs = Conv3dInputs(TinyModels.Volume(c.Depth, c.Height, c.Width, c.Seed), c.Depth, c.Height, c.Width);
                    start.SignalAndWait();
                    return Enumerable.Range(0, 40).Count(_ => !session.Run(inputs)["scores"].Data.Span.SequenceEqual(expected[index]));
                },
                TaskCreationOptions.LongRunning))
            .ToArray();

        var mismatchCounts = await Task.WhenAll(mismatches);

        Assert.Equal([0, 0], mismatchCounts);
    }

    [Fact]
    public void Int64_outputs_are_returned_by_run_tensors_and_refused_by_run()
    {
        using var session = new OnnxSession(TinyModels.ArgMax);
        // Three channels over four voxels; the label is the channel with the largest score.
        float[] scores = [0, 5, 1, 2, /**/ 3, 1, 1, 9, /**/ 1, 2, 4, 0];
        var inputs = new Dictionary<string, FloatTensor> { ["scores"] = new([1, 3, 4], scores) };

        var labels = Assert.IsType<Int64Tensor>(session.RunTensors(inputs)["labels"]);
        var refusal = Assert.Throws<NotSupportedException>(() => session.Run(inputs));

        Assert.Equal([1L, -1], session.Outputs[0].Shape);
        Assert.Equal(OnnxElementType.Int64, session.Outputs[0].ElementType);
        Assert.Equal([1L, 4], labels.Shape);
        Assert.Equal([1L, 0, 2, 1], labels.Data.ToArray());
        Assert.Contains("labels: Int64", refusal.Message);
    }

    [Fact]
    public void Inputs_that_are_not_float32_are_refused_with_the_name_and_type()
    {
        using var session = new OnnxSession(TinyModels.DoubleInput);
        var inputs = new Dictionary<string, FloatTensor> { ["values"] = new([3], new float[] { 1, 2, 3 }) };

        var refusal = Assert.Throws<NotSupportedException>(() => session.Run(inputs));

        Assert.Contains("values: Double [3]", refusal.Message);
        Assert.Contains("float32", refusal.Message);
    }

    private static Dictionary<string, FloatTensor> Conv3dInputs(float[] volume, int depth, int height, int width) => new()
    {
        ["volume"] = new([1, 1, depth, height, width], volume),
        ["offset"] = new([1, 2, 1, 1, 1], Offset),
    };

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var index = 0; index < expected.Length; index++)
        {
            Assert.True(Math.Abs(expected[index] - actual[index]) <= 1e-5f, $"element {index}: expected {expected[index]}, got {actual[index]}");
        }
    }
}
