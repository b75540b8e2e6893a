// ChannelShuffle reference kernel: one plane copy per (image, output channel).
// See channel_shuffle.h for the op.
#include "kernels/ref/channel_shuffle.h"

#include <algorithm>
#include <cstring>

#include "kernels/ref/common.h"

namespace qcal::ref {

ShufflePlan::Source ShufflePlan::SourceOf(size_t output, int64_t c) const {
  const int64_t j = out_offsets[output] + c;
  const int64_t x = (j % group) * (channels() / group) + j / group;
  const size_t i =
      static_cast<size_t>(std::upper_bound(in_offsets.begin(), in_offsets.end(), x) - in_offsets.begin()) - 1;
  return {i, x - in_offsets[i]};
}

Result<ShufflePlan> MakeShufflePlan(const Node& node, const std::vector<int64_t>& in_channels,
                                    size_t num_outputs) {
  ShufflePlan p;
  p.group = node.attrs.GetInt("group", 0);
  p.in_channels = in_channels;
  p.in_offsets = {0};
  for (int64_t c : in_channels) {
    if (c < 0) return InvalidArgument("input channel counts must be known");
    p.in_offsets.push_back(p.in_offsets.back() + c);
  }
  const int64_t total = p.channels();
  if (p.group < 1 || total % p.group != 0) {
    return InvalidArgument("attribute 'group' " + std::to_string(p.group) + " does not divide the " +
                           std::to_string(total) + " channels");
  }
  if (num_outputs == 0) return InvalidArgument("the node has no outputs");
  if (node.attrs.Has("split")) {
    p.out_channels = node.attrs.GetInts("split");
    if (p.out_channels.size() != num_outputs) {
      return InvalidArgument("'split' has " + std::to_string(p.out_channels.size()) + " entries for " +
                             std::to_string(num_outputs) + " outputs");
    }
  } else {
    const int64_t n = static_cast<int64_t>(num_outputs);
    if (total % n != 0) {
      return InvalidArgument(std::to_string(total) + " channels cannot be split into " + std::to_string(n) +
                             " equal parts");
    }
    p.out_channels.assign(num_outputs, total / n);
  }
  p.out_offsets = {0};
  for (int64_t c : p.out_channels) {
    if (c < 0) return InvalidArgument("'split' has a negative size");
    if (c > total) {  // (also keeps the sum from overflowing)
      return InvalidArgument("'split' has a part of " + std::to_string(c) + " channels, the shuffle has " +
                             std::to_string(total));
    }
    p.out_offsets.push_back(p.out_offsets.back() + c);
  }
  if (p.out_offsets.back() != total) {
    return InvalidArgument("'split' sums to " + std::to_string(p.out_offsets.back()) + ", the shuffle has " +
                           std::to_string(total) + " channels");
  }
  p.out_offsets.pop_back();
  return p;
}

namespace {

Status InferChannelShuffle(const OpContext& ctx, std::vector<TensorType>& outputs) {
  std::vector<int64_t> channels;
  Shape base;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return InvalidArgument("input " + std::to_string(i) + " is missing");
    const TensorType& t = ctx.inputs[i];
    if (t.dtype != ctx.inputs[0].dtype || t.shape.size() != 4) {
      return InvalidArgument("input " + std::to_string(i) + " must be 4-D and share input 0's data type");
    }
    if (i == 0) base = t.shape;
    for (size_t d : {size_t{0}, size_t{2}, size_t{3}}) {
      if (t.shape[d] >= 0 && base[d] >= 0 && t.shape[d] != base[d]) {
        return InvalidArgument("input " + std::to_string(i) + " has shape " + ShapeToString(t.shape) +
                               ", which differs from " + ShapeToString(base) + " outside the channels");
      }
      if (base[d] < 0) base[d] = t.shape[d];
    }
    channels.push_back(t.shape[1]);
  }
  if (std::count(channels.begin(), channels.end(), -1) > 0) {
    for (auto& o : outputs) o = {ctx.inputs[0].dtype, Shape{base[0], -1, base[2], base[3]}};
    return Status::Ok();
  }
  QCAL_ASSIGN_OR_RETURN(ShufflePlan plan, MakeShufflePlan(ctx.node, channels, outputs.size()));
  for (size_t o = 0; o < outputs.size(); ++o) {
    outputs[o] = {ctx.inputs[0].dtype, Shape{base[0], plan.out_channels[o], base[2], base[3]}};
  }
  return Status::Ok();
}

Status RunChannelShuffle(const Node& node, const std::vector<const Tensor*>& in, std::vector<Tensor>& out) {
  std::vector<int64_t> channels;
  for (const Tensor* t : in) {
    if (!t || t->rank() != 4 || t->dtype() != in[0]->dtype() || t->dim(0) != in[0]->dim(0) ||
        t->dim(2) != in[0]->dim(2) || t->dim(3) != in[0]->dim(3)) {
      return InvalidArgument("inputs must be 4-D with one data type and the same N, H and W");
    }
    channels.push_back(t->dim(1));
  }
  QCAL_ASSIGN_OR_RETURN(ShufflePlan plan, MakeShufflePlan(node, channels, out.size()));
  const Shape& s = in[0]->shape();
  const size_t plane = static_cast<size_t>(s[2] * s[3]) * DataTypeSize(in[0]->dtype());
  for (size_t o = 0; o < out.size(); ++o) {
    const int64_t oc = plan.out_channels[o];
    auto* dst =
        static_cast<uint8_t*>(PrepareOutput(out, o, in[0]->dtype(), Shape{s[0], oc, s[2], s[3]}).raw());
    for (int64_t n = 0; n < s[0]; ++n) {
      for (int64_t c = 0; c < oc; ++c) {
        const ShufflePlan::Source src = plan.SourceOf(o, c);
        const auto* from = static_cast<const uint8_t*>(in[src.input]->raw()) +
                           static_cast<size_t>(n * plan.in_channels[src.input] + src.channel) * plane;
        std::memcpy(dst + static_cast<size_t>(n * oc + c) * plane, from, plane);
      }
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Kernel>> CreateChannelShuffle(const OpContext& ctx) {
  return MakeFunctionKernel(ctx.node, RunChannelShuffle, /*writes_all_outputs=*/true);
}

}  // namespace

QCAL_REGISTER_OP("ChannelShuffle", InferChannelShuffle, 1, -1, 1, -1);
QCAL_REGISTER_KERNEL("ChannelShuffle", "ref", 0, nullptr, CreateChannelShuffle);

}  // namespace qcal::ref
