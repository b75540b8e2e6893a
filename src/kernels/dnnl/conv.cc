// Conv on oneDNN (provider "dnnl"): float32, 2-D, groups (incl. depthwise),
// strides, dilations, asymmetric pads / auto_pad (geometry from
// kernels/ref/conv_geometry.h), optional bias. Anything else (1-D/3-D, other
// dtypes) is declined and runs on the reference kernel.
//
// Prepare-once: constant weights are reordered into the primitive's preferred
// layout once per distinct layout (PackedWeights); primitives are created per
// input shape on first use and cached, so batch-size changes only cost one
// primitive creation. Activations are NCHW at the kernel boundary; when the
// primitive prefers a blocked layout (nChw8c on AVX2), X and Y are reordered
// around it (see ChooseActivationLayout).
#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/dnnl_common.h"
#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

struct ConvPlan {
  dnnl::convolution_forward prim;
  memory::desc weights_md;    // the primitive's weight layout
  std::optional<memory> src;  // blocked staging buffer; nullopt: the primitive reads NCHW directly
  std::optional<memory> dst;  // likewise for the output
  Shape y_shape;
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
  DnnlConv(const Node& node, ref::WindowParams params, int64_t group, const Tensor* w, const Tensor* b)
      : params_(std::move(params)), group_(group) {
    (void)node;
    if (w) const_w_ = *w;  // shares the buffer
    if (b) const_b_ = *b;
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return Guarded("convolution", [&]() -> Status { return RunImpl(in, out); });
  }

  // Creates the primitive for input shape x and packs constant weights for it
  // (done at kernel creation when the shape is known, so Run only executes).
  Status Prepare(const Shape& x, bool has_bias) {
    return Guarded("convolution setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      QCAL_ASSIGN_OR_RETURN(ConvPlan * plan, PlanFor(x, const_w_->shape(), has_bias));
      WeightsFor(*const_w_, *plan);
      return Status::Ok();
    });
  }

 private:
  Status RunImpl(const std::vector<const Tensor*>& in, std::vector<Tensor>& out);
  memory WeightsFor(const Tensor& w, const ConvPlan& plan);
  Result<ConvPlan*> PlanFor(const Shape& x, const Shape& w, bool has_bias);

  ref::WindowParams params_;
  int64_t group_;
  std::optional<Tensor> const_w_, const_b_;
  std::optional<memory> user_w_;  // constant weights wrapped in their ONNX layout
  PackedWeights packed_;
  std::map<Shape, ConvPlan> plans_;  // by X shape (weights shape is fixed per node)
  std::mutex mu_;
};

Result<ConvPlan*> DnnlConv::PlanFor(const Shape& x, const Shape& w, bool has_bias) {
  ApplyThreads();  // a primitive keeps the thread count it was created with
  auto it = plans_.find(x);
  if (it != plans_.end()) return &it->second;

  QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params_));
  const Dims src_dims = ToDims(x);
  const Dims dst_dims = {x[0], w[0], g.out[0], g.out[1]};
  const Dims strides = ToDims(g.strides);
  Dims dilates = ToDims(g.dilations);
  for (auto& d : dilates) d -= 1;  // oneDNN counts the gaps: 0 = dense
  const Dims pad_l = ToDims(g.pad_begin), pad_r = ToDims(g.pad_end);

  const auto f32 = memory::data_type::f32;
  const memory::desc src_any(src_dims, f32, Tag::any), dst_any(dst_dims, f32, Tag::any);
  const memory::desc w_any(WeightDims(w, group_), f32, Tag::any);
  const memory::desc b_md({w[0]}, f32, Tag::a);
  const auto prop = dnnl::prop_kind::forward_inference;
  const auto alg = dnnl::algorithm::convolution_direct;
  auto desc = has_bias ? dnnl::convolution_forward::desc(prop, alg, src_any, w_any, b_md, dst_any, strides,
                                                         dilates, pad_l, pad_r)
                       : dnnl::convolution_forward::desc(prop, alg, src_any, w_any, dst_any, strides, dilates,
                                                         pad_l, pad_r);
  dnnl::convolution_forward::primitive_desc pd(desc, Engine());

  ConvPlan plan;
  plan.prim = dnnl::convolution_forward(pd);
  plan.weights_md = pd.weights_desc();
  if (pd.src_desc() != PlainDesc(src_dims, Tag::nchw)) plan.src.emplace(pd.src_desc(), Engine());
  if (pd.dst_desc() != PlainDesc(dst_dims, Tag::nchw)) plan.dst.emplace(pd.dst_desc(), Engine());
  plan.y_shape = {x[0], w[0], g.out[0], g.out[1]};
  return &plans_.emplace(x, std::move(plan)).first->second;
}

// Constant weights are packed once per layout; others are reordered on every run.
memory DnnlConv::WeightsFor(const Tensor& w, const ConvPlan& plan) {
  const memory::desc user_md = PlainDesc(WeightDims(w.shape(), group_), WeightTag(group_));
  if (const_w_) {
    if (!user_w_) user_w_ = Wrap(user_md, w);
    return packed_.Get(*user_w_, plan.weights_md);
  }
  memory weights = Wrap(user_md, w);
  return user_md == plan.weights_md ? weights : ReorderTo(weights, plan.weights_md);
}

Status DnnlConv::RunImpl(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::lock_guard<std::mutex> lock(mu_);
  ApplyThreads();
  const Tensor& x = *in[0];
  const Tensor& w = const_w_ ? *const_w_ : *in[1];
  const Tensor* b = const_b_ ? &*const_b_ : (in.size() > 2 ? in[2] : nullptr);
  if (x.rank() != 4 || w.rank() != 4) return InvalidArgument("X and W must be 4-D");
  QCAL_ASSIGN_OR_RETURN(ConvPlan * plan, PlanFor(x.shape(), w.shape(), b != nullptr));

  memory weights = WeightsFor(w, *plan);

  Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, plan->y_shape);
  memory x_mem = Wrap(PlainDesc(ToDims(x.shape()), Tag::nchw), x);
  memory y_mem = Wrap(PlainDesc(ToDims(plan->y_shape), Tag::nchw), y.data<float>());
  if (plan->src) Reorder(x_mem, *plan->src);

  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, plan->src ? *plan->src : x_mem},
                                          {DNNL_ARG_WEIGHTS, weights},
                                          {DNNL_ARG_DST, plan->dst ? *plan->dst : y_mem}};
  if (b) args[DNNL_ARG_BIAS] = Wrap(memory::desc({w.dim(0)}, memory::data_type::f32, Tag::a), *b);
  plan->prim.execute(Stream(), args);
  Stream().wait();
  if (plan->dst) Reorder(*plan->dst, y_mem);
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

Result<std::unique_ptr<Kernel>> CreateConv(const OpContext& ctx) {
  const Shape& w = ctx.inputs[1].shape;
  std::vector<int64_t> kernel(w.begin() + 2, w.end());
  if (ctx.node.attrs.Has("kernel_shape")) kernel = ctx.node.attrs.GetInts("kernel_shape");
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams p,
                        ref::ReadWindowParams(ctx.node, 2, std::move(kernel), /*allow_ceil_mode=*/false));
  const int64_t group = ctx.node.attrs.GetInt("group", 1);
  const bool has_bias = ctx.has_input(2);
  auto k = std::make_unique<DnnlConv>(ctx.node, std::move(p), group, ctx.constant(1),
                                      has_bias ? ctx.constant(2) : nullptr);
  const Shape& x = ctx.inputs[0].shape;
  if (ctx.constant(1) && ShapeIsStatic(x)) QCAL_RETURN_IF_ERROR(k->Prepare(x, has_bias));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

QCAL_REGISTER_KERNEL("Conv", kProvider, kPriority, SupportsConv, CreateConv);

}  // namespace qcal::dnnl_kernels
