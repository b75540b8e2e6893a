#include "runtime/layout_plan.h"

#include <unordered_map>

namespace qcal {
namespace {

bool BlockableType(const std::map<std::string, TensorType>& types, const std::string& value) {
  auto it = types.find(value);
  if (it == types.end()) return false;
  const TensorType& t = it->second;
  return t.dtype == DataType::kFloat32 && t.shape.size() == 4 && ShapeIsStatic(t.shape);
}

}  // namespace

std::vector<NodeLayouts> PlanLayouts(const Graph& graph, const std::vector<std::unique_ptr<Kernel>>& kernels,
                                     const std::map<std::string, TensorType>& types,
                                     const std::set<std::string>& keep_plain) {
  // Candidate values (blockable producer output) -> true while every consumer accepts them.
  std::unordered_map<std::string, bool> blocked;
  std::unordered_map<std::string, int> consumers;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const std::string& v = node.outputs[o];
      if (v.empty() || keep_plain.count(v) || !BlockableType(types, v)) continue;
      if (kernels[i]->ProducesBlocked(o)) blocked[v] = true;
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
    return it != blocked.end() && it->second && consumers[v] > 0 ? Layout::kNChw8c : Layout::kPlain;
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
