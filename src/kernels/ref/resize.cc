// Resize, opset 11+ form: inputs X, roi, scales, sizes (roi/scales/sizes may be
// omitted or empty). The ONNX importer rewrites Upsample (and opset-10 Resize) to it.
//
// Output dims: sizes[i] if sizes is given, else floor(X.dim[i] * scales[i]).
// (Opset 18 `axes` restricts scales/sizes to the listed axes.)
// For every output coordinate x_out along an axis, the source coordinate is
// (scale = out/in when sizes is given):
//   half_pixel:                (x_out + 0.5) / scale - 0.5
//   half_pixel_symmetric:      in/2 * (1 - out/(scale*in)) + (x_out + 0.5) / scale - 0.5
//   pytorch_half_pixel:        out > 1 ? (x_out + 0.5) / scale - 0.5 : 0
//   align_corners:             out > 1 ? x_out * (in - 1) / (out - 1) : 0
//   asymmetric:                x_out / scale
//   tf_half_pixel_for_nearest: (x_out + 0.5) / scale
//   tf_crop_and_resize:        roi-relative, see SourceCoordinate(); outside [0, in-1]
//                              gives extrapolation_value
// mode nearest picks index nearest_mode(x) clamped to [0, in-1] (any numeric type);
// mode linear (float32) interpolates between floor(x) and floor(x)+1 with x clamped
// to [0, in-1]. Multilinear interpolation is separable, so the kernel resizes one
// axis at a time. cubic mode and antialias are Unsupported.
#include <algorithm>
#include <cmath>

#include "kernels/ref/common.h"

namespace qcal::ref {
namespace {

enum class Mode { kNearest, kLinear };
enum class Ctm { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixel, kTfCrop };
enum class NearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

template <typename E>
struct Named {
  const char* name;
  E value;
};
constexpr Named<Mode> kModes[] = {{"nearest", Mode::kNearest}, {"linear", Mode::kLinear}};
constexpr Named<Ctm> kCtms[] = {
    {"half_pixel", Ctm::kHalfPixel},
    {"half_pixel_symmetric", Ctm::kHalfPixelSymmetric},
    {"pytorch_half_pixel", Ctm::kPytorchHalfPixel},
    {"align_corners", Ctm::kAlignCorners},
    {"asymmetric", Ctm::kAsymmetric},
    {"tf_half_pixel_for_nearest", Ctm::kTfHalfPixel},
    {"tf_crop_and_resize", Ctm::kTfCrop},
};
constexpr Named<NearestMode> kNearestModes[] = {
    {"round_prefer_floor", NearestMode::kRoundPreferFloor},
    {"round_prefer_ceil", NearestMode::kRoundPreferCeil},
    {"floor", NearestMode::kFloor},
    {"ceil", NearestMode::kCeil},
};

template <typename E, size_t N>
Result<E> Lookup(const Named<E> (&table)[N], const std::string& attr, const std::string& value) {
  std::string names;
  for (const auto& e : table) {
    if (value == e.name) return e.value;
    names += (names.empty() ? "" : ", ") + std::string(e.name);
  }
  return Unsupported("attribute " + attr + " '" + value + "' is not supported (supported: " + names + ")");
}

struct ResizeAttrs {
  Mode mode;
  Ctm ctm;
  NearestMode nearest;
  float extrapolation;
  std::vector<int64_t> axes;  // normalized; all axes when the attribute is absent
};

Result<ResizeAttrs> ReadAttrs(const Node& node, size_t rank) {
  ResizeAttrs a;
  QCAL_ASSIGN_OR_RETURN(a.mode, Lookup(kModes, "mode", node.attrs.GetString("mode", "nearest")));
  QCAL_ASSIGN_OR_RETURN(
      a.ctm, Lookup(kCtms, "coordinate_transformation_mode",
                    node.attrs.GetString("coordinate_transformation_mode", "half_pixel")));
  QCAL_ASSIGN_OR_RETURN(a.nearest,
                        Lookup(kNearestModes, "nearest_mode", node.attrs.GetString("nearest_mode", "round_prefer_floor")));
  a.extrapolation = node.attrs.GetFloat("extrapolation_value", 0.0f);
  if (node.attrs.GetInt("antialias", 0) != 0) return Unsupported("antialias=1 is not supported");
  const std::string policy = node.attrs.GetString("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch") return Unsupported("keep_aspect_ratio_policy '" + policy + "' is not supported");
  if (node.attrs.Has("axes")) {
    for (int64_t axis : node.attrs.GetInts("axes")) {
      QCAL_ASSIGN_OR_RETURN(int64_t n, NormalizeAxis(axis, static_cast<int64_t>(rank), "Resize axes"));
      if (std::find(a.axes.begin(), a.axes.end(), n) != a.axes.end()) {
        return InvalidArgument("attribute axes repeats axis " + std::to_string(axis));
      }
      a.axes.push_back(n);
    }
  } else {
    for (size_t i = 0; i < rank; ++i) a.axes.push_back(static_cast<int64_t>(i));
  }
  return a;
}

// Output shape plus the per-axis scale and roi used by the coordinate transform.
struct ResizePlan {
  Shape out;
  std::vector<double> scales, roi_start, roi_end;
};

// `scales`/`sizes` are the tensors (nullptr or empty = not given). Dims of x may be -1.
Result<ResizePlan> Plan(const ResizeAttrs& a, const Shape& x, const Tensor* roi, const Tensor* scales,
                        const Tensor* sizes) {
  const size_t rank = x.size();
  const size_t k = a.axes.size();
  ResizePlan p;
  p.out = x;
  p.scales.assign(rank, 1.0);
  p.roi_start.assign(rank, 0.0);
  p.roi_end.assign(rank, 1.0);
  if (sizes && sizes->numel() > 0) {
    if (scales && scales->numel() > 0) return InvalidArgument("only one of scales and sizes may be given");
    if (sizes->numel() != static_cast<int64_t>(k)) {
      return InvalidArgument("sizes has " + std::to_string(sizes->numel()) + " values, expected " + std::to_string(k));
    }
    for (size_t i = 0; i < k; ++i) {
      const size_t axis = static_cast<size_t>(a.axes[i]);
      const int64_t s = sizes->GetAsInt64(static_cast<int64_t>(i));
      if (s < 1) return InvalidArgument("sizes[" + std::to_string(i) + "] = " + std::to_string(s) + " must be >= 1");
      p.out[axis] = s;
      p.scales[axis] = x[axis] > 0 ? static_cast<double>(s) / static_cast<double>(x[axis]) : 1.0;
    }
  } else if (scales && scales->numel() > 0) {
    if (scales->numel() != static_cast<int64_t>(k)) {
      return InvalidArgument("scales has " + std::to_string(scales->numel()) + " values, expected " +
                             std::to_string(k));
    }
    for (size_t i = 0; i < k; ++i) {
      const size_t axis = static_cast<size_t>(a.axes[i]);
      const double s = static_cast<float>(scales->GetAsDouble(static_cast<int64_t>(i)));
      if (!(s > 0)) return InvalidArgument("scales[" + std::to_string(i) + "] = " + std::to_string(s) + " must be > 0");
      p.scales[axis] = s;
      p.out[axis] = x[axis] < 0 ? -1 : static_cast<int64_t>(std::floor(static_cast<double>(x[axis]) * s));
      if (x[axis] > 0 && p.out[axis] < 1) {
        return InvalidArgument("scale " + std::to_string(s) + " makes axis " + std::to_string(axis) + " empty");
      }
    }
  } else {
    return InvalidArgument("one of the inputs scales and sizes must be given and non-empty");
  }
  if (a.ctm == Ctm::kTfCrop) {
    if (!roi || roi->numel() != static_cast<int64_t>(2 * k)) {
      return InvalidArgument("tf_crop_and_resize needs a roi input with " + std::to_string(2 * k) + " values");
    }
    for (size_t i = 0; i < k; ++i) {
      const size_t axis = static_cast<size_t>(a.axes[i]);
      p.roi_start[axis] = roi->GetAsDouble(static_cast<int64_t>(i));
      p.roi_end[axis] = roi->GetAsDouble(static_cast<int64_t>(k + i));
    }
  }
  return p;
}

const Tensor* NonEmpty(const Tensor* t) { return t && t->numel() > 0 ? t : nullptr; }

Status CheckInputs(const OpContext& ctx) {
  if (ctx.num_inputs() < 3) {
    return InvalidArgument("Resize needs the opset-11 inputs (X, roi, scales[, sizes]); the 2-input opset-10 form "
                           "must be rewritten by the importer");
  }
  QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 0, {DataType::kFloat32, DataType::kInt8, DataType::kUint8, DataType::kInt32,
                                            DataType::kInt64}));
  if (ctx.has_input(2)) QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 2, {DataType::kFloat32}));
  if (ctx.has_input(3)) QCAL_RETURN_IF_ERROR(ExpectDtype(ctx, 3, {DataType::kInt64}));
  return Status::Ok();
}

Status InferResize(const OpContext& ctx, std::vector<TensorType>& outputs) {
  QCAL_RETURN_IF_ERROR(CheckInputs(ctx));
  const Shape& x = ctx.inputs[0].shape;
  QCAL_ASSIGN_OR_RETURN(ResizeAttrs a, ReadAttrs(ctx.node, x.size()));
  if (a.mode == Mode::kLinear && ctx.inputs[0].dtype != DataType::kFloat32) {
    return Unsupported("mode linear supports float32 only");
  }
  // The output shape is known only when the scales/sizes that decide it are constants.
  const bool has_sizes = ctx.has_input(3) && NumElements(ctx.inputs[3].shape) != 0;
  const size_t decider = has_sizes ? 3 : 2;
  if (!ctx.has_input(decider) || !ctx.constant(decider) || (a.ctm == Ctm::kTfCrop && !ctx.constant(1))) {
    outputs[0] = {ctx.inputs[0].dtype, Shape(x.size(), -1)};
    return Status::Ok();
  }
  QCAL_ASSIGN_OR_RETURN(ResizePlan p, Plan(a, x, ctx.constant(1), has_sizes ? nullptr : ctx.constant(2),
                                           has_sizes ? ctx.constant(3) : nullptr));
  outputs[0] = {ctx.inputs[0].dtype, p.out};
  return Status::Ok();
}

double SourceCoordinate(Ctm ctm, int64_t x_out, int64_t in, int64_t out, double scale, double roi_start,
                        double roi_end) {
  const double x = static_cast<double>(x_out);
  switch (ctm) {
    case Ctm::kHalfPixel: return (x + 0.5) / scale - 0.5;
    case Ctm::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out) / (scale * static_cast<double>(in));
      const double offset = static_cast<double>(in) / 2 * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case Ctm::kPytorchHalfPixel: return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case Ctm::kAlignCorners: return out > 1 ? x * static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
    case Ctm::kAsymmetric: return x / scale;
    case Ctm::kTfHalfPixel: return (x + 0.5) / scale;
    case Ctm::kTfCrop: {
      const double span = (roi_end - roi_start) * static_cast<double>(in - 1);
      return out > 1 ? roi_start * static_cast<double>(in - 1) + x * span / static_cast<double>(out - 1)
                     : 0.5 * (roi_start + roi_end) * static_cast<double>(in - 1);
    }
  }
  return 0.0;
}

int64_t NearestIndex(NearestMode mode, double x) {
  const double fl = std::floor(x);
  const double frac = x - fl;
  switch (mode) {
    case NearestMode::kRoundPreferFloor: return static_cast<int64_t>(frac > 0.5 ? fl + 1 : fl);
    case NearestMode::kRoundPreferCeil: return static_cast<int64_t>(frac >= 0.5 ? fl + 1 : fl);
    case NearestMode::kFloor: return static_cast<int64_t>(fl);
    case NearestMode::kCeil: return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

// How output position o along one axis reads the input: y = w0 * x[i0] + w1 * x[i1],
// or the extrapolation value when `outside`.
struct Tap {
  int64_t i0 = 0, i1 = 0;
  float w0 = 1, w1 = 0;
  bool outside = false;
};

std::vector<Tap> AxisTaps(const ResizeAttrs& a, const ResizePlan& p, size_t axis, int64_t in) {
  const int64_t out = p.out[axis];
  std::vector<Tap> taps(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    Tap& t = taps[static_cast<size_t>(o)];
    const double x = SourceCoordinate(a.ctm, o, in, out, p.scales[axis], p.roi_start[axis], p.roi_end[axis]);
    if (a.ctm == Ctm::kTfCrop && (x < 0 || x > static_cast<double>(in - 1))) {
      t.outside = true;
      continue;
    }
    if (a.mode == Mode::kNearest) {
      t.i0 = t.i1 = std::clamp<int64_t>(NearestIndex(a.nearest, x), 0, in - 1);
      continue;
    }
    const double xc = std::clamp(x, 0.0, static_cast<double>(in - 1));
    t.i0 = static_cast<int64_t>(std::floor(xc));
    t.i1 = std::min(t.i0 + 1, in - 1);
    t.w1 = static_cast<float>(xc - static_cast<double>(t.i0));
    t.w0 = 1.0f - t.w1;
  }
  return taps;
}

bool IsIdentity(const std::vector<Tap>& taps, int64_t in) {
  if (static_cast<int64_t>(taps.size()) != in) return false;
  for (size_t o = 0; o < taps.size(); ++o) {
    const Tap& t = taps[o];
    if (t.outside || t.i0 != static_cast<int64_t>(o) || t.w1 != 0) return false;
  }
  return true;
}

// Resizes `src` (shape `shape`) along `axis` with the given taps.
template <typename T>
Tensor ResizeAxis(const Tensor& src, size_t axis, const std::vector<Tap>& taps, bool linear, float extrapolation) {
  const Shape& shape = src.shape();
  Shape out_shape = shape;
  out_shape[axis] = static_cast<int64_t>(taps.size());
  Tensor dst(src.dtype(), out_shape);
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < axis; ++i) outer *= shape[i];
  for (size_t i = axis + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t in_len = shape[axis];
  const T* s = src.data<T>();
  T* d = dst.data<T>();
  for (int64_t o = 0; o < outer; ++o) {
    const T* s_block = s + o * in_len * inner;
    for (const Tap& t : taps) {
      const T* r0 = s_block + t.i0 * inner;
      const T* r1 = s_block + t.i1 * inner;
      for (int64_t i = 0; i < inner; ++i) {
        if (t.outside) {
          d[i] = static_cast<T>(extrapolation);
        } else if (linear) {
          d[i] = static_cast<T>(t.w0 * static_cast<float>(r0[i]) + t.w1 * static_cast<float>(r1[i]));
        } else {
          d[i] = r0[i];
        }
      }
      d += inner;
    }
  }
  return dst;
}

Status RunResize(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  auto input = [&](size_t i) { return i < in.size() ? NonEmpty(in[i]) : nullptr; };
  QCAL_ASSIGN_OR_RETURN(ResizeAttrs a, ReadAttrs(node, x.shape().size()));
  QCAL_ASSIGN_OR_RETURN(ResizePlan p, Plan(a, x.shape(), input(1), input(2), input(3)));
  Tensor cur = x;
  for (size_t axis = 0; axis < x.shape().size(); ++axis) {
    std::vector<Tap> taps = AxisTaps(a, p, axis, x.dim(static_cast<int64_t>(axis)));
    if (IsIdentity(taps, x.dim(static_cast<int64_t>(axis)))) continue;
    QCAL_RETURN_IF_ERROR(DispatchNumeric(x.dtype(), node.Describe(), [&]<typename T>() {
      cur = ResizeAxis<T>(cur, axis, taps, a.mode == Mode::kLinear, a.extrapolation);
    }));
  }
  if (cur.raw() == x.raw()) cur = x.Clone();  // every axis was the identity: do not alias the input
  out[0] = cur;
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateResize(const OpContext& ctx) { return MakeFunctionKernel(ctx.node, RunResize); }

}  // namespace

QCAL_REGISTER_OP("Resize", InferResize, 1, 4, 1, 1);
QCAL_REGISTER_KERNEL("Resize", "ref", 0, nullptr, CreateResize);

}  // namespace qcal::ref
