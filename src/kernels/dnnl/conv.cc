// Conv and FusedConv on oneDNN (provider "dnnl"): float32, 2-D, groups (incl.
// depthwise), strides, dilations, asymmetric pads / auto_pad (geometry from
// kernels/ref/conv_geometry.h), optional bias. Anything else (1-D/3-D, other
// dtypes) is declined and runs on the reference kernel.
//
// FusedConv (Y = activation(Conv(X, W, B) + Z), passes/fuse_conv.h) maps to
// post-ops: Z is added by a sum post-op (Y takes Z's buffer when the executor
// can give it, InPlaceInput; otherwise Z is copied into the destination), the
// activation is an eltwise post-op (kDnnlActivations). With qcal_exact_sum
// (passes/fuse_conv.h, calibration) the primitive has no post-ops and Z is
// added after it, then a Relu if any (ApplyResidual), so Y equals the unfused
// Conv -> Add -> Relu bit for bit; so do the x86 kernels below (conv_x86.h).
//
// Prepare-once: constant weights are reordered into the primitive's preferred
// layout once per distinct layout (PackedWeights); primitives are created per
// input shape on first use and cached, so batch-size changes only cost one
// primitive creation; a plan binds its memories once and Run only swaps data
// pointers (BoundMemory / BoundPrimitive). X, Z and Y are NCHW unless the executor planned them as
// blocked (Kernel::SetLayouts, runtime/layout_plan.h); a plain X or Y is
// reordered to / from the layout the primitive prefers (the machine's
// FloatBlockedLayout: nChw8c on AVX2, nChw16c on AVX-512).
//
// On nChw8c machines (AVX2), with X, Y (and Z) in nChw8c, some convs run on
// qcal's own AVX2 kernels instead (X86Conv, conv_x86.h): Winograd F(2x2, 3x3) for the 3x3 stride-1
// shape classes where it measured faster, the direct kernel for other large
// non-1x1 weights. QCAL_WINOGRAD=0 / QCAL_DIRECT_CONV=0 in the environment
// keep those convs on oneDNN (for A/B runs).
#include <cstring>
#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/conv_x86.h"
#include "kernels/dnnl/dnnl_common.h"
#include "kernels/dnnl/int8_common.h"
#include "kernels/dnnl/residual_relayout.h"
#include "kernels/fused_activation.h"
#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"
#include "kernels/threads.h"
#include "kernels/x86/x86_common.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// FusedConv activation -> oneDNN eltwise algorithm (alpha, beta = activation_params).
struct DnnlActivation {
  std::string_view name;
  dnnl::algorithm alg;
};
const DnnlActivation kDnnlActivations[] = {
    {"Relu", dnnl::algorithm::eltwise_relu},       // alpha 0
    {"LeakyRelu", dnnl::algorithm::eltwise_relu},  // alpha = negative slope
    {"Clip", dnnl::algorithm::eltwise_clip_v2},    // alpha = min, beta = max
    {"Sigmoid", dnnl::algorithm::eltwise_logistic}, {"Tanh", dnnl::algorithm::eltwise_tanh},
};

const DnnlActivation* FindDnnlActivation(const FusedActivation& act) {
  if (!act.def) return nullptr;
  for (const auto& a : kDnnlActivations) {
    if (a.name == act.def->name) return &a;
  }
  return nullptr;
}

using PostOps = ConvPostOps;

// The activation applied after an exact sum.
ref::ResidualActivation ExactSumActivation(const PostOps& post) {
  return post.activation.def ? ref::ResidualActivation::kRelu : ref::ResidualActivation::kNone;
}

dnnl::primitive_attr MakeAttr(const PostOps& post) {
  dnnl::post_ops ops;
  if (post.exact_sum) return dnnl::primitive_attr();
  if (post.sum) ops.append_sum(1.0f);
  if (const DnnlActivation* a = FindDnnlActivation(post.activation)) {
    const auto& p = post.activation.params;
    ops.append_eltwise(1.0f, a->alg, p.size() > 0 ? p[0] : 0.0f, p.size() > 1 ? p[1] : 0.0f);
  }
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

// Everything one input shape needs, created once: the primitive, staging
// buffers and reorders, and the argument memories whose data pointers Run
// rebinds (no allocation, descriptor or map building per run).
struct ConvPlan {
  memory::desc weights_md;        // the primitive's weight layout
  memory::desc x_md, z_md, y_md;  // X, Z, Y as the caller holds them (NCHW or nChw8c)
  size_t z_bytes = 0;
  Shape y_shape;                      // logical NCHW
  Shape y_physical;                   // Y's tensor shape (BlockedShape for kNChw8c)
  BoundMemory x, y, z, bias, user_w;  // caller tensors (user_w: runtime weights only)
  std::optional<memory> src;          // staging buffer in the primitive's layout; nullopt: reads X directly
  std::optional<memory> dst;          // likewise for the output
  memory weights;                     // packed constant weights, or runtime weights in the primitive's layout
  BoundPrimitive conv;
  // Reorders X -> src, Z -> dst (Z of the sum), dst -> Y, runtime W -> weights.
  BoundPrimitive to_src, to_dst, from_dst, to_weights;
  std::optional<memory> z_like_y;  // exact sum: Z reordered into Y's layout (when they differ)
  BoundPrimitive to_z_like_y;
};

// oneDNN weight dims for an ONNX weight [M, C/G, kh, kw]; grouped weights get
// the explicit group dim (goihw is the same memory as ONNX's layout).
Dims WeightDims(const Shape& w, int64_t group) {
  if (group == 1) return ToDims(w);
  return {group, w[0] / group, w[1], w[2], w[3]};
}
Tag WeightTag(int64_t group) { return group == 1 ? Tag::oihw : Tag::goihw; }

class DnnlConv final : public Kernel {
 public:
  DnnlConv(ref::WindowParams params, int64_t group, PostOps post, const Tensor* w, const Tensor* b,
           bool has_bias)
      : params_(std::move(params)), group_(group), post_(std::move(post)), has_bias_(has_bias) {
    if (w) const_w_ = *w;  // shares the buffer
    if (b) const_b_ = *b;
    x86_ = X86Conv::Make(w, group_, params_, post_);
  }

  bool WritesAllOutputs() const override { return true; }
  // Z (input 3) is reordered into the destination in any case.
  bool AcceptsBlocked(size_t input) const override { return input == 0 ? blocked_in_ : input == 3; }
  bool ProducesBlocked(size_t output) const override { return output == 0 && blocked_out_; }
  int LayoutTiedInput(size_t output) const override { return output == 0 && tied_ ? 0 : -1; }
  // Y may take Z's buffer when both have the same layout: the sum post-op
  // reads each Z element where it writes the Y element (or Z is first copied
  // into a staging destination). An exact sum only on Winograd at the
  // prepared shape, whose output transform does the same; the other kernels
  // add Z after the convolution has written Y (RunImpl / RunX86 copy Z first
  // should they get Z's buffer anyway).
  int InPlaceInput(size_t output) const override {
    if (output != 0 || !post_.sum || z_layout_ != y_layout_) return -1;
    return !post_.exact_sum || ExactSumInWinograd() ? 3 : -1;
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return Guarded("convolution", [&]() -> Status { return RunImpl(in, out); });
  }

  // Fixes the layouts of X, Z and Y; with constant weights and a known input
  // shape (`prepare_x`) also creates the primitive and packs the weights, so Run
  // only executes.
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    const Layout x = in.empty() ? Layout::kPlain : in[0], z = in.size() > 3 ? in[3] : Layout::kPlain;
    const Layout y = out.empty() ? Layout::kPlain : out[0];
    if ((x != Layout::kPlain && !blocked_in_) || (y != Layout::kPlain && !blocked_out_)) {
      return Internal("this convolution has no blocked-layout primitive");
    }
    return Guarded("convolution setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      x_layout_ = x, z_layout_ = z, y_layout_ = y;
      plans_.clear();
      last_plan_ = nullptr;
      if (!const_w_ || !prepare_x_) return Status::Ok();
      if (X86Layouts()) {
        QCAL_RETURN_IF_ERROR(x86_->SetInput(*prepare_x_, params_));
        if (x86_->algorithm() != X86Conv::Algorithm::kOneDnn) return Status::Ok();
      }
      return PlanFor(*prepare_x_, const_w_->shape()).status();
    });
  }

  // Whether oneDNN has a JIT primitive reading (writing) the machine's blocked
  // layout for input shape x (decides AcceptsBlocked / ProducesBlocked), and the
  // shape SetLayouts prepares for.
  Status Probe(const Shape& x) {
    return Guarded("convolution setup", [&]() -> Status {
      prepare_x_ = x;
      const Shape& w = const_w_->shape();
      const Layout blocked = FloatBlockedLayout();
      QCAL_ASSIGN_OR_RETURN(auto in, PrimitiveDesc(x, w, has_bias_, blocked, Layout::kPlain));
      QCAL_ASSIGN_OR_RETURN(auto out, PrimitiveDesc(x, w, has_bias_, Layout::kPlain, blocked));
      blocked_in_ = IsJit(in.impl_info_str());
      blocked_out_ = IsJit(out.impl_info_str());
      if (!blocked_in_ && !blocked_out_) {
        // oneDNN's depthwise kernels need X and Y in one layout (one of them
        // left to choose gives its reference kernel): then both or neither.
        QCAL_ASSIGN_OR_RETURN(auto both, PrimitiveDesc(x, w, has_bias_, blocked, blocked));
        blocked_in_ = blocked_out_ = tied_ = IsJit(both.impl_info_str());
      }
      return Status::Ok();
    });
  }

 private:
  Status RunImpl(const std::vector<const Tensor*>& in, std::vector<Tensor>& out);
  Status AddExactSum(const Tensor& z, ConvPlan& plan, Tensor& y);
  Status RunX86(const std::vector<const Tensor*>& in, std::vector<Tensor>& out);
  // The x86 kernels may run (X86Conv chooses per input shape) when the conv
  // qualified and X, Y (and Z) are all in its layout (the machine's blocked one).
  bool X86Layouts() const {
    return x86_ && x_layout_ == x86_->layout() && y_layout_ == x86_->layout() &&
           (!post_.sum || z_layout_ == x86_->layout());
  }
  bool ExactSumInWinograd() const {
    return post_.exact_sum && X86Layouts() && x86_->algorithm() == X86Conv::Algorithm::kWinograd;
  }
  // Z itself, or (when Y was given Z's buffer but the kernel writes Y before
  // adding Z) a copy of it.
  const Tensor& ExactSumZ(const Tensor& z, const Tensor& y);
  Result<ConvPlan*> CurrentPlan(const Tensor& x, const Tensor& w);
  Result<ConvPlan*> PlanFor(const Shape& x, const Shape& w);
  void BindWeights(const Shape& w, ConvPlan& plan);
  // A plain layout lets the primitive choose (`any`); a blocked one fixes it.
  Result<dnnl::convolution_forward::primitive_desc> PrimitiveDesc(const Shape& x, const Shape& w,
                                                                  bool has_bias, Layout x_layout,
                                                                  Layout y_layout);
  // X's logical NCHW shape (a blocked tensor's shape is the physical one).
  Shape LogicalX(const Tensor& x, const Shape& w) const {
    if (x_layout_ == Layout::kPlain) return x.shape();
    return {x.dim(0), w[1] * group_, x.dim(2), x.dim(3)};
  }

  ref::WindowParams params_;
  int64_t group_;
  PostOps post_;
  bool has_bias_ = false;
  bool blocked_in_ = false, blocked_out_ = false;
  bool tied_ = false;  // X and Y blocked together or not at all (Probe)
  std::optional<Shape> prepare_x_;
  Layout x_layout_ = Layout::kPlain, z_layout_ = Layout::kPlain, y_layout_ = Layout::kPlain;
  std::optional<Tensor> const_w_, const_b_;
  std::unique_ptr<X86Conv> x86_;
  std::optional<memory> user_w_;  // constant weights wrapped in their ONNX layout
  PackedWeights packed_;
  std::map<std::vector<int64_t>, ConvPlan> plans_;  // by PlanKey(X shape); W's shape is fixed
  ConvPlan* last_plan_ = nullptr;  // the plan of the last run, for last_x_ / last_w_ / last_threads_
  Shape last_x_, last_w_;
  int last_threads_ = -1;
  Tensor z_copy_;  // ExactSumZ's copy
  std::mutex mu_;
};

Result<dnnl::convolution_forward::primitive_desc> DnnlConv::PrimitiveDesc(const Shape& x, const Shape& w,
                                                                          bool has_bias, Layout x_layout,
                                                                          Layout y_layout) {
  QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params_));
  const Dims src_dims = ToDims(x);
  const Dims dst_dims = {x[0], w[0], g.out[0], g.out[1]};
  const Dims strides = ToDims(g.strides);
  Dims dilates = ToDims(g.dilations);
  for (auto& d : dilates) d -= 1;  // oneDNN counts the gaps: 0 = dense
  const Dims pad_l = ToDims(g.pad_begin), pad_r = ToDims(g.pad_end);

  const auto f32 = memory::data_type::f32;
  const memory::desc src_any(src_dims, f32, IsBlockedFloat(x_layout) ? LayoutTag(x_layout) : Tag::any);
  const memory::desc dst_any(dst_dims, f32, IsBlockedFloat(y_layout) ? LayoutTag(y_layout) : Tag::any);
  const memory::desc w_any(WeightDims(w, group_), f32, Tag::any);
  const memory::desc b_md({w[0]}, f32, Tag::a);
  const auto prop = dnnl::prop_kind::forward_inference;
  const auto alg = dnnl::algorithm::convolution_direct;
  auto desc = has_bias ? dnnl::convolution_forward::desc(prop, alg, src_any, w_any, b_md, dst_any, strides,
                                                         dilates, pad_l, pad_r)
                       : dnnl::convolution_forward::desc(prop, alg, src_any, w_any, dst_any, strides, dilates,
                                                         pad_l, pad_r);
  return dnnl::convolution_forward::primitive_desc(desc, MakeAttr(post_), Engine());
}

Result<ConvPlan*> DnnlConv::PlanFor(const Shape& x, const Shape& w) {
  const std::vector<int64_t> key = PlanKey(x);
  auto it = plans_.find(key);
  if (it != plans_.end()) return &it->second;
  QCAL_ASSIGN_OR_RETURN(auto pd, PrimitiveDesc(x, w, has_bias_, x_layout_, y_layout_));
  ConvPlan plan;
  plan.weights_md = pd.weights_desc();
  const Dims y_dims = pd.dst_desc().dims();
  plan.y_shape = Shape(y_dims.begin(), y_dims.end());
  plan.y_physical = PhysicalShape(plan.y_shape, y_layout_);
  plan.x_md = ActivationDesc(ToDims(x), x_layout_);
  plan.y_md = ActivationDesc(y_dims, y_layout_);
  plan.z_md = ActivationDesc(y_dims, z_layout_);
  plan.z_bytes = plan.z_md.get_size();
  plan.x = BoundMemory(plan.x_md);
  plan.y = BoundMemory(plan.y_md);
  plan.z = BoundMemory(plan.z_md);
  if (pd.src_desc() != plan.x_md) {
    plan.src.emplace(pd.src_desc(), Engine());
    plan.to_src = BoundPrimitive(MakeReorder(plan.x_md, pd.src_desc()),
                                 {{DNNL_ARG_FROM, plan.x.mem}, {DNNL_ARG_TO, *plan.src}});
  }
  if (pd.dst_desc() != plan.y_md) {
    plan.dst.emplace(pd.dst_desc(), Engine());
    plan.from_dst = BoundPrimitive(MakeReorder(pd.dst_desc(), plan.y_md),
                                   {{DNNL_ARG_FROM, *plan.dst}, {DNNL_ARG_TO, plan.y.mem}});
  }
  const memory& dst = plan.dst ? *plan.dst : plan.y.mem;
  // An exact sum reads Z in its own layout where ApplyResidualRelayout has a vector path.
  if (post_.exact_sum && plan.z_md != plan.y_md && !ResidualRelayoutIsVectorized(z_layout_, y_layout_)) {
    plan.z_like_y.emplace(plan.y_md, Engine());
    plan.to_z_like_y = BoundPrimitive(MakeReorder(plan.z_md, plan.y_md),
                                      {{DNNL_ARG_FROM, plan.z.mem}, {DNNL_ARG_TO, *plan.z_like_y}});
  }
  if (post_.sum && !post_.exact_sum && pd.dst_desc() != plan.z_md) {
    plan.to_dst = BoundPrimitive(MakeReorder(plan.z_md, pd.dst_desc()),
                                 {{DNNL_ARG_FROM, plan.z.mem}, {DNNL_ARG_TO, dst}});
  }
  BindWeights(w, plan);
  std::vector<std::pair<int, memory>> args = {{DNNL_ARG_SRC, plan.src ? *plan.src : plan.x.mem},
                                              {DNNL_ARG_WEIGHTS, plan.weights},
                                              {DNNL_ARG_DST, dst}};
  if (has_bias_) {
    plan.bias = BoundMemory(memory::desc({w[0]}, memory::data_type::f32, Tag::a));
    if (const_b_) plan.bias.Bind(const_b_->raw());
    args.push_back({DNNL_ARG_BIAS, plan.bias.mem});
  }
  plan.conv = BoundPrimitive(dnnl::convolution_forward(pd), args);
  return &plans_.emplace(key, std::move(plan)).first->second;
}

// Constant weights are packed once per layout; runtime weights are bound per
// run and reordered by a cached reorder when the primitive wants another layout.
void DnnlConv::BindWeights(const Shape& w, ConvPlan& plan) {
  const memory::desc user_md = PlainDesc(WeightDims(w, group_), WeightTag(group_));
  if (const_w_) {
    if (!user_w_) user_w_ = Wrap(user_md, *const_w_);
    plan.weights = packed_.Get(*user_w_, plan.weights_md);
    return;
  }
  plan.user_w = BoundMemory(user_md);
  if (user_md == plan.weights_md) {
    plan.weights = plan.user_w.mem;
    return;
  }
  plan.weights = memory(plan.weights_md, Engine());
  plan.to_weights = BoundPrimitive(MakeReorder(user_md, plan.weights_md),
                                   {{DNNL_ARG_FROM, plan.user_w.mem}, {DNNL_ARG_TO, plan.weights}});
}

// The plan for this X (and runtime W); the last one is kept, so a steady
// stream of equal shapes costs two shape compares.
Result<ConvPlan*> DnnlConv::CurrentPlan(const Tensor& x, const Tensor& w) {
  const int threads = NumThreads();
  if (last_plan_ && threads == last_threads_ && x.shape() == last_x_ && (const_w_ || w.shape() == last_w_)) {
    return last_plan_;
  }
  const size_t x_rank = x_layout_ == Layout::kPlain ? 4 : 5;
  if (x.rank() != x_rank || w.rank() != 4) return InvalidArgument("X and W must be 4-D");
  if (!const_w_ && last_plan_ && w.shape() != last_w_) plans_.clear();  // plans assume one W shape
  last_plan_ = nullptr;
  QCAL_ASSIGN_OR_RETURN(ConvPlan * plan, PlanFor(LogicalX(x, w.shape()), w.shape()));
  last_plan_ = plan;
  last_x_ = x.shape();
  last_w_ = w.shape();
  last_threads_ = threads;
  return plan;
}

// Puts Z where the sum post-op reads it: the primitive's destination (Y itself
// or the staging buffer). Nothing to do when Y was given Z's buffer (InPlaceInput).
Status CopySumInput(const Tensor& z, ConvPlan& plan, const Tensor& y) {
  if (z.nbytes() != plan.z_bytes) {
    return InvalidArgument("sum input Z has shape " + ShapeToString(z.shape()) +
                           ", expected the output shape " + ShapeToString(plan.y_shape));
  }
  plan.z.Bind(z.raw());
  if (plan.to_dst) {
    plan.to_dst.Execute();
    return Status::Ok();
  }
  void* dst = plan.dst ? plan.dst->get_data_handle() : const_cast<void*>(y.raw());
  if (z.raw() != dst) std::memcpy(dst, z.raw(), z.nbytes());
  return Status::Ok();
}

Status DnnlConv::RunX86(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  const Tensor& x = *in[0];
  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, x86_->y_physical());
  const float* z = nullptr;
  if (post_.sum) {
    if (in[3]->shape() != y.shape()) {
      return InvalidArgument("sum input Z has shape " + ShapeToString(in[3]->shape()) +
                             ", expected the output shape " + ShapeToString(y.shape()));
    }
    z = in[3]->data<float>();
  }
  const Tensor* b = has_bias_ ? (const_b_ ? &*const_b_ : in[2]) : nullptr;
  // An exact sum on a kernel that sums differently from a separate Add: the Conv
  // alone (the unfused Conv node's arithmetic), then Z and the Relu.
  const bool z_after = post_.exact_sum && !x86_->AddsZLikeAnAdd();
  if (z_after) z = ExactSumZ(*in[3], y).data<float>();
  x86_->Run(x.dim(0), x.data<float>(), b ? b->data<float>() : nullptr, z_after ? nullptr : z, y.data<float>(),
            x86::OmpThreads(), /*clamp=*/!z_after);
  if (z_after) dnnl_kernels::ApplyResidual(ExactSumActivation(post_), z, y.numel(), y.data<float>());
  return Status::Ok();
}

Status DnnlConv::RunImpl(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (X86Layouts()) {
    const Tensor& x = *in[0];
    if (x.rank() != 5) return InvalidArgument("X and W must be 4-D");  // X is blocked: [N, C/B, H, W, B]
    QCAL_RETURN_IF_ERROR(x86_->SetInput(LogicalX(x, const_w_->shape()), params_));
    if (x86_->algorithm() != X86Conv::Algorithm::kOneDnn) return RunX86(in, out);
  }
  ApplyThreads();
  const Tensor& x = *in[0];
  const Tensor& w = const_w_ ? *const_w_ : *in[1];
  QCAL_ASSIGN_OR_RETURN(ConvPlan * plan, CurrentPlan(x, w));
  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, plan->y_physical);
  plan->x.Bind(x.raw());
  plan->y.Bind(y.raw());
  if (!const_w_) {
    plan->user_w.Bind(w.raw());
    if (plan->to_weights) plan->to_weights.Execute();
  }
  if (has_bias_ && !const_b_) plan->bias.Bind(in[2]->raw());
  if (plan->to_src) plan->to_src.Execute();
  if (post_.sum && !post_.exact_sum) QCAL_RETURN_IF_ERROR(CopySumInput(*in[3], *plan, y));
  const Tensor* z = post_.exact_sum ? &ExactSumZ(*in[3], y) : nullptr;
  plan->conv.Execute();
  if (plan->from_dst) plan->from_dst.Execute();
  if (post_.exact_sum) return AddExactSum(*z, *plan, y);
  Stream().wait();  // the stream runs in order; one wait for the whole sequence
  return Status::Ok();
}

const Tensor& DnnlConv::ExactSumZ(const Tensor& z, const Tensor& y) {
  if (z.raw() != y.raw()) return z;
  z_copy_ = z.Clone();
  return z_copy_;
}

// Y = act(Y + Z) after the primitive (exact sum), Z read in its own layout
// (ApplyResidualRelayout) or first reordered into Y's layout.
Status DnnlConv::AddExactSum(const Tensor& z, ConvPlan& plan, Tensor& y) {
  if (z.nbytes() != plan.z_bytes) {
    return InvalidArgument("sum input Z has shape " + ShapeToString(z.shape()) +
                           ", expected the output shape " + ShapeToString(plan.y_shape));
  }
  const float* z_data = z.data<float>();
  Layout z_layout = z_layout_;
  if (plan.to_z_like_y) {
    plan.z.Bind(z.raw());
    plan.to_z_like_y.Execute();
    z_data = static_cast<const float*>(plan.z_like_y->get_data_handle());
    z_layout = y_layout_;
  }
  Stream().wait();
  const Shape& s = plan.y_shape;  // logical NCHW
  ApplyResidualRelayout(ExactSumActivation(post_), z_data, z_layout, y.data<float>(), y_layout_,
                        {s[0], s[1], s[2] * s[3]});  // ApplyResidual when the layouts agree
  return Status::Ok();
}

// float32 2-D convs with a known auto_pad; the weight shape must be known
// (its rank and channel dims decide the primitive's weight dims).
bool SupportsConv(const OpContext& ctx) {
  if (!AllInputsFloat32(ctx) || !HasRank(ctx, 0, 4) || !HasRank(ctx, 1, 4)) return false;
  if (ctx.has_input(2) && ctx.inputs[2].shape.size() != 1) return false;
  if (!ref::ParseAutoPad(ctx.node.attrs.GetString("auto_pad", "NOTSET")).ok()) return false;
  for (int64_t d : ctx.inputs[1].shape) {
    if (d < 0) return false;
  }
  return ctx.node.attrs.GetInt("group", 1) >= 1;
}

// FusedConv: a Conv this kernel supports, a 4-D Z and an activation oneDNN has.
bool SupportsFusedConv(const OpContext& ctx) {
  if (!SupportsConv(ctx)) return false;
  if (ctx.has_input(3) && !HasRank(ctx, 3, 4)) return false;
  auto act = ReadFusedActivation(ctx.node);
  if (!act.ok()) return false;
  if (ctx.node.attrs.GetInt(kExactSumAttr, 0) != 0) {  // Relu or nothing after an exact sum
    return ctx.has_input(3) && (!act->def || act->def->name == "Relu");
  }
  return !act->def || FindDnnlActivation(*act);
}

Result<std::unique_ptr<Kernel>> CreateConvWith(const OpContext& ctx, PostOps post) {
  const Shape& w = ctx.inputs[1].shape;
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (ctx.node.attrs.Has("kernel_shape")) kernel = ctx.node.attrs.GetInts("kernel_shape");
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams p,
                        ref::ReadWindowParams(ctx.node, 2, std::move(kernel), /*allow_ceil_mode=*/false));
  const int64_t group = ctx.node.attrs.GetInt("group", 1);
  const bool has_bias = ctx.has_input(2);
  auto k = std::make_unique<DnnlConv>(std::move(p), group, std::move(post), ctx.constant(1),
                                      has_bias ? ctx.constant(2) : nullptr, has_bias);
  const Shape& x = ctx.inputs[0].shape;
  if (ctx.constant(1) && ShapeIsStatic(x)) QCAL_RETURN_IF_ERROR(k->Probe(x));
  return std::unique_ptr<Kernel>(std::move(k));
}

Result<std::unique_ptr<Kernel>> CreateConv(const OpContext& ctx) { return CreateConvWith(ctx, {}); }

Result<std::unique_ptr<Kernel>> CreateFusedConv(const OpContext& ctx) {
  PostOps post;
  post.sum = ctx.has_input(3);
  post.exact_sum = post.sum && ctx.node.attrs.GetInt(kExactSumAttr, 0) != 0;
  QCAL_ASSIGN_OR_RETURN(post.activation, ReadFusedActivation(ctx.node));
  return CreateConvWith(ctx, std::move(post));
}

}  // namespace

QCAL_REGISTER_KERNEL("Conv", kProvider, kPriority, SupportsConv, CreateConv);
QCAL_REGISTER_KERNEL("FusedConv", kProvider, kPriority, SupportsFusedConv, CreateFusedConv);

}  // namespace qcal::dnnl_kernels
