using System.Buffers;
using System.Text;

namespace QctPipeline.Segment.Onnx;

/// <summary>
/// An ONNX model loaded into ONNX Runtime on the CPU, with its declared inputs and outputs.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Run"/> and <see cref="RunTensors"/> may be called from several threads at once on the
/// same session; ONNX Runtime allows concurrent runs, and this class keeps no per-run state. Concurrent runs share the
/// session's intra-op thread pool, so on a machine with few cores they gain little over consecutive runs.
/// <see cref="Dispose"/> may race a run: the native session is released when the last run using it has returned.
/// </remarks>
public sealed unsafe class OnnxSession : IDisposable
{
    private const int OnnxTypeTensor = 1;
    private const int SequentialExecutionMode = 0;
    private const int ParallelExecutionMode = 1;

    private readonly OrtApi api;
    private readonly OnnxRuntimeLibrary.LoadedRuntime runtime;
    private readonly OrtHandle session;
    private readonly Utf8Names outputNames;

    /// <summary>Loads a model file. Errors in the model surface as <see cref="OnnxRuntimeException"/>.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="NotSupportedException">The model has an input or output that is not a tensor.</exception>
    public OnnxSession(string modelPath, OnnxSessionOptions? options = null)
    {
        ModelPath = Path.GetFullPath(modelPath);
        if (!File.Exists(ModelPath))
        {
            throw new FileNotFoundException($"ONNX model file not found: {ModelPath}", ModelPath);
        }

        runtime = OnnxRuntimeLibrary.Runtime;
        api = runtime.Api;
        session = CreateSession(options ?? new OnnxSessionOptions());
        try
        {
            Inputs = ReadTensorInfos(api.SessionGetInputCount, api.SessionGetInputName, api.SessionGetInputTypeInfo, "Input");
            Outputs = ReadTensorInfos(api.SessionGetOutputCount, api.SessionGetOutputName, api.SessionGetOutputTypeInfo, "Output");
            InputNames = Array.AsReadOnly(Inputs.Select(input => input.Name).ToArray());
            OutputNames = Array.AsReadOnly(Outputs.Select(output => output.Name).ToArray());
        }
        catch
        {
            session.Dispose();
            throw;
        }

        outputNames = new Utf8Names(OutputNames);
    }

    public string ModelPath { get; }

    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    public IReadOnlyList<string> InputNames { get; }

    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>
    /// Runs the model on named float32 inputs and returns every output, all of which must be float32.
    /// Input names and shapes are checked by ONNX Runtime, whose message an <see cref="OnnxRuntimeException"/> carries.
    /// </summary>
    /// <exception cref="ArgumentException">An input the model declares is not given.</exception>
    /// <exception cref="NotSupportedException">An input or output of the model is not float32.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled: the run was terminated.</exception>
    public IReadOnlyDictionary<string, FloatTensor> Run(IReadOnlyDictionary<string, FloatTensor> inputs, CancellationToken cancellation = default)
    {
        var nonFloatOutputs = Outputs.Where(output => output.ElementType != OnnxElementType.Float).ToList();
        if (nonFloatOutputs.Count > 0)
        {
            throw new NotSupportedException(
                $"{Path.GetFileName(ModelPath)} has outputs that are not float32 ({string.Join("; ", nonFloatOutputs)}); " +
                $"{nameof(RunTensors)} returns float32 and int64 outputs.");
        }

        return RunTensors(inputs, cancellation).ToDictionary(output => output.Key, output => (FloatTensor)output.Value);
    }

    /// <summary>
    /// Runs the model on named float32 inputs and returns every output as a <see cref="FloatTensor"/> or an
    /// <see cref="Int64Tensor"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An input the model declares is not given.</exception>
    /// <exception cref="NotSupportedException">An input is not float32, or an output neither float32 nor int64.</exception>
    /// <exception cref="OperationCanceledException">
    /// <paramref name="cancellation"/> was cancelled: ONNX Runtime was told to terminate the run (RunOptions), which it
    /// does between operators, so its threads and memory come back within one operator's time.
    /// </exception>
    public IReadOnlyDictionary<string, OnnxTensor> RunTensors(IReadOnlyDictionary<string, FloatTensor> inputs, CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(session.IsClosed, this);
        CheckInputsBeforeRunning(inputs);
        cancellation.ThrowIfCancellationRequested();

        // One snapshot, so names and values pair up whatever the dictionary's enumeration order.
        var inputEntries = inputs.ToArray();
        var inputNames = new Utf8Names([.. inputEntries.Select(entry => entry.Key)]);
        var inputValues = new nint[inputEntries.Length];
        var inputPins = new MemoryHandle[inputEntries.Length];
        var outputValues = new nint[Outputs.Count];
        var sessionReferenced = false;
        nint runOptions = 0;
        var terminate = default(CancellationTokenRegistration);
        try
        {
            session.DangerousAddRef(ref sessionReferenced);
            if (cancellation.CanBeCanceled)
            {
                api.Check(api.CreateRunOptions(&runOptions), "CreateRunOptions");
                var options = runOptions;
                terminate = cancellation.Register(() => api.Check(api.RunOptionsSetTerminate(options), "RunOptionsSetTerminate"));
            }

            for (var index = 0; index < inputEntries.Length; index++)
            {
                inputPins[index] = inputEntries[index].Value.Data.Pin();
                inputValues[index] = CreateInputValue(inputEntries[index].Value, inputPins[index]);
            }

            fixed (byte* inputNameBytes = inputNames.Bytes)
            fixed (byte* outputNameBytes = outputNames.Bytes)
            fixed (nint* inputValuePointers = inputValues)
            fixed (nint* outputValuePointers = outputValues)
            {
                var inputNamePointers = stackalloc byte*[inputNames.Count];
                inputNames.FillPointers(inputNameBytes, inputNamePointers);
                var outputNamePointers = stackalloc byte*[outputNames.Count];
                outputNames.FillPointers(outputNameBytes, outputNamePointers);
                api.Check(
                    api.Run(
                        session.DangerousGetHandle(), runOptions,
                        inputNamePointers, inputValuePointers, (nuint)inputValues.Length,
                        outputNamePointers, (nuint)outputValues.Length, outputValuePointers),
                    "Run");
            }

            var outputs = new Dictionary<string, OnnxTensor>(Outputs.Count);
            for (var output = 0; output < Outputs.Count; output++)
            {
                outputs.Add(Outputs[output].Name, ReadOutput(outputValues[output], Outputs[output].Name));
            }

            return outputs;
        }
        catch (OnnxRuntimeException terminated) when (cancellation.IsCancellationRequested)
        {
            throw new OperationCanceledException("the model run was terminated on cancellation", terminated, cancellation);
        }
        finally
        {
            // The registration is undone (waiting for a callback in flight) before the run options it uses are released.
            terminate.Dispose();
            if (runOptions != 0)
            {
                api.ReleaseRunOptions(runOptions);
            }

            // Values are released before the pins, so ONNX Runtime never holds a pointer into unpinned memory.
            foreach (var value in outputValues.Concat(inputValues).Where(value => value != 0))
            {
                api.ReleaseValue(value);
            }

            foreach (var pin in inputPins)
            {
                pin.Dispose();
            }

            if (sessionReferenced)
            {
                session.DangerousRelease();
            }
        }
    }

    /// <summary>Releases the native session; safe to call more than once.</summary>
    public void Dispose() => session.Dispose();

    private OrtHandle CreateSession(OnnxSessionOptions options)
    {
        nint rawOptions;
        api.Check(api.CreateSessionOptions(&rawOptions), "CreateSessionOptions");
        using var sessionOptions = new OrtHandle(rawOptions, api.ReleaseSessionOptions);
        api.Check(api.SetIntraOpNumThreads(rawOptions, options.IntraOpThreads), "SetIntraOpNumThreads");
        api.Check(api.SetSessionGraphOptimizationLevel(rawOptions, (int)options.GraphOptimization), "SetSessionGraphOptimizationLevel");
        api.Check(
            api.SetSessionExecutionMode(rawOptions, options.SequentialExecution ? SequentialExecutionMode : ParallelExecutionMode),
            "SetSessionExecutionMode");

        // ORTCHAR_T is char (UTF-8) on Linux, the only platform this binding loads a library for.
        var path = Encoding.UTF8.GetBytes(ModelPath + "\0");
        nint rawSession;
        fixed (byte* pathBytes = path)
        {
            api.Check(api.CreateSession(runtime.Environment, pathBytes, rawOptions, &rawSession), "CreateSession");
        }

        return new OrtHandle(rawSession, api.ReleaseSession);
    }

    private IReadOnlyList<OnnxTensorInfo> ReadTensorInfos(
        delegate* unmanaged<nint, nuint*, nint> getCount,
        delegate* unmanaged<nint, nuint, nint, byte**, nint> getName,
        delegate* unmanaged<nint, nuint, nint*, nint> getTypeInfo,
        string role)
    {
        var rawSession = session.DangerousGetHandle();
        nuint count;
        api.Check(getCount(rawSession, &count), $"SessionGet{role}Count");
        var infos = new OnnxTensorInfo[(int)count];
        for (nuint index = 0; index < count; index++)
        {
            byte* rawName;
            api.Check(getName(rawSession, index, runtime.DefaultAllocator, &rawName), $"SessionGet{role}Name");
            var name = api.TakeAllocatedString(runtime.DefaultAllocator, rawName);

            nint typeInfo;
            api.Check(getTypeInfo(rawSession, index, &typeInfo), $"SessionGet{role}TypeInfo");
            try
            {
                int onnxType;
                api.Check(api.GetOnnxTypeFromTypeInfo(typeInfo, &onnxType), "GetOnnxTypeFromTypeInfo");
                if (onnxType != OnnxTypeTensor)
                {
                    throw new NotSupportedException(
                        $"The {role.ToLowerInvariant()} '{name}' of {Path.GetFileName(ModelPath)} is not a tensor (ONNX type {DescribeOnnxType(onnxType)}); " +
                        "only tensor inputs and outputs are supported.");
                }

                // Borrowed from typeInfo, which frees it.
                nint tensorInfo;
                api.Check(api.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo), "CastTypeInfoToTensorInfo");
                var (elementType, shape) = ReadTypeAndShape(tensorInfo);
                infos[index] = new OnnxTensorInfo(name, elementType, Array.AsReadOnly(shape));
            }
            finally
            {
                api.ReleaseTypeInfo(typeInfo);
            }
        }

        return Array.AsReadOnly(infos);
    }

    private (OnnxElementType ElementType, long[] Shape) ReadTypeAndShape(nint tensorInfo)
    {
        int elementType;
        api.Check(api.GetTensorElementType(tensorInfo, &elementType), "GetTensorElementType");
        nuint rank;
        api.Check(api.GetDimensionsCount(tensorInfo, &rank), "GetDimensionsCount");
        var shape = new long[(int)rank];
        fixed (long* dimensions = shape)
        {
            api.Check(api.GetDimensions(tensorInfo, dimensions, rank), "GetDimensions");
        }

        return ((OnnxElementType)elementType, shape);
    }

    private void CheckInputsBeforeRunning(IReadOnlyDictionary<string, FloatTensor> inputs)
    {
        // Names the model does not declare are left to ONNX Runtime, whose message names them. A declared input that
        // is left out is caught here: ORT would only notice inside the first operator that reads it.
        var missingInputs = InputNames.Where(name => !inputs.ContainsKey(name)).ToList();
        if (missingInputs.Count > 0 && inputs.Keys.All(InputNames.Contains))
        {
            throw new ArgumentException(
                $"{Path.GetFileName(ModelPath)} needs the inputs {string.Join(", ", InputNames)}; missing: {string.Join(", ", missingInputs)}.",
                nameof(inputs));
        }

        var nonFloatInputs = Inputs.Where(input => input.ElementType != OnnxElementType.Float).ToList();
        if (nonFloatInputs.Count > 0)
        {
            throw new NotSupportedException(
                $"{Path.GetFileName(ModelPath)} has inputs that are not float32 ({string.Join("; ", nonFloatInputs)}); " +
                "this binding feeds float32 inputs only.");
        }

        var unreadableOutputs = Outputs
            .Where(output => output.ElementType is not (OnnxElementType.Float or OnnxElementType.Int64))
            .ToList();
        if (unreadableOutputs.Count > 0)
        {
            throw new NotSupportedException(
                $"{Path.GetFileName(ModelPath)} has outputs that are neither float32 nor int64 ({string.Join("; ", unreadableOutputs)}).");
        }
    }

    private nint CreateInputValue(FloatTensor tensor, MemoryHandle pin)
    {
        var shape = tensor.Dimensions;
        nint value;
        fixed (long* dimensions = shape)
        {
            // ONNX Runtime reads input buffers without writing them, although the C signature is not const.
            api.Check(
                api.CreateTensorWithDataAsOrtValue(
                    runtime.CpuMemoryInfo, pin.Pointer, (nuint)tensor.Data.Length * sizeof(float),
                    dimensions, (nuint)shape.Length, (int)OnnxElementType.Float, &value),
                "CreateTensorWithDataAsOrtValue");
        }

        return value;
    }

    private OnnxTensor ReadOutput(nint value, string name)
    {
        nint tensorInfo;
        api.Check(api.GetTensorTypeAndShape(value, &tensorInfo), "GetTensorTypeAndShape");
        OnnxElementType elementType;
        long[] shape;
        try
        {
            (elementType, shape) = ReadTypeAndShape(tensorInfo);
        }
        finally
        {
            api.ReleaseTensorTypeAndShapeInfo(tensorInfo);
        }

        var elementCount = shape.Aggregate(1L, (product, dimension) => checked(product * dimension));
        if (elementCount > Array.MaxLength)
        {
            throw new NotSupportedException($"The output '{name}' has {elementCount} elements, more than a .NET array holds.");
        }

        void* data;
        api.Check(api.GetTensorMutableData(value, &data), "GetTensorMutableData");
        return elementType switch
        {
            OnnxElementType.Float => new FloatTensor(shape, new ReadOnlySpan<float>(data, (int)elementCount).ToArray()),
            OnnxElementType.Int64 => new Int64Tensor(shape, new ReadOnlySpan<long>(data, (int)elementCount).ToArray()),
            _ => throw new NotSupportedException($"The output '{name}' is {elementType}; only float32 and int64 outputs are read."),
        };
    }

    private static string DescribeOnnxType(int onnxType) => onnxType switch
    {
        2 => "sequence",
        3 => "map",
        4 => "opaque",
        5 => "sparse tensor",
        6 => "optional",
        _ => $"#{onnxType}",
    };

    /// <summary>
    /// Null-terminated UTF-8 names in one buffer, so a single pin covers every name handed to ONNX Runtime.
    /// </summary>
    private sealed class Utf8Names
    {
        private readonly int[] offsets;

        public Utf8Names(IReadOnlyList<string> names)
        {
            offsets = new int[names.Count];
            var bytes = new List<byte>();
            for (var index = 0; index < names.Count; index++)
            {
                offsets[index] = bytes.Count;
                bytes.AddRange(Encoding.UTF8.GetBytes(names[index]));
                bytes.Add(0);
            }

            // Never empty, so pinning it always yields a valid pointer.
            Bytes = bytes.Count > 0 ? [.. bytes] : [0];
        }

        public byte[] Bytes { get; }

        public int Count => offsets.Length;

        public void FillPointers(byte* pinnedBytes, byte** pointers)
        {
            for (var index = 0; index < offsets.Length; index++)
            {
                pointers[index] = pinnedBytes + offsets[index];
            }
        }
    }
}
