// MaxPool and AveragePool on oneDNN pooling (provider "dnnl"): float32, 2-D,
// strides, dilations, pads / auto_pad, ceil_mode, count_include_pad (geometry
// from kernels/ref/conv_geometry.h). Other ranks and dtypes (int8/uint8 MaxPool)
// are declined and run on the reference kernels.
//
// Mapping to oneDNN:
//   MaxPool                          -> pooling_max (padding never wins)
//   AveragePool count_include_pad=0  -> pooling_avg_exclude_padding (divide by taps inside X)
//   AveragePool count_include_pad=1  -> pooling_avg_include_padding (divide by kh*kw)
//   ceil_mode: oneDNN computes out = floor((in + pad_l + pad_r - dk) / s) + 1, so
//   the end padding is grown until that gives the ceil-mode output size. The extra
//   taps are padding: ignored by max and exclude_padding, counted by
//   include_padding, as in the reference kernel (ONNX reference semantics).
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

struct PoolPlan {
  dnnl::pooling_v2_forward prim;
  std::optional<memory> dst;  // staging buffer when the primitive's output is not NCHW
  std::optional<memory> workspace;
  Shape y_shape;
};

class DnnlPool final : public Kernel {
 public:
  DnnlPool(dnnl::algorithm alg, ref::WindowParams params) : alg_(alg), params_(std::move(params)) {}

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return Guarded("pooling", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      ApplyThreads();
      const Tensor& x = *in[0];
      if (x.rank() != 4) return InvalidArgument("X must be 4-D");
      QCAL_ASSIGN_OR_RETURN(PoolPlan * plan, PlanFor(x.shape()));
      Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, plan->y_shape);
      memory x_mem = Wrap(PlainDesc(ToDims(x.shape()), Tag::nchw), x);
      memory y_mem = Wrap(PlainDesc(ToDims(plan->y_shape), Tag::nchw), y.data<float>());
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, x_mem},
                                              {DNNL_ARG_DST, plan->dst ? *plan->dst : y_mem}};
      if (plan->workspace) args[DNNL_ARG_WORKSPACE] = *plan->workspace;
      plan->prim.execute(Stream(), args);
      Stream().wait();
      if (plan->dst) Reorder(*plan->dst, y_mem);
      return Status::Ok();
    });
  }

  Status Prepare(const Shape& x) {
    return Guarded("pooling setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      return PlanFor(x).status();
    });
  }

 private:
  Result<PoolPlan*> PlanFor(const Shape& x) {
    ApplyThreads();  // a primitive keeps the thread count it was created with
    auto it = plans_.find(x);
    if (it != plans_.end()) return &it->second;
    QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params_));
    Dims pad_r = ToDims(g.pad_end), dilates = ToDims(g.dilations);
    for (size_t i = 0; i < 2; ++i) {
      dilates[i] -= 1;  // oneDNN counts the gaps
      const int64_t dk = (g.kernel[i] - 1) * g.dilations[i] + 1;
      pad_r[i] = std::max(pad_r[i], (g.out[i] - 1) * g.strides[i] + dk - g.in[i] - g.pad_begin[i]);
    }
    const Dims src_dims = ToDims(x), dst_dims = {x[0], x[1], g.out[0], g.out[1]};
    const auto f32 = memory::data_type::f32;
    // Pooling takes the source layout as given (NCHW); the output follows it.
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, alg_,
                                        PlainDesc(src_dims, Tag::nchw), memory::desc(dst_dims, f32, Tag::any),
                                        ToDims(g.strides), ToDims(g.kernel), dilates, ToDims(g.pad_begin),
                                        pad_r);
    dnnl::pooling_v2_forward::primitive_desc pd(desc, Engine());
    PoolPlan plan{dnnl::pooling_v2_forward(pd), {}, {}, {x[0], x[1], g.out[0], g.out[1]}};
    if (pd.dst_desc() != PlainDesc(dst_dims, Tag::nchw)) plan.dst.emplace(pd.dst_desc(), Engine());
    if (pd.workspace_desc().get_size() > 0) plan.workspace.emplace(pd.workspace_desc(), Engine());
    return &plans_.emplace(x, std::move(plan)).first->second;
  }

  dnnl::algorithm alg_;
  ref::WindowParams params_;
  std::map<Shape, PoolPlan> plans_;
  std::mutex mu_;
};

// Window parameters for a 2-D pool node, or an error (then the node is declined).
Result<ref::WindowParams> PoolParams(const Node& node) {
  if (!node.attrs.Has("kernel_shape")) return InvalidArgument("kernel_shape is required");
  return ref::ReadWindowParams(node, 2, node.attrs.GetInts("kernel_shape"), /*allow_ceil_mode=*/true);
}

bool SupportsPool(const OpContext& ctx) {
  if (!AllInputsFloat32(ctx) || !HasRank(ctx, 0, 4)) return false;
  if (ctx.node.outputs.size() > 1 && !ctx.node.outputs[1].empty()) return false;  // MaxPool Indices
  const int64_t include_pad = ctx.node.attrs.GetInt("count_include_pad", 0);
  return (include_pad == 0 || include_pad == 1) && PoolParams(ctx.node).ok();
}

Result<std::unique_ptr<Kernel>> CreatePool(const OpContext& ctx, dnnl::algorithm alg) {
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams p, PoolParams(ctx.node));
  auto k = std::make_unique<DnnlPool>(alg, std::move(p));
  if (ShapeIsStatic(ctx.inputs[0].shape)) QCAL_RETURN_IF_ERROR(k->Prepare(ctx.inputs[0].shape));
  return std::unique_ptr<Kernel>(std::move(k));
}

Result<std::unique_ptr<Kernel>> CreateMaxPool(const OpContext& ctx) {
  return CreatePool(ctx, dnnl::algorithm::pooling_max);
}

Result<std::unique_ptr<Kernel>> CreateAveragePool(const OpContext& ctx) {
  const bool include_pad = ctx.node.attrs.GetInt("count_include_pad", 0) == 1;
  return CreatePool(ctx, include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                     : dnnl::algorithm::pooling_avg_exclude_padding);
}

}  // namespace

QCAL_REGISTER_KERNEL("MaxPool", kProvider, kPriority, SupportsPool, CreateMaxPool);
QCAL_REGISTER_KERNEL("AveragePool", kProvider, kPriority, SupportsPool, CreateAveragePool);

}  // namespace qcal::dnnl_kernels
