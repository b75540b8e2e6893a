#include "passes/fuse_channel_shuffle.h"

#include <optional>
#include <unordered_map>
#include <vector>

#include "kernels/ref/channel_shuffle.h"

namespace qcal {
namespace {

bool IsOnnxOp(const Node& n, const char* op_type) {
  return n.op_type == op_type && (n.domain.empty() || n.domain == "ai.onnx");
}

// The value's static shape (a -1 batch allowed), if value_info has one.
std::optional<Shape> StaticShape(const Graph& g, const std::string& value) {
  const ValueInfo* vi = g.FindValueInfo(value);
  if (!vi || !vi->shape) return std::nullopt;
  for (size_t d = 1; d < vi->shape->size(); ++d) {
    if ((*vi->shape)[d] < 0) return std::nullopt;
  }
  return *vi->shape;
}

class ShuffleFuser {
 public:
  ShuffleFuser(Graph& g, const ChannelShuffleFusionOptions& options)
      : g_(g), options_(options), consumers_(g.ConsumerIndex()), removed_(g.nodes.size(), false) {}

  int Run() {
    int fused = 0;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (!removed_[i] && IsOnnxOp(g_.nodes[i], "Concat")) fused += FuseFrom(i) ? 1 : 0;
    }
    std::vector<Node> kept;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (!removed_[i]) kept.push_back(std::move(g_.nodes[i]));
    }
    g_.nodes = std::move(kept);
    return fused;
  }

 private:
  // The single consumer of `value` if it is `op_type` reading the value as
  // input 0 and the value may disappear.
  std::optional<size_t> Next(const std::string& value, const char* op_type) const {
    if (options_.keep_values.count(value)) return std::nullopt;
    for (const auto& o : g_.outputs) {
      if (o.name == value) return std::nullopt;
    }
    auto it = consumers_.find(value);
    if (it == consumers_.end() || it->second.size() != 1 || removed_[it->second[0]]) return std::nullopt;
    const Node& n = g_.nodes[it->second[0]];
    if (!IsOnnxOp(n, op_type) || n.inputs.empty() || n.inputs[0] != value || n.outputs.size() < 1) {
      return std::nullopt;
    }
    return it->second[0];
  }

  // Channel counts of a Split on axis 1 of `x` (shape [N, C, H, W]) when all are static.
  std::optional<std::vector<int64_t>> SplitChannels(const Node& split, const Shape& x) const {
    const int64_t axis = split.attrs.GetInt("axis", 0);
    if (axis != 1 && axis != -3) return std::nullopt;
    std::vector<int64_t> parts;
    int64_t sum = 0;
    for (const auto& out : split.outputs) {
      auto s = StaticShape(g_, out);
      if (out.empty() || !s || s->size() != 4 || (*s)[2] != x[2] || (*s)[3] != x[3]) return std::nullopt;
      parts.push_back((*s)[1]);
      sum += (*s)[1];
    }
    if (sum != x[1]) return std::nullopt;
    return parts;
  }

  bool FuseFrom(size_t concat) {
    const Node& cat = g_.nodes[concat];
    const int64_t axis = cat.attrs.GetInt("axis", 0);
    auto x = StaticShape(g_, cat.outputs[0]);
    if ((axis != 1 && axis != -3) || !x || x->size() != 4 || cat.inputs.empty()) return false;
    auto r1 = Next(cat.outputs[0], "Reshape");
    if (!r1) return false;
    auto s5 = StaticShape(g_, g_.nodes[*r1].outputs[0]);
    if (!s5 || s5->size() != 5 || (*s5)[0] != (*x)[0] || (*s5)[1] * (*s5)[2] != (*x)[1] ||
        (*s5)[3] != (*x)[2] || (*s5)[4] != (*x)[3] || (*s5)[1] < 1) {
      return false;
    }
    auto t = Next(g_.nodes[*r1].outputs[0], "Transpose");
    if (!t || g_.nodes[*t].attrs.GetInts("perm") != std::vector<int64_t>{0, 2, 1, 3, 4}) return false;
    auto r2 = Next(g_.nodes[*t].outputs[0], "Reshape");
    if (!r2 || StaticShape(g_, g_.nodes[*r2].outputs[0]) != x) return false;

    Node fused{cat.name, "ChannelShuffle", ref::kChannelShuffleDomain, cat.inputs, g_.nodes[*r2].outputs, {}};
    fused.attrs.Set("group", (*s5)[1]);
    std::vector<size_t> chain = {concat, *r1, *t, *r2};
    std::vector<std::string> gone = {cat.outputs[0], g_.nodes[*r1].outputs[0], g_.nodes[*t].outputs[0]};
    if (auto s = Next(fused.outputs[0], "Split")) {
      if (auto parts = SplitChannels(g_.nodes[*s], *x)) {
        gone.push_back(fused.outputs[0]);
        fused.outputs = g_.nodes[*s].outputs;
        fused.attrs.Set("split", *parts);
        chain.push_back(*s);
      }
    }
    for (size_t c : chain) removed_[c] = c != chain.back();
    g_.nodes[chain.back()] = std::move(fused);
    for (const auto& v : gone) g_.value_info.erase(v);
    return true;
  }

  Graph& g_;
  const ChannelShuffleFusionOptions& options_;
  std::unordered_map<std::string, std::vector<size_t>> consumers_;
  std::vector<bool> removed_;
};

}  // namespace

Status FuseChannelShuffle(Graph& graph, const ChannelShuffleFusionOptions& options, int* fused) {
  const int n = ShuffleFuser(graph, options).Run();
  if (fused) *fused = n;
  return VerifyGraph(graph);
}

}  // namespace qcal
