// ONNX ModelProto -> qcal Graph.
//
// Steps: parse (2 GiB limit), check opsets and domains, convert initializers,
// graph inputs/outputs and nodes (unique names), turn Constant nodes into
// initializers, rewrite old-opset forms into canonical ones (onnx_legacy.cc),
// then sort topologically and verify.
#include "frontends/onnx/onnx_importer.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <unordered_set>

#include "base/file.h"
#include "base/limits.h"
#include "frontends/onnx/onnx_internal.h"

namespace qcal {
namespace {

using onnx_import::AttributeFromProto;
using onnx_import::kMaxOpset;
using onnx_import::TensorFromProto;

bool IsDefaultDomain(std::string_view domain) { return domain.empty() || domain == "ai.onnx"; }

// The ai.onnx opset the model imports. Models without any opset_import predate
// IR version 3 and use opset 1.
Result<int64_t> DefaultOpset(const onnx::ModelProto& model) {
  if (model.opset_import_size() == 0) return int64_t{1};
  for (const auto& op : model.opset_import()) {
    if (!IsDefaultDomain(op.domain())) continue;
    int64_t v = op.version();
    if (v < 1) return Corrupt("invalid ai.onnx opset version " + std::to_string(v));
    if (v > kMaxOpset) {
      return Unsupported("ai.onnx opset " + std::to_string(v) + " is newer than qcal supports (1.." +
                         std::to_string(kMaxOpset) + "); convert the model with onnx.version_converter");
    }
    return v;
  }
  return Corrupt("the model imports no ai.onnx opset (opset_import lists only other domains)");
}

Result<ValueInfo> ValueInfoFromProto(const onnx::ValueInfoProto& v, const std::string& what) {
  ValueInfo info;
  info.name = v.name();
  if (!v.has_type()) return info;
  if (!v.type().has_tensor_type()) {
    return Unsupported(what + " '" + v.name() +
                       "' is not a tensor (sequence/map/optional types are not supported)");
  }
  const auto& tt = v.type().tensor_type();
  if (tt.elem_type() != 0) {
    auto dt = DataTypeFromOnnx(tt.elem_type());
    if (!dt.ok()) return dt.status().WithContext(what + " '" + v.name() + "'");
    info.dtype = *dt;
  }
  if (tt.has_shape()) {
    Shape shape;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value() && d.dim_value() < 0) {
        return Corrupt(what + " '" + v.name() + "' has negative dimension " + std::to_string(d.dim_value()));
      }
      shape.push_back(d.has_dim_value() ? d.dim_value() : -1);  // dim_param or unset: symbolic
    }
    // Symbolic dims count as 1: even then a declared shape can be absurd.
    Shape at_least = shape;
    for (int64_t& d : at_least) d = std::max<int64_t>(d, 1);
    QCAL_RETURN_IF_ERROR(CheckTensorAllocation(info.dtype == DataType::kUndefined ? DataType::kFloat32 : info.dtype,
                                               at_least, what + " '" + v.name() + "'"));
    info.shape = shape;
  }
  return info;
}

Status ImportInitializers(const onnx::GraphProto& g, Graph& out) {
  if (g.sparse_initializer_size() > 0) {
    return Unsupported("sparse initializer '" + g.sparse_initializer(0).values().name() +
                       "' is not supported");
  }
  int64_t total = 0;
  for (const auto& init : g.initializer()) {
    if (init.name().empty()) return Corrupt("an initializer has no name");
    QCAL_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(init, "initializer '" + init.name() + "'"));
    total += static_cast<int64_t>(t.nbytes());
    QCAL_RETURN_IF_ERROR(CheckLimit("the initializers up to '" + init.name() + "'", total,
                                    GetResourceLimits().max_total_weight_bytes, "bytes",
                                    "QCAL_MAX_TOTAL_WEIGHT_BYTES"));
    if (!out.initializers.emplace(init.name(), std::move(t)).second) {
      return Corrupt("initializer '" + init.name() + "' is defined twice");
    }
  }
  return Status::Ok();
}

// Graph inputs that are also initializers (old IR style) are constants, not inputs.
Status ImportInputsOutputs(const onnx::GraphProto& g, Graph& out) {
  for (const auto& in : g.input()) {
    if (out.IsInitializer(in.name())) continue;
    QCAL_ASSIGN_OR_RETURN(ValueInfo info, ValueInfoFromProto(in, "graph input"));
    out.inputs.push_back(std::move(info));
  }
  for (const auto& o : g.output()) {
    QCAL_ASSIGN_OR_RETURN(ValueInfo info, ValueInfoFromProto(o, "graph output"));
    out.outputs.push_back(std::move(info));
  }
  return Status::Ok();
}

// Keeps given node names; synthesizes "<OpType>_<index>" for empty ones and
// appends "_<k>" to make duplicates unique.
std::vector<std::string> UniqueNodeNames(const onnx::GraphProto& g) {
  std::vector<std::string> names(static_cast<size_t>(g.node_size()));
  std::unordered_set<std::string> used;
  std::vector<size_t> pending;
  for (int i = 0; i < g.node_size(); ++i) {
    const std::string& n = g.node(i).name();
    if (!n.empty() && used.insert(n).second) {
      names[static_cast<size_t>(i)] = n;
    } else {
      pending.push_back(static_cast<size_t>(i));
    }
  }
  for (size_t i : pending) {
    const auto& node = g.node(static_cast<int>(i));
    std::string base = node.name().empty() ? node.op_type() + "_" + std::to_string(i) : node.name();
    std::string name = base;
    for (int k = 1; !used.insert(name).second; ++k) name = base + "_" + std::to_string(k);
    names[i] = name;
  }
  return names;
}

// Drops trailing omitted optional inputs/outputs ("" names): same meaning, fewer cases for kernels.
void StripTrailingEmpty(std::vector<std::string>& v) {
  while (!v.empty() && v.back().empty()) v.pop_back();
}

Result<Node> NodeFromProto(const onnx::NodeProto& p, const std::string& name, int index) {
  Node node;
  node.name = name;
  node.op_type = p.op_type();
  std::string where = node.Describe() + " (node #" + std::to_string(index) + ")";
  if (p.op_type().empty())
    return Corrupt("node '" + name + "' (node #" + std::to_string(index) + ") has no op type");
  if (!IsDefaultDomain(p.domain())) {
    return Unsupported(where + " is in operator domain '" + p.domain() +
                       "'; qcal supports only the default ai.onnx domain (opsets 1.." +
                       std::to_string(kMaxOpset) + ")");
  }
  node.inputs.assign(p.input().begin(), p.input().end());
  node.outputs.assign(p.output().begin(), p.output().end());
  StripTrailingEmpty(node.inputs);
  StripTrailingEmpty(node.outputs);
  for (const auto& a : p.attribute()) {
    QCAL_ASSIGN_OR_RETURN(Attribute attr, AttributeFromProto(a, where));
    node.attrs.Set(a.name(), std::move(attr));
  }
  return node;
}

Result<Graph> GraphFromModel(const onnx::ModelProto& model) {
  const onnx::GraphProto& g = model.graph();
  QCAL_RETURN_IF_ERROR(CheckNodeCount("the graph", g.node_size()));
  Graph graph;
  graph.name = g.name();
  QCAL_ASSIGN_OR_RETURN(graph.opset, DefaultOpset(model));
  QCAL_RETURN_IF_ERROR(ImportInitializers(g, graph));
  QCAL_RETURN_IF_ERROR(ImportInputsOutputs(g, graph));
  std::vector<std::string> names = UniqueNodeNames(g);
  graph.nodes.reserve(static_cast<size_t>(g.node_size()));
  for (int i = 0; i < g.node_size(); ++i) {
    QCAL_ASSIGN_OR_RETURN(Node node, NodeFromProto(g.node(i), names[static_cast<size_t>(i)], i));
    graph.nodes.push_back(std::move(node));
  }
  QCAL_RETURN_IF_ERROR(onnx_import::ConstantNodesToInitializers(graph));
  QCAL_RETURN_IF_ERROR(graph.TopoSort());
  QCAL_RETURN_IF_ERROR(onnx_import::RewriteLegacyForms(graph));
  QCAL_RETURN_IF_ERROR(graph.TopoSort());
  QCAL_RETURN_IF_ERROR(VerifyGraph(graph));
  return graph;
}

}  // namespace

namespace onnx_import {

namespace {
// A Constant node's value attribute as a tensor.
Result<Tensor> ConstantValue(const Node& node) {
  const auto& attrs = node.attrs.all();
  if (attrs.size() != 1) {
    return Corrupt(node.Describe() + " must have exactly one value attribute, has " +
                   std::to_string(attrs.size()));
  }
  const auto& [key, value] = *attrs.begin();
  if (key == "value" && std::holds_alternative<Tensor>(value)) return std::get<Tensor>(value);
  if (key == "value_float" && std::holds_alternative<float>(value))
    return Tensor::Scalar(std::get<float>(value));
  if (key == "value_int" && std::holds_alternative<int64_t>(value))
    return Tensor::Scalar(std::get<int64_t>(value));
  if (key == "value_floats" && std::holds_alternative<std::vector<float>>(value)) {
    const auto& v = std::get<std::vector<float>>(value);
    return Tensor::FromVector(v, {static_cast<int64_t>(v.size())});
  }
  if (key == "value_ints" && std::holds_alternative<std::vector<int64_t>>(value)) {
    const auto& v = std::get<std::vector<int64_t>>(value);
    return Tensor::FromVector(v, {static_cast<int64_t>(v.size())});
  }
  if (key == "value_string" || key == "value_strings") {
    return Unsupported(node.Describe() + ": string constants are not supported");
  }
  return Corrupt(node.Describe() + ": unexpected attribute '" + key + "' (" + AttributeToString(value) + ")");
}
}  // namespace

Status ConstantNodesToInitializers(Graph& graph) {
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (Node& node : graph.nodes) {
    if (node.op_type != "Constant") {
      kept.push_back(std::move(node));
      continue;
    }
    if (node.outputs.size() != 1 || !node.inputs.empty()) {
      return Corrupt(node.Describe() + " must have no inputs and one output");
    }
    QCAL_ASSIGN_OR_RETURN(Tensor value, ConstantValue(node));
    if (!graph.initializers.emplace(node.outputs[0], std::move(value)).second) {
      return Corrupt(node.Describe() + " defines '" + node.outputs[0] + "', which is also an initializer");
    }
  }
  graph.nodes = std::move(kept);
  // An old-IR graph input may have been shadowed by a Constant of the same name.
  std::erase_if(graph.inputs, [&](const ValueInfo& v) { return graph.IsInitializer(v.name); });
  return Status::Ok();
}

}  // namespace onnx_import

Result<Graph> ImportOnnxBytes(std::string_view bytes, const std::string& origin) {
  std::string what = "'" + origin + "' (" + std::to_string(bytes.size()) + " bytes)";
  if (bytes.empty()) return Corrupt(what + " is empty, not an ONNX model");
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return Unsupported(what +
                       " is larger than the 2 GiB protobuf limit; models that large keep their weights "
                       "in external data files, which qcal does not support");
  }
  onnx::ModelProto model;
  if (!onnx_import::ParseMessage(bytes, &model)) {
    return Corrupt(what +
                   " is not a valid ONNX model: protobuf parsing failed (truncated or not an .onnx file?)");
  }
  if (!model.has_graph()) return Corrupt(what + " contains no graph; is it an ONNX model?");
  auto graph = GraphFromModel(model);
  if (!graph.ok()) return graph.status().WithContext("importing " + what);
  return graph;
}

Result<Graph> ImportOnnxFile(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > static_cast<uintmax_t>(INT_MAX)) {
    return Unsupported(
        "'" + path + "' (" + std::to_string(size) +
        " bytes) is larger than the 2 GiB protobuf limit; external-data models are not supported");
  }
  QCAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ImportOnnxBytes(bytes, path);
}

}  // namespace qcal
