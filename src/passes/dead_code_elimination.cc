#include "passes/dead_code_elimination.h"

#include <unordered_set>

#include "base/log.h"

namespace qcal {

Status EliminateDeadCode(Graph& graph, DeadCodeStats* stats) {
  std::unordered_set<std::string> live;
  for (const auto& o : graph.outputs) live.insert(o.name);
  // Nodes are in topological order, so one backward sweep finds every live node.
  std::vector<bool> keep(graph.nodes.size(), false);
  for (size_t i = graph.nodes.size(); i-- > 0;) {
    const Node& n = graph.nodes[i];
    for (const auto& o : n.outputs) keep[i] = keep[i] || (!o.empty() && live.count(o));
    if (!keep[i]) continue;
    for (const auto& in : n.inputs) {
      if (!in.empty()) live.insert(in);
    }
  }
  DeadCodeStats st;
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (keep[i]) {
      kept.push_back(std::move(graph.nodes[i]));
    } else {
      ++st.removed_nodes;
    }
  }
  graph.nodes = std::move(kept);
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (live.count(it->first)) {
      ++it;
    } else {
      it = graph.initializers.erase(it);
      ++st.removed_initializers;
    }
  }
  for (auto it = graph.value_info.begin(); it != graph.value_info.end();) {
    it = live.count(it->first) ? std::next(it) : graph.value_info.erase(it);
  }
  LogDebug("dead code elimination: removed " + std::to_string(st.removed_nodes) + " nodes, " +
           std::to_string(st.removed_initializers) + " initializers");
  if (stats) *stats = st;
  return Status::Ok();
}

}  // namespace qcal
