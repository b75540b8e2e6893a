// Quantized 2-D convolution on oneDNN (provider "dnnl") for QcalQConv (made by
// the FuseQuantizedOps pass) and QLinearConv: u8 / s8 activations, constant s8
// weights (zero point 0, per-tensor or per-channel scales), s32 accumulation by
// oneDNN, then the int32 correction and output stage of int8_common.h, bit-exact
// against the reference kernels. Groups / depthwise, strides, dilations, pads /
// auto_pad as the fp32 Conv kernel.
//
// Prepare-once: the weights are reordered into the primitive's layout once
// (PackedWeights); per input shape a primitive and the correction map are made
// and cached. Activations are NCHW at the boundary: X is reordered into the
// primitive's layout (NHWC for the VNNI kernels), the s32 result is NHWC, the
// output stage writes NHWC and one reorder gives the NCHW output.
#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/int8_common.h"
#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

enum Input { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp, kBias };

struct Int8ConvPlan {
  dnnl::convolution_forward prim;
  memory::desc weights_md;
  std::optional<memory> src;  // staging in the primitive's layout; nullopt: reads NCHW X directly
  memory acc;                 // the primitive's output (s32 / f32)
  std::optional<memory>
      acc_nhwc;               // acc reordered to NHWC when the primitive's layout is another (f32 blocked)
  memory out_nhwc;            // output stage result (stage dtype), NHWC
  std::vector<int32_t> corr;  // [corr_rows, M]: bias - x_zp * (sum of the weights inside X)
  int64_t corr_rows = 1;
  Shape y_shape;
};

Dims WeightDims(const Shape& w, int64_t group) {
  if (group == 1) return ToDims(w);
  return {group, w[0] / group, w[1], w[2], w[3]};
}

// bias - x_zp * S[p, m], S[p, m] = sum of w[m] over the taps of output position p
// that fall inside X (padding taps read x_zp in the reference: (x_zp - x_zp) * w = 0,
// while oneDNN pads with 0). All in int32 modulo 2^32, like the accumulation.
std::vector<int32_t> Correction(const Int8Params& p, const ref::WindowGeometry& g, int64_t* rows) {
  const Shape& ws = p.w.shape();
  const int64_t m_count = ws[0], cpg = ws[1], kh = ws[2], kw = ws[3];
  if (p.x_zp == 0) {
    *rows = 1;
    return p.bias;
  }
  const int64_t oh = g.out[0], ow = g.out[1];
  *rows = oh * ow;
  std::vector<int32_t> corr(static_cast<size_t>(oh * ow * m_count));
  std::vector<int64_t> tap(static_cast<size_t>(kh * kw));
  const int8_t* w = p.w.data<int8_t>();
  for (int64_t m = 0; m < m_count; ++m) {
    std::fill(tap.begin(), tap.end(), 0);
    for (int64_t c = 0; c < cpg; ++c) {
      for (int64_t t = 0; t < kh * kw; ++t) tap[static_cast<size_t>(t)] += w[(m * cpg + c) * kh * kw + t];
    }
    for (int64_t y = 0; y < oh; ++y) {
      for (int64_t x = 0; x < ow; ++x) {
        int64_t s = 0;
        for (int64_t i = 0; i < kh; ++i) {
          const int64_t ih = y * g.strides[0] + i * g.dilations[0] - g.pad_begin[0];
          if (ih < 0 || ih >= g.in[0]) continue;
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t iw = x * g.strides[1] + j * g.dilations[1] - g.pad_begin[1];
            if (iw >= 0 && iw < g.in[1]) s += tap[static_cast<size_t>(i * kw + j)];
          }
        }
        const auto zs = static_cast<uint32_t>(static_cast<int64_t>(p.x_zp) * s);
        corr[static_cast<size_t>((y * ow + x) * m_count + m)] =
            ref::WrapAdd(p.bias[static_cast<size_t>(m)], static_cast<int32_t>(0u - zs));
      }
    }
  }
  return corr;
}

class DnnlInt8Conv final : public Kernel {
 public:
  DnnlInt8Conv(ref::WindowParams params, int64_t group, DataType x_type, Int8Compute mode, Int8Params p)
      : params_(std::move(params)), group_(group), x_type_(x_type), mode_(mode), p_(std::move(p)) {}

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return Guarded("int8 convolution", [&]() -> Status { return RunImpl(*in[kX], out); });
  }

  Status Prepare(const Shape& x) {
    return Guarded("int8 convolution setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      return PlanFor(x).status();
    });
  }

 private:
  Result<Int8ConvPlan*> PlanFor(const Shape& x);
  Status RunImpl(const Tensor& x, std::vector<Tensor>& out);

  ref::WindowParams params_;
  int64_t group_;
  DataType x_type_;
  Int8Compute mode_;
  Int8Params p_;
  std::optional<memory> user_w_;
  PackedWeights packed_;
  std::map<Shape, Int8ConvPlan> plans_;
  std::mutex mu_;
};

Result<Int8ConvPlan*> DnnlInt8Conv::PlanFor(const Shape& x) {
  auto it = plans_.find(x);
  if (it != plans_.end()) return &it->second;
  if (x.size() != 4) return InvalidArgument("X must be 4-D, got " + ShapeToString(x));
  QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params_));
  const Shape& w = p_.w.shape();
  const Dims src_dims = ToDims(x), dst_dims = {x[0], w[0], g.out[0], g.out[1]};
  Dims dilates = ToDims(g.dilations);
  for (auto& d : dilates) d -= 1;  // oneDNN counts the gaps
  const auto acc_type = mode_ == Int8Compute::kInt8 ? memory::data_type::s32 : memory::data_type::f32;
  const memory::desc src_any(src_dims, ComputeType(mode_, DnnlType(x_type_)), Tag::any);
  const memory::desc w_any(WeightDims(w, group_), ComputeType(mode_, memory::data_type::s8), Tag::any);
  // int8 primitives write NHWC natively; the f32 ones are fast only in their blocked layout
  // (NHWC falls back to oneDNN's reference kernel), so there the result is reordered.
  const memory::desc acc_nhwc(dst_dims, acc_type, Tag::nhwc);
  const memory::desc acc_md =
      mode_ == Int8Compute::kInt8 ? acc_nhwc : memory::desc(dst_dims, acc_type, Tag::any);
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       dnnl::algorithm::convolution_direct, src_any, w_any, acc_md,
                                       ToDims(g.strides), dilates, ToDims(g.pad_begin), ToDims(g.pad_end));
  dnnl::convolution_forward::primitive_desc pd(desc, Engine());

  Int8ConvPlan plan{dnnl::convolution_forward(pd),
                    pd.weights_desc(),
                    std::nullopt,
                    memory(pd.dst_desc(), Engine()),
                    std::nullopt,
                    memory(memory::desc(dst_dims, DnnlType(p_.stage.dtype), Tag::nhwc), Engine()),
                    {},
                    1,
                    Shape{x[0], w[0], g.out[0], g.out[1]}};
  if (pd.dst_desc() != acc_nhwc) plan.acc_nhwc.emplace(acc_nhwc, Engine());
  if (pd.src_desc() != memory::desc(src_dims, DnnlType(x_type_), Tag::nchw))
    plan.src.emplace(pd.src_desc(), Engine());
  plan.corr = Correction(p_, g, &plan.corr_rows);
  if (!user_w_) {
    user_w_ = memory(
        memory::desc(WeightDims(w, group_), memory::data_type::s8, group_ == 1 ? Tag::oihw : Tag::goihw),
        Engine(), const_cast<void*>(p_.w.raw()));
  }
  packed_.Get(*user_w_, plan.weights_md);
  return &plans_.emplace(x, std::move(plan)).first->second;
}

Status DnnlInt8Conv::RunImpl(const Tensor& x, std::vector<Tensor>& out) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  QCAL_ASSIGN_OR_RETURN(Int8ConvPlan * plan, PlanFor(x.shape()));
  memory x_mem(memory::desc(ToDims(x.shape()), DnnlType(x_type_), Tag::nchw), Engine(),
               const_cast<void*>(x.raw()));
  if (plan->src) Reorder(x_mem, *plan->src);
  plan->prim.execute(Stream(), {{DNNL_ARG_SRC, plan->src ? *plan->src : x_mem},
                                {DNNL_ARG_WEIGHTS, packed_.Get(*user_w_, plan->weights_md)},
                                {DNNL_ARG_DST, plan->acc}});
  Stream().wait();
  if (plan->acc_nhwc) Reorder(plan->acc, *plan->acc_nhwc);
  const memory& acc = plan->acc_nhwc ? *plan->acc_nhwc : plan->acc;
  const Shape& ys = plan->y_shape;
  const int64_t channels = ys[1];
  ApplyOutputStageRows(p_.stage, p_.mult, acc.get_data_handle(), mode_ == Int8Compute::kExactFloat,
                       plan->corr.data(), plan->corr_rows, ys[0] * ys[2] * ys[3], channels,
                       plan->out_nhwc.get_data_handle());
  Tensor& y = ref::PrepareOutput(out, 0, p_.stage.dtype, ys);
  Reorder(plan->out_nhwc,
          memory(memory::desc(ToDims(ys), DnnlType(p_.stage.dtype), Tag::nchw), Engine(), y.raw()));
  return Status::Ok();
}

Int8Compute ModeFor(const OpContext& ctx) {
  const Tensor& w = *ctx.constant(kW);
  return ChooseInt8Compute(ctx.inputs[kX].dtype, MaxAbsWeightSum(w, w.dim(0), /*channel_major=*/true));
}

bool SupportsInt8Conv(const OpContext& ctx) {
  const std::initializer_list<DataType> q = {DataType::kInt8, DataType::kUint8};
  if (!HasRank(ctx, kX, 4) || !IsConstOf(ctx, kW, {DataType::kInt8})) return false;
  if (ctx.inputs[kX].dtype != DataType::kInt8 && ctx.inputs[kX].dtype != DataType::kUint8) return false;
  if (ctx.constant(kW)->rank() != 4 || !IsConstOf(ctx, kXScale, {DataType::kFloat32})) return false;
  if (!IsConstOf(ctx, kWScale, {DataType::kFloat32}) || !AbsentOrConstScalar(ctx, kXZp) ||
      !AbsentOrZero(ctx, kWZp)) {
    return false;
  }
  const bool y = ctx.has_input(kYScale);
  if (y && !(IsConstOf(ctx, kYScale, {DataType::kFloat32}) && IsConstOf(ctx, kYZp, q) &&
             AbsentOrConstScalar(ctx, kYZp))) {
    return false;
  }
  if (ctx.has_input(kBias) && !IsConstOf(ctx, kBias, {DataType::kInt32})) return false;
  if (!ref::ParseAutoPad(ctx.node.attrs.GetString("auto_pad", "NOTSET")).ok()) return false;
  return ReadInt8Params(ctx, ctx.constant(kW)->dim(0), kBias).ok() && ModeFor(ctx) != Int8Compute::kNone;
}

Result<std::unique_ptr<Kernel>> CreateInt8Conv(const OpContext& ctx) {
  const Shape& w = ctx.constant(kW)->shape();
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (ctx.node.attrs.Has("kernel_shape")) kernel = ctx.node.attrs.GetInts("kernel_shape");
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams params,
                        ref::ReadWindowParams(ctx.node, 2, std::move(kernel), /*allow_ceil_mode=*/false));
  QCAL_ASSIGN_OR_RETURN(Int8Params p, ReadInt8Params(ctx, w[0], kBias));
  auto k = std::make_unique<DnnlInt8Conv>(std::move(params), ctx.node.attrs.GetInt("group", 1),
                                          ctx.inputs[kX].dtype, ModeFor(ctx), std::move(p));
  const Shape& x = ctx.inputs[kX].shape;
  if (ShapeIsStatic(x) && !k->Prepare(x).ok()) {
    // oneDNN has no implementation for this case: the reference kernel runs it.
    return KernelRegistry::Global().CreateKernelFromProvider(ctx, "ref");
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

QCAL_REGISTER_KERNEL("QcalQConv", kProvider, kPriority, SupportsInt8Conv, CreateInt8Conv);
QCAL_REGISTER_KERNEL("QLinearConv", kProvider, kPriority, SupportsInt8Conv, CreateInt8Conv);

}  // namespace qcal::dnnl_kernels
