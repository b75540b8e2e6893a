// A small graph with one quantizable layer of each kind, for config tests.
#pragma once

#include "ir/graph.h"

namespace qcal::testing {

// x -> Conv 'conv1' -> AveragePool 'pool' -> Flatten -> Gemm 'fc' -> MatMul 'mm' (non-constant B)
inline Graph SmallNet() {
  Graph g;
  g.inputs.push_back({"x", DataType::kFloat32, Shape{-1, 3, 8, 8}});
  g.initializers["w1"] = Tensor(DataType::kFloat32, {4, 3, 3, 3});
  g.initializers["b1"] = Tensor(DataType::kFloat32, {4});
  g.initializers["w2"] = Tensor(DataType::kFloat32, {5, 36});
  Node pool{"pool", "AveragePool", "", {"c1"}, {"p"}, {}};
  pool.attrs.Set("kernel_shape", std::vector<int64_t>{2, 2});
  pool.attrs.Set("strides", std::vector<int64_t>{2, 2});
  Node fc{"fc", "Gemm", "", {"f", "w2"}, {"y"}, {}};
  fc.attrs.Set("transB", int64_t{1});
  g.nodes = {Node{"conv1", "Conv", "", {"x", "w1", "b1"}, {"c1"}, {}}, pool,
             Node{"flat", "Flatten", "", {"p"}, {"f"}, {}}, fc, Node{"mm", "MatMul", "", {"y", "y"}, {"z"}, {}}};
  g.outputs.push_back({"z", DataType::kFloat32, std::nullopt});
  return g;
}

}  // namespace qcal::testing
