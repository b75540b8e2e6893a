#include "passes/unsigned_activations.h"

#include <set>
#include <string_view>
#include <unordered_map>

#include "passes/quant_graph_util.h"

namespace qcal {
namespace {

// Ops that move or select int8 values (input 0 is their only data input).
constexpr std::string_view kMovingOps[] = {"MaxPool",   "Reshape",  "Flatten", "Squeeze", "Unsqueeze",
                                           "Transpose", "Identity", "Slice",   "Split"};

bool IsMoving(const Node& n) {
  for (std::string_view op : kMovingOps) {
    if (n.op_type == op) return n.op_type != "MaxPool" || n.outputs.size() == 1 || n.outputs[1].empty();
  }
  return false;
}

// A constant per-tensor int8 zero point at input i.
bool Int8ScalarZeroPoint(const Graph& g, const Node& n, size_t i) {
  const Tensor* zp = Init(g, n, i);
  return zp && zp->dtype() == DataType::kInt8 && zp->numel() == 1 && zp->rank() <= 1;
}

bool PerTensorFloatScale(const Graph& g, const Node& n) {
  const Tensor* s = Init(g, n, 1);
  return s && s->dtype() == DataType::kFloat32 && s->numel() == 1 && s->rank() <= 1 &&
         n.attrs.GetInt("block_size", 0) == 0;
}

using Consumers = std::unordered_map<std::string, std::vector<size_t>>;

// The values reachable from q's output through moving ops, and the
// DequantizeLinear nodes ending them; false when some use cannot take uint8.
bool Collect(const Graph& g, const Consumers& consumers, const std::set<std::string>& outputs,
             const std::string& start, std::vector<std::string>* values, std::vector<size_t>* dqs) {
  std::vector<std::string> todo = {start};
  while (!todo.empty()) {
    const std::string v = todo.back();
    todo.pop_back();
    if (outputs.count(v)) return false;
    values->push_back(v);
    auto it = consumers.find(v);
    if (it == consumers.end()) continue;
    for (size_t c : it->second) {
      const Node& n = g.nodes[c];
      for (size_t i = 1; i < n.inputs.size(); ++i) {
        if (n.inputs[i] == v) return false;  // read as a parameter (shape, scale, ...)
      }
      if (n.op_type == "DequantizeLinear" && PerTensorFloatScale(g, n) && Int8ScalarZeroPoint(g, n, 2)) {
        dqs->push_back(c);
      } else if (IsMoving(n)) {
        for (const auto& out : n.outputs) {
          if (!out.empty()) todo.push_back(out);
        }
      } else {
        return false;
      }
    }
  }
  return true;
}

// Points input i of n at a new uint8 initializer holding its int8 zero point + 128.
void ShiftZeroPoint(Graph& g, Node& n, size_t i) {
  const int64_t zp = g.FindInitializer(n.inputs[i])->GetAsInt64(0);
  std::string name = n.name + "_u8_zero_point";
  while (g.FindInitializer(name)) name += "_";
  g.initializers[name] = Tensor::Scalar<uint8_t>(static_cast<uint8_t>(zp + 128));
  n.inputs[i] = name;
}

}  // namespace

Result<std::vector<std::string>> UnsignedActivations(Graph& graph) {
  Consumers consumers;
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& in : graph.nodes[i].inputs) {
      if (!in.empty()) consumers[in].push_back(i);
    }
  }
  std::set<std::string> outputs;
  for (const auto& o : graph.outputs) outputs.insert(o.name);
  std::vector<std::string> changed;
  for (size_t qi = 0; qi < graph.nodes.size(); ++qi) {
    const Node& q = graph.nodes[qi];
    if (q.op_type != "QuantizeLinear" || q.outputs.size() != 1 || !HasInput(q, 0) ||
        ValueType(graph, q.inputs[0]) != DataType::kFloat32 || !PerTensorFloatScale(graph, q) ||
        !Int8ScalarZeroPoint(graph, q, 2) || q.attrs.Has("output_dtype")) {
      continue;
    }
    std::vector<std::string> values;
    std::vector<size_t> dqs;
    if (!Collect(graph, consumers, outputs, q.outputs[0], &values, &dqs)) continue;
    ShiftZeroPoint(graph, graph.nodes[qi], 2);
    for (size_t d : dqs) ShiftZeroPoint(graph, graph.nodes[d], 2);
    for (const auto& v : values) {
      auto vi = graph.value_info.find(v);
      if (vi != graph.value_info.end()) vi->second.dtype = DataType::kUint8;
    }
    changed.push_back(graph.nodes[qi].name);
  }
  return changed;
}

}  // namespace qcal
