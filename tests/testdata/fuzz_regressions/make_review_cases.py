#!/usr/bin/python3
"""Writes the regression inputs for crashes found while reviewing the loaders for
the fuzz targets (before the fuzzers ran); fuzzer-found inputs are copied here as
libFuzzer wrote them. Run from this folder: /usr/bin/python3 make_review_cases.py"""
import os

import onnx
from onnx import TensorProto, helper


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# float_data with 1 value for dims [2^20, 2^20]: the importer allocated the 4 TiB
# tensor before comparing the value count (std::bad_alloc, abort).
w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20], float_data=[1.0])
g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
write("onnx_model/review-typed-data-before-size-check.onnx", m.SerializeToString())


def npy(descr, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload


# 2^62+1 float32 values: n * 4 wrapped to 4 bytes, so the size check passed and
# the tensor allocation failed (std::bad_alloc).
write("npy/review-size-wraps.npy", npy("<f4", "(4611686018427387905,)", b"\0" * 4))
# Same for float64: 2^61 * 8 wraps to 0.
write("npy/review-size-wraps-f8.npy", npy("<f8", "(2305843009213693952,)", b""))
