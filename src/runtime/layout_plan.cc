#include "runtime/layout_plan.h"

#include <algorithm>
#include <unordered_map>

namespace qcal {
namespace {

// What a value could be: its type's non-plain layout and/or float NHWC, each
// while the producer and every consumer so far allow it.
struct Options {
  Layout primary = Layout::kPlain;  // NonPlainLayout of the type (kPlain: none)
  bool primary_ok = false, float_nhwc_ok = false;
  int consumers = 0;
  // A value nobody reads (e.g. a conv's float output whose QuantizeLinear became
  // the conv's second output) keeps what its producer writes best: no conversion.
  Layout Chosen() const {
    if (primary_ok) return primary;
    return float_nhwc_ok ? Layout::kNhwc : Layout::kPlain;
  }
};

bool Static4D(const std::map<std::string, TensorType>& types, const std::string& value, DataType* dtype) {
  auto it = types.find(value);
  if (it == types.end() || it->second.shape.size() != 4 || !ShapeIsStatic(it->second.shape)) return false;
  *dtype = it->second.dtype;
  return true;
}

// The candidate values (outputs whose producer can write a non-plain layout), narrowed by their consumers.
std::unordered_map<std::string, Options> Candidates(const Graph& graph,
                                                    const std::vector<std::unique_ptr<Kernel>>& kernels,
                                                    const std::map<std::string, TensorType>& types,
                                                    const std::set<std::string>& keep_plain) {
  std::unordered_map<std::string, Options> values;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const std::string& v = node.outputs[o];
      DataType dtype;
      if (v.empty() || keep_plain.count(v) || !Static4D(types, v, &dtype)) continue;
      Options opt;
      opt.primary = NonPlainLayout(dtype);
      opt.primary_ok = opt.primary != Layout::kPlain && kernels[i]->ProducesBlocked(o);
      opt.float_nhwc_ok = dtype == DataType::kFloat32 && kernels[i]->ProducesFloatNhwc(o);
      if (opt.primary_ok || opt.float_nhwc_ok) values[v] = opt;
    }
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      auto it = values.find(node.inputs[k]);
      if (it == values.end()) continue;
      Options& opt = it->second;
      ++opt.consumers;
      opt.primary_ok = opt.primary_ok && kernels[i]->AcceptsBlocked(k);
      opt.float_nhwc_ok = opt.float_nhwc_ok && kernels[i]->AcceptsFloatNhwc(k);
    }
  }
  return values;
}

// The values of a node whose kernel TiesAllLayouts (empty names skipped).
std::vector<const std::string*> TiedValues(const Node& node) {
  std::vector<const std::string*> values;
  for (const auto* names : {&node.inputs, &node.outputs}) {
    for (const auto& v : *names) {
      if (!v.empty()) values.push_back(&v);
    }
  }
  return values;
}

// A TiesAllLayouts node's values may take a layout only if all of them may:
// narrows the candidates until nothing changes (values are shared between nodes).
void NarrowTiedCandidates(const Graph& graph, const std::vector<std::unique_ptr<Kernel>>& kernels,
                          std::unordered_map<std::string, Options>& values) {
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      if (!kernels[i]->TiesAllLayouts()) continue;
      const auto tied = TiedValues(graph.nodes[i]);
      bool primary = true, nhwc = true;
      Layout kind = Layout::kPlain;
      for (const std::string* v : tied) {
        auto it = values.find(*v);
        if (it == values.end()) {
          primary = nhwc = false;
          break;
        }
        if (kind == Layout::kPlain) kind = it->second.primary;
        primary = primary && it->second.primary_ok && it->second.primary == kind;
        nhwc = nhwc && it->second.float_nhwc_ok;
      }
      for (const std::string* v : tied) {
        auto it = values.find(*v);
        if (it == values.end()) continue;
        Options& opt = it->second;
        changed = changed || (opt.primary_ok && !primary) || (opt.float_nhwc_ok && !nhwc);
        opt.primary_ok = opt.primary_ok && primary;
        opt.float_nhwc_ok = opt.float_nhwc_ok && nhwc;
      }
    }
  }
}

// Turns all of the node's values plain unless all share one layout; true if it did.
bool TieAll(const Node& node, std::unordered_map<std::string, Layout>& layout) {
  auto layout_of = [&](const std::string& v) {
    auto it = layout.find(v);
    return it == layout.end() ? Layout::kPlain : it->second;
  };
  const auto tied = TiedValues(node);
  if (tied.empty()) return false;
  const Layout first = layout_of(*tied[0]);
  if (std::all_of(tied.begin(), tied.end(), [&](const std::string* v) { return layout_of(*v) == first; })) {
    return false;
  }
  for (const std::string* v : tied) layout.erase(*v);
  return true;
}

}  // namespace

std::vector<NodeLayouts> PlanLayouts(const Graph& graph, const std::vector<std::unique_ptr<Kernel>>& kernels,
                                     const std::map<std::string, TensorType>& types,
                                     const std::set<std::string>& keep_plain) {
  std::unordered_map<std::string, Layout> layout;
  auto candidates = Candidates(graph, kernels, types, keep_plain);
  NarrowTiedCandidates(graph, kernels, candidates);
  for (const auto& [v, opt] : candidates) {
    if (opt.Chosen() != Layout::kPlain) layout[v] = opt.Chosen();
  }
  auto layout_of = [&](const std::string& v) {
    auto it = layout.find(v);
    return it == layout.end() ? Layout::kPlain : it->second;
  };
  // Tied outputs: where one side of a tie is plain, both become plain (all of
  // a node's values for TiesAllLayouts unless all share one layout); values
  // only ever turn plain, so this ends.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < graph.nodes.size(); ++i) {
      const Node& node = graph.nodes[i];
      if (kernels[i]->TiesAllLayouts()) changed = TieAll(node, layout) || changed;
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        const int t = kernels[i]->LayoutTiedInput(o);
        if (t < 0 || static_cast<size_t>(t) >= node.inputs.size()) continue;
        const std::string &in = node.inputs[t], &out = node.outputs[o];
        if ((layout_of(in) == Layout::kPlain) == (layout_of(out) == Layout::kPlain)) continue;
        layout.erase(in);
        layout.erase(out);
        changed = true;
      }
    }
  }
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
