// Split (provider "x86"). NCHW / any axis / any dtype: one memcpy per (outer
// index, output), as the reference. Part sizes come from the op's own inference
// (the reference's rules), cached per input shape and 'split' values. A float32
// 4-D split on the channel axis with static planned shapes also reads and writes
// oneDNN's nChw8c (Layout), as Concat does.
#include "kernels/x86/copy_util.h"

namespace qcal::x86 {
namespace {

class SplitKernel : public Kernel {
 public:
  SplitKernel(const OpContext& ctx, std::vector<Shape> planned_out)
      : node_(ctx.node), opset_(ctx.opset), planned_out_(std::move(planned_out)) {
    blockable_ = ChannelSplit(ctx, planned_out_) &&
                 FloatBlockedLayout() == Layout::kNChw8c;  // the kNChw8c machines only
    if (blockable_) planned_in_ = ctx.inputs[0].shape;
    out_layouts_.assign(ctx.node.outputs.size(), Layout::kPlain);
  }

  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t input) const override { return input == 0 && blockable_; }
  bool ProducesBlocked(size_t) const override { return blockable_; }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    in_layout_ = in.empty() ? Layout::kPlain : in[0];
    out_layouts_ = out;
    any_blocked_ = in_layout_ != Layout::kPlain;
    for (Layout l : out) any_blocked_ = any_blocked_ || l != Layout::kPlain;
    if (any_blocked_ && !blockable_) return Internal("this Split cannot take part in the blocked layout");
    return Status::Ok();
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return any_blocked_ ? RunChannels(in, out) : RunPlain(in, out);
  }

 private:
  // Float32 4-D input and outputs with static shapes, cut on axis 1.
  static bool ChannelSplit(const OpContext& ctx, const std::vector<Shape>& outs) {
    const TensorType& x = ctx.inputs[0];
    if (x.dtype != DataType::kFloat32 || x.shape.size() != 4 || !ShapeIsStatic(x.shape)) return false;
    if (outs.empty() || outs.size() != ctx.node.outputs.size()) return false;
    for (const Shape& s : outs) {
      if (s.size() != 4 || !ShapeIsStatic(s)) return false;
    }
    auto axis = ref::NormalizeAxis(ctx.node.attrs.GetInt("axis", 0), 4, "attribute 'axis'");
    return axis.ok() && *axis == 1;
  }

  // Output shapes for this input (the op's inference with every input constant).
  Result<const std::vector<Shape>*> OutputShapes(const std::vector<const Tensor*>& in) {
    std::vector<int64_t> split;
    if (in.size() > 1 && in[1]) split = in[1]->ToInt64Vector();
    if (in[0]->shape() == cached_in_ && split == cached_split_ && !cached_out_.empty()) return &cached_out_;
    OpContext ctx{node_, {}, in, opset_};
    for (const Tensor* t : in) ctx.inputs.push_back(t ? TensorType{t->dtype(), t->shape()} : TensorType{});
    std::vector<TensorType> types;
    QCAL_RETURN_IF_ERROR(KernelRegistry::Global().Infer(ctx, types));
    cached_out_.clear();
    for (const TensorType& t : types) cached_out_.push_back(t.shape);
    cached_in_ = in[0]->shape();
    cached_split_ = std::move(split);
    return &cached_out_;
  }

  Status RunPlain(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    const Tensor& x = *in[0];
    QCAL_ASSIGN_OR_RETURN(const std::vector<Shape>* shapes, OutputShapes(in));
    QCAL_ASSIGN_OR_RETURN(int64_t axis,
                          ref::NormalizeAxis(node_.attrs.GetInt("axis", 0), x.rank(), "attribute 'axis'"));
    const size_t a = static_cast<size_t>(axis);
    const int64_t outer = ref::DimProduct(x.shape(), 0, a);
    const int64_t esize = static_cast<int64_t>(DataTypeSize(x.dtype()));
    const int64_t in_block = ref::DimProduct(x.shape(), a, x.shape().size()) * esize;
    std::vector<int64_t> block, col;  // per output: bytes per outer index, byte offset in an input block
    std::vector<uint8_t*> dst;
    for (size_t i = 0, c = 0; i < out.size(); c += static_cast<size_t>(block.back()), ++i) {
      const Shape& s = (*shapes)[i];
      dst.push_back(static_cast<uint8_t*>(ref::PrepareOutput(out, i, x.dtype(), s).raw()));
      block.push_back(ref::DimProduct(s, a, s.size()) * esize);
      col.push_back(static_cast<int64_t>(c));
    }
    const auto* src = static_cast<const uint8_t*>(x.raw());
    const int64_t n = static_cast<int64_t>(out.size());
    ParallelFor(outer * n, outer * in_block, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t o = u / n;
        const size_t i = static_cast<size_t>(u % n);
        if (block[i] > 0)
          std::memcpy(dst[i] + o * block[i], src + o * in_block + col[i], static_cast<size_t>(block[i]));
      }
    });
    return Status::Ok();
  }

  // Channel split where the input or at least one output is kNChw8c.
  Status RunChannels(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    const Shape want = in_layout_ == Layout::kNChw8c ? BlockedShape(planned_in_) : planned_in_;
    if (in[0]->dtype() != DataType::kFloat32 || in[0]->shape() != want) {
      return InvalidArgument("input does not have the prepared shape " + ShapeToString(want));
    }
    const ChannelView src = ViewOf(*in[0], in_layout_, planned_in_[1]);
    int64_t offset = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const Shape& s = planned_out_[i];
      const bool blocked = out_layouts_[i] == Layout::kNChw8c;
      Tensor& y = ref::PrepareOutput(out, i, DataType::kFloat32, blocked ? BlockedShape(s) : s);
      const ChannelView dst = ViewOf(y, out_layouts_[i], s[1]);
      CopyChannels(src, offset, dst, 0, s[1]);
      ZeroPadding(dst);
      offset += s[1];
    }
    return Status::Ok();
  }

  Node node_;
  int64_t opset_;
  std::vector<Shape> planned_out_;  // from inference at creation (may hold -1)
  Shape planned_in_;
  bool blockable_ = false, any_blocked_ = false;
  Layout in_layout_ = Layout::kPlain;
  std::vector<Layout> out_layouts_;
  Shape cached_in_;
  std::vector<int64_t> cached_split_;
  std::vector<Shape> cached_out_;
};

Result<std::unique_ptr<Kernel>> CreateSplit(const OpContext& ctx) {
  std::vector<TensorType> types;
  std::vector<Shape> planned;
  if (KernelRegistry::Global().Infer(ctx, types).ok()) {
    for (const TensorType& t : types) planned.push_back(t.shape);
  }
  return std::unique_ptr<Kernel>(std::make_unique<SplitKernel>(ctx, std::move(planned)));
}

}  // namespace

QCAL_REGISTER_KERNEL("Split", kProvider, kPriority, nullptr, CreateSplit);

}  // namespace qcal::x86
