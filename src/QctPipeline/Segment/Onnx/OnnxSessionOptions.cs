namespace QctPipeline.Segment.Onnx;

/// <summary>ONNX Runtime's graph optimisation levels (<c>GraphOptimizationLevel</c>).</summary>
public enum OnnxGraphOptimizationLevel
{
    Disabled = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>How an <see cref="OnnxSession"/> is set up; the defaults suit one CPU-bound model per process.</summary>
public sealed record OnnxSessionOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator (a convolution); one per core by default.</summary>
    public int IntraOpThreads
    {
        get;
        init => field = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), value, "At least one thread is needed.");
    } = Environment.ProcessorCount;

    public OnnxGraphOptimizationLevel GraphOptimization { get; init; } = OnnxGraphOptimizationLevel.All;

    /// <summary>
    /// Run operators one after another (the default) rather than independent branches side by side; a U-Net is one
    /// chain, so parallel execution only adds a second thread pool competing for the same cores.
    /// </summary>
    public bool SequentialExecution { get; init; } = true;

    /// <summary>
    /// Options for one of <paramref name="workers"/> models running side by side on <paramref name="cores"/> cores: the
    /// cores shared out (at least one thread each), so that `batch --jobs 2` on 2 cores runs 2 threads, not 4.
    /// </summary>
    public static OnnxSessionOptions ForWorkers(int workers, int cores) => new() { IntraOpThreads = Math.Max(1, cores / Math.Max(1, workers)) };
}
