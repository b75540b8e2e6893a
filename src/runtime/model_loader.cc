#include "runtime/model_loader.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "base/log.h"
#include "frontends/onnx/onnx_tensor.h"
#include "ir/npy.h"
#include "kernels/registry.h"
#include "passes/dead_code_elimination.h"
#include "passes/fuse_quantized_ops.h"
#include "passes/hoist_quantize.h"
#include "passes/shape_inference.h"
#include "passes/unsigned_activations.h"

namespace qcal {
namespace {

bool HasSuffix(const std::string& s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  std::string tail = s.substr(s.size() - suffix.size());
  std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return std::tolower(c); });
  return tail == suffix;
}

std::string InputNames(const Graph& graph) {
  std::string names;
  for (const auto& in : graph.inputs) {
    names += (names.empty() ? "" : ", ") + in.name + " " + ShapeToString(in.shape.value_or(Shape{}));
  }
  return names.empty() ? "none" : names;
}

Status CheckOverride(const ValueInfo& in, const Shape& shape) {
  for (int64_t d : shape) {
    if (d <= 0) {
      return InvalidArgument("input shape " + ShapeToString(shape) + " for '" + in.name +
                             "' must have positive dims");
    }
  }
  if (!in.shape) return Status::Ok();
  const Shape& declared = *in.shape;
  if (declared.size() != shape.size()) {
    return InvalidArgument("input shape " + ShapeToString(shape) + " for '" + in.name + "' has rank " +
                           std::to_string(shape.size()) + ", but the model declares " +
                           ShapeToString(declared) + " (rank " + std::to_string(declared.size()) + ")");
  }
  for (size_t d = 1; d < shape.size(); ++d) {
    if (declared[d] >= 0 && declared[d] != shape[d]) {
      return InvalidArgument("input shape " + ShapeToString(shape) + " for '" + in.name + "' changes dim " +
                             std::to_string(d) + ", which the model fixes: " + ShapeToString(declared) +
                             " (only the batch dim and symbolic dims may be overridden)");
    }
  }
  return Status::Ok();
}

using TensorReader = Result<Tensor> (*)(const std::string& path);

Result<Tensor> ReadPbTensor(const std::string& path) {
  QCAL_ASSIGN_OR_RETURN(NamedTensor t, ReadTensorProtoFile(path));
  return std::move(t.tensor);
}

struct TensorFormat {
  std::string_view suffix;
  TensorReader read;
};
const TensorFormat kTensorFormats[] = {
    {".npy", ReadNpyFile},
    {".pb", ReadPbTensor},
};

}  // namespace

Status CheckOpsSupported(const Graph& graph) {
  const KernelRegistry& reg = KernelRegistry::Global();
  std::string lines;
  int count = 0;
  for (const Node& n : graph.nodes) {
    bool std_domain = n.domain.empty() || n.domain == "ai.onnx";
    if (std_domain && reg.FindOp(n.op_type) && !reg.KernelsFor(n.op_type).empty()) continue;
    ++count;
    lines += "\n  node '" + n.name + "': op type " + (std_domain ? "" : n.domain + ".") + n.op_type;
  }
  if (count == 0) return Status::Ok();
  return Unsupported(std::to_string(count) + (count == 1 ? " node uses an op type" : " nodes use op types") +
                     " qcal does not support:" + lines);
}

Status ApplyInputShapes(Graph& graph, const std::map<std::string, Shape>& shapes) {
  for (const auto& entry : shapes) {
    const std::string& name = entry.first;  // a plain reference: clang 14 cannot capture bindings
    const Shape& shape = entry.second;
    auto it = std::find_if(graph.inputs.begin(), graph.inputs.end(),
                           [&](const ValueInfo& v) { return v.name == name; });
    if (it == graph.inputs.end()) {
      return InvalidArgument("input shape given for '" + name +
                             "', which is not a model input (inputs: " + InputNames(graph) + ")");
    }
    QCAL_RETURN_IF_ERROR(CheckOverride(*it, shape));
    it->shape = shape;
  }
  return Status::Ok();
}

bool QuantizedFusionEnabled(const LoadOptions& options) {
  const char* env = std::getenv("QCAL_INT8_FUSION");
  return options.fuse_quantized_ops && !(env && std::string_view(env) == "0");
}

bool ResidualFusionEnabled(const LoadOptions& options) {
  const char* env = std::getenv("QCAL_INT8_RESIDUAL_FUSION");
  return options.fuse_residual_add && !(env && std::string_view(env) == "0");
}

Result<Graph> LoadModel(const ModelFiles& files, const LoadOptions& options) {
  QCAL_ASSIGN_OR_RETURN(Graph graph, ImportModel(files));
  QCAL_RETURN_IF_ERROR(PrepareModel(graph, options, files.model));
  return graph;
}

Status PrepareModel(Graph& graph, const LoadOptions& options, const std::string& where) {
  QCAL_RETURN_IF_ERROR(CheckOpsSupported(graph).WithContext(where));
  QCAL_RETURN_IF_ERROR(graph.TopoSort().WithContext(where));
  QCAL_RETURN_IF_ERROR(VerifyGraph(graph).WithContext(where));
  QCAL_RETURN_IF_ERROR(ApplyInputShapes(graph, options.input_shapes));
  QCAL_RETURN_IF_ERROR(InferShapes(graph).WithContext(where));
  if (QuantizedFusionEnabled(options)) {
    QCAL_ASSIGN_OR_RETURN(auto hoisted, HoistQuantizeLinear(graph));
    if (!hoisted.empty()) LogDebug("int8: " + std::to_string(hoisted.size()) + " QuantizeLinear moves");
    QCAL_ASSIGN_OR_RETURN(auto unsigned_q, UnsignedActivations(graph));
    if (!unsigned_q.empty())
      LogDebug("int8: " + std::to_string(unsigned_q.size()) + " activations made uint8");
    QCAL_ASSIGN_OR_RETURN(auto fused, FuseQuantizedOps(graph, {.residual = ResidualFusionEnabled(options)}));
    if (!fused.empty()) LogDebug("int8 fusion: " + std::to_string(fused.size()) + " quantized layers");
  }
  if (options.fold_constants) {
    QCAL_RETURN_IF_ERROR(ConstantFolding(graph, options.folding).WithContext(where));
  }
  if (options.eliminate_dead_code) QCAL_RETURN_IF_ERROR(EliminateDeadCode(graph).WithContext(where));
  QCAL_RETURN_IF_ERROR(InferShapes(graph).WithContext(where));
  LogDebug("loaded " + where + ": " + std::to_string(graph.nodes.size()) + " nodes, " +
           std::to_string(graph.initializers.size()) + " initializers");
  return Status::Ok();
}

Result<Tensor> ReadTensorFile(const std::string& path) {
  for (const auto& f : kTensorFormats) {
    if (HasSuffix(path, f.suffix)) return f.read(path);
  }
  std::string known;
  for (const auto& f : kTensorFormats) known += (known.empty() ? "" : ", ") + std::string(f.suffix);
  return InvalidArgument("cannot tell the format of tensor file '" + path + "' (known suffixes: " + known +
                         ")");
}

}  // namespace qcal
