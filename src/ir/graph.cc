#include "ir/graph.h"

#include <queue>
#include <set>
#include <sstream>
#include <unordered_set>

namespace qcal {

std::string Node::Describe() const { return op_type + " '" + name + "'"; }

const Tensor* Graph::FindInitializer(const std::string& value) const {
  auto it = initializers.find(value);
  return it == initializers.end() ? nullptr : &it->second;
}

const ValueInfo* Graph::FindValueInfo(const std::string& value) const {
  for (const auto& v : inputs) if (v.name == value) return &v;
  auto it = value_info.find(value);
  if (it != value_info.end()) return &it->second;
  for (const auto& v : outputs) if (v.name == value) return &v;
  return nullptr;
}

const Node* Graph::FindNode(const std::string& node_name) const {
  for (const auto& n : nodes) if (n.name == node_name) return &n;
  return nullptr;
}

Node* Graph::FindNode(const std::string& node_name) {
  for (auto& n : nodes) if (n.name == node_name) return &n;
  return nullptr;
}

std::unordered_map<std::string, size_t> Graph::ProducerIndex() const {
  std::unordered_map<std::string, size_t> m;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& o : nodes[i].outputs) if (!o.empty()) m[o] = i;
  }
  return m;
}

std::unordered_map<std::string, std::vector<size_t>> Graph::ConsumerIndex() const {
  std::unordered_map<std::string, std::vector<size_t>> m;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& in : nodes[i].inputs) if (!in.empty()) m[in].push_back(i);
  }
  return m;
}

Status Graph::TopoSort() {
  auto producer = ProducerIndex();
  std::unordered_set<std::string> available;
  for (const auto& v : inputs) available.insert(v.name);
  for (const auto& [name, t] : initializers) available.insert(name);
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> users(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::set<size_t> deps;
    for (const auto& in : nodes[i].inputs) {
      if (in.empty() || available.count(in)) continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        return NotFound("node " + nodes[i].Describe() + " reads '" + in +
                        "', which no node, initializer or graph input provides");
      }
      deps.insert(it->second);
    }
    pending[i] = static_cast<int>(deps.size());
    for (size_t d : deps) users[d].push_back(i);
  }
  // Kahn's algorithm with a min-heap on the original index keeps the order stable.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < nodes.size(); ++i) if (pending[i] == 0) ready.push(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (size_t u : users[i]) if (--pending[u] == 0) ready.push(u);
  }
  if (order.size() != nodes.size()) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (pending[i] > 0) return InvalidArgument("graph has a cycle through node " + nodes[i].Describe());
    }
  }
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (size_t i : order) sorted.push_back(std::move(nodes[i]));
  nodes = std::move(sorted);
  return Status::Ok();
}

namespace {
// `base` if `used(base)` is false, else the first free `base_<i>`, i = 1, 2, ...
// Each check scans the graph in place: no set of every name is built (these
// are called once per inserted value, and the materializer inserts hundreds).
template <typename Used>
std::string FirstFreeName(const std::string& base, Used used) {
  if (!used(base)) return base;
  for (int i = 1;; ++i) {
    std::string c = base + "_" + std::to_string(i);
    if (!used(c)) return c;
  }
}
}  // namespace

std::string Graph::UniqueValueName(const std::string& base) const {
  return FirstFreeName(base, [this](const std::string& name) {
    if (initializers.count(name)) return true;
    for (const auto& v : inputs) {
      if (v.name == name) return true;
    }
    for (const auto& n : nodes) {
      for (const auto& o : n.outputs) {
        if (o == name) return true;
      }
    }
    return false;
  });
}

std::string Graph::UniqueNodeName(const std::string& base) const {
  return FirstFreeName(base, [this](const std::string& name) {
    for (const auto& n : nodes) {
      if (n.name == name) return true;
    }
    return false;
  });
}

Status VerifyGraph(const Graph& graph) {
  std::unordered_set<std::string> defined;
  for (const auto& v : graph.inputs) {
    if (graph.IsInitializer(v.name)) {
      return InvalidArgument("graph input '" + v.name + "' is also an initializer");
    }
    if (!defined.insert(v.name).second) return InvalidArgument("graph input '" + v.name + "' is declared twice");
  }
  for (const auto& [name, t] : graph.initializers) defined.insert(name);
  std::unordered_set<std::string> node_names;
  for (const auto& n : graph.nodes) {
    if (n.op_type.empty()) return InvalidArgument("node '" + n.name + "' has no op type");
    if (!node_names.insert(n.name).second) {
      return InvalidArgument("two nodes are named '" + n.name + "'");
    }
    for (const auto& in : n.inputs) {
      if (!in.empty() && !defined.count(in)) {
        return InvalidArgument("node " + n.Describe() + " reads '" + in +
                               "' before it is produced (missing producer, initializer or graph input, "
                               "or nodes not in topological order)");
      }
    }
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!defined.insert(o).second) {
        return InvalidArgument("value '" + o + "' produced by node " + n.Describe() + " is defined twice");
      }
    }
  }
  for (const auto& o : graph.outputs) {
    if (!defined.count(o.name)) return InvalidArgument("graph output '" + o.name + "' is never produced");
  }
  return Status::Ok();
}

namespace {
std::string InfoToString(const ValueInfo& v) {
  std::string s = v.name + ": " + std::string(DataTypeName(v.dtype));
  s += v.shape ? ShapeToString(*v.shape) : "[?]";
  return s;
}
}  // namespace

std::string DumpGraph(const Graph& graph) {
  std::ostringstream ss;
  ss << "graph " << graph.name << " (opset " << graph.opset << ")\n";
  for (const auto& v : graph.inputs) ss << "  input  " << InfoToString(v) << "\n";
  for (const auto& v : graph.outputs) ss << "  output " << InfoToString(v) << "\n";
  for (const auto& [name, t] : graph.initializers) {
    ss << "  init   " << name << ": " << DataTypeName(t.dtype()) << ShapeToString(t.shape()) << "\n";
  }
  for (const auto& n : graph.nodes) {
    ss << "  " << n.op_type << " '" << n.name << "' (";
    for (size_t i = 0; i < n.inputs.size(); ++i) ss << (i ? ", " : "") << n.inputs[i];
    ss << ") -> (";
    for (size_t i = 0; i < n.outputs.size(); ++i) ss << (i ? ", " : "") << n.outputs[i];
    ss << ")";
    for (const auto& [k, a] : n.attrs.all()) ss << " " << k << "=" << AttributeToString(a);
    ss << "\n";
  }
  return ss.str();
}

}  // namespace qcal
