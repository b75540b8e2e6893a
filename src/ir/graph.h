// qcal's graph IR: a list of nodes that name their input and output values, like
// ONNX. Values are identified by name; constants live in `initializers`.
//
// Conventions:
// - An empty input name marks an omitted optional input.
// - Graph inputs never include initializers (frontends drop such duplicates).
// - `nodes` is kept in topological order by frontends and passes (TopoSort()).
// - Shapes in ValueInfo may hold -1 for the symbolic batch dimension.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/attribute.h"
#include "ir/tensor.h"

namespace qcal {

struct ValueInfo {
  std::string name;
  DataType dtype = DataType::kUndefined;
  std::optional<Shape> shape;  // nullopt: rank unknown
};

struct Node {
  std::string name;     // unique within the graph (frontends synthesize one if missing)
  std::string op_type;  // ONNX op name; Caffe layers are mapped to ONNX ops
  std::string domain;   // "" for ai.onnx
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  Attributes attrs;
  // "Conv 'conv1'" — used in error messages.
  std::string Describe() const;
};

class Graph {
 public:
  std::string name;
  int64_t opset = 13;  // ai.onnx opset the node semantics follow
  std::vector<ValueInfo> inputs;
  std::vector<ValueInfo> outputs;
  std::vector<Node> nodes;
  std::map<std::string, Tensor> initializers;
  std::map<std::string, ValueInfo> value_info;  // inferred info of intermediate values

  bool IsInitializer(const std::string& value) const { return initializers.count(value) != 0; }
  const Tensor* FindInitializer(const std::string& value) const;
  const ValueInfo* FindValueInfo(const std::string& value) const;  // inputs, outputs or value_info
  const Node* FindNode(const std::string& node_name) const;
  Node* FindNode(const std::string& node_name);

  // Index of the node producing each value.
  std::unordered_map<std::string, size_t> ProducerIndex() const;
  // For each value, the indices of nodes consuming it.
  std::unordered_map<std::string, std::vector<size_t>> ConsumerIndex() const;

  // Reorders nodes topologically (stable w.r.t. the current order). Fails on a
  // cycle or on an input that nothing produces, naming the node.
  Status TopoSort();
  // A value name not yet used in the graph, derived from `base`.
  std::string UniqueValueName(const std::string& base) const;
  std::string UniqueNodeName(const std::string& base) const;
};

// Checks structural invariants: unique node names and value producers, every
// input produced by a node/initializer/graph input, outputs produced,
// topological order. Messages name the node and op type.
Status VerifyGraph(const Graph& graph);

// Human-readable text dump: inputs, outputs, initializers (shape only), nodes.
std::string DumpGraph(const Graph& graph);

}  // namespace qcal
