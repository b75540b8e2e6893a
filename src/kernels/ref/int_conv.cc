#include "kernels/ref/int_conv.h"

#include <algorithm>

namespace qcal::ref {
namespace {

// Kernel extent from the weight shape, or the kernel_shape attribute (which must agree).
Result<std::vector<int64_t>> KernelExtent(const Node& node, const Shape& w) {
  std::vector<int64_t> kernel = SpatialDims(w);
  if (!node.attrs.Has("kernel_shape")) return kernel;
  std::vector<int64_t> attr = node.attrs.GetInts("kernel_shape");
  if (attr.size() != kernel.size()) {
    return InvalidArgument("kernel_shape has " + std::to_string(attr.size()) + " entries, the weight has " +
                           std::to_string(kernel.size()) + " spatial dims");
  }
  for (size_t i = 0; i < attr.size(); ++i) {
    if (kernel[i] >= 0 && kernel[i] != attr[i]) {
      return InvalidArgument("kernel_shape does not match the weight shape " + ShapeToString(w));
    }
  }
  return attr;
}

std::vector<int32_t> Int32Values(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = static_cast<int32_t>(t.GetAsInt64(i));
  return v;
}

}  // namespace

Result<IntConvProblem> MakeIntConvProblem(const Node& node, const Shape& x, const Shape& w) {
  if (x.size() < 3 || x.size() > 5) {
    return Unsupported("input shape " + ShapeToString(x) +
                       ": only 1-D, 2-D and 3-D convolutions are supported");
  }
  if (w.size() != x.size()) {
    return InvalidArgument("weight shape " + ShapeToString(w) + " does not match input rank " +
                           std::to_string(x.size()));
  }
  IntConvProblem p;
  p.batch = x[0];
  p.in_channels = x[1];
  p.out_channels = w[0];
  p.group = node.attrs.GetInt("group", 1);
  if (p.group < 1) return InvalidArgument("group must be >= 1, got " + std::to_string(p.group));
  if (p.in_channels >= 0 && w[1] >= 0 && p.in_channels != w[1] * p.group) {
    return InvalidArgument("input has " + std::to_string(p.in_channels) + " channels, weight " +
                           ShapeToString(w) + " with group " + std::to_string(p.group) + " expects " +
                           std::to_string(w[1] * p.group));
  }
  if (p.out_channels >= 0 && p.out_channels % p.group != 0) {
    return InvalidArgument("weight has " + std::to_string(p.out_channels) +
                           " output channels, not divisible by group " + std::to_string(p.group));
  }
  QCAL_ASSIGN_OR_RETURN(std::vector<int64_t> kernel, KernelExtent(node, w));
  p.out_shape = {p.batch, p.out_channels};
  size_t spatial = x.size() - 2;
  if (std::any_of(kernel.begin(), kernel.end(), [](int64_t k) { return k < 0; })) {
    p.out_shape.resize(x.size(), -1);  // unknown kernel: unknown output dims
    return p;
  }
  QCAL_ASSIGN_OR_RETURN(WindowParams wp, ReadWindowParams(node, spatial, kernel, /*allow_ceil_mode=*/false));
  QCAL_ASSIGN_OR_RETURN(p.geometry, ComputeWindowGeometry(SpatialDims(x), wp));
  for (int64_t d : p.geometry.out) p.out_shape.push_back(d);
  return p;
}

std::vector<int32_t> IntConv(const IntConvProblem& p, const Tensor& x, int32_t x_zp, const Tensor& w,
                             const std::vector<int32_t>& w_zp) {
  const Window3d g = To3d(p.geometry);
  const int64_t in_per_group = p.in_channels / p.group;
  const int64_t out_per_group = p.out_channels / p.group;
  const int64_t in_size = g.in[0] * g.in[1] * g.in[2];
  const int64_t out_size = g.out[0] * g.out[1] * g.out[2];
  const int64_t k_size = g.kernel[0] * g.kernel[1] * g.kernel[2];
  const std::vector<int32_t> xv = Int32Values(x);
  const std::vector<int32_t> wv = Int32Values(w);
  std::vector<int32_t> acc(static_cast<size_t>(p.batch * p.out_channels * out_size));

  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t m = 0; m < p.out_channels; ++m) {
      const int64_t first_in = (m / out_per_group) * in_per_group;  // first input channel of m's group
      const int32_t wz = w_zp.size() == 1 ? w_zp[0] : w_zp[static_cast<size_t>(m)];
      int32_t* out = acc.data() + (n * p.out_channels + m) * out_size;
      for (int64_t od = 0; od < g.out[0]; ++od) {
        for (int64_t oh = 0; oh < g.out[1]; ++oh) {
          for (int64_t ow = 0; ow < g.out[2]; ++ow) {
            int64_t sum = 0;
            for (int64_t c = 0; c < in_per_group; ++c) {
              const int32_t* xc = xv.data() + (n * p.in_channels + first_in + c) * in_size;
              const int32_t* wc = wv.data() + (m * in_per_group + c) * k_size;
              for (int64_t kd = 0; kd < g.kernel[0]; ++kd) {
                const int64_t id = od * g.strides[0] + kd * g.dilations[0] - g.pad_begin[0];
                if (id < 0 || id >= g.in[0]) continue;  // padding: x == x_zp, contributes 0
                for (int64_t kh = 0; kh < g.kernel[1]; ++kh) {
                  const int64_t ih = oh * g.strides[1] + kh * g.dilations[1] - g.pad_begin[1];
                  if (ih < 0 || ih >= g.in[1]) continue;
                  for (int64_t kw = 0; kw < g.kernel[2]; ++kw) {
                    const int64_t iw = ow * g.strides[2] + kw * g.dilations[2] - g.pad_begin[2];
                    if (iw < 0 || iw >= g.in[2]) continue;
                    const int32_t xq = xc[(id * g.in[1] + ih) * g.in[2] + iw] - x_zp;
                    const int32_t wq = wc[(kd * g.kernel[1] + kh) * g.kernel[2] + kw] - wz;
                    sum += int64_t{xq} * wq;
                  }
                }
              }
            }
            out[(od * g.out[1] + oh) * g.out[2] + ow] = static_cast<int32_t>(sum);  // int32 semantics (wraps)
          }
        }
      }
    }
  }
  return acc;
}

}  // namespace qcal::ref
