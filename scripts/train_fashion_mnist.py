#!/usr/bin/python3
"""Trains qcal's bundled example model: a small Fashion-MNIST CNN, exported to ONNX.

Developer-time script (the product never runs Python). Needs Debian's python3-torch,
python3-onnx, python3-numpy and the Debian package `dataset-fashion-mnist`
(/usr/share/datasets/fashion-mnist/*.gz, read here with gzip + numpy).

    /usr/bin/python3 scripts/train_fashion_mnist.py --out models/fashion_mnist_cnn.onnx

Preprocessing expected by the model (input `input`, float32 [N,1,28,28]):
    x = pixel / 255            (pixel = uint8 0..255)
    x = (x - 0.2860) / 0.3530  (Fashion-MNIST training-set mean / std)
i.e. qcal's `scale 1/255, mean 0.2860, std 0.3530`. Output `logits` [N,10] (class order of the
dataset: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot).

The network: Conv(1->16,3x3,pad1)-BN-ReLU-MaxPool2, Conv(16->32,3x3,pad1)-BN-ReLU-MaxPool2,
Conv(32->64,3x3,pad1)-BN-ReLU, Flatten, Gemm(3136->10). It is exported from eval mode with
TrainingMode.PRESERVE and without constant folding: torch's EVAL export would fuse BN into the
convs, PRESERVE keeps the three BatchNormalization nodes (inference form) so qcal's BN folding
is exercised on it. Runs on one CPU thread with a fixed seed.
"""
import argparse
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    """Reads an idx1/idx3 ubyte(.gz) file into a uint8 numpy array (independent of qcal)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    images = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    x = (images.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(x[:, None, :, :].copy()), torch.from_numpy(labels.astype(np.int64))


def conv_block(cin, cout, pool):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return layers


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*conv_block(1, 16, True), *conv_block(16, 32, True),
                                      *conv_block(32, 64, False))
        self.fc = nn.Linear(64 * 7 * 7, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def train(model, x, y, epochs, batch, seed):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}/{epochs}: train loss {total / len(x):.4f}", flush=True)


def export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, path, opset_version=13, input_names=["input"],
                      output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = [n.op_type for n in m.graph.node]
    assert ops.count("BatchNormalization") == 3, f"expected 3 BatchNormalization nodes, got {ops}"
    print("exported", path, "ops:", " ".join(ops))


def verify_with_opencv(path, model, x, y):
    """Cross-checks the exported file with an independent ONNX runtime (OpenCV dnn), if installed."""
    try:
        import cv2
    except ImportError:
        print("python3-opencv not installed: skipping the OpenCV dnn check of the ONNX file")
        return
    net = cv2.dnn.readNetFromONNX(path)
    model.eval()
    correct, max_diff = 0, 0.0
    for i in range(0, len(x), 1000):
        net.setInput(x[i:i + 1000].numpy())
        out = net.forward()
        with torch.no_grad():
            ref = model(x[i:i + 1000]).numpy()
        max_diff = max(max_diff, float(np.abs(out - ref).max()))
        correct += int((out.argmax(1) == y[i:i + 1000].numpy()).sum())
    print(f"ONNX via OpenCV dnn: test accuracy {correct / len(x) * 100:.2f} %, max |logit diff| vs torch {max_diff:.2e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="models/fashion_mnist_cnn.onnx")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    xtr, ytr = load("train")
    xte, yte = load("t10k")
    model = FashionCnn()
    t0, c0 = time.time(), time.process_time()
    train(model, xtr, ytr, args.epochs, args.batch, args.seed)
    print(f"train time: {time.time() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU "
          f"({args.epochs} epochs, seed {args.seed}, 1 thread)")
    print(f"FP32 test accuracy (10000): {accuracy(model, xte, yte) * 100:.2f} %")
    print(f"  first 5000: {accuracy(model, xte[:5000], yte[:5000]) * 100:.2f} %")
    print(f"  last 5000:  {accuracy(model, xte[5000:], yte[5000:]) * 100:.2f} %")
    print(f"FP32 train accuracy (60000): {accuracy(model, xtr, ytr) * 100:.2f} %")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    export(model, args.out)
    verify_with_opencv(args.out, model, xte, yte)


if __name__ == "__main__":
    main()
