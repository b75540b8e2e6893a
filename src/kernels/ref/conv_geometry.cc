#include "kernels/ref/conv_geometry.h"

#include <algorithm>
#include <utility>

namespace qcal::ref {
namespace {

struct AutoPadName {
  const char* name;
  AutoPad value;
};
constexpr AutoPadName kAutoPadNames[] = {
    {"", AutoPad::kNotSet},
    {"NOTSET", AutoPad::kNotSet},
    {"SAME_UPPER", AutoPad::kSameUpper},
    {"SAME_LOWER", AutoPad::kSameLower},
    {"VALID", AutoPad::kValid},
};

std::string Join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// Reads an ints attribute of `want` entries, `def` filling when absent; all must be >= min_value.
Result<std::vector<int64_t>> ReadInts(const Node& node, const std::string& name, size_t want, int64_t def,
                                      int64_t min_value) {
  if (!node.attrs.Has(name)) return std::vector<int64_t>(want, def);
  std::vector<int64_t> v = node.attrs.GetInts(name);
  if (v.size() != want) {
    return InvalidArgument("attribute '" + name + "' " + Join(v) + " has " +
                           std::to_string(v.size()) + " entries, expected " + std::to_string(want));
  }
  for (int64_t x : v) {
    if (x < min_value) {
      return InvalidArgument("attribute '" + name + "' " + Join(v) + " has a value below " +
                             std::to_string(min_value));
    }
  }
  return v;
}

std::string Prefix(const std::string& where) { return where.empty() ? "" : where + ": "; }

int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -CeilDiv(-a, b); }

}  // namespace

Result<AutoPad> ParseAutoPad(const std::string& value) {
  for (const auto& e : kAutoPadNames) {
    if (value == e.name) return e.value;
  }
  return InvalidArgument("auto_pad '" + value +
                         "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
}

Result<WindowParams> ReadWindowParams(const Node& node, size_t spatial_rank, std::vector<int64_t> kernel,
                                      bool allow_ceil_mode) {
  WindowParams p;
  if (kernel.size() != spatial_rank) {
    return InvalidArgument("kernel shape " + Join(kernel) + " has " +
                           std::to_string(kernel.size()) + " dims, the input has " +
                           std::to_string(spatial_rank) + " spatial dims");
  }
  for (int64_t k : kernel) {
    if (k < 1) return InvalidArgument("kernel shape " + Join(kernel) + " has a dim below 1");
  }
  p.kernel = std::move(kernel);
  QCAL_ASSIGN_OR_RETURN(p.strides, ReadInts(node, "strides", spatial_rank, 1, 1));
  QCAL_ASSIGN_OR_RETURN(p.dilations, ReadInts(node, "dilations", spatial_rank, 1, 1));
  QCAL_ASSIGN_OR_RETURN(p.pads, ReadInts(node, "pads", 2 * spatial_rank, 0, 0));
  QCAL_ASSIGN_OR_RETURN(p.auto_pad, ParseAutoPad(node.attrs.GetString("auto_pad", "NOTSET")));
  if (p.auto_pad != AutoPad::kNotSet && node.attrs.Has("pads")) {
    bool all_zero = std::all_of(p.pads.begin(), p.pads.end(), [](int64_t x) { return x == 0; });
    if (!all_zero) {
      return InvalidArgument("attribute 'pads' cannot be used together with auto_pad");
    }
  }
  int64_t ceil_mode = node.attrs.GetInt("ceil_mode", 0);
  if (ceil_mode != 0 && ceil_mode != 1) {
    return InvalidArgument("ceil_mode must be 0 or 1, got " + std::to_string(ceil_mode));
  }
  if (ceil_mode && !allow_ceil_mode) {
    return InvalidArgument("ceil_mode is not an attribute of this op");
  }
  p.ceil_mode = ceil_mode == 1;
  return p;
}

Result<WindowGeometry> ComputeWindowGeometry(const std::vector<int64_t>& input_spatial, const WindowParams& p,
                                             const std::string& where) {
  const size_t n = input_spatial.size();
  if (p.kernel.size() != n || p.strides.size() != n || p.dilations.size() != n || p.pads.size() != 2 * n) {
    return Internal(Prefix(where) + "window parameters do not match " + std::to_string(n) + " spatial dims");
  }
  WindowGeometry g;
  g.in = input_spatial;
  g.kernel = p.kernel;
  g.strides = p.strides;
  g.dilations = p.dilations;
  g.out.assign(n, -1);
  g.pad_begin.assign(n, 0);
  g.pad_end.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t in = input_spatial[i];
    const int64_t s = p.strides[i];
    const int64_t dk = (p.kernel[i] - 1) * p.dilations[i] + 1;
    if (p.auto_pad == AutoPad::kNotSet) {
      g.pad_begin[i] = p.pads[i];
      g.pad_end[i] = p.pads[n + i];
    }
    if (in < 0) continue;  // unknown: output stays -1
    int64_t out;
    if (p.auto_pad == AutoPad::kSameUpper || p.auto_pad == AutoPad::kSameLower) {
      out = CeilDiv(in, s);
      int64_t total = std::max<int64_t>(0, (out - 1) * s + dk - in);
      int64_t small = total / 2;
      g.pad_begin[i] = p.auto_pad == AutoPad::kSameUpper ? small : total - small;
      g.pad_end[i] = total - g.pad_begin[i];
    } else {
      const int64_t span = in + g.pad_begin[i] + g.pad_end[i] - dk;
      if (span < 0) {
        return InvalidArgument(Prefix(where) + "the dilated kernel extent " + std::to_string(dk) + " of spatial dim " +
                               std::to_string(i) + " exceeds the padded input size " +
                               std::to_string(in + g.pad_begin[i] + g.pad_end[i]));
      }
      out = (p.ceil_mode ? CeilDiv(span, s) : FloorDiv(span, s)) + 1;
      // ceil_mode: drop a last window that would start in the end padding.
      if (p.ceil_mode && (out - 1) * s >= in + g.pad_begin[i]) --out;
    }
    if (out < 1) {
      return InvalidArgument(Prefix(where) + "spatial dim " + std::to_string(i) + " of size " + std::to_string(in) +
                             " gives an empty output");
    }
    g.out[i] = out;
  }
  return g;
}

Result<WindowGeometry> PoolGeometry(const Node& node, const Shape& x) {
  if (x.size() < 3 || x.size() > 5) {
    return Unsupported("input X has shape " + ShapeToString(x) + "; pools support [N, C, d1..dk] with 1-3 spatial dims");
  }
  if (!node.attrs.Has("kernel_shape")) return InvalidArgument("the kernel_shape attribute is required");
  QCAL_ASSIGN_OR_RETURN(WindowParams p, ReadWindowParams(node, x.size() - 2, node.attrs.GetInts("kernel_shape"),
                                                         /*allow_ceil_mode=*/true));
  return ComputeWindowGeometry(SpatialDims(x), p);
}

void ValidRange(int64_t offset, int64_t stride, int64_t limit, int64_t count, int64_t* lo, int64_t* hi) {
  // i*stride + offset >= 0  <=>  i >= ceil(-offset / stride)
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  // i*stride + offset <= limit - 1  <=>  i <= floor((limit - 1 - offset) / stride)
  const int64_t last = limit - 1 - offset;
  *hi = last < 0 ? 0 : std::min(count, last / stride + 1);
  *lo = std::min(*lo, *hi);
}

Window3d To3d(const WindowGeometry& g) {
  Window3d w;
  const size_t off = 3 - g.rank();
  for (size_t i = 0; i < 3; ++i) {
    bool real = i >= off;
    size_t j = i - off;
    w.in[i] = real ? g.in[j] : 1;
    w.out[i] = real ? g.out[j] : 1;
    w.kernel[i] = real ? g.kernel[j] : 1;
    w.strides[i] = real ? g.strides[j] : 1;
    w.dilations[i] = real ? g.dilations[j] : 1;
    w.pad_begin[i] = real ? g.pad_begin[j] : 0;
    w.pad_end[i] = real ? g.pad_end[j] : 0;
  }
  return w;
}

}  // namespace qcal::ref
