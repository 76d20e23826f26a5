namespace QctPipeline.Segment.Onnx;

/// <summary>
/// A dense tensor in row-major (C) order, as ONNX Runtime lays it out: the last dimension varies fastest.
/// The data is not copied on construction; whoever builds a tensor over an existing buffer must leave the buffer
/// unchanged while the tensor is in use. Tensors returned by <see cref="OnnxSession"/> own fresh arrays.
/// </summary>
public abstract record OnnxTensor
{
    private protected OnnxTensor(ReadOnlySpan<long> shape, int elementCount)
    {
        long product = 1;
        foreach (var dimension in shape)
        {
            if (dimension < 0)
            {
                throw new ArgumentException($"Tensor dimensions must not be negative: [{string.Join(", ", shape.ToArray())}].", nameof(shape));
            }

            product = checked(product * dimension);
        }

        if (product != elementCount)
        {
            throw new ArgumentException(
                $"Shape [{string.Join(", ", shape.ToArray())}] holds {product} elements but the data has {elementCount}.", nameof(shape));
        }

        dimensions = shape.ToArray();
        Shape = Array.AsReadOnly(dimensions);
    }

    private readonly long[] dimensions;

    public IReadOnlyList<long> Shape { get; }

    /// <summary>The shape as ONNX Runtime takes it; a private copy no caller can change.</summary>
    internal ReadOnlySpan<long> Dimensions => dimensions;

    public abstract OnnxElementType ElementType { get; }

    public sealed override string ToString() => $"{ElementType} [{string.Join(", ", Shape)}]";
}

/// <summary>A float32 tensor: the type of every model input and of the outputs of <see cref="OnnxSession.Run"/>.</summary>
public sealed record FloatTensor : OnnxTensor
{
    public FloatTensor(ReadOnlySpan<long> shape, ReadOnlyMemory<float> data)
        : base(shape, data.Length)
    {
        Data = data;
    }

    public ReadOnlyMemory<float> Data { get; }

    public override OnnxElementType ElementType => OnnxElementType.Float;
}

/// <summary>An int64 tensor, e.g. a label map from a model that ends in ArgMax.</summary>
public sealed record Int64Tensor : OnnxTensor
{
    public Int64Tensor(ReadOnlySpan<long> shape, ReadOnlyMemory<long> data)
        : base(shape, data.Length)
    {
        Data = data;
    }

    public ReadOnlyMemory<long> Data { get; }

    public override OnnxElementType ElementType => OnnxElementType.Int64;
}

/// <summary>
/// A model input or output as the model declares it. Dimensions the model leaves open (symbolic, e.g. "depth") are -1.
/// </summary>
public sealed record OnnxTensorInfo(string Name, OnnxElementType ElementType, IReadOnlyList<long> Shape)
{
    public override string ToString() => $"{Name}: {ElementType} [{string.Join(", ", Shape)}]";
}
