#include "passes/shape_inference.h"

#include <unordered_map>

#include "kernels/registry.h"

namespace qcal {

namespace {
// Looks up the known type of a value: graph input, initializer or inferred.
TensorType KnownType(const Graph& g, const std::unordered_map<std::string, TensorType>& inferred,
                     const std::string& name) {
  if (name.empty()) return {};
  if (const Tensor* t = g.FindInitializer(name)) return {t->dtype(), t->shape()};
  auto it = inferred.find(name);
  if (it != inferred.end()) return it->second;
  for (const auto& v : g.inputs) {
    if (v.name == name) return {v.dtype, v.shape.value_or(Shape{})};
  }
  return {};
}
}  // namespace

Status InferShapes(Graph& graph) {
  const KernelRegistry& reg = KernelRegistry::Global();
  std::unordered_map<std::string, TensorType> inferred;
  for (const Node& node : graph.nodes) {
    OpContext ctx{node, {}, {}, graph.opset};
    for (const auto& in : node.inputs) {
      ctx.inputs.push_back(KnownType(graph, inferred, in));
      ctx.const_inputs.push_back(in.empty() ? nullptr : graph.FindInitializer(in));
      if (!in.empty() && !ctx.inputs.back().present()) {
        return InvalidArgument("node " + node.Describe() + ": type of input '" + in + "' is unknown");
      }
    }
    std::vector<TensorType> outs;
    QCAL_RETURN_IF_ERROR(reg.Infer(ctx, outs));
    for (size_t i = 0; i < outs.size(); ++i) {
      if (!node.outputs[i].empty()) inferred[node.outputs[i]] = outs[i];
    }
  }
  graph.value_info.clear();
  for (const auto& [name, t] : inferred) graph.value_info[name] = ValueInfo{name, t.dtype, t.shape};
  for (auto& out : graph.outputs) {
    auto it = inferred.find(out.name);
    if (it == inferred.end()) continue;
    out.dtype = it->second.dtype;
    out.shape = it->second.shape;
    graph.value_info.erase(out.name);
  }
  return Status::Ok();
}

}  // namespace qcal
