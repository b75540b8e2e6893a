"""Generates the tiny ONNX models used by tests/e2e/cli_test.cc (developer-time only).

Run: /usr/bin/python3 make_models.py   (needs the `onnx` package)
"""
import onnx
from onnx import TensorProto, helper


def save(graph, path, opset=13):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="qcal-tests")
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


# x [N,3] float -> Relu -> y
relu = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["y"], name="relu")], "tiny_relu",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])])
save(relu, "tiny_relu.onnx")

# Two nodes whose op types qcal has no kernel for (Det, Einsum) between Relus.
unsupported = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["r"], name="relu"),
     helper.make_node("Det", ["r"], ["d"], name="det_node"),
     helper.make_node("Einsum", ["r"], ["e"], name="einsum_node", equation="ij->i"),
     helper.make_node("Relu", ["d"], ["y"], name="relu_out"),
     helper.make_node("Relu", ["e"], ["z"], name="relu_out2")], "two_unsupported",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, []),
     helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])])
save(unsupported, "two_unsupported_ops.onnx")

# Output names that are not valid file names: written as sanitized .npy names.
slashes = helper.make_graph(
    [helper.make_node("Relu", ["x"], ["head/relu:0"], name="relu"),
     helper.make_node("Relu", ["head/relu:0"], ["../up"], name="relu2")], "slash_outputs",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
    [helper.make_tensor_value_info("head/relu:0", TensorProto.FLOAT, [2]),
     helper.make_tensor_value_info("../up", TensorProto.FLOAT, [2])])
save(slashes, "slash_outputs.onnx")
