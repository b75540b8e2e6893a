// MaxPool and AveragePool on oneDNN pooling (provider "dnnl"): float32 (and
// int8 / uint8 MaxPool), 2-D, strides, dilations, pads / auto_pad, ceil_mode,
// count_include_pad (geometry from kernels/ref/conv_geometry.h). Other ranks and
// dtypes are declined and run on the reference kernels.
//
// Mapping to oneDNN:
//   MaxPool                          -> pooling_max (padding never wins: oneDNN pads
//                                       with the type's lowest value, as -inf for float)
//   AveragePool count_include_pad=0  -> pooling_avg_exclude_padding (divide by taps inside X)
//   AveragePool count_include_pad=1  -> pooling_avg_include_padding (divide by kh*kw)
//   ceil_mode: oneDNN computes out = floor((in + pad_l + pad_r - dk) / s) + 1, so
//   the end padding is grown until that gives the ceil-mode output size. The extra
//   taps are padding: ignored by max and exclude_padding, counted by
//   include_padding, as in the reference kernel (ONNX reference semantics).
//   GlobalAveragePool, ReduceMean over axes {2, 3} of a 4-D X
//                                    -> pooling_avg with the whole H x W as the window
//                                       (ReduceMean keepdims=0: Y is [N, C], same memory)
//
// X and Y are NCHW unless the executor planned them as kNChw8c (float32) or
// kNhwc (int8 / uint8, between int8 kernels) (Kernel::SetLayouts).
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>

#include "kernels/dnnl/dnnl_common.h"
#include "kernels/dnnl/int8_common.h"
#include "kernels/ref/common.h"
#include "kernels/ref/conv_geometry.h"

namespace qcal::dnnl_kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

struct PoolPlan {
  dnnl::pooling_v2_forward prim;
  memory::desc x_md, y_md;  // X and Y as the caller holds them
  std::optional<memory> src,
      dst;  // staging buffers in the primitive's layout (nullopt: x_md / y_md in place)
  std::optional<dnnl::reorder> to_src, from_dst;
  std::optional<memory> workspace;
  Shape y_shape;
};

// Layouts tried for the pooling, in order: oneDNN's NCHW pooling is a slow
// generic loop ("simple_nchw": 50 ms for ShuffleNet's 24x112x112 max pool under
// load), its blocked ones are JIT kernels; reordering in and out is cheaper.
// int8 pooling has JIT kernels for NHWC only. NCHW, the last, is always taken.
const std::vector<Tag> kFloatPoolLayouts = {Tag::nChw16c, Tag::nChw8c, Tag::nchw};
const std::vector<Tag> kInt8PoolLayouts = {Tag::nhwc, Tag::nchw};

bool IsGenericImpl(const std::string& impl) {
  return impl.rfind("simple", 0) == 0 || impl.rfind("ref", 0) == 0;
}

class DnnlPool final : public Kernel {
 public:
  DnnlPool(dnnl::algorithm alg, ref::WindowParams params, DataType dtype = DataType::kFloat32)
      : alg_(alg), params_(std::move(params)), dtype_(dtype) {}
  // A global pool: the window is the input's whole H x W; `squeeze` drops the 1 x 1 dims of Y.
  static std::unique_ptr<DnnlPool> Global(bool squeeze) {
    auto k = std::make_unique<DnnlPool>(dnnl::algorithm::pooling_avg_exclude_padding, ref::WindowParams{});
    k->global_ = true;
    k->squeeze_ = squeeze;
    return k;
  }

  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t input) const override { return input == 0 && blocked_; }
  bool ProducesBlocked(size_t output) const override { return output == 0 && blocked_ && !global_; }

  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    const Layout x = in.empty() ? Layout::kPlain : in[0], y = out.empty() ? Layout::kPlain : out[0];
    if (!blocked_ && (x != Layout::kPlain || y != Layout::kPlain)) {
      return Internal("this pooling has no blocked-layout primitive");
    }
    return Guarded("pooling setup", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      x_layout_ = x, y_layout_ = y;
      plans_.clear();
      return prepare_x_ ? PlanFor(*prepare_x_).status() : Status::Ok();
    });
  }

  // Whether oneDNN pools the dtype's non-plain layout (nChw8c / nChw16c / NHWC) with a JIT
  // kernel for input shape x, and the shape SetLayouts prepares for.
  Status Probe(const Shape& x) {
    return Guarded("pooling setup", [&]() -> Status {
      prepare_x_ = x;
      const Tag tag = LayoutTag(NonPlainLayout(dtype_));
      QCAL_ASSIGN_OR_RETURN(auto pd, PrimitiveDesc(x, tag, tag));
      blocked_ = IsJit(pd.impl_info_str());
      return Status::Ok();
    });
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return Guarded("pooling", [&]() -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      ApplyThreads();
      const Tensor& x = *in[0];
      if (x.dtype() != dtype_) return InvalidArgument("X is not of the prepared data type");
      const bool blocked_x = IsBlockedFloat(x_layout_);
      if (x.rank() != (blocked_x ? 5 : 4)) return InvalidArgument("X must be 4-D");
      // A blocked float X has the blocked shape (the channel count is the planned one), a kNhwc one [N, H, W,
      // C].
      Shape x_shape = x.shape();
      if (blocked_x) x_shape = {x.dim(0), prepare_x_->at(1), x.dim(2), x.dim(3)};
      if (x_layout_ == Layout::kNhwc) x_shape = {x.dim(0), x.dim(3), x.dim(1), x.dim(2)};
      QCAL_ASSIGN_OR_RETURN(PoolPlan * plan, PlanFor(x_shape));
      const Shape y_shape = squeeze_ ? Shape{plan->y_shape[0], plan->y_shape[1]} : plan->y_shape;
      Tensor& y = ref::PrepareOutput(out, 0, dtype_, PhysicalShape(y_shape, y_layout_));
      memory x_mem = Wrap(plan->x_md, x);
      memory y_mem(plan->y_md, Engine(), y.raw());
      if (plan->src) ExecuteReorder(*plan->to_src, x_mem, *plan->src);
      std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, plan->src ? *plan->src : x_mem},
                                              {DNNL_ARG_DST, plan->dst ? *plan->dst : y_mem}};
      if (plan->workspace) args[DNNL_ARG_WORKSPACE] = *plan->workspace;
      plan->prim.execute(Stream(), args);
      if (plan->dst) ExecuteReorder(*plan->from_dst, *plan->dst, y_mem);
      Stream().wait();
      return Status::Ok();
    });
  }

 private:
  // The primitive for X in layout `src` (Y: `dst`, or `any`).
  Result<dnnl::pooling_v2_forward::primitive_desc> PrimitiveDesc(const Shape& x, Tag src, Tag dst) {
    ref::WindowParams params = params_;
    if (global_) params = {{x[2], x[3]}, {1, 1}, {1, 1}, {0, 0, 0, 0}};
    QCAL_ASSIGN_OR_RETURN(ref::WindowGeometry g, ref::ComputeWindowGeometry(ref::SpatialDims(x), params));
    Dims pad_r = ToDims(g.pad_end), dilates = ToDims(g.dilations);
    for (size_t i = 0; i < 2; ++i) {
      dilates[i] -= 1;  // oneDNN counts the gaps
      const int64_t dk = (g.kernel[i] - 1) * g.dilations[i] + 1;
      pad_r[i] = std::max(pad_r[i], (g.out[i] - 1) * g.strides[i] + dk - g.in[i] - g.pad_begin[i]);
    }
    const Dims src_dims = ToDims(x), dst_dims = {x[0], x[1], g.out[0], g.out[1]};
    const auto dt = DnnlType(dtype_);
    dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, alg_,
                                        memory::desc(src_dims, dt, src), memory::desc(dst_dims, dt, dst),
                                        ToDims(g.strides), ToDims(g.kernel), dilates, ToDims(g.pad_begin),
                                        pad_r);
    return dnnl::pooling_v2_forward::primitive_desc(desc, Engine());
  }

  Result<PoolPlan*> PlanFor(const Shape& x) {
    const std::vector<int64_t> key = PlanKey(x);
    auto it = plans_.find(key);
    if (it != plans_.end()) return &it->second;
    const Tag y_tag = y_layout_ != Layout::kPlain ? LayoutTag(y_layout_) : Tag::any;
    std::optional<dnnl::pooling_v2_forward::primitive_desc> pd;
    if (x_layout_ != Layout::kPlain) {
      QCAL_ASSIGN_OR_RETURN(pd, PrimitiveDesc(x, LayoutTag(x_layout_), y_tag));
    } else {  // the first layout with a JIT kernel (NCHW, the last, is always taken)
      for (Tag tag : dtype_ == DataType::kFloat32 ? kFloatPoolLayouts : kInt8PoolLayouts) {
        QCAL_ASSIGN_OR_RETURN(pd, PrimitiveDesc(x, tag, y_tag));
        if (tag == Tag::nchw || !IsGenericImpl(pd->impl_info_str())) break;
      }
    }
    const Dims y_dims = pd->dst_desc().dims();
    const auto dt = DnnlType(dtype_);
    PoolPlan plan{dnnl::pooling_v2_forward(*pd),
                  memory::desc(ToDims(x), dt, LayoutTag(x_layout_)),
                  memory::desc(y_dims, dt, LayoutTag(y_layout_)),
                  {},
                  {},
                  {},
                  {},
                  {},
                  Shape(y_dims.begin(), y_dims.end())};
    if (pd->src_desc() != plan.x_md) {
      plan.src.emplace(pd->src_desc(), Engine());
      plan.to_src = MakeReorder(plan.x_md, pd->src_desc());
    }
    if (pd->dst_desc() != plan.y_md) {
      plan.dst.emplace(pd->dst_desc(), Engine());
      plan.from_dst = MakeReorder(pd->dst_desc(), plan.y_md);
    }
    if (pd->workspace_desc().get_size() > 0) plan.workspace.emplace(pd->workspace_desc(), Engine());
    return &plans_.emplace(key, std::move(plan)).first->second;
  }

  dnnl::algorithm alg_;
  ref::WindowParams params_;
  DataType dtype_;
  bool blocked_ = false;
  bool global_ = false, squeeze_ = false;
  std::optional<Shape> prepare_x_;
  Layout x_layout_ = Layout::kPlain, y_layout_ = Layout::kPlain;
  std::map<std::vector<int64_t>, PoolPlan> plans_;  // by PlanKey(X shape)
  std::mutex mu_;
};

// Window parameters for a 2-D pool node, or an error (then the node is declined).
Result<ref::WindowParams> PoolParams(const Node& node) {
  if (!node.attrs.Has("kernel_shape")) return InvalidArgument("kernel_shape is required");
  return ref::ReadWindowParams(node, 2, node.attrs.GetInts("kernel_shape"), /*allow_ceil_mode=*/true);
}

// Window parameters the kernel handles (no MaxPool Indices output).
bool SupportsWindow(const OpContext& ctx) {
  if (ctx.node.outputs.size() > 1 && !ctx.node.outputs[1].empty()) return false;  // MaxPool Indices
  const int64_t include_pad = ctx.node.attrs.GetInt("count_include_pad", 0);
  return (include_pad == 0 || include_pad == 1) && PoolParams(ctx.node).ok();
}

bool SupportsPool(const OpContext& ctx) {
  if (!AllInputsFloat32(ctx) || !HasRank(ctx, 0, 4)) return false;
  return SupportsWindow(ctx);
}

// int8 / uint8 MaxPool (max is exact in any type).
bool SupportsMaxPool(const OpContext& ctx) {
  if (!HasRank(ctx, 0, 4)) return false;
  const DataType t = ctx.inputs[0].dtype;
  return (t == DataType::kFloat32 || t == DataType::kInt8 || t == DataType::kUint8) && SupportsWindow(ctx);
}

Result<std::unique_ptr<Kernel>> Probed(const OpContext& ctx, std::unique_ptr<DnnlPool> k) {
  if (ShapeIsStatic(ctx.inputs[0].shape)) QCAL_RETURN_IF_ERROR(k->Probe(ctx.inputs[0].shape));
  return std::unique_ptr<Kernel>(std::move(k));
}

Result<std::unique_ptr<Kernel>> CreatePool(const OpContext& ctx, dnnl::algorithm alg) {
  QCAL_ASSIGN_OR_RETURN(ref::WindowParams p, PoolParams(ctx.node));
  return Probed(ctx, std::make_unique<DnnlPool>(alg, std::move(p), ctx.inputs[0].dtype));
}

bool SupportsGlobalAveragePool(const OpContext& ctx) { return AllInputsFloat32(ctx) && HasRank(ctx, 0, 4); }

Result<std::unique_ptr<Kernel>> CreateGlobalAveragePool(const OpContext& ctx) {
  return Probed(ctx, DnnlPool::Global(/*squeeze=*/false));
}

// ReduceMean of a float32 4-D X over exactly H and W (axes from the attribute or a constant input).
bool SupportsReduceMean(const OpContext& ctx) {
  if (!HasRank(ctx, 0, 4) || ctx.inputs[0].dtype != DataType::kFloat32) return false;
  std::vector<int64_t> axes = ctx.node.attrs.GetInts("axes");
  if (ctx.has_input(1)) {
    auto given = ref::ConstInts(ctx, 1);
    if (!given) return false;
    axes = *given;
  }
  for (auto& a : axes) a = a < 0 ? a + 4 : a;
  std::sort(axes.begin(), axes.end());
  return axes == std::vector<int64_t>{2, 3};
}

Result<std::unique_ptr<Kernel>> CreateReduceMean(const OpContext& ctx) {
  return Probed(ctx, DnnlPool::Global(/*squeeze=*/ctx.node.attrs.GetInt("keepdims", 1) == 0));
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

QCAL_REGISTER_KERNEL("MaxPool", kProvider, kPriority, SupportsMaxPool, CreateMaxPool);
QCAL_REGISTER_KERNEL("AveragePool", kProvider, kPriority, SupportsPool, CreateAveragePool);
QCAL_REGISTER_KERNEL("GlobalAveragePool", kProvider, kPriority, SupportsGlobalAveragePool,
                     CreateGlobalAveragePool);
QCAL_REGISTER_KERNEL("ReduceMean", kProvider, kPriority, SupportsReduceMean, CreateReduceMean);

}  // namespace qcal::dnnl_kernels
