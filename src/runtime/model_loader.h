// Model loading pipeline: import -> support check -> topological sort/verify ->
// input shape overrides -> shape inference -> int8 fusion of QDQ patterns ->
// constant folding -> dead code elimination -> shape inference. The result is ready for Executor::Create.
#pragma once

#include <map>
#include <string>

#include "frontends/model_format.h"
#include "ir/graph.h"
#include "passes/constant_folding.h"

namespace qcal {

struct LoadOptions {
  // Replaces the declared shape of graph inputs (e.g. to fix the batch size).
  // Ranks must match; symbolic dims and the batch dim (dim 0) may change, other
  // fixed dims must match the model.
  std::map<std::string, Shape> input_shapes;
  bool fold_constants = true;
  bool eliminate_dead_code = true;
  // Int8 execution of QDQ models: FuseQuantizedOps (passes/fuse_quantized_ops.h)
  // turns DequantizeLinear -> Conv/Gemm/MatMul [-> Relu/Clip] [-> QuantizeLinear]
  // into integer QcalQConv / QcalQMatMul nodes, after HoistQuantizeLinear
  // (passes/hoist_quantize.h) moved QuantizeLinear nodes up through data-movement
  // ops next to the layers that produce their input. The environment variable
  // QCAL_INT8_FUSION=0 also disables it (comparisons against float execution).
  bool fuse_quantized_ops = true;
  // With it: also fuse a float QcalQConv's residual Add [-> Relu] into the conv
  // (bit-identical; off for comparisons, as is QCAL_INT8_RESIDUAL_FUSION=0).
  bool fuse_residual_add = true;
  ConstantFoldingOptions folding;
};

// options.fuse_quantized_ops unless the environment sets QCAL_INT8_FUSION=0.
bool QuantizedFusionEnabled(const LoadOptions& options);
// options.fuse_residual_add unless the environment sets QCAL_INT8_RESIDUAL_FUSION=0.
bool ResidualFusionEnabled(const LoadOptions& options);

Result<Graph> LoadModel(const ModelFiles& files, const LoadOptions& options = {});
// The steps of LoadModel after the import, for a graph imported some other way
// (e.g. from bytes); `where` names the model in errors.
Status PrepareModel(Graph& graph, const LoadOptions& options, const std::string& where);

// Every node whose op type has no OpDef or kernel, one line per node
// ("  node 'conv1': op type Foo"), in one Unsupported error; OK if all are supported.
Status CheckOpsSupported(const Graph& graph);

// Applies LoadOptions::input_shapes to the graph inputs (validated; errors list
// the model's input names).
Status ApplyInputShapes(Graph& graph, const std::map<std::string, Shape>& shapes);

// Reads a tensor file chosen by suffix: .npy (NumPy) or .pb (ONNX TensorProto).
Result<Tensor> ReadTensorFile(const std::string& path);

}  // namespace qcal
