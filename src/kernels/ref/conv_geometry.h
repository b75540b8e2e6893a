// Window geometry shared by Conv, ConvTranspose, MaxPool, AveragePool and the
// quantized convolutions: output spatial dims and begin/end pads from the input
// spatial dims, kernel, strides, dilations, `pads` attribute, `auto_pad` and
// `ceil_mode` (ONNX semantics).
//
// Output size per spatial dim i (dk = (kernel-1)*dilation + 1, the dilated kernel extent):
//   NOTSET / VALID: out = floor_or_ceil((in + pad_begin + pad_end - dk) / stride) + 1
//                   (VALID: pads are 0). With ceil_mode, a last window that would
//                   start in the end padding is dropped (ONNX >= 1.16 / PyTorch).
//   SAME_UPPER / SAME_LOWER: out = ceil(in / stride); total pad =
//                   max(0, (out-1)*stride + dk - in), the odd pad goes at the end
//                   (UPPER) or the beginning (LOWER). ceil_mode does not apply.
// An unknown input dim (-1) gives an unknown output dim (-1) and pads 0.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/registry.h"

namespace qcal::ref {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

// Error messages do not repeat the node: OpDef inference and kernel runs get the
// node ("Conv 'c1': ...") prepended by the registry / executor.

// Parses the ONNX auto_pad string ("" and "NOTSET" are the same).
Result<AutoPad> ParseAutoPad(const std::string& value);

// Window parameters of one node, validated for `spatial_rank` spatial dims.
struct WindowParams {
  std::vector<int64_t> kernel;     // kernel extent per spatial dim
  std::vector<int64_t> strides;    // default all 1
  std::vector<int64_t> dilations;  // default all 1
  std::vector<int64_t> pads;       // ONNX order: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]; default 0
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;
};

// Result of the geometry computation.
struct WindowGeometry {
  std::vector<int64_t> in;         // input spatial dims
  std::vector<int64_t> out;        // output spatial dims (-1 when the input dim is unknown)
  std::vector<int64_t> kernel, strides, dilations;
  std::vector<int64_t> pad_begin, pad_end;
  size_t rank() const { return in.size(); }
};

// Reads strides, dilations, pads, auto_pad and ceil_mode from the node's
// attributes and checks their lengths/values against spatial_rank. `kernel` is
// the kernel extent (from the kernel_shape attribute or the weight shape).
// ceil_mode is read only when allow_ceil_mode (pools).
Result<WindowParams> ReadWindowParams(const Node& node, size_t spatial_rank, std::vector<int64_t> kernel,
                                      bool allow_ceil_mode);

// Computes output dims and begin/end pads. Errors (prefixed by `where` if not
// empty) when the window does not fit (output dim < 1) or parameters are inconsistent.
Result<WindowGeometry> ComputeWindowGeometry(const std::vector<int64_t>& input_spatial, const WindowParams& p,
                                             const std::string& where = "");

// MaxPool/AveragePool geometry: X is [N, C, d1..dk] with 1-3 spatial dims, the
// kernel comes from the required kernel_shape attribute, ceil_mode is allowed.
Result<WindowGeometry> PoolGeometry(const Node& node, const Shape& x);

// A 1-3-D geometry seen as 3-D (leading dims of size 1, kernel 1, stride 1, no
// pad), so kernels can use one fixed loop nest. Index 0 = depth, 1 = height, 2 = width.
struct Window3d {
  int64_t in[3], out[3], kernel[3], strides[3], dilations[3], pad_begin[3], pad_end[3];
};
// Requires 1 <= g.rank() <= 3 and known dims.
Window3d To3d(const WindowGeometry& g);

// The range [*lo, *hi) of positions i in [0, count) whose i*stride + offset lies
// in [0, limit): the taps of one kernel offset that hit the input (Conv: i = output
// position, limit = input size; ConvTranspose: i = input position, limit = output size).
void ValidRange(int64_t offset, int64_t stride, int64_t limit, int64_t count, int64_t* lo, int64_t* hi);

// The spatial part of a tensor shape [N, C, d1, d2, ...]: {d1, d2, ...}.
inline std::vector<int64_t> SpatialDims(const Shape& shape) {
  return shape.size() > 2 ? std::vector<int64_t>(shape.begin() + 2, shape.end()) : std::vector<int64_t>{};
}

}  // namespace qcal::ref
