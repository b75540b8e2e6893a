// Integer convolution shared by QLinearConv and ConvInteger. This loop is the
// specification that optimized int8 convolutions must match bit-exactly:
//
//   acc[n, m, o] = sum_{c in group(m), k} (x[n, c, o*stride + k*dilation - pad_begin] - x_zp)
//                                         * (w[m, c - group_start, k] - w_zp[m])
//
// in int32 (wrapping mod 2^32 if it ever overflows). Taps that fall into the
// padding contribute 0, i.e. the padding value is x_zp. 1-D, 2-D and 3-D
// spatial shapes; group / depthwise; strides, dilations, pads, auto_pad.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::ref {

struct IntConvProblem {
  int64_t batch = 0, in_channels = 0, out_channels = 0, group = 1;
  WindowGeometry geometry;
  Shape out_shape;  // [N, M, out spatial...]; -1 dims when unknown (inference only)
};

// Validates x [N, C, d...] and w [M, C/group, k...] (1 to 3 spatial dims), the
// group attribute, kernel_shape (if given) and the window attributes, and
// computes the output shape. Unknown (-1) dims propagate. Errors without op prefix.
Result<IntConvProblem> MakeIntConvProblem(const Node& node, const Shape& x, const Shape& w);

// acc as int32 [N, M, out...] (row-major). x and w are int8 or uint8;
// w_zp has 1 (per-tensor) or M (per output channel) entries.
std::vector<int32_t> IntConv(const IntConvProblem& p, const Tensor& x, int32_t x_zp, const Tensor& w,
                             const std::vector<int32_t>& w_zp);

}  // namespace qcal::ref
