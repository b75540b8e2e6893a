#!/usr/bin/python3
"""Makes ONNX-test-style data for shared/testdata/mnist_cntk_onnx/model.onnx (opset 1).

Inputs: the three samples of the model zoo's test_data_{0,1,2}.npz (raw pixels 0..255 as float,
[1,1,28,28]). Expected outputs: logits computed by an independent PyTorch re-implementation of the
graph (weights read with onnx.numpy_helper), checked against the npz one-hot labels.
Run from the repo root: /usr/bin/python3 tests/testdata/mnist_cntk_onnx/make_test_data.py
"""
import os

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "..", "..", "..", "shared", "testdata", "mnist_cntk_onnx")

model = onnx.load(os.path.join(SRC, "model.onnx"))
consts = {n.output[0]: torch.from_numpy(numpy_helper.to_array(n.attribute[0].t).copy())
          for n in model.graph.node if n.op_type == "Constant"}


def forward(x):
    # Conv(5x5, SAME_UPPER) + bias[8] (legacy broadcast axis=1) -> Relu -> MaxPool 2x2/2
    y = F.conv2d(x, consts["Parameter5"], padding=2) + consts["Parameter6"].reshape(1, 8, 1, 1)
    y = F.max_pool2d(F.relu(y), 2, 2)
    # Conv(5x5, SAME_UPPER) + bias[16] -> Relu -> MaxPool 3x3/3
    y = F.conv2d(y, consts["Parameter87"], padding=2) + consts["Parameter88"].reshape(1, 16, 1, 1)
    y = F.max_pool2d(F.relu(y), 3, 3)
    # Reshape [1,256] x Reshape(Parameter193, [256,10]) + [1,10]
    return y.reshape(1, 256) @ consts["Parameter193"].reshape(256, 10) + consts["Parameter194"]


for i in range(3):
    d = np.load(os.path.join(SRC, "test_data_%d.npz" % i))
    x = d["inputs"].astype(np.float32).reshape(1, 1, 28, 28)
    with torch.no_grad():
        logits = forward(torch.from_numpy(x)).numpy()
    assert logits.argmax() == d["outputs"].argmax(), (i, logits, d["outputs"])
    out = os.path.join(HERE, "test_data_set_%d" % i)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "Input3").SerializeToString())
    with open(os.path.join(out, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(logits.astype(np.float32), "Plus214_Output_0").SerializeToString())
    print(i, logits.argmax(), logits.round(1))
