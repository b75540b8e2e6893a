// Concat (provider "x86"). NCHW / any axis / any dtype: one memcpy per (outer
// index, input), as the reference. A float32 4-D concat on the channel axis with
// static planned shapes also reads and writes oneDNN's nChw8c (Layout), so the
// convolutions around it need no reorder to NCHW; any channel counts (lanes are
// copied one by one where an input does not start on a block boundary).
#include "kernels/x86/copy_util.h"

namespace qcal::x86 {
namespace {

class ConcatKernel : public Kernel {
 public:
  explicit ConcatKernel(const OpContext& ctx) : node_(ctx.node) {
    blockable_ = ChannelConcat(ctx) && FloatBlockedLayout() == Layout::kNChw8c;  // the kNChw8c machines only
    if (blockable_) {
      for (const TensorType& t : ctx.inputs) planned_.push_back(t.shape);
    }
    in_layouts_.assign(ctx.num_inputs(), Layout::kPlain);
  }

  bool WritesAllOutputs() const override { return true; }
  bool AcceptsBlocked(size_t) const override { return blockable_; }
  bool ProducesBlocked(size_t output) const override { return output == 0 && blockable_; }
  Status SetLayouts(const std::vector<Layout>& in, const std::vector<Layout>& out) override {
    in_layouts_ = in;
    out_layout_ = out.empty() ? Layout::kPlain : out[0];
    any_blocked_ = out_layout_ != Layout::kPlain;
    for (Layout l : in) any_blocked_ = any_blocked_ || l != Layout::kPlain;
    if (any_blocked_ && !blockable_) return Internal("this Concat cannot take part in the blocked layout");
    return Status::Ok();
  }

  Status Run(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) override {
    return any_blocked_ ? RunChannels(in, out) : RunPlain(in, out);
  }

 private:
  // Float32 4-D inputs with static shapes, joined on axis 1.
  static bool ChannelConcat(const OpContext& ctx) {
    for (const TensorType& t : ctx.inputs) {
      if (t.dtype != DataType::kFloat32 || t.shape.size() != 4 || !ShapeIsStatic(t.shape)) return false;
    }
    auto axis = ref::NormalizeAxis(ctx.node.attrs.GetInt("axis", 0), 4, "attribute 'axis'");
    return axis.ok() && *axis == 1;
  }

  Status RunPlain(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    std::vector<Shape> shapes;
    for (const Tensor* t : in) {
      if (!t || t->dtype() != in[0]->dtype())
        return InvalidArgument("inputs must be present and share one data type");
      shapes.push_back(t->shape());
    }
    QCAL_ASSIGN_OR_RETURN(
        int64_t axis, ref::NormalizeAxis(node_.attrs.GetInt("axis", 0), in[0]->rank(), "attribute 'axis'"));
    const size_t a = static_cast<size_t>(axis);
    // The reference kernel checks the other dims and computes the shape the same way.
    Shape shape = shapes[0];
    shape[a] = 0;
    for (const Shape& s : shapes) {
      if (s.size() != shape.size()) return InvalidArgument("inputs differ in rank");
      for (size_t d = 0; d < s.size(); ++d) {
        if (d != a && s[d] != shapes[0][d]) {
          return InvalidArgument("input shape " + ShapeToString(s) + " differs from " +
                                 ShapeToString(shapes[0]) + " outside axis " + std::to_string(axis));
        }
      }
      shape[a] += s[a];
    }
    Tensor& y = ref::PrepareOutput(out, 0, in[0]->dtype(), shape);
    const int64_t outer = ref::DimProduct(shape, 0, a);
    const int64_t esize = static_cast<int64_t>(DataTypeSize(y.dtype()));
    const int64_t out_block = ref::DimProduct(shape, a, shape.size()) * esize;
    std::vector<int64_t> block, col;  // per input: bytes per outer index, byte offset in an output block
    for (size_t i = 0, c = 0; i < in.size(); c += static_cast<size_t>(block.back()), ++i) {
      block.push_back(ref::DimProduct(shapes[i], a, shape.size()) * esize);
      col.push_back(static_cast<int64_t>(c));
    }
    auto* dst = static_cast<uint8_t*>(y.raw());
    const int64_t n = static_cast<int64_t>(in.size());
    ParallelFor(outer * n, outer * out_block, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t o = u / n;
        const size_t i = static_cast<size_t>(u % n);
        const auto* src = static_cast<const uint8_t*>(in[i]->raw());
        if (block[i] > 0)
          std::memcpy(dst + o * out_block + col[i], src + o * block[i], static_cast<size_t>(block[i]));
      }
    });
    return Status::Ok();
  }

  // Channel concat where at least one input or the output is kNChw8c.
  Status RunChannels(const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
    int64_t channels = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const Shape want = in_layouts_[i] == Layout::kNChw8c ? BlockedShape(planned_[i]) : planned_[i];
      if (!in[i] || in[i]->dtype() != DataType::kFloat32 || in[i]->shape() != want) {
        return InvalidArgument("input " + std::to_string(i) + " does not have the prepared shape " +
                               ShapeToString(want));
      }
      channels += planned_[i][1];
    }
    Shape shape = planned_[0];
    shape[1] = channels;
    const bool blocked_y = out_layout_ == Layout::kNChw8c;
    Tensor& y = ref::PrepareOutput(out, 0, DataType::kFloat32, blocked_y ? BlockedShape(shape) : shape);
    const ChannelView dst = ViewOf(y, out_layout_, channels);
    int64_t offset = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      const int64_t c = planned_[i][1];
      CopyChannels(ViewOf(*in[i], in_layouts_[i], c), 0, dst, offset, c);
      offset += c;
    }
    ZeroPadding(dst);
    return Status::Ok();
  }

  Node node_;
  bool blockable_ = false, any_blocked_ = false;
  std::vector<Shape> planned_;  // logical input shapes (blockable only)
  std::vector<Layout> in_layouts_;
  Layout out_layout_ = Layout::kPlain;
};

Result<std::unique_ptr<Kernel>> CreateConcat(const OpContext& ctx) {
  return std::unique_ptr<Kernel>(std::make_unique<ConcatKernel>(ctx));
}

}  // namespace

QCAL_REGISTER_KERNEL("Concat", kProvider, kPriority, nullptr, CreateConcat);

}  // namespace qcal::x86
