#include "passes/hoist_quantize.h"

#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>

#include "passes/quant_graph_util.h"

namespace qcal {
namespace {

using Producers = std::unordered_map<std::string, size_t>;
using Consumers = std::unordered_map<std::string, std::vector<size_t>>;

// ---- the ops a per-tensor QuantizeLinear commutes with ----

struct CommutingOp {
  std::string_view op_type;
  bool every_input_is_data;       // Concat; otherwise only input 0 (the rest are shapes, axes, ...)
  bool (*accept)(const Node& n);  // extra conditions; nullptr: none
};

// MaxPool: a per-tensor QuantizeLinear is monotone non-decreasing, so
// Q(max(x)) == max(Q(x)) exactly; its padding never wins in either type. Not
// with the Indices output (it would have to stay a float MaxPool).
bool MaxPoolWithoutIndices(const Node& n) { return n.outputs.size() == 1 || n.outputs[1].empty(); }

const CommutingOp kCommutingOps[] = {
    {"Reshape", false, nullptr},   {"Flatten", false, nullptr},
    {"Squeeze", false, nullptr},   {"Unsqueeze", false, nullptr},
    {"Transpose", false, nullptr}, {"Identity", false, nullptr},
    {"Slice", false, nullptr},     {"Split", false, nullptr},
    {"Concat", true, nullptr},     {"MaxPool", false, MaxPoolWithoutIndices},
};

const CommutingOp* FindCommuting(std::string_view op) {
  for (const auto& c : kCommutingOps) {
    if (c.op_type == op) return &c;
  }
  return nullptr;
}

std::vector<size_t> DataInputs(const Node& n, const CommutingOp& op) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < (op.every_input_is_data ? n.inputs.size() : std::min<size_t>(1, n.inputs.size()));
       ++i) {
    if (HasInput(n, i)) idx.push_back(i);
  }
  return idx;
}

// ---- per-tensor QuantizeLinear parameters ----

// What makes two QuantizeLinear nodes interchangeable.
struct QuantKey {
  float scale = 0;
  int64_t zero_point = 0;
  DataType type = DataType::kUndefined;
  bool operator==(const QuantKey&) const = default;
};

// Key of a QuantizeLinear with a float32 input and constant per-tensor parameters.
std::optional<QuantKey> PerTensorKey(const Graph& g, const Node& q) {
  if (q.op_type != "QuantizeLinear" || !HasInput(q, 0) || q.outputs.size() != 1) return std::nullopt;
  if (q.attrs.GetInt("block_size", 0) != 0) return std::nullopt;
  const Tensor* s = Init(g, q, 1);
  const Tensor* zp = Init(g, q, 2);
  const auto per_tensor = [](const Tensor* t) { return t->numel() == 1 && t->rank() <= 1; };
  if (!s || s->dtype() != DataType::kFloat32 || !per_tensor(s)) return std::nullopt;
  if (HasInput(q, 2) && (!zp || !per_tensor(zp))) return std::nullopt;
  const DataType type = ValueType(g, q.outputs[0]);
  if (!IsQuant8(type) || ValueType(g, q.inputs[0]) != DataType::kFloat32) return std::nullopt;
  return QuantKey{s->data<float>()[0], zp ? zp->GetAsInt64(0) : 0, type};
}

// ---- finding a move ----

struct Move {
  size_t node;  // the node the QuantizeLinear moves above
  const CommutingOp* op;
  QuantKey key;
  size_t q;                             // a QuantizeLinear to copy for the new ones
  std::vector<std::vector<size_t>> qs;  // per output of the node: the QuantizeLinear nodes reading it
  std::vector<size_t> kept;             // per output with readers: the one whose output name stays
};

std::vector<size_t> ConsumersOf(const Consumers& cons, const std::string& v) {
  auto it = cons.find(v);
  if (it == cons.end()) return {};
  std::set<size_t> unique(it->second.begin(), it->second.end());
  return {unique.begin(), unique.end()};
}

// The QuantizeLinear nodes reading `out` (all equivalent to `key`, reading it as
// their x); false if anything else reads it.
bool EquivalentQuantizers(const Graph& g, const Consumers& cons, const std::string& out, const QuantKey& key,
                          std::vector<size_t>& qs) {
  for (size_t c : ConsumersOf(cons, out)) {
    const Node& n = g.nodes[c];
    auto k = PerTensorKey(g, n);
    if (!k || !(*k == key) || n.inputs[0] != out || (HasInput(n, 1) && n.inputs[1] == out) ||
        (HasInput(n, 2) && n.inputs[2] == out)) {
      return false;
    }
    qs.push_back(c);
  }
  return true;
}

// Index into qs of the QuantizeLinear whose output name the node's output takes:
// the one that is a graph output (at most one may be), else the first.
std::optional<size_t> KeptQuantizer(const Graph& g, const std::set<std::string>& outputs,
                                    const std::vector<size_t>& qs) {
  std::optional<size_t> kept;
  for (size_t i = 0; i < qs.size(); ++i) {
    if (!outputs.count(g.nodes[qs[i]].outputs[0])) continue;
    if (kept) return std::nullopt;
    kept = i;
  }
  return kept.value_or(0);
}

std::optional<Move> MoveFor(const Graph& g, const Producers& prod, const Consumers& cons,
                            const std::set<std::string>& outputs, size_t qi) {
  auto key = PerTensorKey(g, g.nodes[qi]);
  if (!key) return std::nullopt;
  auto pit = prod.find(g.nodes[qi].inputs[0]);
  if (pit == prod.end()) return std::nullopt;
  const Node& p = g.nodes[pit->second];
  const CommutingOp* op = FindCommuting(p.op_type);
  if (!op || (op->accept && !op->accept(p))) return std::nullopt;
  Move m{pit->second, op, *key, qi, {}, {}};
  for (const std::string& out : p.outputs) {
    m.qs.emplace_back();
    if (out.empty()) continue;
    if (outputs.count(out) || !EquivalentQuantizers(g, cons, out, *key, m.qs.back())) return std::nullopt;
    if (m.qs.back().empty()) continue;
    auto kept = KeptQuantizer(g, outputs, m.qs.back());
    if (!kept) return std::nullopt;
    m.kept.push_back(*kept);
  }
  for (size_t i : DataInputs(p, *op)) {
    if (ValueType(g, p.inputs[i]) != DataType::kFloat32) return std::nullopt;
  }
  return m;
}

std::optional<Move> NextMove(const Graph& g) {
  const Producers prod = g.ProducerIndex();
  const Consumers cons = g.ConsumerIndex();
  std::set<std::string> outputs;
  for (const auto& o : g.outputs) outputs.insert(o.name);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (auto m = MoveFor(g, prod, cons, outputs, i)) return m;
  }
  return std::nullopt;
}

// ---- applying a move ----

std::optional<Shape> ShapeOf(const Graph& g, const std::string& v) {
  if (const Tensor* t = g.FindInitializer(v)) return t->shape();
  const ValueInfo* vi = g.FindValueInfo(v);
  return vi ? vi->shape : std::nullopt;
}

// The quantized version of float value x: an existing equivalent QuantizeLinear
// of x, else a new one (a copy of `tmpl` reading x) appended to the graph.
std::string QuantizedValue(Graph& g, const QuantKey& key, const Node& tmpl, const std::string& x) {
  for (size_t c : ConsumersOf(g.ConsumerIndex(), x)) {
    const Node& n = g.nodes[c];
    auto k = PerTensorKey(g, n);
    if (k && *k == key && n.inputs[0] == x) return n.outputs[0];
  }
  Node q = tmpl;
  q.name = g.UniqueNodeName(x + "_quantize");
  q.inputs[0] = x;
  q.outputs = {g.UniqueValueName(x + "_quantized")};
  g.value_info[q.outputs[0]] = ValueInfo{q.outputs[0], key.type, ShapeOf(g, x)};
  std::string out = q.outputs[0];
  g.nodes.push_back(std::move(q));
  return out;
}

void RenameInputs(Graph& g, const std::map<std::string, std::string>& rename) {
  for (Node& n : g.nodes) {
    for (std::string& in : n.inputs) {
      auto it = rename.find(in);
      if (it != rename.end()) in = it->second;
    }
  }
}

Status ApplyMove(Graph& g, const Move& m) {
  const Node tmpl = g.nodes[m.q];
  std::set<size_t> drop;
  std::map<std::string, std::string> rename;
  for (size_t o = 0, k = 0; o < m.qs.size(); ++o) {
    const std::string old = g.nodes[m.node].outputs[o];
    if (old.empty()) continue;
    if (m.qs[o].empty()) {  // an unread output: becomes a quantized value
      if (auto it = g.value_info.find(old); it != g.value_info.end()) it->second.dtype = m.key.type;
      continue;
    }
    const std::string kept = g.nodes[m.qs[o][m.kept[k++]]].outputs[0];
    for (size_t qi : m.qs[o]) {
      const std::string& qout = g.nodes[qi].outputs[0];
      if (qout != kept) rename[qout] = kept, g.value_info.erase(qout);
      drop.insert(qi);
    }
    g.value_info.erase(old);
    g.nodes[m.node].outputs[o] = kept;
  }
  std::map<std::string, std::string> quantized;  // float input -> quantized value
  for (size_t i : DataInputs(g.nodes[m.node], *m.op)) {
    const std::string x = g.nodes[m.node].inputs[i];
    if (!quantized.count(x)) quantized[x] = QuantizedValue(g, m.key, tmpl, x);
    g.nodes[m.node].inputs[i] = quantized[x];
  }
  std::vector<Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!drop.count(i)) nodes.push_back(std::move(g.nodes[i]));
  }
  g.nodes = std::move(nodes);
  RenameInputs(g, rename);
  return g.TopoSort();
}

}  // namespace

Result<std::vector<QuantizeHoist>> HoistQuantizeLinear(Graph& graph) {
  std::vector<QuantizeHoist> moves;
  // Every move lifts quantizers strictly upward; the bound only guards against bugs.
  const size_t limit = 4 * graph.nodes.size() + 16;
  while (moves.size() < limit) {
    auto m = NextMove(graph);
    if (!m) break;
    moves.push_back({graph.nodes[m->node].name, graph.nodes[m->node].op_type});
    QCAL_RETURN_IF_ERROR(
        ApplyMove(graph, *m).WithContext("moving QuantizeLinear above " + moves.back().node));
  }
  return moves;
}

}  // namespace qcal
