#!/usr/bin/env python3
"""Per-conv comparison of a qcal node profile with an ONNX Runtime profile (developer tool).

  QCAL_PROFILE=nodes qcal -q bench --model M ... 2> qcal.err
  qcal_ort_bench --model M ... --profile ort.json
  bench/profile_compare.py M qcal.err ort.json [--skip-runs N]

Both runtimes run every Conv of M (qcal as Conv / FusedConv under the Conv's
name; ORT as an NCHWc Conv named after the value it writes). ORT values are
walked back to the Conv that produced them through the ops both fuse into it
(Relu, Add, Clip ...). Prints us per run per conv (qcal: mean per run from
its profile; ORT: median over the runs after --skip-runs warmup runs), and the
totals per shape class (C_in x H x W -> C_out, kernel, stride, group).
"""
import argparse
import collections
import json
import re
import statistics

import onnx
from onnx import shape_inference

QCAL_LINE = re.compile(r"^\s+([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\S+)\s+\((\w+)\)")


def conv_shapes(model_path):
    """Conv name -> shape-class string; value name -> producing node."""
    model = shape_inference.infer_shapes(onnx.load(model_path))
    g = model.graph
    dims = {}
    for vi in list(g.value_info) + list(g.input) + list(g.output):
        dims[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    for init in g.initializer:
        dims[init.name] = list(init.dims)
    producer, classes = {}, {}
    for n in g.node:
        for o in n.output:
            producer[o] = n
        if n.op_type != "Conv":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        x, w = dims.get(n.input[0], []), dims.get(n.input[1], [])
        y = dims.get(n.output[0], [])
        stride = attrs.get("strides", [1, 1])[0]
        group = attrs.get("group", 1)
        if len(x) == 4 and len(w) == 4 and len(y) == 4:
            classes[n.name] = (f"{x[1]:4d}x{x[2]:3d}x{x[3]:3d} -> {y[1]:4d}x{y[2]:3d}x{y[3]:3d} "
                               f"k{w[2]}x{w[3]} s{stride} g{group}")
        else:
            classes[n.name] = "?"
    return classes, producer


def conv_of_value(value, producer):
    """The Conv node that (after fusion) writes `value`."""
    seen = set()
    while value in producer and value not in seen:
        seen.add(value)
        n = producer[value]
        if n.op_type == "Conv":
            return n.name
        # Add: the fused conv is the input produced (through activations) by a Conv computed last;
        # take the last input that leads to a Conv.
        candidates = [i for i in n.input if i in producer]
        if not candidates:
            return None
        value = candidates[-1]
    return None


def read_qcal(path):
    per_node = {}
    for line in open(path):
        m = QCAL_LINE.match(line)
        if m:
            per_node[m.group(3)] = (float(m.group(2)), m.group(4))  # wall us/run, op type
    return per_node


def read_ort(path, producer, skip_runs):
    events = json.load(open(path))
    times = collections.defaultdict(list)
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        name = e["name"][: -len("_kernel_time")]
        op = e["args"].get("op_name", "")
        if op == "Conv" or op == "FusedConv":
            value = name[: -len("_nchwc")] if name.endswith("_nchwc") else name
            key = conv_of_value(value, producer) or name
        else:
            key = f"{op}:{name}"
        times[key].append(e["dur"])
    return {k: statistics.median(v[skip_runs:] or v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("qcal_err")
    ap.add_argument("ort_json")
    ap.add_argument("--skip-runs", type=int, default=3)
    a = ap.parse_args()
    classes, producer = conv_shapes(a.model)
    q = read_qcal(a.qcal_err)
    o = read_ort(a.ort_json, producer, a.skip_runs)
    by_class = collections.defaultdict(lambda: [0.0, 0.0, 0])
    print(f"{'conv':28s} {'shape class':44s} {'qcal us':>9s} {'ORT us':>9s} {'q/O':>5s}")
    for name, cls in classes.items():
        qt = q.get(name, (float("nan"), ""))[0]
        ot = o.get(name, float("nan"))
        print(f"{name[-28:]:28s} {cls:44s} {qt:9.1f} {ot:9.1f} {qt / ot:5.2f}")
        c = by_class[cls]
        c[0] += qt
        c[1] += ot
        c[2] += 1
    print("\nper shape class (sum over convs, us per run):")
    for cls, (qt, ot, n) in sorted(by_class.items(), key=lambda kv: kv[1][1] - kv[1][0]):
        print(f"  {cls:44s} x{n:2d} qcal {qt:9.1f} ORT {ot:9.1f} q/O {qt / ot:5.2f}  diff {qt - ot:8.1f}")
    qc = sum(v[0] for v in by_class.values())
    oc = sum(v[1] for v in by_class.values())
    q_other = sum(t for n, (t, _) in q.items() if n not in classes)
    o_other = sum(t for k, t in o.items() if k not in classes)
    print(f"\nconvs: qcal {qc:.1f} ORT {oc:.1f} us; other nodes: qcal {q_other:.1f} ORT {o_other:.1f} us")
    o_other_top = sorted(((t, k) for k, t in o.items() if k not in classes), reverse=True)[:8]
    for t, k in o_other_top:
        print(f"  ORT {k[:60]:60s} {t:8.1f}")
    q_other_top = sorted(((t, n, op) for n, (t, op) in q.items() if n not in classes), reverse=True)[:8]
    for t, n, op in q_other_top:
        print(f"  qcal {n[:40]:40s} {op:20s} {t:8.1f}")


if __name__ == "__main__":
    main()
