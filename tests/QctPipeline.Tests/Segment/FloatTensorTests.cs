using QctPipeline.Segment.Onnx;

namespace QctPipeline.Tests.Segment;

public sealed class FloatTensorTests
{
    [Fact]
    public void The_shape_must_hold_exactly_the_data()
    {
        var error = Assert.Throws<ArgumentException>(() => new FloatTensor([2, 3], new float[5]));

        Assert.Contains("[2, 3] holds 6 elements but the data has 5", error.Message);
    }

    [Fact]
    public void Negative_dimensions_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new FloatTensor([-1, 2], new float[2]));
    }

    [Fact]
    public void The_shape_is_copied_so_changing_the_callers_array_does_not_change_the_tensor()
    {
        long[] shape = [2, 2];
        var tensor = new FloatTensor(shape, new float[4]);

        shape[0] = 4;

        Assert.Equal([2L, 2], tensor.Shape);
        Assert.Equal("Float [2, 2]", tensor.ToString());
    }
}
