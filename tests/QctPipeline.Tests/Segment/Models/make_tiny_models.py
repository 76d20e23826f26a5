#!/usr/bin/python3
"""Writes the tiny ONNX models the ONNX Runtime binding tests run.

Run with Debian's interpreter (python3-onnx is installed for /usr/bin/python3 only):
    /usr/bin/python3 tests/QctPipeline.Tests/Segment/Models/make_tiny_models.py

The weights follow closed formulas that OnnxSessionTests repeats in C#, so the tests compute the expected outputs
by hand. Every weight and bias is a multiple of 1/8 and the tests feed multiples of 1/16, so ONNX Runtime's float
arithmetic is exact and any difference from the hand computation is a binding error, not rounding.
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
MODELS = os.path.dirname(os.path.abspath(__file__))


def conv_weight(out_channel, kd, kh, kw):
    # Mirrored in OnnxSessionTests.ConvWeight.
    return ((out_channel * 27 + kd * 9 + kh * 3 + kw) % 7 - 3) / 8.0 * (1 if out_channel == 0 else -1)


CONV_BIAS = [0.25, -0.5]  # Mirrored in OnnxSessionTests.ConvBias.


def save(graph, name):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="make_tiny_models.py")
    # Keep the IR version ONNX Runtime reads regardless of which onnx package wrote the file.
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(MODELS, name))


def tiny_conv3d():
    """scores = Relu(Conv3d(volume; 1 -> 2 channels, 3x3x3, padding 1) + bias) + offset, any depth/height/width."""
    weight = np.array(
        [[[[[conv_weight(oc, kd, kh, kw) for kw in range(3)] for kh in range(3)] for kd in range(3)]] for oc in range(2)],
        dtype=np.float32,
    )
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Conv", ["volume", "weight", "bias"], ["convolved"], kernel_shape=[3, 3, 3], pads=[1] * 6),
            helper.make_node("Relu", ["convolved"], ["rectified"]),
            helper.make_node("Add", ["rectified", "offset"], ["scores"]),
        ],
        name="tiny_conv3d",
        inputs=[
            helper.make_tensor_value_info("volume", TensorProto.FLOAT, [1, 1, "depth", "height", "width"]),
            helper.make_tensor_value_info("offset", TensorProto.FLOAT, [1, 2, 1, 1, 1]),
        ],
        outputs=[helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2, "depth", "height", "width"])],
        initializer=[
            numpy_helper.from_array(weight, "weight"),
            numpy_helper.from_array(np.array(CONV_BIAS, dtype=np.float32), "bias"),
        ],
    )
    save(graph, "tiny-conv3d.onnx")


def tiny_argmax():
    """labels (int64) = ArgMax(scores, axis 1): the shape of a segmentation head that returns label maps."""
    graph = helper.make_graph(
        nodes=[helper.make_node("ArgMax", ["scores"], ["labels"], axis=1, keepdims=0)],
        name="tiny_argmax",
        inputs=[helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3, "voxels"])],
        outputs=[helper.make_tensor_value_info("labels", TensorProto.INT64, [1, "voxels"])],
    )
    save(graph, "tiny-argmax.onnx")


def tiny_double_input():
    """A model the binding must refuse to feed: its input is float64."""
    graph = helper.make_graph(
        nodes=[helper.make_node("Cast", ["values"], ["singles"], to=TensorProto.FLOAT)],
        name="tiny_double_input",
        inputs=[helper.make_tensor_value_info("values", TensorProto.DOUBLE, [3])],
        outputs=[helper.make_tensor_value_info("singles", TensorProto.FLOAT, [3])],
    )
    save(graph, "tiny-double-input.onnx")


if __name__ == "__main__":
    tiny_conv3d()
    tiny_argmax()
    tiny_double_input()
