#include "runtime/layout_plan.h"

#include <unordered_map>

namespace qcal {
namespace {

// The non-plain layout the value could take (kPlain: none).
Layout Candidate(const std::map<std::string, TensorType>& types, const std::string& value) {
  auto it = types.find(value);
  if (it == types.end()) return Layout::kPlain;
  const TensorType& t = it->second;
  return t.shape.size() == 4 && ShapeIsStatic(t.shape) ? NonPlainLayout(t.dtype) : Layout::kPlain;
}

}  // namespace

std::vector<NodeLayouts> PlanLayouts(const Graph& graph, const std::vector<std::unique_ptr<Kernel>>& kernels,
                                     const std::map<std::string, TensorType>& types,
                                     const std::set<std::string>& keep_plain) {
  // Candidate values (producer output with a non-plain layout) -> true while every consumer accepts them.
  std::unordered_map<std::string, bool> blocked;
  std::unordered_map<std::string, Layout> candidate;
  std::unordered_map<std::string, int> consumers;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const std::string& v = node.outputs[o];
      const Layout l = v.empty() || keep_plain.count(v) ? Layout::kPlain : Candidate(types, v);
      if (l == Layout::kPlain || !kernels[i]->ProducesBlocked(o)) continue;
      blocked[v] = true;
      candidate[v] = l;
    }
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      auto it = blocked.find(node.inputs[k]);
      if (it == blocked.end()) continue;
      ++consumers[it->first];
      it->second = it->second && kernels[i]->AcceptsBlocked(k);
    }
  }
  auto layout_of = [&](const std::string& v) {
    auto it = blocked.find(v);
    return it != blocked.end() && it->second && consumers[v] > 0 ? candidate[v] : Layout::kPlain;
  };
  std::vector<NodeLayouts> plan(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& in : graph.nodes[i].inputs) plan[i].inputs.push_back(layout_of(in));
    for (const auto& out : graph.nodes[i].outputs) plan[i].outputs.push_back(layout_of(out));
  }
  return plan;
}

int CountBlocked(const std::vector<NodeLayouts>& plan) {
  int n = 0;
  for (const auto& p : plan) {
    for (Layout l : p.outputs) n += l != Layout::kPlain;
  }
  return n;
}

}  // namespace qcal
