// Quantized 2-D convolution on oneDNN (provider "dnnl") for QcalQConv (made by
// the FuseQuantizedOps pass) and QLinearConv: u8 / s8 activations, constant s8
// weights (zero point 0, per-tensor or per-channel scales), s32 accumulation by
// oneDNN, then the int32 correction and output stage of int8_common.h, bit-exact
// against the reference kernels. Groups / depthwise, strides, dilations, pads /
// auto_pad as the fp32 Conv kernel.
//
// Prepare-once: the weights are reordered into the primitive's layout once
// (PackedWeights); per (input shape, thread setting) a primitive, the cached
// reorders and the correction map are made. X and a quantized Y are NCHW, or
// NHWC (Layout::kNhwc) when the executor planned them so between int8 kernels;
// the int8 primitives read and write NHWC, so an NCHW X is reordered (and, in
// the u8 modes of int8_common.h, prepared: flipped / split into nibbles), the
// s32 result is NHWC, and the output stage writes Y directly or through one
// reorder to NCHW. A float Y may be NHWC too (ProducesFloatNhwc), and so may
// QcalQConv's residual Z (float output only): the output stage adds Z as it
// writes Y's NHWC values (an NCHW Z is reordered to NHWC first), unless Y and
// Z are both NCHW (then ApplyResidual after Y's reorder). Elementwise either
// way, so the values are the same.
#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/int8_common.h"
#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"
#include "kernels/ref/quant_common.h"
#include "kernels/ref/quant_math.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

enum Input { kX = 0, kXScale, kXZp, kW, kWScale, kWZp, kYScale, kYZp, kBias, kZ, kQScale, kQZp };

struct Int8ConvPlan {
  dnnl::convolution_forward prim;
  memory::desc weights_md;
  memory::desc x_md;  // X as it arrives (NCHW, or NHWC when planned kNhwc)
  // X in the primitive's layout when it must be staged (reorder, or the u8
  // modes' preparation); nullopt: the primitive reads X directly. kInt8Split:
  // the low nibbles, src_hi the high ones.
  std::optional<memory> src, src_hi;
  std::optional<dnnl::reorder> to_src;  // x_md -> src (u8 modes: -> staged)
  std::optional<memory> staged;         // u8 modes: src's buffer as NHWC in X's own type
  memory acc;                           // the primitive's output (s32 / f32); kInt8Split: of the high nibbles
  std::optional<memory> acc_lo;         // kInt8Split: output of the low nibbles
  // acc reordered to NHWC when the primitive's layout is another (kExactFloat: f32 blocked)
  std::optional<memory> acc_nhwc;
  std::optional<dnnl::reorder> to_acc_nhwc;
  std::optional<memory> out_nhwc;  // output stage result when Y is NCHW, then reordered by to_y
  std::optional<dnnl::reorder> to_y;
  std::optional<memory> z_nhwc;  // an NCHW Z reordered to NHWC (by to_z_nhwc) when Y is NHWC
  std::optional<dnnl::reorder> to_z_nhwc;
  std::vector<int32_t> corr;  // [corr_rows, M]: bias - x_zp * (sum of the weights inside X)
  int64_t corr_rows = 1;
  Shape y_shape;  // logical NCHW
};

Dims WeightDims(const Shape& w, int64_t group) {
  if (group == 1) return ToDims(w);
  return {group, w[0] / group, w[1], w[2], w[3]};
}

// bias - x_zp * S[p, m], S[p, m] = sum of w[m] over the taps of output position p
// that fall inside X (padding taps read x_zp in the reference: (x_zp - x_zp) * w = 0,
// while oneDNN pads with 0). All in int32 modulo 2^32, like the accumulation.
// x_zp is the zero point of the values oneDNN reads (s8 ones flipped to u8: + 128).
std::vector<int32_t> Correction(const Int8Params& p, int32_t x_zp, const ref::WindowGeometry& g,
                                int64_t* rows) {
  const Shape& ws = p.w.shape();
  const int64_t m_count = ws[0], cpg = ws[1], kh = ws[2], kw = ws[3];
  if (x_zp == 0) {
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
        const auto zs = static_cast<uint32_t>(static_cast<int64_t>(x_zp) * s);
        corr[static_cast<size_t>((y * ow + x) * m_count + m)] =
            ref::WrapAdd(p.bias[static_cast<size_t>(m)], static_cast<int32_t>(0u - zs));
      }
    }
  }
  return corr;
}

class DnnlInt8Conv final : public Int8ConvLayoutKernel {
 public:
  DnnlInt8Conv(ref::WindowParams params, int64_t group, DataType x_type, Int8Compute mode, Int8Params p,
               ref::ResidualActivation residual_act, bool has_z, std::optional<QuantizedCopy> copy,
               bool y_needed)
      : Int8ConvLayoutKernel(p.stage.dtype, copy ? std::optional<DataType>(copy->dtype) : std::nullopt),
        params_(std::move(params)),
        group_(group),
        x_type_(x_type),
        mode_(mode),
        p_(std::move(p)),
        residual_act_(residual_act),
        has_z_(has_z),
        copy_(copy),
        y_needed_(y_needed) {}

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    const Tensor* z = in.size() > kZ ? in[kZ] : nullptr;
    return Guarded("int8 convolution", [&]() -> Status { return RunImpl(*in[kX], z, out); });
  }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    QCAL_ASSIGN_OR_RETURN(const Int8ConvLayouts l, CheckInt8ConvLayouts(*this, in, out));
    const Layout x = l.x, y = l.y, z = l.z, yq = l.yq;
    std::lock_guard<std::mutex> lock(mu_);
    yq_layout_ = yq;  // plans do not depend on it
    if (x == x_layout_ && y == y_layout_ && z == z_layout_) return Status::Ok();
    x_layout_ = x;
    y_layout_ = y;
    z_layout_ = z;
    plans_.clear();
    return Guarded("int8 convolution setup",
                   [&]() -> Status { return prepared_ ? PlanFor(*prepared_).status() : Status::Ok(); });
  }

  Status Prepare(const Shape& x) {
    return Guarded("int8 convolution setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      prepared_ = x;
      return PlanFor(x).status();
    });
  }

 private:
  Result<Int8ConvPlan*> PlanFor(const Shape& x);
  void PlanSource(const memory::desc& src_desc, Int8ConvPlan& plan) const;
  Status RunImpl(const Tensor& x, const Tensor* z, std::vector<Tensor>& out);
  Result<const float*> ResidualNhwc(Int8ConvPlan& plan, const Tensor& z) const;
  // Yq from Y's final values y (laid out as y_layout) when the stage did not write it.
  void CopyAfter(const Shape& ys, const float* y, Layout y_layout, Tensor& yq) const;
  const memory& Stage(const memory& x_mem, Int8ConvPlan& plan);
  void Execute(Int8ConvPlan& plan, const memory& src, const memory* src_hi);
  // s8 activations fed to oneDNN as u8 (x + 128).
  bool Flips() const { return UsesU8Activations(mode_) && x_type_ == DataType::kInt8; }
  // X's logical NCHW shape (a kNhwc tensor's shape is [N, H, W, C]).
  Shape LogicalX(const Shape& x) const {
    if (x_layout_ != Layout::kNhwc || x.size() != 4) return x;
    return {x[0], x[3], x[1], x[2]};
  }

  ref::WindowParams params_;
  int64_t group_;
  DataType x_type_;
  Int8Compute mode_;
  Int8Params p_;
  ref::ResidualActivation residual_act_;
  bool has_z_;
  std::optional<QuantizedCopy> copy_;  // output Yq's parameters (q unset)
  bool y_needed_ = true;               // false: output 0 is absent (""), only Yq is computed
  Layout x_layout_ = Layout::kPlain, y_layout_ = Layout::kPlain, z_layout_ = Layout::kPlain;
  Layout yq_layout_ = Layout::kPlain;
  std::optional<Shape> prepared_;  // the static X shape known at creation
  std::optional<memory> user_w_;
  PackedWeights packed_;
  std::map<std::vector<int64_t>, Int8ConvPlan> plans_;  // by PlanKey(logical X shape)
  std::mutex mu_;
};

Result<Int8ConvPlan*> DnnlInt8Conv::PlanFor(const Shape& x) {
  const std::vector<int64_t> key = PlanKey(x);
  auto it = plans_.find(key);
  if (it != plans_.end()) return &it->second;
  if (x.size() != 4) return InvalidArgument("X must be 4-D, got " + ShapeToString(x));
  QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params_));
  const Shape& w = p_.w.shape();
  const Dims src_dims = ToDims(x), dst_dims = {x[0], w[0], g.out[0], g.out[1]};
  Dims dilates = ToDims(g.dilations);
  for (auto& d : dilates) d -= 1;  // oneDNN counts the gaps
  // The u8 modes prepare X themselves in NHWC (the layout of oneDNN's int8 kernels).
  const bool u8 = UsesU8Activations(mode_);
  const memory::desc src_md(src_dims, ActivationType(mode_, x_type_), u8 ? Tag::nhwc : Tag::any);
  const memory::desc w_any(WeightDims(w, group_), ComputeType(mode_, memory::data_type::s8), Tag::any);
  // int8 primitives write NHWC natively; the f32 ones are fast only in their blocked layout
  // (NHWC falls back to oneDNN's reference kernel), so there the result is reordered.
  const memory::desc acc_nhwc(dst_dims, AccType(mode_), Tag::nhwc);
  const memory::desc acc_md =
      mode_ == Int8Compute::kExactFloat ? memory::desc(dst_dims, AccType(mode_), Tag::any) : acc_nhwc;
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                       dnnl::algorithm::convolution_direct, src_md, w_any, acc_md,
                                       ToDims(g.strides), dilates, ToDims(g.pad_begin), ToDims(g.pad_end));
  dnnl::convolution_forward::primitive_desc pd(desc, Engine());
  Int8ConvPlan plan;
  plan.prim = dnnl::convolution_forward(pd);
  plan.weights_md = pd.weights_desc();
  plan.x_md = memory::desc(src_dims, DnnlType(x_type_), LayoutTag(x_layout_));
  plan.acc = memory(pd.dst_desc(), Engine());
  plan.y_shape = Shape{x[0], w[0], g.out[0], g.out[1]};
  if (pd.dst_desc() != acc_nhwc) {
    plan.acc_nhwc.emplace(acc_nhwc, Engine());
    plan.to_acc_nhwc = MakeReorder(pd.dst_desc(), acc_nhwc);
  }
  if (y_layout_ != Layout::kNhwc || !y_needed_) {
    plan.out_nhwc.emplace(memory::desc(dst_dims, DnnlType(p_.stage.dtype), Tag::nhwc), Engine());
    plan.to_y =
        MakeReorder(plan.out_nhwc->get_desc(), memory::desc(dst_dims, DnnlType(p_.stage.dtype), Tag::nchw));
  }
  if (has_z_ && z_layout_ == Layout::kPlain && (y_layout_ == Layout::kNhwc || !y_needed_)) {
    plan.z_nhwc.emplace(memory::desc(dst_dims, memory::data_type::f32, Tag::nhwc), Engine());
    plan.to_z_nhwc =
        MakeReorder(memory::desc(dst_dims, memory::data_type::f32, Tag::nchw), plan.z_nhwc->get_desc());
  }
  PlanSource(pd.src_desc(), plan);
  if (mode_ == Int8Compute::kInt8Split) plan.acc_lo.emplace(pd.dst_desc(), Engine());
  plan.corr = Correction(p_, p_.x_zp + (Flips() ? 128 : 0), g, &plan.corr_rows);
  if (!user_w_) {
    user_w_ = memory(
        memory::desc(WeightDims(w, group_), memory::data_type::s8, group_ == 1 ? Tag::oihw : Tag::goihw),
        Engine(), const_cast<void*>(p_.w.raw()));
  }
  packed_.Get(*user_w_, plan.weights_md);
  return &plans_.emplace(key, std::move(plan)).first->second;
}

// How X reaches the primitive. u8 modes: NHWC u8 (prepared by
// PrepareU8Activations unless unsigned X goes to kInt8Narrow as it is); other
// modes: X itself or a reorder into the primitive's layout.
void DnnlInt8Conv::PlanSource(const memory::desc& src_desc, Int8ConvPlan& plan) const {
  if (!UsesU8Activations(mode_)) {
    if (src_desc != plan.x_md) {
      plan.src.emplace(src_desc, Engine());
      plan.to_src = MakeReorder(plan.x_md, src_desc);
    }
    return;
  }
  const bool nhwc = x_layout_ == Layout::kNhwc;
  if (nhwc && mode_ == Int8Compute::kInt8Narrow && !Flips()) return;  // reads X directly
  plan.src.emplace(src_desc, Engine());
  if (mode_ == Int8Compute::kInt8Split) plan.src_hi.emplace(src_desc, Engine());
  if (!nhwc) {  // X reordered to NHWC (in its own type) into src's buffer, then prepared in place
    plan.staged.emplace(memory::desc(plan.x_md.dims(), DnnlType(x_type_), Tag::nhwc), Engine(),
                        plan.src->get_data_handle());
    plan.to_src = MakeReorder(plan.x_md, plan.staged->get_desc());
  }
}

Status DnnlInt8Conv::RunImpl(const Tensor& x, const Tensor* z, std::vector<Tensor>& out) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  QCAL_ASSIGN_OR_RETURN(Int8ConvPlan * plan, PlanFor(LogicalX(x.shape())));
  if (z && p_.stage.quantized()) return InvalidArgument("Z needs a float32 Y");
  const Shape& ys = plan->y_shape;
  // Without a Y (only Yq is read) the stage writes NHWC rows into out_nhwc or nowhere.
  Tensor* y = y_needed_ ? &ref::PrepareOutput(out, 0, p_.stage.dtype, PhysicalShape(ys, y_layout_)) : nullptr;
  void* stage_out = plan->out_nhwc ? plan->out_nhwc->get_data_handle() : y->raw();  // out_nhwc if !y
  // Z meets Y in NHWC inside the output stage, unless both are NCHW (then after Y's reorder).
  const bool residual_nhwc = z && (z_layout_ == Layout::kNhwc || y_layout_ == Layout::kNhwc || !y);
  Residual residual{nullptr, residual_act_, {}};
  if (residual_nhwc) {
    QCAL_ASSIGN_OR_RETURN(residual.z, ResidualNhwc(*plan, *z));
  }
  Tensor* yq = copy_ ? &ref::PrepareOutput(out, 1, copy_->dtype, PhysicalShape(ys, yq_layout_)) : nullptr;
  // Yq in the output stage when it is NHWC and the stage writes Y's final values.
  const bool copy_in_stage = yq && yq_layout_ == Layout::kNhwc && (!z || residual_nhwc);
  if (copy_in_stage) {
    residual.copy = *copy_;
    residual.copy.q = yq->raw();
    residual.copy.discard_y = !y;
  }
  memory x_mem(plan->x_md, Engine(), const_cast<void*>(x.raw()));
  const memory& src = Stage(x_mem, *plan);
  const memory& acc = plan->acc_nhwc ? *plan->acc_nhwc : plan->acc;
  const Accumulators accs{
      acc.get_data_handle(),
      plan->acc_lo ? static_cast<const int32_t*>(plan->acc_lo->get_data_handle()) : nullptr,
      mode_ == Int8Compute::kExactFloat};
  Execute(*plan, src, plan->src_hi ? &*plan->src_hi : nullptr);
  if (plan->acc_nhwc) ExecuteReorder(*plan->to_acc_nhwc, plan->acc, *plan->acc_nhwc);
  Stream().wait();
  ApplyOutputStageRows(p_.stage, p_.mult, accs, plan->corr.data(), plan->corr_rows, ys[0] * ys[2] * ys[3],
                       ys[1], stage_out, residual);
  if (plan->out_nhwc && y) {
    ExecuteReorder(*plan->to_y, *plan->out_nhwc,
                   memory(memory::desc(ToDims(ys), DnnlType(p_.stage.dtype), Tag::nchw), Engine(), y->raw()));
    Stream().wait();
  }
  if (z && !residual_nhwc) {
    if (z->dtype() != DataType::kFloat32 || z->shape() != ys) {
      return InvalidArgument("Z must be float32 of Y's shape " + ShapeToString(ys));
    }
    dnnl_kernels::ApplyResidual(residual_act_, z->data<float>(), y->numel(), y->data<float>());
  }
  if (yq && !copy_in_stage) {
    if (y) {
      CopyAfter(ys, y->data<float>(), y_layout_, *yq);
    } else {
      CopyAfter(ys, static_cast<const float*>(stage_out), Layout::kNhwc, *yq);
    }
  }
  return Status::Ok();
}

template <typename Q>
void QuantizeTransposed(const QuantizedCopy& c, const float* y, bool y_nhwc, const Shape& s, Q* q) {
  const int64_t channels = s[1], hw = s[2] * s[3];
  for (int64_t n = 0; n < s[0]; ++n) {
    for (int64_t ch = 0; ch < channels; ++ch) {
      for (int64_t p = 0; p < hw; ++p) {
        const int64_t nchw = (n * channels + ch) * hw + p, nhwc = (n * hw + p) * channels + ch;
        q[y_nhwc ? nchw : nhwc] = qmath::QuantizeValue<Q>(y[y_nhwc ? nhwc : nchw], c.scale, c.zero_point);
      }
    }
  }
}

// Yq from the final Y (the stage could not write it): one pass in the same
// layout, else element by element between NCHW and NHWC (logical shape ys).
void DnnlInt8Conv::CopyAfter(const Shape& ys, const float* y, Layout y_layout, Tensor& yq) const {
  QuantizedCopy c = *copy_;
  c.q = yq.raw();
  if (yq_layout_ == y_layout) return ApplyQuantizedCopy(c, y, yq.numel());
  const bool y_nhwc = y_layout == Layout::kNhwc;
  if (c.dtype == DataType::kInt8) return QuantizeTransposed(c, y, y_nhwc, ys, yq.data<int8_t>());
  QuantizeTransposed(c, y, y_nhwc, ys, yq.data<uint8_t>());
}

// Z's values in NHWC: Z itself when planned NHWC, else Z reordered into plan.z_nhwc.
Result<const float*> DnnlInt8Conv::ResidualNhwc(Int8ConvPlan& plan, const Tensor& z) const {
  const Shape& ys = plan.y_shape;
  if (z.dtype() != DataType::kFloat32 || z.shape() != PhysicalShape(ys, z_layout_)) {
    return InvalidArgument("Z must be float32 of Y's shape " + ShapeToString(ys));
  }
  const float* z_nhwc = z.data<float>();
  if (z_layout_ != Layout::kNhwc) {
    if (!plan.z_nhwc) return Internal("int8 convolution: no NHWC staging for an NCHW Z");
    ExecuteReorder(*plan.to_z_nhwc, Wrap(memory::desc(ToDims(ys), memory::data_type::f32, Tag::nchw), z),
                   *plan.z_nhwc);
    Stream().wait();
    z_nhwc = static_cast<const float*>(plan.z_nhwc->get_data_handle());
  }
  return z_nhwc;
}

// X as the primitive reads it: staged / prepared into plan.src (and src_hi)
// as PlanSource decided, or X itself.
const memory& DnnlInt8Conv::Stage(const memory& x_mem, Int8ConvPlan& plan) {
  const void* x = x_mem.get_data_handle();
  if (plan.to_src) {
    ExecuteReorder(*plan.to_src, x_mem, plan.staged ? *plan.staged : *plan.src);
    Stream().wait();
    x = plan.src->get_data_handle();
  }
  if (UsesU8Activations(mode_) && plan.src) {
    const auto n = static_cast<int64_t>(plan.src->get_desc().get_size());
    PrepareU8Activations(mode_, Flips(), static_cast<const uint8_t*>(x),
                         static_cast<uint8_t*>(plan.src->get_data_handle()),
                         plan.src_hi ? static_cast<uint8_t*>(plan.src_hi->get_data_handle()) : nullptr, n);
  }
  return plan.src ? *plan.src : x_mem;
}

// The raw products of src (kInt8Split: src_hi too, two runs) into plan.acc (and acc_lo).
void DnnlInt8Conv::Execute(Int8ConvPlan& plan, const memory& src, const memory* src_hi) {
  const memory& w = packed_.Get(*user_w_, plan.weights_md);
  if (src_hi) {
    plan.prim.execute(Stream(), {{DNNL_ARG_SRC, *src_hi}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, plan.acc}});
    plan.prim.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, *plan.acc_lo}});
  } else {
    plan.prim.execute(Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, plan.acc}});
  }
}

}  // namespace

// The second output's parameters (constant per-tensor q_scale, int8 / uint8 q_zero_point).
Result<QuantizedCopy> ReadQuantizedCopy(const OpContext& ctx) {
  if (!IsConstOf(ctx, kQScale, {DataType::kFloat32}) ||
      !IsConstOf(ctx, kQZp, {DataType::kInt8, DataType::kUint8})) {
    return InvalidArgument("q_scale / q_zero_point must be constants");
  }
  QCAL_ASSIGN_OR_RETURN(auto scale, ref::ReadScales(*ctx.constant(kQScale), 1, "q_scale"));
  QCAL_ASSIGN_OR_RETURN(auto zp, ref::ReadZeroPoints(ctx.constant(kQZp), 1, "q_zero_point"));
  return QuantizedCopy{nullptr, ctx.constant(kQZp)->dtype(), scale[0], zp[0]};
}

bool Int8ConvOperandsSupported(const OpContext& ctx) {
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
  if (ctx.has_input(kZ) && (y || ctx.inputs[kZ].dtype != DataType::kFloat32)) return false;
  if (ctx.node.outputs.size() > 1 && (y || !ReadQuantizedCopy(ctx).ok())) return false;
  if (ctx.node.outputs.empty() || (ctx.node.outputs[0].empty() && ctx.node.outputs.size() < 2)) return false;
  if (!ref::ReadResidualActivation(ctx.node).ok()) return false;
  if (!ref::ParseAutoPad(ctx.node.attrs.GetString("auto_pad", "NOTSET")).ok()) return false;
  return ReadInt8Params(ctx, ctx.constant(kW)->dim(0), kBias).ok();
}

Result<ref::WindowParams> ReadInt8ConvWindow(const OpContext& ctx) {
  const Shape& w = ctx.constant(kW)->shape();
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (ctx.node.attrs.Has("kernel_shape")) kernel = ctx.node.attrs.GetInts("kernel_shape");
  return ref::ReadWindowParams(ctx.node, 2, std::move(kernel), /*allow_ceil_mode=*/false);
}

Result<Int8ConvLayouts> CheckInt8ConvLayouts(const Kernel& k, const std::vector<Layout>& in,
                                             const std::vector<Layout>& out) {
  const auto at = [](const std::vector<Layout>& v, size_t i) { return i < v.size() ? v[i] : Layout::kPlain; };
  const Int8ConvLayouts l{at(in, kX), at(out, 0), at(in, kZ), at(out, 1)};
  for (size_t i = 1; i < in.size(); ++i) {
    if (i != kZ && in[i] != Layout::kPlain)
      return Internal("int8 convolution: only X and Z may be non-plain");
  }
  const bool y_ok =
      l.y == Layout::kPlain || (l.y == Layout::kNhwc && (k.ProducesBlocked(0) || k.ProducesFloatNhwc(0)));
  const bool yq_ok = l.yq == Layout::kPlain || (l.yq == Layout::kNhwc && k.ProducesBlocked(1));
  if ((l.x != Layout::kPlain && l.x != Layout::kNhwc) || !y_ok || !yq_ok ||
      (l.z != Layout::kPlain && l.z != Layout::kNhwc)) {
    return Internal("int8 convolution: unsupported layout");
  }
  return l;
}

namespace {

Int8Compute ModeFor(const OpContext& ctx) {
  const Tensor& w = *ctx.constant(kW);
  WeightBounds b = ComputeWeightBounds(w, w.dim(0), /*channel_major=*/true);
  const int64_t group = ctx.node.attrs.GetInt("group", 1);
  b.depthwise = group > 1 && w.dim(1) == 1 && w.dim(0) == group;
  const Int8Compute mode = ChooseInt8Compute(ctx.inputs[kX].dtype, b);
  // Few input channels per group (a first layer on RGB): oneDNN's AVX2 int8 kernel
  // pads them to 4; one primitive (narrow) still beats its f32 kernel, two (split)
  // do not (ShuffleNet's 3 -> 24 stem, CPU time: 0.63 ms narrow, 2 x 0.63 split, 0.89 f32).
  const bool few_channels = !b.depthwise && w.dim(1) <= 4;
  if (mode == Int8Compute::kInt8Split && few_channels) {
    return ChooseInt8Compute(ctx.inputs[kX].dtype, b, /*float_faster=*/true);
  }
  return mode;
}

bool SupportsInt8Conv(const OpContext& ctx) {
  return Int8ConvOperandsSupported(ctx) && ModeFor(ctx) != Int8Compute::kNone;
}

Result<std::unique_ptr<Kernel>> CreateInt8Conv(const OpContext& ctx) {
  const Shape& w = ctx.constant(kW)->shape();
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams params, ReadInt8ConvWindow(ctx));
  QCAL_ASSIGN_OR_RETURN(Int8Params p, ReadInt8Params(ctx, w[0], kBias));
  QCAL_ASSIGN_OR_RETURN(ref::ResidualActivation act, ref::ReadResidualActivation(ctx.node));
  std::optional<QuantizedCopy> copy;
  if (ctx.node.outputs.size() > 1) {
    QCAL_ASSIGN_OR_RETURN(copy, ReadQuantizedCopy(ctx));
  }
  auto k = std::make_unique<DnnlInt8Conv>(std::move(params), ctx.node.attrs.GetInt("group", 1),
                                          ctx.inputs[kX].dtype, ModeFor(ctx), std::move(p), act,
                                          ctx.has_input(kZ), copy, !ctx.node.outputs[0].empty());
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
