namespace QctPipeline.Segment.Onnx;

/// <summary>ONNX Runtime's error codes (<c>OrtErrorCode</c> in <c>onnxruntime_c_api.h</c>).</summary>
public enum OnnxErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    ExecutionProviderFail = 11,
    ModelLoadCanceled = 12,
    ModelRequiresCompilation = 13,
    NotFound = 14,
    DeviceReset = 15,
}

/// <summary>An ONNX Runtime API call failed; carries ORT's own error code and message.</summary>
public sealed class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(string operation, OnnxErrorCode errorCode, string runtimeMessage)
        : base($"ONNX Runtime {operation} failed ({errorCode}): {OneLine(runtimeMessage)}")
    {
        Operation = operation;
        ErrorCode = errorCode;
        RuntimeMessage = runtimeMessage;
    }

    /// <summary>The C API function that failed, e.g. <c>CreateSession</c> or <c>Run</c>.</summary>
    public string Operation { get; }

    public OnnxErrorCode ErrorCode { get; }

    /// <summary>ORT's message, unchanged; it may span several lines.</summary>
    public string RuntimeMessage { get; }

    // The command line reports each problem on one line; ORT's shape errors come in three.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
