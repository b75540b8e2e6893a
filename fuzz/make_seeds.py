#!/usr/bin/python3
"""Writes small seed inputs for the fuzz targets that the test data lacks
(records, configs, .npy/.npz, PNG/BMP, idx, raw .bin) into OUT_DIR/<target>/.
Run by scripts/fuzz.sh; output goes to the build dir, nothing is committed."""
import gzip, io, os, struct, sys, zlib

import numpy as np

out = sys.argv[1]


def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


RECORD = """# qcal 0.1.0 scale/offset record: algorithm=ifmr batch_num=2
# batches "conv1" 2
record {
  key: "conv1"
  value {
    scale_d: 0.01
    offset_d: -3
    scale_w: 0.002
    scale_w: 0.003
    offset_w: 0
    offset_w: 0
    shift_bit: 1
    shift_bit: 16
    channels: 3
    height: 224
    width: 224
    skip_fusion: false
    is_tensor_quantize: true
    tensor_balance_factor: 1.5
    act_type: "INT8"
    op_data_type: FLOAT32
  }
}
record { key: "fc\\t\\"x\\"\\101" value { scale_d: 1e-3 offset_d: 0 scale_w: 3.4e+38 offset_w: 0 } }
"""
put("record", "full.txt", RECORD)
put("record", "empty.txt", "")

CONFIG = """{
  "version": 1, "batch_num": 2, "activation_offset": true, "joint_quant": false, "do_fusion": true,
  "skip_fusion_layers": ["conv2"],
  "conv1": {"quant_enable": true,
    "activation_quant_params": {"num_bits": 8, "act_algo": "ifmr", "max_percentile": 0.999999,
      "min_percentile": 0.999999, "search_range": [0.7, 1.3], "search_step": 0.01, "asymmetric": false},
    "weight_quant_params": {"num_bits": 8, "wts_algo": "arq_quantize", "channel_wise": true}},
  "fc": {"quant_enable": false, "activation_quant_params": {"act_algo": "hfmg", "num_of_bins": 4096}},
  "c3": {"activation_quant_params": {"act_algo": "percentile", "percentile": 99.9}}
}
"""
put("quant_config", "full.json", CONFIG)
put("quant_config", "min.json", "{}")

SIMPLE_CFG = """batch_num: 2
activation_offset: true
skip_layers: "/fc/Gemm"
skip_layer_types: "AveragePool"
do_fusion: true
skip_fusion_layers: "/features/features.4/Conv"
common_config { ifmr_quantize { search_range_start: 0.8 search_range_end: 1.2 search_step: 0.02 } }
override_layer_types { layer_type: "Gemm" calibration_config { hfmg_quantize { num_of_bins: 2048 } } }
override_layer_configs {
  layer_name: "/features/features.0/Conv"
  calibration_config { arq_quantize { channel_wise: false } ifmr_quantize { max_percentile: 0.9999 } }
}
"""
put("simple_cfg", "full.cfg", SIMPLE_CFG)
put("simple_cfg", "min.cfg", "batch_num: 1\n")


def npy(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


for name, a in [("f4", np.arange(24, dtype="<f4").reshape(2, 3, 4)), ("u1", np.arange(6, dtype="u1")),
                ("i8", np.array([[1, -2]], dtype="<i8")), ("f8", np.array([1.5, 2.5])),
                ("b1", np.array([True, False])), ("scalar", np.float32(3))]:
    put("npy", name + ".npy", npy(a))
b = io.BytesIO()
np.savez(b, x=np.ones((2, 2), np.float32), y=np.arange(3, dtype=np.int64))
put("npz", "two.npz", b.getvalue())


def png(w, h, channels, rows):
    color = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


put("image", "rgb.png", png(4, 3, 3, [[(x * 40 + y) % 256 for x in range(12)] for y in range(3)]))
put("image", "gray.png", png(5, 2, 1, [[x * 50 for x in range(5)] for y in range(2)]))
put("image", "rgba.png", png(2, 2, 4, [[255, 0, 0, 128] * 2, [0, 255, 0, 255] * 2]))
bmp_pixels = bytes([10, 20, 30] * 4 + [0] * 0) * 2  # 4x2 BGR, rows already 4-byte aligned (12 bytes)
put("image", "rgb.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_pixels), 0, 0, 54) +
    struct.pack("<IiiHHIIiiII", 40, 4, 2, 1, 24, 0, len(bmp_pixels), 2835, 2835, 0, 0) + bmp_pixels)

# idx: byte 0 of a fuzz input selects gzip (bit 0) and rank 3 (bit 1); the rest is the file.
idx3 = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 3, 3) + bytes(range(18))
idx1 = bytes([0, 0, 8, 1]) + struct.pack(">I", 4) + bytes([1, 2, 3, 4])
put("idx", "images", b"\x02" + idx3)
put("idx", "images_gz", b"\x03" + gzip.compress(idx3))
put("idx", "labels", b"\x00" + idx1)

# bin: byte 0 = dtype selector, byte 1 = rank (low 2 bits) + batch mode, then dims, then the file.
put("bin", "f32", bytes([0, 0x03, 2, 2, 2]) + np.arange(8, dtype="<f4").tobytes())
put("bin", "u8_batch", bytes([1, 0x42, 3, 2]) + bytes(range(12)))

put("preprocess_spec", "full.txt", "resize 256; crop 224; bgr; scale 1/255; mean 0.485,0.456,0.406; "
    "std 0.229,0.224,0.225; channels 3")
put("preprocess_spec", "short.txt", "resize 8,6;crop 4;rgb;channels 1")
